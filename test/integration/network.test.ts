import { createServer as createTlsServer, type Server } from "node:https";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandboxTls } from "../../src/sandbox/ca.js";
import { customCloud, NO_DOWNLOAD, tempHome } from "../helpers.js";
import { runInProcess } from "../in-process.js";
import { VirtualClock } from "../virtual-clock.js";

/**
 * A host that cannot be reached is named, with what happened, as the command's own error (exit 1, a
 * stable `network-…` code): never "sign-in failed", never a step that had not started. Every host here is
 * local or under `.invalid` (RFC 2606: guaranteed never to resolve), so nothing leaves this machine.
 * In-process: the CLI's own HTTP layer meets the same sockets. (Moved from test/e2e/network.test.ts with
 * every assertion kept; the proxy case needs NODE_EXTRA_CA_CERTS, which Node reads only at start-up, and
 * stays there.)
 */

const runCli = (args: string[], env: NodeJS.ProcessEnv) => runInProcess(args, env, { clock: new VirtualClock() });

const UNRESOLVABLE = [
  "--cloud",
  "custom",
  "--authority-host",
  "https://login.nowhere.invalid",
  "--graph-endpoint",
  "https://graph.nowhere.invalid",
  "--org-url",
  "https://x.nowhere.invalid",
  "--auth",
  "device-code",
  ...NO_DOWNLOAD,
];

/** A loopback port where nothing listens: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let untrusted: Server;
let untrustedRequests = 0;
beforeAll(async () => {
  // A certificate from a CA nobody trusts: what a TLS-inspecting proxy presents.
  const tls = await createSandboxTls(["localhost"]);
  untrusted = createTlsServer({ cert: tls.certPem, key: tls.keyPem }, (_request, response) => {
    untrustedRequests++;
    response.end("{}");
  });
  await new Promise<void>((resolve) => untrusted.listen(0, "127.0.0.1", resolve));
});
afterAll(() => new Promise<void>((resolve) => untrusted.close(() => resolve())));

describe("network failures name the host and the cause", () => {
  it.each([
    [
      "an unresolvable name",
      async () => ({ flags: UNRESOLVABLE, host: "login.nowhere.invalid" }),
      "network-host-unknown",
      /does not exist, or DNS/,
    ],
    [
      "a refused port",
      async () => {
        const port = await closedPort();
        return { flags: customCloud(`https://127.0.0.1:${port}`), host: `127.0.0.1:${port}` };
      },
      "network-refused",
      /Nothing accepted the connection/,
    ],
    [
      "a certificate from an unknown CA",
      async () => {
        const { port } = untrusted.address() as AddressInfo;
        return { flags: customCloud(`https://localhost:${port}`), host: `localhost:${port}` };
      },
      "network-tls-untrusted",
      /certificate is not trusted/,
    ],
  ])("%s: status --json says so with exit 1 and its own code", async (_cause, target, code, meaning) => {
    const { env } = tempHome();
    const { flags, host } = await target();
    const run = await runCli(["status", "--json", ...flags], env);
    const document = JSON.parse(run.stdout);
    expect({ code: run.code, error: document.error.code }).toEqual({ code: 1, error: code });
    expect(document.error.message).toContain(`Could not reach ${host}`);
    expect(document.error.message).toMatch(meaning);
    expect(document.error.message).not.toMatch(/sign-in failed/i);
    // The failure happened while signing in: no step is blamed for it.
    expect(document.steps.filter((step: { status: string }) => step.status === "failed")).toEqual([]);
    expect(run.stderr).not.toMatch(/sign-in failed/i);
  });

  it("init says the same in words, before any step runs", async () => {
    const { env } = tempHome();
    const run = await runCli(["init", "--yes", ...UNRESOLVABLE], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Error: Could not reach login\.nowhere\.invalid: .*ENOTFOUND/);
    expect(run.stderr).not.toMatch(/sign-in failed|SignInError|-1/i);
    expect(run.stdout).not.toMatch(/\(failed\)/);
  });

  it("the TLS server was reached at the handshake only (no request was sent to it)", () => {
    expect(untrustedRequests).toBe(0);
  });
});
