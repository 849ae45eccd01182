import { describe, expect, it } from "vitest";
import type { GraphApplication, GraphUser } from "../../src/services/graph.js";
import type { InstalledSolution, RoleRow, SystemUserRow } from "../../src/services/dataverse.js";
import type { SolutionPackage } from "../../src/solution/package.js";
import type { LicenceDecision } from "../../src/steps/licences.js";
import { describeUserOp, planUser, type CreateUserState } from "../../src/steps/create-user.js";
import { describeAppOp, planApp, secretStanding, type CreateAppState } from "../../src/steps/create-app.js";
import { describeAssignRole, planAssignRole, type AssignRoleState } from "../../src/steps/assign-role.js";
import { describePatchRoleOp, planPatchRole, type PatchRoleState } from "../../src/steps/patch-role.js";
import { planImport, importSolutionStep, type ImportState } from "../../src/steps/import-solution.js";
import { downloadSolutionStep } from "../../src/steps/download-solution.js";
import { describeTeardownOp, planTeardown } from "../../src/steps/teardown.js";
import { newSecretStep, resetPasswordStep } from "../../src/steps/reset-password.js";
import { verifyStep } from "../../src/steps/verify.js";
import { REQUIRED_PRIVILEGES } from "../../src/steps/lead-writer.js";
import type { AnyStep, StepPlan } from "../../src/steps/step.js";

/**
 * Every step's plan as a table: a state in, the typed ops out, and each op as the one line that the
 * confirmation list, --dry-run and the JSON `changes` show.
 */

const ROLE = "Microsoft Marketplace Lead Writer";
const UPN = "mp-leadwriter@contoso.com";

/** The plan's ops as their kinds, and as the lines people and --json see. */
function shown(step: Pick<AnyStep, "describe">, plan: StepPlan<unknown>) {
  return { kinds: plan.ops.map((op) => (op as { kind: string }).kind), lines: plan.ops.map((op) => step.describe(op)) };
}

const user = (overrides: Partial<GraphUser> = {}): GraphUser => ({
  id: "user-1",
  userPrincipalName: UPN,
  displayName: "Lead Writer",
  accountEnabled: true,
  usageLocation: "US",
  passwordPolicies: "DisablePasswordExpiration",
  assignedLicenses: [{ skuId: "sales", disabledPlans: [] }],
  ...overrides,
});
const SALES = { skuId: "sales", skuPartNumber: "DYN365_ENTERPRISE_SALES", free: 2, total: 5, rank: 1 };
const assignSales: LicenceDecision = { assign: SALES, held: undefined, chosenByDefault: true };
const holdsSales: LicenceDecision = { assign: undefined, held: SALES, chosenByDefault: false };

describe("create-user", () => {
  const state = (overrides: Partial<CreateUserState> = {}): CreateUserState => ({
    orgUrl: "https://contoso.crm.dynamics.com",
    userPrincipalName: UPN,
    current: undefined,
    usageLocation: "US",
    licence: assignSales,
    keepPasswordExpiry: false,
    displayName: "Microsoft Marketplace Lead Writer",
    neverShown: false,
    offerNeverShownReset: false,
    ...overrides,
  });
  const step = { describe: describeUserOp } as Pick<AnyStep, "describe">;

  it.each([
    [
      "no user: create it, then assign the licence chosen for it",
      state(),
      ["create-user", "assign-licence"],
      [
        {
          action: "create",
          target: `user ${UPN} (usage location US, password never expires, no forced password change, no admin role)`,
        },
        {
          action: "assign",
          target: "licence DYN365_ENTERPRISE_SALES (the best Dynamics licence with a free seat; choose another with --license)",
        },
      ],
    ],
    ["a user in line: nothing", state({ current: user(), licence: holdsSales }), [], []],
    [
      "a disabled user in another country whose password expires, without a licence: each difference is one op",
      state({ current: user({ accountEnabled: false, usageLocation: "DE", passwordPolicies: null }), licence: assignSales }),
      ["enable-user", "set-usage-location", "set-password-never-expires", "assign-licence"],
      [
        { action: "enable", target: `user ${UPN} (it is disabled, so Partner Center cannot sign in)` },
        { action: "set", target: `usage location of ${UPN} to US` },
        { action: "set", target: `password of ${UPN} to never expire (DisablePasswordExpiration)` },
        { action: "assign", target: `licence DYN365_ENTERPRISE_SALES to ${UPN}` },
      ],
    ],
    [
      "--keep-password-expiry leaves an expiring password alone",
      state({ current: user({ passwordPolicies: null }), licence: holdsSales, keepPasswordExpiry: true }),
      [],
      [],
    ],
    [
      "a password never shown, with someone to confirm: a new one is planned",
      state({ current: user(), licence: holdsSales, neverShown: true, offerNeverShownReset: true }),
      ["reset-password"],
      [
        {
          action: "set",
          target: `a new generated password for ${UPN} (the one generated when it was created was never shown: the run that created it was interrupted)`,
        },
      ],
    ],
    [
      "a password never shown, unattended: no op (the summary says how)",
      state({ current: user(), licence: holdsSales, neverShown: true }),
      [],
      [],
    ],
  ])("%s", (_name, input, kinds, lines) => {
    const plan = planUser(input);
    expect(shown(step, plan)).toEqual({ kinds, lines });
    expect(plan.drift ?? false).toBe(input.current !== undefined && kinds.length > 0);
  });

  it("the licence op of a user still to be created learns the user's id from the create op", () => {
    const [create, licence] = planUser(state()).ops;
    expect(create).toMatchObject({ kind: "create-user", userPrincipalName: UPN, usageLocation: "US", keepPasswordExpiry: false });
    expect(licence).toMatchObject({ kind: "assign-licence", userId: undefined, skuId: "sales" });
  });
});

