import { afterEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox, type SandboxOptions } from "../../src/sandbox/server.js";
import { HttpFailure } from "../../src/services/http.js";
import { MsalTokenProvider } from "../../src/auth/msal.js";
import { adminClients, sandboxHttp } from "../helpers.js";
import { VirtualClock } from "../virtual-clock.js";

/**
 * The HTTP layer's waits (back-off, Retry-After, the retry deadline) run on an injected clock, and the
 * sandbox enforces Retry-After on the same clock: a test can use a 30 s Retry-After and wait for nothing,
 * and a client that resends early is still caught. Sign-in waits end at the run's Ctrl+C.
 */
const started: Sandbox[] = [];
afterEach(async () => {
  for (const sandbox of started.splice(0)) await sandbox.close();
});

async function sandboxOn(clock: VirtualClock, options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ ...options, clock });
  started.push(sandbox);
  return sandbox;
}

const calls = (sandbox: Sandbox, path: string) => sandbox.requests.filter((r) => r.path.startsWith(path)).map((r) => r.status);

describe("the HTTP layer on an injected clock", () => {
  it("waits a 30 s Retry-After on the clock, and the sandbox, on the same clock, sees no early resend", async () => {
    const clock = new VirtualClock();
    const sandbox = await sandboxOn(clock);
    const clients = await adminClients(sandbox, {}, clock);
    await clients.dataverse.get("WhoAmI");
    sandbox.faults.set({ throttleFirstCall: { retryAfterSeconds: 30 } });
    const before = clock.now();
    await clients.dataverse.get("RetrieveVersion");
    expect(calls(sandbox, "/api/data/v9.2/RetrieveVersion")).toEqual([429, 200]);
    expect(clock.sleeps).toContain(30_000);
    expect(clock.elapsedSince(before)).toBeGreaterThanOrEqual(30_000);
    expect(sandbox.faults.stats.retryAfterViolations).toBe(0);
  }, 10_000);

  it("counts the retry deadline in the clock's time", async () => {
    const clock = new VirtualClock();
    const sandbox = await sandboxOn(clock);
    const clients = await adminClients(sandbox, { maxAttempts: 50, deadlineMs: 10_000 }, clock);
    await clients.dataverse.get("WhoAmI");
    // Every answer is a 503 with Retry-After: 1 (the sandbox's 503): ten waits of 1 s fit in the 10 s deadline.
    sandbox.faults.set({ errorRate: 1, errorStatuses: [503] });
    const error = await clients.dataverse.get("RetrieveVersion").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpFailure);
    expect((error as HttpFailure).message).toMatch(/waiting 1 s more would pass the 10 s deadline/);
    expect(calls(sandbox, "/api/data/v9.2/RetrieveVersion")).toHaveLength(11);
    expect(sandbox.faults.stats.retryAfterViolations).toBe(0);
  }, 10_000);

  it("a client whose waits do not move the sandbox's clock is caught resending early (the check above can fail)", async () => {
    const clock = new VirtualClock();
    const sandbox = await sandboxOn(clock);
    const impatient = await adminClients(sandbox, { maxAttempts: 3 }, { now: () => clock.now(), sleep: async () => undefined });
    await impatient.dataverse.get("WhoAmI");
    sandbox.faults.set({ throttleFirstCall: { retryAfterSeconds: 30 } });
    await impatient.dataverse.get("RetrieveVersion").catch(() => undefined);
    expect(sandbox.faults.stats.retryAfterViolations).toBeGreaterThan(0);
  });
});

describe("sign-in waits end at Ctrl+C", () => {
  it("a device-code sign-in still pending: rejected with the interrupt at once (and the token queued behind it)", async () => {
    const clock = new VirtualClock();
    const sandbox = await sandboxOn(clock, { scenario: { deviceCodePendingPolls: 1000 } });
    const http = sandboxHttp(sandbox, {}, clock);
    const controller = new AbortController();
    const interrupt = new Error("Interrupted (Ctrl+C).");
    const tokens = new MsalTokenProvider(
      {
        method: "device-code",
        clientId: sandbox.connection.publicClientId,
        authorityHost: sandbox.connection.loginOrigin,
        tenant: sandbox.connection.tenantId,
        customAuthority: true,
        openBrowser: async () => undefined,
        onDeviceCode: () => undefined,
        signal: controller.signal,
      },
      http,
    );
    // Ctrl+C after the first "authorization pending" answer: MSAL is then asleep until its next poll.
    const stop = sandbox.onRequest((entry) => {
      if (entry.path.includes("/oauth2/v2.0/token") && entry.status === 400) {
        stop();
        controller.abort(interrupt);
      }
    });
    // A second resource queued behind the sign-in ends with the same Ctrl+C.
    const [dataverse, graph] = await Promise.allSettled([
      tokens.getAccessToken(sandbox.connection.orgUrl),
      tokens.getAccessToken(sandbox.connection.graphOrigin),
    ]);
    expect([dataverse, graph]).toEqual([
      { status: "rejected", reason: interrupt },
      { status: "rejected", reason: interrupt },
    ]);
    expect(calls(sandbox, `/${sandbox.connection.tenantId}/oauth2/v2.0/token`)).toEqual([400]);
    await http.close();
  }, 5_000);
});
