import { describe, expect, it } from "vitest";
import type { SandboxOptions } from "../../src/sandbox/server.js";
import { printedPassword, runCli, freshTenants } from "../helpers.js";
import { scan } from "../secrets-scan.js";

/**
 * Secrets (issue 4, SPEC §4): the full wizard with --verbose and each failure path, scanned. The generated
 * password appears once, in the final summary of the run that generated it; no other password, client
 * secret, access or refresh token appears in stdout, stderr or any file the tool wrote. The token cache
 * holds tokens by design and must be 0600. The failure paths that wait (a sync timeout, a service that
 * keeps failing) run in-process on a virtual clock: test/integration/secrets-waits.test.ts.
 */
/** A fresh HOME with a sandbox tenant of its own; closed after each test. */
const fresh = freshTenants();

describe("no secret leaks", () => {
  it("in the full wizard with --verbose (device code): the password only in the summary, once", async () => {
    const { home, env, sandbox } = await fresh();
    const run = await runCli(["init", "--sandbox", "--yes", "--verbose"], env);
    expect(run.code).toBe(0);
    expect(run.stderr.split("\n").filter((l) => l.startsWith("→ ")).length).toBeGreaterThan(25); // it really traced every call
    expect(run.stderr).toContain('"passwordProfile":{"password":"***"');
    expect(run.stderr).toContain("<base64 solution package,");
    const password = printedPassword(run.stdout)!;
    scan(sandbox, home, [run], password);
    const again = await runCli(["init", "--sandbox", "--yes", "--verbose", "--json"], env);
    scan(sandbox, home, [again]);
  });

  it("with a client secret from the environment and --verbose", async () => {
    const { home, env, sandbox } = await fresh();
    const run = await runCli(
      ["init", "--sandbox", "--yes", "--verbose", "--auth", "client-secret", "--client-id", sandbox.connection.automationClientId],
      { ...env, CRM_LEAD_SETUP_CLIENT_SECRET: sandbox.connection.automationClientSecret },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("client_secret=***");
    scan(sandbox, home, [run], printedPassword(run.stdout));
  });

  it.each([
    ["no free seat", {}, ["--license", "D365_SALES_PRO"], 4],
    ["a failing import", { faults: { importFailure: { component: "solution.xml", message: "Import failed." } } }, [], 1],
  ] as const)("on the failure path of %s, with --verbose", async (_label, options, args, exit) => {
    const { home, env, sandbox } = await fresh(options as SandboxOptions);
    const run = await runCli(["init", "--sandbox", "--yes", "--verbose", ...args], env);
    expect(run.code).toBe(exit);
    // A password generated before the failure is shown once all the same (else it would be lost).
    scan(sandbox, home, [run], printedPassword(run.stdout));
  });
});
