import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/server.js";
import { buildSandboxSolutionZip, LEAD_WRITER_ROLE_NAME } from "../../src/sandbox/solution-zip.js";
import { ServiceError } from "../../src/services/service-error.js";
import { adminClients } from "../helpers.js";
import { VirtualClock } from "../virtual-clock.js";

// The tenant and the clients share a virtual clock: an import's 300 ms pass only when the test sleeps on
// it, so no check here races real time against the sandbox's timers.
const clock = new VirtualClock();
let sandbox: Sandbox;
let clients: Awaited<ReturnType<typeof adminClients>>;
beforeAll(async () => {
  sandbox = await startSandbox({ scenario: { importMs: 300, userSyncMs: 0, userBusinessUnit: "child" }, clock });
  clients = await adminClients(sandbox, {}, clock);
});
afterAll(() => sandbox.close());

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable("no error"),
    (e: unknown) => e as ServiceError,
  );
const roleFilter = `roles?$select=roleid,name,_businessunitid_value,_parentroleid_value&$filter=name eq '${LEAD_WRITER_ROLE_NAME}'`;
interface RoleRow {
  roleid: string;
  _businessunitid_value: string;
  _parentroleid_value: string | null;
}
const sleep = (ms: number) => clock.sleep(ms);

async function importPackage(bytes: Buffer, extra: Record<string, unknown> = {}) {
  const { body } = await clients.dataverse.post<{ AsyncOperationId: string; ImportJobKey: string }>("ImportSolutionAsync", {
    OverwriteUnmanagedCustomizations: false,
    PublishWorkflows: true,
    CustomizationFile: bytes.toString("base64"),
    ...extra,
  });
  return { ...body!, importJobId: body!.ImportJobKey };
}

async function waitFor(asyncOperationId: string) {
  for (;;) {
    const op = await clients.dataverse.get<{ statecode: number; statuscode: number; message: string | null }>(
      `asyncoperations(${asyncOperationId})?$select=statecode,statuscode,message`,
    );
    if (op.statecode === 3) return op;
    await sleep(50);
  }
}

