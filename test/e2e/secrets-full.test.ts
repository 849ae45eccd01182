import { describe, expect, it } from "vitest";
import { printedPassword, runCli, freshTenants } from "../helpers.js";
import { scan } from "../secrets-scan.js";

/**
 * Secrets (issue 4, SPEC §4): the full wizard with --verbose and each failure path, scanned. The generated
 * password appears once, in the final summary of the run that generated it; no other password, client
 * secret, access or refresh token appears in stdout, stderr or any file the tool wrote. The token cache
 * holds tokens by design and must be 0600. Here, one spawned scan of the full wizard; a client secret from
 * the environment and every failure path run in-process: test/integration/secrets.test.ts.
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
});
