import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/server.js";
import { runCli, sandboxFor, tempHome, type CliRun } from "../helpers.js";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function leaks(sandbox: Sandbox, runs: CliRun[]): string[] {
  const secrets = sandbox.issuedSecrets();
  expect(secrets.length).toBeGreaterThan(3);
  const text = runs.map((r) => r.stdout + r.stderr).join("\n");
  return secrets.filter((secret) => text.includes(secret));
}

/**
 * Sign-in through the built bin, scanned for secrets in its output and files (SPEC §4): one spawned
 * device-code login. The other sign-in cases run in-process: test/integration/secrets-login.test.ts.
 */
describe("sign-in through the CLI", () => {
  const { home, env } = tempHome();
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await sandboxFor(env);
  });
  afterAll(() => sandbox.close());

  it("login --verbose: traces every call, leaks no token or password, caches tokens in a 0600 file", async () => {
    const run = await runCli(["login", "--sandbox", "--verbose"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Signed in as admin@contoso.onmicrosoft.com");
    expect(run.stderr).toMatch(/enter the code [0-9A-F]+ to authenticate/);
    expect(run.stderr).toMatch(/→ POST https:\/\/localhost:\d+\/[^ ]+\/oauth2\/v2\.0\/token/);
    expect(run.stderr).toContain('"access_token":"***"');
    expect(leaks(sandbox, [run])).toEqual([]);

    const configDir = join(home, ".config", "crm-lead-setup");
    const caches = readdirSync(configDir).filter((n) => n.startsWith("msal-cache-sandbox-"));
    expect(caches).toHaveLength(1);
    expect(statSync(join(configDir, caches[0]!)).mode & 0o777).toBe(0o600);
    // Every other file the tool wrote is free of secrets; the token cache holds them by design (SPEC §4).
    const written = filesUnder(home).filter((f) => !f.includes("msal-cache") && !f.endsWith("sandbox.json"));
    for (const file of written) for (const secret of sandbox.issuedSecrets()) expect(readFileSync(file, "utf8")).not.toContain(secret);

    sandbox.clearRequests();
    const again = await runCli(["login", "--sandbox"], env);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain("enter the code");
    expect(sandbox.requests.some((r) => r.path.includes("/devicecode"))).toBe(false);
  });
});

// logout, client-secret sign-in, a wrong secret and --json run in-process: test/integration/secrets-login.test.ts.
