import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/server.js";
import { sandboxFor, tempHome, type CliRun } from "../helpers.js";
import { runInProcess } from "../in-process.js";
import { VirtualClock } from "../virtual-clock.js";

/**
 * Sign-in, logout and a wrong secret, in-process on a virtual clock; no secret in the output. (Moved from
 * test/e2e/secrets-login.test.ts with every assertion kept; logout now signs in first on its own rather than
 * reusing the previous test's cache. The spawned login --verbose scan stays there.)
 */
function leaks(sandbox: Sandbox, runs: CliRun[]): string[] {
  const secrets = sandbox.issuedSecrets();
  expect(secrets.length).toBeGreaterThan(3);
  const text = runs.map((r) => r.stdout + r.stderr).join("\n");
  return secrets.filter((secret) => text.includes(secret));
}

const clock = new VirtualClock();
const runCli = (args: string[], env: NodeJS.ProcessEnv) => runInProcess(args, env, { clock });

describe("sign-in through the CLI", () => {
  const { home, env } = tempHome();
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await sandboxFor(env, { clock });
  });
  afterAll(() => sandbox.close());

  it("logout deletes the token caches", async () => {
    expect((await runCli(["login", "--sandbox"], env)).code).toBe(0);
    const run = await runCli(["logout"], env);
    expect(run.stdout).toMatch(/Signed out: removed 1 token cache file/);
    expect(readdirSync(join(home, ".config", "crm-lead-setup")).filter((n) => n.startsWith("msal-cache"))).toEqual([]);
    expect((await runCli(["logout"], env)).stdout).toContain("No cached sign-in to remove.");
  });

  it("client-secret sign-in with --verbose never shows the secret from the environment", async () => {
    const secretEnv = { ...env, CRM_LEAD_SETUP_CLIENT_SECRET: sandbox.connection.automationClientSecret };
    const run = await runCli(
      ["login", "--sandbox", "--verbose", "--auth", "client-secret", "--client-id", sandbox.connection.automationClientId],
      secretEnv,
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("client_secret=***");
    expect(leaks(sandbox, [run])).toEqual([]);
    expect(run.stdout + run.stderr).not.toContain(sandbox.connection.automationClientSecret);
  });

  it("a wrong client secret exits 3 with the AADSTS code explained, and no secret shown", async () => {
    const run = await runCli(["login", "--sandbox", "--auth", "client-secret", "--client-id", sandbox.connection.automationClientId], {
      ...env,
      CRM_LEAD_SETUP_CLIENT_SECRET: "wrong-secret-value-123",
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/AADSTS7000215: The client secret of application .* is invalid or expired/);
    expect(run.stderr).not.toContain("wrong-secret-value-123");
  });

  it("with --json, stdout holds only the document and the device-code instruction still reaches stderr", async () => {
    const fresh = tempHome();
    const freshSandbox = await sandboxFor(fresh.env, { clock });
    try {
      const run = await runCli(["login", "--sandbox", "--json"], fresh.env);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, command: "login", error: null });
      expect(run.stderr).toMatch(/enter the code [0-9A-F]+/);
      expect(leaks(freshSandbox, [run])).toEqual([]);
    } finally {
      await freshSandbox.close();
    }
  });
});
