import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/server.js";
import { EnvironmentApi } from "../../src/services/dataverse.js";
import { ServiceError } from "../../src/services/service-error.js";
import { LEAD_WRITER_ROLE } from "../../src/steps/lead-writer.js";
import { adminClients } from "../helpers.js";

/**
 * The sandbox's Dataverse `$batch`, as strict as Dataverse (execute-batch-operations-using-web-api): a
 * multipart/mixed body with its closing boundary, application/http parts, no GET inside a change set, no
 * batch inside a batch; answers in order, and an error ends the batch.
 */
let sandbox: Sandbox;
let clients: Awaited<ReturnType<typeof adminClients>>;
beforeAll(async () => {
  sandbox = await startSandbox({ scenario: { importMs: 0, userSyncMs: 0 } });
  clients = await adminClients(sandbox);
});
afterAll(() => sandbox.close());

async function postBatch(body: string, contentType = "multipart/mixed; boundary=batch_1") {
  const token = await clients.tokens.getAccessToken(sandbox.connection.orgUrl);
  return clients.http.send({
    service: "dataverse",
    method: "POST",
    url: `${sandbox.connection.orgUrl}/api/data/v9.2/$batch`,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": contentType },
    body,
  });
}

const part = (requestLine: string, body = "") =>
  ["Content-Type: application/http", "Content-Transfer-Encoding: binary", "", requestLine, "Content-Type: application/json", "", body].join(
    "\r\n",
  );

describe("Dataverse $batch in the sandbox", () => {
  it("answers the requests in order, in a multipart answer", async () => {
    const org = sandbox.connection.orgUrl;
    const body = `--batch_1\r\n${part(`GET ${org}/api/data/v9.2/WhoAmI HTTP/1.1`)}\r\n--batch_1\r\n${part(`GET ${org}/api/data/v9.2/RetrieveVersion HTTP/1.1`)}\r\n--batch_1--\r\n`;
    const response = await postBatch(body);
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^multipart\/mixed; boundary=batchresponse_/);
    const text = response.text();
    expect(text.indexOf("UserId")).toBeGreaterThan(0);
    expect(text.indexOf("UserId")).toBeLessThan(text.indexOf('"Version"'));
  });

  it("refuses a GET inside a change set, a body without its closing boundary, a nested batch, and a body that is not multipart", async () => {
    const org = sandbox.connection.orgUrl;
    const getInChangeSet = `--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_1\r\n\r\n--changeset_1\r\n${part(`GET ${org}/api/data/v9.2/WhoAmI HTTP/1.1`)}\r\n--changeset_1--\r\n--batch_1--\r\n`;
    expect((await postBatch(getInChangeSet)).status).toBe(400);
    expect((await postBatch(`--batch_1\r\n${part(`GET ${org}/api/data/v9.2/WhoAmI HTTP/1.1`)}\r\n`)).status).toBe(400);
    expect((await postBatch(`--batch_1\r\n${part(`POST ${org}/api/data/v9.2/$batch HTTP/1.1`)}\r\n--batch_1--\r\n`)).status).toBe(400);
    expect((await postBatch("{}", "application/json")).status).toBe(400);
    const noEncoding = `--batch_1\r\nContent-Type: application/http\r\n\r\nGET ${org}/api/data/v9.2/WhoAmI HTTP/1.1\r\n\r\n\r\n--batch_1--\r\n`;
    expect((await postBatch(noEncoding)).status).toBe(400);
  });

  it("stops at the first error: nothing after it runs", async () => {
    const org = sandbox.connection.orgUrl;
    const body = `--batch_1\r\n${part(`GET ${org}/api/data/v9.2/roles(00000000-0000-0000-0000-000000000000) HTTP/1.1`)}\r\n--batch_1\r\n${part(`GET ${org}/api/data/v9.2/WhoAmI HTTP/1.1`)}\r\n--batch_1--\r\n`;
    const text = (await postBatch(body)).text();
    expect(text).toMatch(/HTTP\/1\.1 404/);
    expect(text).not.toContain("UserId");
  });

  it("AddPrivilegesRole in a change set, then the role's privileges read back, through the client", async () => {
    const { environment, roleId, businessUnitId, privilege } = await leadWriterRoleAndPrivilege();
    const after = await environment.addPrivilegesAndReadBack(roleId, businessUnitId, [
      { privilegeId: privilege.privilegeid, name: privilege.name, depth: "Global" },
    ]);
    expect(after.find((p) => p.PrivilegeName === privilege.name)?.Depth).toBe("Global");
    // The log shows the batch, then each request in it, so tests can watch a batched request as any other.
    const logged = sandbox.requests.slice(-3).map((r) => `${r.method} ${r.path.split("(")[0]} ${r.inBatch ?? false}`);
    expect(logged).toEqual([
      "POST /api/data/v9.2/$batch false",
      "POST /api/data/v9.2/roles true",
      "GET /api/data/v9.2/RetrieveRolePrivilegesRole true",
    ]);
    const failed = await environment
      .addPrivilegesAndReadBack("00000000-0000-0000-0000-000000000000", businessUnitId, [
        { privilegeId: privilege.privilegeid, name: privilege.name, depth: "Global" },
      ])
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ServiceError);
    expect((failed as ServiceError).status).toBe(404);
  });
});

async function leadWriterRoleAndPrivilege() {
  const environment = new EnvironmentApi(clients.dataverse);
  const { buildSandboxSolutionZip } = await import("../../src/sandbox/solution-zip.js");
  const { body } = await clients.dataverse.post<{ AsyncOperationId: string }>("ImportSolutionAsync", {
    CustomizationFile: buildSandboxSolutionZip().toString("base64"),
  });
  for (let look = 0; look < 50; look++) {
    const op = await environment.asyncOperation(body!.AsyncOperationId);
    if (op.statecode === 3) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const root = (await environment.roles(LEAD_WRITER_ROLE)).find((r) => r._parentroleid_value === null)!;
  const [privilege] = await environment.privileges(["prvReadAsyncOperation"]);
  return { environment, roleId: root.roleid, businessUnitId: root._businessunitid_value, privilege: privilege! };
}