describe("create-app", () => {
  const application: GraphApplication = {
    id: "object-1",
    appId: "app-1",
    displayName: "Lead Writer",
    signInAudience: "AzureADMultipleOrgs",
    passwordCredentials: [],
  };
  const appUser = (isdisabled: boolean): SystemUserRow => ({
    systemuserid: "su-1",
    domainname: "",
    isdisabled,
    _businessunitid_value: "bu-root",
    azureactivedirectoryobjectid: null,
  });
  const state = (overrides: Partial<CreateAppState> = {}): CreateAppState => ({
    displayName: "Lead Writer",
    orgUrl: "https://contoso.crm.dynamics.com",
    directoryId: "tenant-1",
    application: undefined,
    hasServicePrincipal: false,
    applicationUser: undefined,
    secretDelivered: false,
    undeliveredKeyId: undefined,
    interruptedKeyIds: [],
    expiryMonths: 24,
    expiresOn: new Date("2028-11-30T00:00:00Z"),
    currentSecret: undefined,
    ...overrides,
  });
  const step = { describe: describeAppOp } as Pick<AnyStep, "describe">;

  it.each([
    [
      "nothing yet: the app, its service principal, a secret and the application user",
      state(),
      ["create-application", "create-service-principal", "add-secret", "create-application-user"],
      [
        {
          action: "create",
          target: `app registration "Lead Writer" (accounts in any organizational directory, Dynamics CRM user_impersonation)`,
        },
        { action: "create", target: `the service principal of "Lead Writer"` },
        { action: "add", target: `a client secret to "Lead Writer", expiring 2028-11-30 (24 months)` },
        { action: "create", target: `the Dynamics application user of "Lead Writer" in the root business unit` },
      ],
    ],
    [
      "complete: nothing",
      state({ application, hasServicePrincipal: true, applicationUser: appUser(false), secretDelivered: true }),
      [],
      [],
    ],
    [
      "a secret an interrupted run never showed: removed and replaced; a disabled application user enabled",
      state({ application, hasServicePrincipal: true, applicationUser: appUser(true), undeliveredKeyId: "key-1" }),
      ["remove-secret", "add-secret", "enable-application-user"],
      [
        { action: "remove", target: "the client secret key-1, which an interrupted run added but never showed" },
        { action: "add", target: `a client secret to "Lead Writer", expiring 2028-11-30 (24 months)` },
        { action: "enable", target: `the Dynamics application user of "Lead Writer"` },
      ],
    ],
    [
      "a delivered secret expiring within --warn-days (status): a new secret, naming the current one's expiry",
      state({
        application,
        hasServicePrincipal: true,
        applicationUser: appUser(false),
        secretDelivered: true,
        currentSecret: { keyId: "key-1", endDateTime: "2026-12-10T00:00:00Z", expired: false, expiresSoon: true },
      }),
      ["add-secret"],
      [
        {
          action: "add",
          target: `a new client secret to "Lead Writer" (the current one expires on 2026-12-10), expiring 2028-11-30 (24 months)`,
        },
      ],
    ],
    [
      "an expired secret: a new one, saying the current one expired",
      state({
        application,
        hasServicePrincipal: true,
        applicationUser: appUser(false),
        currentSecret: { keyId: "key-1", endDateTime: "2026-10-10T00:00:00Z", expired: true, expiresSoon: false },
      }),
      ["add-secret"],
      [
        {
          action: "add",
          target: `a new client secret to "Lead Writer" (the current one expired on 2026-10-10), expiring 2028-11-30 (24 months)`,
        },
      ],
    ],
  ])("%s", (_name, input, kinds, lines) => {
    expect(shown(step, planApp(input))).toEqual({ kinds, lines });
  });

  it("the secret that counts: the one this tool recorded, else the one added last; expired or soon, by the clock given", () => {
    const now = Date.parse("2026-11-30T00:00:00Z");
    const credentials = [
      { keyId: "mine", displayName: null, startDateTime: "2026-01-01T00:00:00Z", endDateTime: "2026-12-20T00:00:00Z" },
      { keyId: "later", displayName: null, startDateTime: "2026-06-01T00:00:00Z", endDateTime: "2028-06-01T00:00:00Z" },
      { keyId: "old", displayName: null, startDateTime: "2025-01-01T00:00:00Z", endDateTime: "2026-11-01T00:00:00Z" },
    ];
    expect(secretStanding(credentials, "mine", now, 30)).toMatchObject({ keyId: "mine", expired: false, expiresSoon: true });
    expect(secretStanding(credentials, "mine", now, 10)).toMatchObject({ keyId: "mine", expiresSoon: false });
    expect(secretStanding(credentials, "mine", now, undefined)).toMatchObject({ expiresSoon: false });
    expect(secretStanding(credentials, "gone", now, 30)).toMatchObject({ keyId: "later", expiresSoon: false });
    expect(secretStanding(credentials, "old", now, 30)).toMatchObject({ keyId: "old", expired: true, expiresSoon: false });
    expect(secretStanding([], undefined, now, 30)).toBeUndefined();
  });
});

