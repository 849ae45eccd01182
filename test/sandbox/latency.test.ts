import { afterEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/server.js";
import { parseScenario } from "../../src/sandbox/switches.js";
import { timeToHeaders } from "../http-timing.js";

/**
 * Injected latency (the network between the CLI and Microsoft): what the benchmark measures the dependent
 * chain of round trips with. Only lower bounds are asserted: a delay the sandbox itself adds cannot be
 * shorter than asked, whatever the machine's load. That requests sent together wait side by side is not
 * asserted (it would race the machine's load against the delay); the benchmark's rounds show it.
 */

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe("startSandbox({ latencyMs })", () => {
  it("delays the headers of every answer by that much, sign-in and the solution download included", async () => {
    sandbox = await startSandbox({ latencyMs: 250 });
    const { connection } = sandbox;
    const signIn = await timeToHeaders(
      `${connection.loginOrigin}/${connection.tenantId}/v2.0/.well-known/openid-configuration`,
      connection.caPem,
    );
    const download = await timeToHeaders(connection.downloadUrl, connection.caPem);
    const dynamics = await timeToHeaders(`${connection.orgUrl}/api/data/v9.2/WhoAmI`, connection.caPem);
    expect([signIn.status, download.status, dynamics.status]).toEqual([200, 200, 401]);
    // setTimeout may fire up to a millisecond early against performance.now().
    for (const { ms } of [signIn, download, dynamics]) expect(ms).toBeGreaterThanOrEqual(249);
  });
});

describe('--scenario "latencyMs"', () => {
  it("is a whole number of milliseconds, like the other switches", () => {
    expect(parseScenario({ latencyMs: 200 }, "--scenario")).toEqual({ latencyMs: 200 });
    expect(() => parseScenario({ latencyMs: -1 }, "--scenario")).toThrow(
      /--scenario "latencyMs" must be a whole number from 0 to 600000, not -1\./,
    );
    expect(() => parseScenario({ latencyMs: "200" }, "--scenario")).toThrow(/"latencyMs" must be a whole number/);
  });
});
