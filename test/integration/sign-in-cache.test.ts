import { describe, expect, it } from "vitest";
import type { Sandbox, SandboxCloud } from "../../src/sandbox/server.js";
import { freshVirtualTenants } from "../in-process.js";

/**
 * One sign-in per token cache (issue 10 point 2): MSAL records an account under its cloud's cache alias
 * (login.windows.net for login.microsoftonline.com, login.partner.microsoftonline.cn for
 * login.chinacloudapi.cn), so the CLI must find it again by that alias, not by its own authority host.
 * The sandbox poses as each cloud's real hosts, where MSAL applies its real alias table. In-process on a
 * virtual clock: the cache lives in the run's HOME, as it does for a process. (Moved from
 * test/e2e/sign-in-cache.test.ts with every assertion kept.)
 */
const fresh = freshVirtualTenants();

const deviceCodeRequests = (sandbox: Sandbox) =>
  sandbox.requests.filter((r) => r.service === "entra" && r.path.includes("/oauth2/v2.0/devicecode"));

describe("login, then status, then init: one sign-in in all", () => {
  it.each(["public", "gcc", "gcchigh", "dod", "china"] as SandboxCloud[])("%s", async (cloud) => {
    const { sandbox, run: cli } = await fresh({ cloud, scenario: { userSyncMs: 0 } });

    const login = await cli(["login", "--sandbox"]);
    expect(login.code).toBe(0);
    expect(login.stderr).toMatch(/enter the code/);

    const status = await cli(["status", "--sandbox"]);
    expect(status.stderr).not.toMatch(/enter the code/);
    expect([0, 10]).toContain(status.code);

    const init = await cli(["init", "--sandbox", "--yes"]);
    expect(init.stderr).not.toMatch(/enter the code/);
    expect(init.code).toBe(0);
    expect(deviceCodeRequests(sandbox)).toHaveLength(1);
  });
});