describe("solution import (dataverse §4)", () => {
  it("has no Lead Writer role before the import, then one copy per business unit after it", async () => {
    expect(await clients.dataverse.list(roleFilter)).toHaveLength(0);
    const started = await importPackage(buildSandboxSolutionZip());
    const job = await clients.dataverse.get<{ progress: number; completedon: string | null }>(`importjobs(${started.importJobId})`);
    expect(job.completedon).toBeNull();
    expect(job.progress).toBeLessThan(100);
    const op = await waitFor(started.AsyncOperationId);
    expect(op.statuscode).toBe(30);
    const [solution] = await clients.dataverse.list<{ version: string; ismanaged: boolean }>(
      "solutions?$filter=uniquename eq 'CrmLeadSetupSandboxLeadWriter'",
    );
    expect(solution).toMatchObject({ version: "1.0.0.0", ismanaged: true });
    const roles = await clients.dataverse.list<RoleRow>(roleFilter);
    expect(roles.map((r) => r._businessunitid_value).sort()).toEqual(sandbox.state.businessUnits.map((b) => b.businessunitid).sort());
    expect(roles.filter((r) => r._parentroleid_value === null)).toHaveLength(1);
  });

  it("refuses a second import while one runs", async () => {
    const first = await importPackage(buildSandboxSolutionZip({ version: "1.0.0.1" }));
    expect((await failure(importPackage(buildSandboxSolutionZip({ version: "1.0.0.1" })))).known).toBe("import-concurrent");
    await waitFor(first.AsyncOperationId);
  });

  it("names the import job itself and answers it as ImportJobKey: a sent ImportJobId is ignored", async () => {
    const sent = crypto.randomUUID();
    const started = await importPackage(buildSandboxSolutionZip({ version: "1.0.0.1" }), { ImportJobId: sent });
    expect(started.ImportJobKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(started.ImportJobKey).not.toBe(sent);
    expect((await failure(clients.dataverse.get(`importjobs(${sent})`))).status).toBe(404);
    expect(
      (await clients.dataverse.get<{ importjobid: string }>(`importjobs(${started.ImportJobKey})?$select=importjobid`)).importjobid,
    ).toBe(started.ImportJobKey);
    await waitFor(started.AsyncOperationId);
  });

  it("holds an import short of completion until the test releases it", async () => {
    sandbox.state.hold("import");
    try {
      const started = await importPackage(buildSandboxSolutionZip({ version: "1.0.0.1" }));
      await sleep(400); // longer than the scenario's 300 ms import: only the hold keeps it running
      const op = await clients.dataverse.get<{ statecode: number }>(`asyncoperations(${started.AsyncOperationId})?$select=statecode`);
      expect(op.statecode).not.toBe(3);
      sandbox.state.release("import");
      expect((await waitFor(started.AsyncOperationId)).statuscode).toBe(30);
    } finally {
      sandbox.state.release("import");
    }
  });

  it("reports a failing import through the async operation, the job's data and the formatted results (an Excel XML spreadsheet)", async () => {
    sandbox.faults.set({
      importFailure: {
        component: LEAD_WRITER_ROLE_NAME,
        componentType: "Security Role",
        errorCode: "0x80048306",
        message: "The dependent component Entity (Id=lead) does not exist.",
      },
    });
    const started = await importPackage(buildSandboxSolutionZip({ version: "1.0.0.2" }));
    const op = await waitFor(started.AsyncOperationId);
    expect(op.statuscode).toBe(31);
    const job = await clients.dataverse.get<{ data: string }>(`importjobs(${started.importJobId})?$select=data`);
    expect(job.data).toMatch(/^<importexportxml/);
    expect(job.data).toContain('result="failure" errorcode="0x80048306"');
    const { FormattedResults } = await clients.dataverse.get<{ FormattedResults: string }>(
      `RetrieveFormattedImportJobResults(ImportJobId=${started.importJobId})`,
    );
    expect(FormattedResults).toContain('<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"');
    expect(FormattedResults).not.toContain("importexportxml");
    const { parseFormattedImportResults } = await import("../../src/steps/import-results.js");
    expect(parseFormattedImportResults(FormattedResults).filter((c) => c.failed)).toEqual([
      {
        name: LEAD_WRITER_ROLE_NAME,
        type: "Security Role",
        failed: true,
        errorCode: "0x80048306",
        description: "The dependent component Entity (Id=lead) does not exist.",
      },
    ]);
    sandbox.faults.set({});
  });

  it("fails the import of a package that is not a solution", async () => {
    const started = await importPackage(Buffer.from("not a zip"));
    expect((await waitFor(started.AsyncOperationId)).statuscode).toBe(31);
  });
});

describe("role privileges (dataverse §1.7, §6.3)", () => {
  const privilegeIds = async (names: string[]) => {
    const rows = await clients.dataverse.list<{ privilegeid: string; name: string }>(
      `privileges?$select=privilegeid,name&$filter=${names.map((n) => `name eq '${n}'`).join(" or ")}`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.privilegeid]));
  };
  const rootRole = async () => (await clients.dataverse.list<RoleRow>(roleFilter)).find((r) => r._parentroleid_value === null)!;

  it("accepts User Entity UI Settings at Basic only, System Job at Global, and reads them back", async () => {
    const ids = await privilegeIds(["prvCreateUserEntityUISettings", "prvReadAsyncOperation"]);
    const role = await rootRole();
    const add = (PrivilegeId: string, Depth: string) =>
      clients.dataverse.post(`roles(${role.roleid})/Microsoft.Dynamics.CRM.AddPrivilegesRole`, {
        Privileges: [{ PrivilegeId, Depth, BusinessUnitId: sandbox.state.rootBusinessUnit.businessunitid }],
      });
    expect((await failure(add(ids.prvCreateUserEntityUISettings!, "Global"))).message).toMatch(/cannot be set at Global depth/i);
    await add(ids.prvCreateUserEntityUISettings!, "Basic");
    await add(ids.prvReadAsyncOperation!, "3");
    const { RolePrivileges } = await clients.dataverse.get<{ RolePrivileges: { PrivilegeName: string; Depth: string }[] }>(
      `RetrieveRolePrivilegesRole(RoleId=${role.roleid})`,
    );
    expect(RolePrivileges).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ PrivilegeName: "prvCreateUserEntityUISettings", Depth: "Basic" }),
        expect.objectContaining({ PrivilegeName: "prvReadAsyncOperation", Depth: "Global" }),
      ]),
    );
    const child = (await clients.dataverse.list<RoleRow>(roleFilter)).find((r) => r._parentroleid_value !== null)!;
    const inherited = await clients.dataverse.get<{ RolePrivileges: { PrivilegeName: string }[] }>(
      `RetrieveRolePrivilegesRole(RoleId=${child.roleid})`,
    );
    expect(inherited.RolePrivileges.map((p) => p.PrivilegeName)).toContain("prvReadAsyncOperation");
    expect(
      (
        await failure(
          clients.dataverse.post(`roles(${child.roleid})/Microsoft.Dynamics.CRM.AddPrivilegesRole`, {
            Privileges: [{ PrivilegeId: ids.prvReadAsyncOperation, Depth: "Global" }],
          }),
        )
      ).message,
    ).toMatch(/root business unit/i);
  });

  it("moves a customised managed role into the Active layer: solutionid then names the Active solution, which cannot be deleted", async () => {
    const role = await rootRole();
    const solutionOf = async () =>
      (await clients.dataverse.get<{ solutionid: string }>(`roles(${role.roleid})?$select=solutionid`)).solutionid;
    const [leadWriter] = await clients.dataverse.list<{ solutionid: string }>(
      "solutions?$select=solutionid&$filter=uniquename eq 'CrmLeadSetupSandboxLeadWriter'",
    );
    const [active] = await clients.dataverse.list<{ solutionid: string }>("solutions?$select=solutionid&$filter=uniquename eq 'Active'");
    expect(active!.solutionid).toBe("fd140aae-4df4-11dd-bd17-0019b9312238");
    const ids = await privilegeIds(["prvReadUserEntityUISettings"]);
    await clients.dataverse.post(`roles(${role.roleid})/Microsoft.Dynamics.CRM.AddPrivilegesRole`, {
      Privileges: [
        { PrivilegeId: ids.prvReadUserEntityUISettings, Depth: "Basic", BusinessUnitId: sandbox.state.rootBusinessUnit.businessunitid },
      ],
    });
    expect(await solutionOf()).toBe(active!.solutionid);
    expect(await solutionOf()).not.toBe(leadWriter!.solutionid);
    expect((await failure(clients.dataverse.delete(`solutions(${active!.solutionid})`))).status).toBe(400);
  });

  it("sets member privilege inheritance on the root role", async () => {
    const role = await rootRole();
    await clients.dataverse.patch(`roles(${role.roleid})`, { isinherited: 1 });
    expect((await clients.dataverse.get<{ isinherited: number }>(`roles(${role.roleid})?$select=isinherited`)).isinherited).toBe(1);
    expect((await failure(clients.dataverse.patch(`roles(${role.roleid})`, { isinherited: 7 }))).status).toBe(400);
  });
});

