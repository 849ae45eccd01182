import { describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/server.js";
import { expectConfigured, appToken } from "../helpers.js";
import { freshVirtualTenants } from "../in-process.js";

/**
 * Issue 10 (Graph): Entra's replication delay, lost answers, names that need encoding, paged lists. The CLI
 * runs in-process on a virtual clock the sandbox shares, so the replication back-off and the sync waits
 * cost no real time. (Moved from test/e2e/issue10-graph.test.ts with every assertion kept.)
 */
/** A fresh HOME with a sandbox tenant of its own on a virtual clock; closed after each test. */
const fresh = freshVirtualTenants();

const ADMIN = ["--sandbox", "--yes", "--auth", "client-secret"];
const LEAD_WRITER = "Microsoft Marketplace Lead Writer";

/** The app identity is complete: one app, one service principal, exactly one secret (the printed one), the role. */
async function expectAppIdentity(sandbox: Sandbox, partnerCenter: { applicationId: string; clientSecret: string }): Promise<void> {
  const apps = [...sandbox.state.applications.values()].filter((a) => a.appId === partnerCenter.applicationId);
  expect(apps).toHaveLength(1);
  expect(apps[0]!.passwordCredentials.map((c) => c.secretText)).toEqual([partnerCenter.clientSecret]);
  expect([...sandbox.state.servicePrincipals.values()].filter((sp) => sp.appId === partnerCenter.applicationId)).toHaveLength(1);
  const appUser = [...sandbox.state.systemUsers.values()].find((u) => u.applicationid === partnerCenter.applicationId)!;
  expect([...appUser.roles].map((id) => sandbox.state.roles.get(id)!.name)).toEqual([LEAD_WRITER]);
  expect(await appToken(sandbox, partnerCenter.applicationId, partnerCenter.clientSecret)).toBe(200);
}

describe("init --identity app while Entra replicates the new app (appReplicationMisses)", () => {
  it("waits out the refused service principal, addPassword and application user, and completes on the first run", async () => {
    const { run: cli, sandbox } = await fresh({ faults: { appReplicationMisses: 2 } });
    const run = await cli(["init", ...ADMIN, "--identity", "app", "--json"]);
    expect({ code: run.code, error: JSON.parse(run.stdout).error }).toEqual({ code: 0, error: null });
    expect(sandbox.faults.stats.replicationMisses).toBe(6);
    await expectAppIdentity(sandbox, JSON.parse(run.stdout).partnerCenter);
  });

  it("after addPassword's answer is lost, looks, removes the secret it cannot show, and adds one it can", async () => {
    const { run: cli, sandbox } = await fresh({ faults: { lostAnswers: ["POST /addPassword"] } });
    const run = await cli(["init", ...ADMIN, "--identity", "app", "--json"]);
    expect({ code: run.code, error: JSON.parse(run.stdout).error }).toEqual({ code: 0, error: null });
    expect(sandbox.faults.stats.lostAnswers).toBe(1);
    const addPasswords = sandbox.requests.filter((r) => r.path.endsWith("/addPassword"));
    const look = sandbox.requests.findIndex((r) => r.method === "GET" && r.path.includes("$select=passwordCredentials"));
    expect(look).toBeGreaterThan(sandbox.requests.indexOf(addPasswords[0]!));
    expect(look).toBeLessThan(sandbox.requests.indexOf(addPasswords[1]!));
    await expectAppIdentity(sandbox, JSON.parse(run.stdout).partnerCenter);
  });
});

describe("app names that need encoding in a query", () => {
  it.each(["Leads & more + Co", "Léads #1 'best' 100% für Größe"])(
    "create-app %j twice makes one app; status and teardown find it",
    async (name) => {
      const { run: cli, sandbox } = await fresh();
      const args = [...ADMIN, "--app-name", name];
      const first = await cli(["create-app", ...args, "--json"]);
      expect({ code: first.code, error: JSON.parse(first.stdout).error }).toEqual({ code: 0, error: null });
      const second = await cli(["create-app", ...args, "--json"]);
      expect({ code: second.code, status: JSON.parse(second.stdout).steps[0].status }).toEqual({ code: 0, status: "unchanged" });
      const named = [...sandbox.state.applications.values()].filter((a) => a.displayName === name);
      expect(named).toHaveLength(1);

      // status reads no --yes (it changes nothing, SPEC §3).
      const status = await cli(["status", ...args.filter((a) => a !== "--yes"), "--identity", "app", "--json"]);
      const createApp = JSON.parse(status.stdout).steps.find((s: { id: string }) => s.id === "create-app");
      expect(createApp.details).toMatchObject({ state: "done", applicationId: named[0]!.appId });

      expect((await cli(["teardown", ...args, "--identity", "app"])).code).toBe(0);
      expect([...sandbox.state.applications.values()].filter((a) => a.displayName === name)).toHaveLength(0);
    },
  );
});

describe("finding the app this tool made", () => {
  it("by the appId it recorded first: renamed in Entra, the app is still found and no second one is made", async () => {
    const { run: cli, sandbox } = await fresh();
    const first = JSON.parse((await cli(["create-app", ...ADMIN, "--app-name", "Leads", "--json"])).stdout);
    const app = [...sandbox.state.applications.values()].find((a) => a.appId === first.partnerCenter.applicationId)!;
    app.displayName = "Leads (renamed by an admin)";
    const again = await cli(["create-app", ...ADMIN, "--app-name", "Leads", "--json"]);
    expect({ code: again.code, status: JSON.parse(again.stdout).steps[0].status }).toEqual({ code: 0, status: "unchanged" });
    expect(sandbox.state.applications.size).toBe(2); // the sandbox's automation app and this one
  });
});

describe("lists that span pages (scenario pageSize)", () => {
  it("init with one row per page reaches the configured state (roles, business units, privileges, environments)", async () => {
    const { run: cli, sandbox } = await fresh({ scenario: { pageSize: 1, userBusinessUnit: "child", userSyncMs: 600_000 } });
    const run = await cli(["init", ...ADMIN, "--force-sync", "--sync-timeout", "20", "--json"]);
    expect({ code: run.code, error: JSON.parse(run.stdout).error }).toEqual({ code: 0, error: null });
    expectConfigured(sandbox, { userName: "mp-leadwriter@contoso.com" });
    expect(sandbox.requests.some((r) => r.path.includes("$skiptoken="))).toBe(true);
  });

  it("init --identity app with two rows per page completes, and a second run changes nothing", async () => {
    const { run: cli, sandbox } = await fresh({ scenario: { pageSize: 2 } });
    const run = await cli(["init", ...ADMIN, "--identity", "app", "--json"]);
    expect({ code: run.code, error: JSON.parse(run.stdout).error }).toEqual({ code: 0, error: null });
    await expectAppIdentity(sandbox, JSON.parse(run.stdout).partnerCenter);
    sandbox.clearRequests();
    expect((await cli(["init", ...ADMIN, "--identity", "app"])).code).toBe(0);
    expect(sandbox.mutatingRequests()).toEqual([]);
  });
});