describe("assign-role", () => {
  const rootRole: RoleRow = {
    roleid: "role-root",
    name: ROLE,
    _businessunitid_value: "bu-root",
    _parentroleid_value: null,
    isinherited: 0,
  };
  const childRole: RoleRow = {
    roleid: "role-child",
    name: ROLE,
    _businessunitid_value: "bu-child",
    _parentroleid_value: "role-root",
    isinherited: 0,
  };
  const systemUser = (bu: string, roles: string[] = []): SystemUserRow => ({
    systemuserid: "su-1",
    domainname: UPN,
    isdisabled: false,
    _businessunitid_value: bu,
    azureactivedirectoryobjectid: "user-1",
    systemuserroles_association: roles.map((roleid) => ({ roleid, name: ROLE })),
  });
  const state = (overrides: Partial<AssignRoleState> = {}): AssignRoleState => ({
    userPrincipalName: UPN,
    kind: "user",
    objectId: "user-1",
    systemUser: undefined,
    roles: [rootRole, childRole],
    waitingFor: [],
    ...overrides,
  });
  const step = { describe: describeAssignRole } as Pick<AnyStep, "describe">;

  it.each([
    [
      "user and role still to be made",
      state({ objectId: undefined, waitingFor: ["create-user", "import-solution"] }),
      `role ${ROLE} to ${UPN} (once create-user and import-solution have run and the user has synced to Dynamics)`,
    ],
    ["the user not in Dynamics yet", state(), `role ${ROLE} to ${UPN} (after the user syncs from Entra ID to Dynamics)`],
    [
      "the user in a child business unit",
      state({ systemUser: systemUser("bu-child") }),
      `role ${ROLE} to ${UPN} (the copy in the user's business unit)`,
    ],
  ])("%s: one assign op", (_name, input, target) => {
    const plan = planAssignRole(input);
    expect(shown(step, plan)).toEqual({ kinds: ["assign-role"], lines: [{ action: "assign", target }] });
    expect(plan.dependsOn).toEqual(input.waitingFor.length ? input.waitingFor : undefined);
  });

  it("holds the copy of its business unit: nothing; holds another copy: the right one is assigned", () => {
    expect(planAssignRole(state({ systemUser: systemUser("bu-child", ["role-child"]) })).ops).toEqual([]);
    expect(planAssignRole(state({ systemUser: systemUser("bu-child", ["role-root"]) })).ops).toHaveLength(1);
  });
});

