import { afterEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox, type SandboxOptions } from "../../src/sandbox/server.js";
import { adminClients } from "../helpers.js";

/** Issue 10 §5–§7: query decoding, paging and Entra's replication delay, as the real services behave. */
const open: Sandbox[] = [];
afterEach(async () => {
  for (const sandbox of open.splice(0)) await sandbox.close();
});

async function start(options: SandboxOptions = {}) {
  const sandbox = await startSandbox(options);
  open.push(sandbox);
  const clients = await adminClients(sandbox, { baseDelayMs: 1, maxDelayMs: 5 });
  const token = async (resource: string) => `Bearer ${await clients.tokens.getAccessToken(resource)}`;
  const raw = async (
    service: "graph" | "dataverse" | "bap",
    method: "GET" | "POST",
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const resource =
      service === "graph"
        ? sandbox.connection.graphOrigin
        : service === "dataverse"
          ? sandbox.connection.orgUrl
          : sandbox.connection.bapOrigin;
    const response = await clients.http.send({
      service,
      method,
      url,
      body: body === undefined ? undefined : JSON.stringify(body),
      idempotent: true,
      headers: {
        Authorization: await token(resource),
        "Accept-Language": "en-US",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
    });
    return { status: response.status, headers: response.headers, json: response.json<Record<string, unknown>>() };
  };
  return { sandbox, clients, raw };
}

describe("query strings are decoded as Graph decodes them", () => {
  it("a raw + is a space, %2B is a plus, and a raw & ends the $filter value", async () => {
    const { sandbox, clients, raw } = await start();
    await clients.graph.post("/applications", { displayName: "Leads+Co" });
    const apps = `${sandbox.connection.graphOrigin}/v1.0/applications`;
    const listed = async (query: string) => ((await raw("graph", "GET", `${apps}?${query}`)).json.value as unknown[] | undefined)?.length;
    expect(await listed("$filter=displayName eq 'Leads+Co'")).toBe(0);
    expect(await listed("$filter=displayName eq 'Leads%2BCo'")).toBe(1);
    const split = await raw("graph", "GET", `${apps}?$filter=displayName eq 'Leads & more'`);
    expect(split.status).toBe(400);
  });
});

describe("paging (scenario pageSize)", () => {
  it("Graph pages applications with @odata.nextLink; the client follows it", async () => {
    const { sandbox, clients, raw } = await start({ scenario: { pageSize: 1 } });
    for (const name of ["one", "two", "three"]) await clients.graph.post("/applications", { displayName: name });
    const first = await raw("graph", "GET", `${sandbox.connection.graphOrigin}/v1.0/applications?$select=displayName`);
    expect((first.json.value as unknown[]).length).toBe(1);
    expect(first.json["@odata.nextLink"]).toMatch(/\$skiptoken=/);
    const all = await clients.graph.list<{ displayName: string }>("/applications", { $select: "displayName" });
    expect(all.map((a) => a.displayName).sort()).toEqual(["crm-lead-setup sandbox automation", "one", "three", "two"]);
  });

  it("Dataverse honours Prefer: odata.maxpagesize, answers Preference-Applied, and pages to the end", async () => {
    const { sandbox, clients, raw } = await start();
    const url = `${sandbox.connection.orgUrl}/api/data/v9.2/privileges?$select=name`;
    const first = await raw("dataverse", "GET", url, undefined, { Prefer: "odata.maxpagesize=2" });
    expect([(first.json.value as unknown[]).length, first.headers["preference-applied"]]).toEqual([2, "odata.maxpagesize=2"]);
    expect(first.json["@odata.nextLink"]).toContain("/api/data/v9.2/privileges?");
    expect((await raw("dataverse", "GET", url)).json["@odata.nextLink"]).toBeUndefined();
    expect((await clients.dataverse.list("privileges?$select=name")).length).toBe(sandbox.state.privileges.length);
  });

  it("the Power Platform admin API pages environments with nextLink; ours is not on the first page", async () => {
    const { sandbox, raw } = await start({ scenario: { pageSize: 1 } });
    let url: string | undefined =
      `${sandbox.connection.bapOrigin}/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2021-04-01`;
    const instanceUrls: string[] = [];
    while (url) {
      const page = await raw("bap", "GET", url);
      instanceUrls.push(
        ...(page.json.value as { properties: { linkedEnvironmentMetadata: { instanceUrl: string } } }[]).map(
          (e) => e.properties.linkedEnvironmentMetadata.instanceUrl,
        ),
      );
      url = page.json.nextLink as string | undefined;
    }
    expect(instanceUrls).toHaveLength(3);
    expect(instanceUrls.indexOf(`${sandbox.connection.orgUrl}/`)).toBeGreaterThan(0);
  });
});

describe("replication after POST /applications (appReplicationMisses)", () => {
  it("refuses the service principal, addPassword and the application user with the real bodies, then accepts", async () => {
    const { sandbox, clients, raw } = await start({ faults: { appReplicationMisses: 2 } });
    const app = await clients.graph.post<{ id: string; appId: string }>("/applications", { displayName: "Replicating" });
    const graph = sandbox.connection.graphOrigin;
    const servicePrincipal = () => raw("graph", "POST", `${graph}/v1.0/servicePrincipals`, { appId: app.appId });
    const addPassword = () =>
      raw("graph", "POST", `${graph}/v1.0/applications/${app.id}/addPassword`, { passwordCredential: { displayName: "x" } });
    const bu = sandbox.state.rootBusinessUnit.businessunitid;
    const applicationUser = () =>
      raw("dataverse", "POST", `${sandbox.connection.orgUrl}/api/data/v9.2/systemusers`, {
        applicationid: app.appId,
        "businessunitid@odata.bind": `/businessunits(${bu})`,
      });

    expect((await applicationUser()).status).toBe(400); // no service principal yet
    for (let i = 0; i < 2; i++) {
      const refused = await servicePrincipal();
      expect([refused.status, (refused.json.error as { message: string }).message]).toEqual([
        400,
        `The appId '${app.appId}' of the service principal does not reference a valid application object.`,
      ]);
      expect([(await addPassword()).status, (await raw("graph", "GET", `${graph}/v1.0/applications/${app.id}`)).status]).toEqual([
        404, 200,
      ]);
    }
    expect((await servicePrincipal()).status).toBe(201);
    expect((await addPassword()).status).toBe(200);
    for (let i = 0; i < 2; i++)
      expect((await applicationUser()).json.error).toMatchObject({ message: expect.stringContaining("not found in the tenant") });
    expect((await applicationUser()).status).toBe(201);
  });

  it("lostAnswers applies the request and drops its answer", async () => {
    const { sandbox, clients } = await start({ faults: { lostAnswers: ["POST /addPassword"] } });
    const app = await clients.graph.post<{ id: string }>("/applications", { displayName: "Lost" });
    const sent = clients.graph.post(`/applications/${app.id}/addPassword`, { passwordCredential: { displayName: "x" } });
    await expect(sent).rejects.toThrow(/failed/);
    expect(sandbox.state.applications.get(app.id)!.passwordCredentials).toHaveLength(1);
  });
});