describe("role assignment, application users, leads", () => {
  it("assigns only the role copy of the user's business unit, once", async () => {
    const user = sandbox.state.addDirectoryUser({
      userPrincipalName: "writer@contoso.com",
      displayName: "Writer",
      password: "Valid-Passw0rd-1",
    });
    const systemUser = sandbox.state.syncUser(user);
    expect(systemUser.businessunitid).not.toBe(sandbox.state.rootBusinessUnit.businessunitid); // the child-BU scenario
    const roles = await clients.dataverse.list<RoleRow>(roleFilter);
    const rootCopy = roles.find((r) => r._parentroleid_value === null)!;
    const ownCopy = roles.find((r) => r._businessunitid_value === systemUser.businessunitid)!;
    const associate = (roleId: string) =>
      clients.dataverse.post(`systemusers(${systemUser.systemuserid})/systemuserroles_association/$ref`, {
        "@odata.id": `${clients.dataverse.apiRoot}roles(${roleId})`,
      });
    expect((await failure(associate(rootCopy.roleid))).message).toMatch(/business unit/i);
    await associate(ownCopy.roleid);
    const duplicate = await failure(associate(ownCopy.roleid));
    expect([duplicate.status, duplicate.serviceCode]).toEqual([412, "0x80040237"]);
    const assigned = await clients.dataverse.list<{ roleid: string }>(
      `systemusers(${systemUser.systemuserid})/systemuserroles_association?$select=roleid`,
    );
    expect(assigned.map((r) => r.roleid)).toEqual([ownCopy.roleid]);
  });

  it("creates an application user for an app of the tenant, once", async () => {
    const app = await clients.graph.post<{ appId: string }>("/applications", { displayName: "App user test" });
    await clients.graph.post("/servicePrincipals", { appId: app.appId });
    const body = {
      applicationid: app.appId,
      "businessunitid@odata.bind": `/businessunits(${sandbox.state.rootBusinessUnit.businessunitid})`,
    };
    const created = await clients.dataverse.post<{ systemuserid: string; accessmode: number }>("systemusers", body, {
      Prefer: "return=representation",
    });
    expect(created.body?.accessmode).toBe(4);
    expect((await failure(clients.dataverse.post("systemusers", body))).serviceCode).toBe("0x80040237");
    expect((await failure(clients.dataverse.post("systemusers", { ...body, applicationid: crypto.randomUUID() }))).known).toBe(
      "dataverse-application-not-in-tenant",
    );
  });

  it("refuses every call of a user with no role (0x80042F09)", async () => {
    const { MsalTokenProvider } = await import("../../src/auth/msal.js");
    const app = await clients.graph.post<{ id: string; appId: string }>("/applications", { displayName: "No role app" });
    await clients.graph.post("/servicePrincipals", { appId: app.appId });
    const secret = await clients.graph.post<{ secretText: string }>(`/applications/${app.id}/addPassword`, { passwordCredential: {} });
    await clients.dataverse.post("systemusers", {
      applicationid: app.appId,
      "businessunitid@odata.bind": `/businessunits(${sandbox.state.rootBusinessUnit.businessunitid})`,
    });
    const tokens = new MsalTokenProvider(
      {
        method: "client-secret",
        clientId: app.appId,
        clientSecret: secret.secretText,
        authorityHost: sandbox.connection.loginOrigin,
        tenant: sandbox.connection.tenantId,
        customAuthority: true,
        openBrowser: async () => undefined,
        onDeviceCode: () => undefined,
      },
      clients.http,
    );
    const { DataverseApi } = await import("../../src/services/dataverse.js");
    const asApp = new DataverseApi(clients.http, sandbox.connection.orgUrl, tokens);
    const error = await failure(asApp.post("leads", { subject: "MSFT_TEST", lastname: "MSFT_TEST_1", leadsourcecode: 8 }));
    expect([error.status, error.serviceCode]).toEqual([403, "0x80042f09"]);
    expect(error.known).toBe("dataverse-no-roles");
  });
});