describe("patch-role", () => {
  const rows = REQUIRED_PRIVILEGES.map((p, i) => ({
    privilegeid: `p${i}`,
    name: p.name,
    canbebasic: true,
    canbelocal: true,
    canbedeep: true,
    canbeglobal: true,
  }));
  const role = (isinherited: number): RoleRow => ({
    roleid: "role-root",
    name: ROLE,
    _businessunitid_value: "bu-root",
    _parentroleid_value: null,
    isinherited,
  });
  const state = (overrides: Partial<PatchRoleState> = {}): PatchRoleState => ({
    rootRole: role(0),
    required: [...REQUIRED_PRIVILEGES],
    privileges: rows,
    current: [],
    waitingFor: [],
    ...overrides,
  });
  const held = REQUIRED_PRIVILEGES.map((p) => ({ PrivilegeName: p.name, Depth: p.depth, PrivilegeId: "" }));
  const step = { describe: describePatchRoleOp } as Pick<AnyStep, "describe">;
  const inheritance = { action: "set", target: "member privilege inheritance to Direct User (Basic) access level and Team privileges" };

  it("the role still to be imported: both ops, waiting for the import", () => {
    const plan = planPatchRole(state({ rootRole: undefined, waitingFor: ["import-solution"] }));
    expect(shown(step, plan).kinds).toEqual(["add-privileges", "set-inheritance"]);
    expect(plan.dependsOn).toEqual(["import-solution"]);
  });

  it("only the privileges it lacks, with their ids, on the root business unit's copy", () => {
    const plan = planPatchRole(state({ current: held.slice(1) as never }));
    const first = REQUIRED_PRIVILEGES[0]!;
    expect(plan.ops[0]).toMatchObject({
      kind: "add-privileges",
      roleId: "role-root",
      privileges: [{ name: first.name, privilegeId: "p0" }],
    });
    expect(shown(step, plan).lines).toEqual([
      { action: "add", target: `privileges ${first.name} (${first.depth}) to ${ROLE} (root business unit)` },
      inheritance,
    ]);
    expect(plan.drift).toBe(true);
  });

  it("all held and inherited: nothing", () => {
    expect(planPatchRole(state({ rootRole: role(1), current: held as never })).ops).toEqual([]);
  });
});

describe("download-solution and import-solution", () => {
  const solution = {
    manifest: { uniqueName: "LeadWriter", version: "1.0.0.1", managed: true, publisher: "Microsoft" },
    sha256: "ab",
    sizeBytes: 10,
    roles: [ROLE],
    bytes: Buffer.alloc(0),
  } as unknown as SolutionPackage;
  const installed = (version: string, ismanaged = true): InstalledSolution => ({
    solutionid: "s-1",
    uniquename: "LeadWriter",
    version,
    ismanaged,
  });
  const importStep = importSolutionStep({ syncTimeoutSeconds: 600 });
  const imports = (input: ImportState) => shown(importStep, planImport(input));

  it("downloads when nothing is at hand, naming the fall-back URLs", () => {
    const step = downloadSolutionStep({ urls: ["https://a.example/x.zip", "https://b.example/x.zip"] });
    const plan = step.plan({ source: "download", urls: ["https://a.example/x.zip", "https://b.example/x.zip"] });
    expect(shown(step, plan).lines).toEqual([{ action: "download", target: "solution package from a.example (1 fall-back URLs)" }]);
    expect(step.plan({ source: "cache", path: "/c/x.zip", url: "https://a.example/x.zip", solution }).ops).toEqual([]);
  });

  it.each([
    [
      "a package still to be downloaded",
      { solution: undefined, installed: undefined, running: undefined },
      ["the Lead Writer solution (its version is known after download-solution)"],
    ],
    ["not installed", { solution, installed: undefined, running: undefined }, ["solution LeadWriter 1.0.0.1 (managed)"]],
    [
      "an older version installed",
      { solution, installed: installed("1.0.0.0"), running: undefined },
      ["solution LeadWriter 1.0.0.1 (managed) over 1.0.0.0"],
    ],
    ["this version installed", { solution, installed: installed("1.0.0.1"), running: undefined }, []],
  ])("%s", (_name, input, targets) => {
    expect(imports(input as ImportState).lines.map((l) => l.target)).toEqual(targets);
  });

  it("watches an import already running instead of starting another", () => {
    const running = { importjobid: "job-1", solutionname: "LeadWriter", progress: 10, completedon: null, startedon: null };
    expect(imports({ solution, installed: undefined, running })).toEqual({
      kinds: ["watch"],
      lines: [{ action: "wait for", target: "the running import of LeadWriter (import job job-1)" }],
    });
  });

  it("refuses to import over an unmanaged copy", () => {
    expect(() => planImport({ solution, installed: installed("1.0.0.0", false), running: undefined })).toThrow(/unmanaged/);
  });
});

