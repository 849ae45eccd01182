import { describe, expect, it } from "vitest";
import { expectConfigured, passwordSignIn, printedPassword, appToken } from "../helpers.js";
import { freshVirtualTenants } from "../in-process.js";

/**
 * Issue 5: the app identity, verify, teardown, --force-sync. Final state read from the sandbox itself. The
 * CLI runs in-process on a virtual clock shared with the sandbox (nothing here needs a process of its
 * own). (Moved from test/e2e/beyond.test.ts with every assertion kept.)
 */
/** A fresh HOME with a sandbox tenant of its own on a virtual clock; closed after each test. */
const fresh = freshVirtualTenants();

const ADMIN = ["--sandbox", "--yes", "--auth", "client-secret"];
/** status asks nothing, so it takes no --yes (SPEC §3: a command takes only the options it reads). */
const READ_ONLY = ADMIN.filter((flag) => flag !== "--yes");
const UPN = "mp-leadwriter@contoso.com";
const LEAD_WRITER = "Microsoft Marketplace Lead Writer";

describe("init --identity app", () => {
  it("gives the application user the role, and the printed secret obtains a Dataverse token", async () => {
    const { env, sandbox, cli } = await fresh();
    const run = await cli(["init", ...ADMIN, "--identity", "app", "--json"], env);
    expect(run.code).toBe(0);
    const { partnerCenter, steps } = JSON.parse(run.stdout);
    expect(steps.map((s: { id: string }) => s.id)).toEqual([
      "download-solution",
      "import-solution",
      "create-app",
      "assign-role",
      "patch-role",
    ]);
    expect(partnerCenter).toEqual({
      url: sandbox.connection.orgUrl,
      authentication: "Azure Active Directory",
      applicationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      directoryId: sandbox.connection.tenantId,
      clientSecret: expect.any(String),
      setup: "complete",
      nextStep: expect.stringContaining("then select Validate in Partner Center"),
    });
    const app = [...sandbox.state.applications.values()].find((a) => a.appId === partnerCenter.applicationId)!;
    expect(app.signInAudience).toBe("AzureADMultipleOrgs");
    expect(app.passwordCredentials).toHaveLength(1);
    const months = (Date.parse(app.passwordCredentials[0]!.endDateTime) - Date.now()) / (30.4 * 86_400_000);
    expect(Math.round(months)).toBe(24);
    expect([...sandbox.state.servicePrincipals.values()].filter((sp) => sp.appId === app.appId)).toHaveLength(1);
    const appUser = [...sandbox.state.systemUsers.values()].find((u) => u.applicationid === app.appId)!;
    expect(appUser.businessunitid).toBe(sandbox.state.rootBusinessUnit.businessunitid);
    expect([...appUser.roles].map((id) => sandbox.state.roles.get(id)!.name)).toEqual([LEAD_WRITER]);
    expect(await appToken(sandbox, app.appId, partnerCenter.clientSecret)).toBe(200);

    // Idempotent: the same app is reused and no new secret is added once one was delivered.
    const again = JSON.parse((await cli(["init", ...ADMIN, "--identity", "app", "--json"], env)).stdout);
    expect(again.steps.map((s: { status: string }) => s.status)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"]);
    expect(again.partnerCenter.clientSecret).toBeNull();
    expect(app.passwordCredentials).toHaveLength(1);

    // reset-password makes a new secret for the app identity.
    const reset = JSON.parse(
      (await cli(["reset-password", ...ADMIN, "--identity", "app", "--secret-expiry-months", "6", "--json"], env)).stdout,
    );
    expect(app.passwordCredentials).toHaveLength(2);
    expect(await appToken(sandbox, app.appId, reset.partnerCenter.clientSecret)).toBe(200);
  });
});

describe("verify", () => {
  it("passes after init for the user identity (init --verify) and on its own with the password from the environment", async () => {
    const { env, sandbox, cli } = await fresh();
    const run = await cli(["init", ...ADMIN, "--verify"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /✔ verify \(done\) signed in as mp-leadwriter@contoso\.com; WhoAmI: system user [0-9a-f-]{36}; wrote lead MSFT_TEST_\d+ \([0-9a-f-]{36}\); deleted it as the admin\./,
    );
    expect(sandbox.state.leads.size).toBe(0);
    const password = printedPassword(run.stdout)!;
    const alone = await cli(["verify", ...ADMIN, "--json"], { ...env, CRM_LEAD_SETUP_SERVICE_PASSWORD: password });
    expect(alone.code).toBe(0);
    expect(JSON.parse(alone.stdout).steps[0].details.checks).toHaveLength(4);
    expect(alone.stdout + alone.stderr).not.toContain(password);
    const piped = await cli(["verify", ...ADMIN, "--secret-stdin"], env, { input: `${password}\n` });
    expect(piped.code).toBe(0);
  });

  it("passes after init for the app identity", async () => {
    const { env, cli } = await fresh();
    const run = await cli(["init", ...ADMIN, "--identity", "app", "--verify"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ verify \(done\) signed in as the app ".*"; WhoAmI/);
  });

  it("fails with exit 3 and the MFA explanation when the tenant demands MFA, and still shows the new password", async () => {
    const { env, cli } = await fresh({ faults: { signInError: { aadsts: 50076 } } });
    const run = await cli(["init", ...ADMIN, "--verify"], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /AADSTS50076: Multi-factor authentication or Conditional Access blocks this account's password sign-in, so Partner Center cannot sign in with it either\./,
    );
    expect(run.stderr).toMatch(/Hint: Use --identity app/);
    expect(printedPassword(run.stdout)).toMatch(/^\S{28}$/); // generated in this run: never lost
  });

  it.each([
    [53003, /Multi-factor authentication or Conditional Access blocks this account/],
    [530035, /Security defaults block this account's password sign-in/],
  ])("explains AADSTS%i for the service account (exit 3)", async (code, message) => {
    const { env, cli } = await fresh({ faults: { signInError: { aadsts: code } } });
    const init = await cli(["init", ...ADMIN], env);
    expect(init.code).toBe(0);
    // The right password: Entra evaluates Conditional Access only after the password is accepted.
    const run = await cli(["verify", ...ADMIN], { ...env, CRM_LEAD_SETUP_SERVICE_PASSWORD: printedPassword(init.stdout)! });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(message);
  });

  it("explains a wrong password (50126), a disabled account (50057) and an expired password (50055)", async () => {
    const { env, sandbox, cli } = await fresh();
    const init = await cli(["init", ...ADMIN], env);
    const password = printedPassword(init.stdout)!;
    const wrong = await cli(["verify", ...ADMIN], { ...env, CRM_LEAD_SETUP_SERVICE_PASSWORD: "not-the-password-1A!" });
    expect([wrong.code, /AADSTS50126: The user name or password is wrong/.test(wrong.stderr)]).toEqual([3, true]);
    // The hint names the exact command that reaches the same tenant, sign-in and user (typed as shown, it works).
    expect(wrong.stderr).toContain(
      `Set the service password again with \`npx crm-lead-setup reset-password --sandbox --auth client-secret --user-name ${UPN}\``,
    );
    const user = [...sandbox.state.users.values()].find((u) => u.userPrincipalName === UPN)!;
    user.forceChangePasswordNextSignIn = true;
    const expired = await cli(["verify", ...ADMIN], { ...env, CRM_LEAD_SETUP_SERVICE_PASSWORD: password });
    expect([
      expired.code,
      /AADSTS50055: The account's password has expired/.test(expired.stderr),
      /reset-password/.test(expired.stderr),
    ]).toEqual([3, true, true]);
    user.forceChangePasswordNextSignIn = false;
    user.accountEnabled = false;
    const disabled = await cli(["verify", ...ADMIN], { ...env, CRM_LEAD_SETUP_SERVICE_PASSWORD: password });
    expect([disabled.code, /AADSTS50057: The account is disabled in Entra ID/.test(disabled.stderr)]).toEqual([3, true]);
  });

  it("explains a user without the role (0x80042F09): exit 4, and writes no lead", async () => {
    const { env, sandbox, cli, clock } = await fresh();
    const created = await cli(["create-user", ...ADMIN], env);
    const password = printedPassword(created.stdout)!;
    await clock.sleep(500); // past the sync delay (300 ms), on the tenant's clock
    const run = await cli(["verify", ...ADMIN], { ...env, CRM_LEAD_SETUP_SERVICE_PASSWORD: password });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(
      /has no security role in Dynamics \("SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user"\)/,
    );
    expect(run.stderr).toMatch(/Hint: Run npx crm-lead-setup assign-role/);
    expect(sandbox.state.leads.size).toBe(0);
  });

  it("explains a role without the lead privileges (leadsourcecode): exit 4, and writes no lead", async () => {
    const { env, sandbox, cli } = await fresh();
    const init = await cli(["init", ...ADMIN], env);
    const root = [...sandbox.state.roles.values()].find((r) => r.name === LEAD_WRITER && r.parentroleid === null)!;
    root.privileges.delete(sandbox.state.privilegeByName("prvCreateLead")!.privilegeid); // a role edited by hand
    const run = await cli(["verify", ...ADMIN], { ...env, CRM_LEAD_SETUP_SERVICE_PASSWORD: printedPassword(init.stdout)! });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(
      /may not create leads with a lead source \("User does not have create permissions for the leadsourcecode attribute"\)/,
    );
    expect(run.stderr).toMatch(/Hint: Run npx crm-lead-setup assign-role and patch-role/);
    expect(sandbox.state.leads.size).toBe(0);
  });

  it("without a secret and without a terminal, names where the secret comes from (exit 2)", async () => {
    const { env, cli } = await fresh();
    await cli(["init", ...ADMIN], env);
    const run = await cli(["verify", ...ADMIN], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Set CRM_LEAD_SETUP_SERVICE_PASSWORD, or pass --secret-stdin/);
  });
});

describe("teardown", () => {
  it("removes what init made for the user identity; then status shows nothing left; a second teardown changes nothing", async () => {
    const { env, sandbox, cli } = await fresh();
    expect((await cli(["init", ...ADMIN], env)).code).toBe(0);
    const sales = sandbox.state.skus.find((s) => s.skuPartNumber === "DYN365_ENTERPRISE_SALES")!;
    expect(sales.consumedUnits).toBe(4);
    const dry = await cli(["teardown", ...ADMIN, "--include-solution", "--dry-run", "--json"], env);
    expect(JSON.parse(dry.stdout).steps[0].changes.map((c: { action: string }) => c.action)).toEqual(["remove", "delete", "delete"]);
    expect(sandbox.state.solutions.size).toBe(1);
    const run = await cli(["teardown", ...ADMIN, "--include-solution"], env);
    expect(run.code).toBe(0);
    expect([...sandbox.state.users.values()].some((u) => u.userPrincipalName === UPN)).toBe(false);
    expect(sales.consumedUnits).toBe(3);
    expect(sandbox.state.solutions.size).toBe(0);
    expect([...sandbox.state.roles.values()].filter((r) => r.name === LEAD_WRITER)).toHaveLength(0);
    const statusRun = await cli(["status", ...READ_ONLY, "--json", "--detailed-exitcode"], env);
    expect(statusRun.code).toBe(10);
    const status = JSON.parse(statusRun.stdout);
    expect(status.steps.slice(1).map((s: { details: { state: string } }) => s.details.state)).toEqual([
      "missing",
      "missing",
      "missing",
      "missing",
    ]);
    sandbox.clearRequests();
    const again = await cli(["teardown", ...ADMIN, "--include-solution", "--json"], env);
    expect(JSON.parse(again.stdout).steps[0]).toMatchObject({ status: "unchanged", summary: "Nothing left to remove" });
    expect(sandbox.mutatingRequests()).toEqual([]);
  });

  it("removes the app identity: app, service principal, and the application user disabled", async () => {
    const { env, sandbox, cli } = await fresh();
    const init = JSON.parse((await cli(["init", ...ADMIN, "--identity", "app", "--json"], env)).stdout);
    const appId = init.partnerCenter.applicationId;
    expect((await cli(["teardown", ...ADMIN, "--identity", "app"], env)).code).toBe(0);
    expect([...sandbox.state.applications.values()].some((a) => a.appId === appId)).toBe(false);
    expect([...sandbox.state.servicePrincipals.values()].some((sp) => sp.appId === appId)).toBe(false);
    const appUser = [...sandbox.state.systemUsers.values()].find((u) => u.applicationid === appId)!;
    expect([appUser.isdisabled, appUser.roles.size]).toEqual([true, 0]);
    expect(sandbox.state.solutions.size).toBe(1); // kept without --include-solution
    expect(await appToken(sandbox, appId, init.partnerCenter.clientSecret)).not.toBe(200);
    const status = JSON.parse((await cli(["status", ...READ_ONLY, "--identity", "app", "--json"], env)).stdout);
    expect(status.steps.map((s: { details: { state: string } }) => s.details.state)).toEqual([
      "done",
      "done",
      "missing",
      "missing",
      "done",
    ]);
  });
});

describe("--force-sync", () => {
  it("adds the user through the Power Platform admin API instead of waiting for the sync", async () => {
    const { env, sandbox, cli } = await fresh({ scenario: { userSyncMs: 600_000 } });
    const run = await cli(["init", ...ADMIN, "--force-sync", "--sync-timeout", "20"], env);
    expect(run.code).toBe(0);
    expect(sandbox.requests.some((r) => r.service === "bap" && r.path.includes("/addUser"))).toBe(true);
    expectConfigured(sandbox, { userName: UPN });
    expect(await passwordSignIn(sandbox, UPN, printedPassword(run.stdout)!)).toBe(200);
  });
});