describe("Power Platform admin addUser (dataverse §5.2)", () => {
  it("answers userNotLicensed until the user holds a Dynamics licence, then syncs at once", async () => {
    const user = sandbox.state.addDirectoryUser({
      userPrincipalName: "force@contoso.com",
      displayName: "Force",
      password: "Valid-Passw0rd-1",
      usageLocation: "US",
    });
    const token = await clients.tokens.getAccessToken(sandbox.connection.bapOrigin);
    const environments = await clients.http.send({
      service: "bap",
      method: "GET",
      url: `${sandbox.connection.bapOrigin}/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2021-04-01`,
      headers: { Authorization: `Bearer ${token}` },
    });
    const environment = environments
      .json<{ value: { name: string; properties: { linkedEnvironmentMetadata: { instanceUrl: string } } }[] }>()
      .value.find((e) => e.properties.linkedEnvironmentMetadata.instanceUrl === `${sandbox.connection.orgUrl}/`);
    expect(environment).toBeDefined();
    const addUser = () =>
      clients.http.send({
        service: "bap",
        method: "POST",
        url: `${sandbox.connection.bapOrigin}/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/${environment!.name}/addUser?api-version=2023-06-01`,
        headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ objectId: user.id }),
      });
    const refused = await addUser();
    expect(refused.status).toBe(400);
    expect(refused.text()).toContain("userNotLicensed");
    user.assignedLicenses.push({ skuId: "1e1a282c-9c54-43a2-9310-98ef728faace", disabledPlans: [] });
    expect((await addUser()).status).toBe(200);
    expect([...sandbox.state.systemUsers.values()].some((s) => s.azureactivedirectoryobjectid === user.id)).toBe(true);
  });
});
