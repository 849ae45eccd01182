import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createSandboxTls } from "../../src/sandbox/ca.js";
import { customCloud, runCli, tempHome } from "../helpers.js";

/**
 * A host that cannot be reached is named, with what happened, as the command's own error (exit 1, a
 * stable `network-…` code): never "sign-in failed", never a step that had not started. Every host here is
 * local or under `.invalid` (RFC 2606: guaranteed never to resolve), so nothing leaves this machine.
 * Here, the one case that needs a process: a proxy's CA given through NODE_EXTRA_CA_CERTS, which Node reads
 * only at start-up. The others run in-process: test/integration/network.test.ts.
 */

describe("network failures name the host and the cause", () => {
  it("a proxy that wants credentials (407): network-proxy, exit 1, naming the host", async () => {
    // A trusted server this time (its CA added the way an admin adds a proxy's CA), answering 407 to everything.
    const tls = await createSandboxTls(["localhost"]);
    const caFile = join(mkdtempSync(join(tmpdir(), "cls-ca-")), "ca.pem");
    writeFileSync(caFile, tls.caPem);
    const proxy = createTlsServer({ cert: tls.certPem, key: tls.keyPem }, (_request, response) => {
      response.writeHead(407, { "proxy-authenticate": "Basic" }).end();
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const { env } = tempHome();
      const { port } = proxy.address() as AddressInfo;
      const run = await runCli(["status", "--json", ...customCloud(`https://localhost:${port}`)], { ...env, NODE_EXTRA_CA_CERTS: caFile });
      const document = JSON.parse(run.stdout);
      expect({ code: run.code, error: document.error.code }).toEqual({ code: 1, error: "network-proxy" });
      expect(document.error.message).toContain(`Could not reach localhost:${port}: a proxy answered 407`);
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
