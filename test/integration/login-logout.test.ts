import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/server.js";
import { sandboxFor, tempHome } from "../helpers.js";
import { runInProcess } from "../in-process.js";
import { VirtualClock } from "../virtual-clock.js";

/**
 * SPEC §3: --dry-run is honoured by login and logout; with --json they say which account and which cache
 * file. In-process on a virtual clock. (Moved from test/e2e/login-logout.test.ts with every assertion kept.)
 */
const clock = new VirtualClock();
const runCli = (args: string[], env: NodeJS.ProcessEnv) => runInProcess(args, env, { clock });
describe("login and logout say what they do, and --dry-run changes nothing", () => {
  const { home, env } = tempHome();
  const configDir = join(home, ".config", "crm-lead-setup");
  const caches = () => (existsSync(configDir) ? readdirSync(configDir).filter((name) => name.startsWith("msal-cache")) : []);
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await sandboxFor(env, { clock });
  });
  afterAll(() => sandbox.close());

  it("login --dry-run signs in nowhere and writes no cache", async () => {
    sandbox.clearRequests();
    const run = await runCli(["login", "--sandbox", "--dry-run"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /Would sign in .*device-code.* to Microsoft Graph \(https:\/\/localhost:\d+\) and Dynamics 365 \(https:\/\/localhost:\d+\)/,
    );
    expect(run.stdout).toMatch(/cache the tokens in .*msal-cache-sandbox-[0-9a-f-]+\.json/);
    expect(run.stdout).toContain("Dry run: nothing was changed.");
    expect(run.stderr).not.toContain("enter the code");
    expect(sandbox.requests.filter((r) => r.path.includes("/oauth2/"))).toEqual([]);
    expect(caches()).toEqual([]);
  });

  it("login --json names the account and the cache file", async () => {
    const run = await runCli(["login", "--sandbox", "--json"], env);
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout);
    expect(document).toMatchObject({
      ok: true,
      command: "login",
      dryRun: false,
      error: null,
      login: { account: "admin@contoso.onmicrosoft.com", tenantId: sandbox.connection.tenantId },
    });
    expect(document.login.cacheFile).toBe(join(configDir, caches()[0]!));
    expect(caches()).toHaveLength(1);
  });

  it("logout --dry-run names the cache file it would delete and keeps it", async () => {
    const [cache] = caches();
    const run = await runCli(["logout", "--dry-run"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Would remove ${join(configDir, cache!)}`);
    expect(run.stdout).toContain("Dry run: nothing was changed.");
    expect(caches()).toEqual([cache]);
    const json = JSON.parse((await runCli(["logout", "--dry-run", "--json"], env)).stdout);
    expect(json).toMatchObject({ ok: true, command: "logout", dryRun: true, logout: { cacheFiles: [join(configDir, cache!)] } });
    expect(caches()).toEqual([cache]);
  });

  it("logout --json names the cache files it deleted", async () => {
    const [cache] = caches();
    const document = JSON.parse((await runCli(["logout", "--json"], env)).stdout);
    expect(document).toMatchObject({ ok: true, command: "logout", dryRun: false, logout: { cacheFiles: [join(configDir, cache!)] } });
    expect(caches()).toEqual([]);
  });
});
