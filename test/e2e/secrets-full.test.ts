import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Sandbox, SandboxOptions } from "../../src/sandbox/server.js";
import { printedPassword, runCli, type CliRun, freshTenants } from "../helpers.js";

/**
 * Secrets (issue 4, SPEC §4): the full wizard with --verbose and each failure path, scanned. The generated
 * password appears once, in the final summary of the run that generated it; no other password, client
 * secret, access or refresh token appears in stdout, stderr or any file the tool wrote. The token cache
 * holds tokens by design and must be 0600.
 */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

const count = (text: string, secret: string) => text.split(secret).length - 1;

function scan(sandbox: Sandbox, home: string, runs: CliRun[], allowedOnce?: string): void {
  const secrets = sandbox.issuedSecrets();
  expect(secrets.length).toBeGreaterThan(4);
  const stdout = runs.map((r) => r.stdout).join("\n");
  const stderr = runs.map((r) => r.stderr).join("\n");
  for (const secret of secrets) {
    expect(count(stderr, secret), "a secret on stderr").toBe(0);
    expect(count(stdout, secret), "a secret on stdout").toBe(secret === allowedOnce ? 1 : 0);
  }
  for (const file of filesUnder(home)) {
    if (file.endsWith("sandbox.json")) continue; // written by the test harness, as `crm-lead-setup sandbox` would
    if (/msal-cache/.test(file)) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      continue;
    }
    const text = readFileSync(file, "latin1");
    for (const secret of secrets) expect(text.includes(secret), `${file} holds a secret`).toBe(false);
  }
}

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
    ["a sync timeout", { scenario: { userSyncMs: 5000 } }, ["--sync-timeout", "1"], 5],
    ["a service that keeps failing", { faults: { errorRate: 1, errorStatuses: [504] } }, [], 1],
  ] as const)(
    "on the failure path of %s, with --verbose",
    async (_label, options, args, exit) => {
      const { home, env, sandbox } = await fresh(options as SandboxOptions);
      const run = await runCli(["init", "--sandbox", "--yes", "--verbose", ...args], env, { timeoutMs: 120_000 });
      expect(run.code).toBe(exit);
      // A password generated before the failure is shown once all the same (else it would be lost).
      scan(sandbox, home, [run], printedPassword(run.stdout));
    },
    120_000,
  );
});