describe("reset-password, verify and teardown", () => {
  it("reset-password: one new password; for the app, one new secret", () => {
    const reset = resetPasswordStep({ keepPasswordExpiry: false });
    expect(shown(reset, reset.plan({ userPrincipalName: UPN, current: user() })).lines).toEqual([
      { action: "set", target: `a new generated password for ${UPN} (the old one stops working: paste the new one into Partner Center)` },
    ]);
    const rotate = newSecretStep({});
    const application = { id: "o", appId: "a", displayName: "Lead Writer", signInAudience: "", passwordCredentials: [] };
    const plan = rotate.plan({
      app: { identity: "app", displayName: "Lead Writer", application, applicationUser: undefined, directoryId: "t" },
      application,
      months: 6,
      expiresOn: new Date("2027-05-30T00:00:00Z"),
    });
    expect(shown(rotate, plan).lines).toEqual([{ action: "add", target: `a new client secret to "Lead Writer", expiring 2027-05-30` }]);
  });

  it("verify: one test lead, planned after the identity step that is still to run", () => {
    const step = verifyStep({ identity: "user", appName: "x", serviceSecret: async () => "" });
    const plan = step.plan({ identity: "user", principal: UPN, name: UPN, label: UPN, tenant: "t", waitingFor: "create-user" });
    expect(shown(step, plan).lines).toEqual([{ action: "write", target: `a test lead MSFT_TEST_<timestamp> as ${UPN}, then delete it` }]);
    expect(plan.dependsOn).toEqual(["create-user"]);
  });

  it("teardown of the user identity: the role, the user, the solution; of the app: the application user, principal and app", () => {
    const base = { systemUser: { systemuserid: "su-1", isdisabled: false } as SystemUserRow, heldRoleIds: ["role-1"], createdHere: true };
    const userPlan = planTeardown({
      ...base,
      identity: "user",
      user: user(),
      userPrincipalName: UPN,
      app: { application: undefined, servicePrincipal: undefined, displayName: "" },
      solution: { solutionid: "s-1", uniquename: "LeadWriter", version: "1.0.0.1", ismanaged: true },
    });
    expect(userPlan.ops.map((op) => describeTeardownOp(op).action)).toEqual(["remove", "delete", "delete"]);
    const appPlan = planTeardown({
      ...base,
      identity: "app",
      user: undefined,
      userPrincipalName: "",
      app: {
        application: { id: "o", appId: "a", displayName: "L", signInAudience: "", passwordCredentials: [] },
        servicePrincipal: { id: "sp", appId: "a" } as never,
        displayName: "L",
      },
      solution: undefined,
    });
    expect(appPlan.ops.map((op) => op.kind)).toEqual([
      "remove-role",
      "disable-application-user",
      "delete-service-principal",
      "delete-application",
    ]);
    expect(
      planTeardown({
        ...base,
        heldRoleIds: [],
        identity: "user",
        user: undefined,
        userPrincipalName: UPN,
        app: { application: undefined, servicePrincipal: undefined, displayName: "" },
        solution: undefined,
      }).summary,
    ).toBe("Nothing left to remove");
  });
});
