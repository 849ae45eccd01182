import { odataString, withQuery, type HttpClient, type HttpResponse, type QueryValues } from "./http.js";
import { readAllPages, type ListPage } from "./pages.js";
import type { TokenProvider } from "./tokens.js";
import { ServiceError } from "./service-error.js";
import { batchBody, parseBatchAnswers, type BatchAnswer, type BatchRequest } from "./dataverse-batch.js";
import { isKnown, refusedUntilReplicated } from "../catalogue.js";

/**
 * The Dataverse Web API v9.2 (reference: dataverse-and-partner-center §2): OData headers, bearer token for
 * the environment URL, and Dataverse's `{ error: { code, message } }` turned into a ServiceError.
 */
export class DataverseApi {
  readonly apiRoot: string;

  constructor(
    private readonly http: HttpClient,
    readonly orgUrl: string,
    private readonly tokens: TokenProvider,
  ) {
    this.apiRoot = `${orgUrl}/api/data/v9.2/`;
  }

  private async send(
    method: "GET" | "POST" | "PATCH" | "DELETE",
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
    idempotent?: boolean,
    notYetReplicated?: (response: HttpResponse) => boolean,
  ): Promise<HttpResponse> {
    const token = await this.tokens.getAccessToken(this.orgUrl);
    const headers: Record<string, string> = {
      Accept: "application/json",
      "OData-MaxVersion": "4.0",
      "OData-Version": "4.0",
      Authorization: `Bearer ${token}`,
      ...extraHeaders,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json; charset=utf-8";
    const response = await this.http.send({
      service: "dataverse",
      method,
      // A next-page link is absolute (pages.ts checks it stays on this origin).
      url: path.startsWith("https://") ? path : `${this.apiRoot}${path}`,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      idempotent,
      notYetReplicated,
    });
    if (response.status >= 400) throw dataverseFailure(response.status, response.headers, response.text(), `${method} ${path}`);
    return response;
  }

  /**
   * Several requests in one round trip (`$batch`, services/dataverse-batch.ts), answered in order; the first
   * answer of 400 or more is thrown as the ServiceError it would have been alone (Dataverse runs no request
   * after it). `idempotent` as for post: the whole batch may be resent.
   */
  async batch(requests: BatchRequest[], idempotent: boolean): Promise<BatchAnswer[]> {
    const token = await this.tokens.getAccessToken(this.orgUrl);
    const { contentType, body } = batchBody(this.apiRoot, requests);
    const response = await this.http.send({
      service: "dataverse",
      method: "POST",
      url: `${this.apiRoot}$batch`,
      headers: {
        Accept: "application/json",
        "OData-MaxVersion": "4.0",
        "OData-Version": "4.0",
        Authorization: `Bearer ${token}`,
        "Content-Type": contentType,
      },
      body,
      idempotent,
    });
    if (response.status >= 400) throw dataverseFailure(response.status, response.headers, response.text(), "POST $batch");
    const answers = parseBatchAnswers(response.headers["content-type"], response.text());
    answers.forEach((answer, index) => {
      if (answer.status >= 400) {
        const request = requests[index]!;
        throw dataverseFailure(answer.status, { ...response.headers, ...answer.headers }, answer.text, `${request.method} ${request.path}`);
      }
    });
    if (answers.length < requests.length) throw new Error(`$batch answered ${answers.length} of ${requests.length} requests.`);
    return answers;
  }

  async get<T>(path: string): Promise<T> {
    return (await this.send("GET", path)).json<T>();
  }

  /** Every row, following `@odata.nextLink` (Dataverse pages at 5,000 rows, or at `Prefer: odata.maxpagesize`). */
  async list<T>(path: string, query: QueryValues = {}): Promise<T[]> {
    const first = withQuery(path, query);
    return readAllPages(`${this.apiRoot}${first}`, await this.get<ListPage<T>>(first), (nextLink) => this.get<ListPage<T>>(nextLink));
  }

  /**
   * POST; returns the JSON body when there is one, and the created record's id from OData-EntityId.
   * `idempotent`: sending it twice has the effect of sending it once, so transient failures are retried.
   */
  async post<T = unknown>(
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
    options: { idempotent?: boolean; notYetReplicated?: (response: HttpResponse) => boolean } = {},
  ): Promise<{ body: T | undefined; entityId: string | undefined }> {
    const response = await this.send("POST", path, body, headers, options.idempotent, options.notYetReplicated);
    const entityId = /\(([0-9a-f-]{36})\)$/i.exec(response.headers["odata-entityid"] ?? "")?.[1];
    return { body: response.body.length > 0 ? response.json<T>() : undefined, entityId };
  }

  /**
   * PATCH sets values on an existing record (If-Match: *, never an upsert): safe to resend. With
   * `returnRepresentation`, Dataverse answers with the updated record (Prefer: return=representation).
   */
  async patch<T = void>(path: string, body: unknown, options: { returnRepresentation?: boolean } = {}): Promise<T | undefined> {
    const response = await this.send(
      "PATCH",
      path,
      body,
      { "If-Match": "*", ...(options.returnRepresentation ? { Prefer: "return=representation" } : {}) },
      true,
    );
    return options.returnRepresentation && response.body.length > 0 ? response.json<T>() : undefined;
  }

  async delete(path: string): Promise<void> {
    await this.send("DELETE", path);
  }
}

/** Dataverse's `{ error: { code, message } }` (or a gateway's text) as a ServiceError. */
function dataverseFailure(status: number, headers: Record<string, string>, text: string, request: string): ServiceError {
  let code = "";
  let message = text.slice(0, 500);
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    code = parsed.error?.code ?? "";
    message = parsed.error?.message ?? message;
  } catch {
    // Not JSON (a gateway page): keep the text.
  }
  return new ServiceError(
    "dataverse",
    status,
    code,
    message,
    request.split("?")[0]!,
    headers["x-ms-service-request-id"] ?? headers["req_id"],
  );
}

// ─── The Dataverse calls the steps need, typed (reference: dataverse-and-partner-center §3–§6) ───────

export interface WhoAmI {
  UserId: string;
  BusinessUnitId: string;
  OrganizationId: string;
}

export interface InstalledSolution {
  solutionid: string;
  uniquename: string;
  version: string;
  ismanaged: boolean;
}

export interface AsyncOperation {
  statecode: number;
  statuscode: number;
  message: string | null;
  friendlymessage: string | null;
}

export interface ImportJob {
  importjobid: string;
  solutionname: string;
  progress: number;
  completedon: string | null;
  startedon: string | null;
}

export interface RoleRow {
  roleid: string;
  name: string;
  solutionid?: string | null;
  _businessunitid_value: string;
  _parentroleid_value: string | null;
  isinherited: number;
}

export interface SystemUserRow {
  systemuserid: string;
  domainname: string;
  isdisabled: boolean;
  _businessunitid_value: string;
  azureactivedirectoryobjectid: string | null;
  systemuserroles_association?: { roleid: string; name: string }[];
}

export interface PrivilegeRow {
  privilegeid: string;
  name: string;
  canbebasic: boolean;
  canbelocal: boolean;
  canbedeep: boolean;
  canbeglobal: boolean;
}

export type Depth = "Basic" | "Local" | "Deep" | "Global";
export const DEPTHS: readonly Depth[] = ["Basic", "Local", "Deep", "Global"];

export interface RolePrivilege {
  PrivilegeId: string;
  PrivilegeName: string;
  Depth: Depth;
}

const quote = odataString;
const SOLUTION_SELECT = "solutionid,uniquename,version,ismanaged";
const SYSTEM_USER_SELECT = "systemuserid,domainname,isdisabled,_businessunitid_value,azureactivedirectoryobjectid";

/** Dataverse's refusal of an application user whose app it cannot see in Entra yet (wording UNCONFIRMED). */
export const applicationNotInTenantYet = refusedUntilReplicated("dataverse", "dataverse-application-not-in-tenant");

export class EnvironmentApi {
  constructor(readonly dataverse: DataverseApi) {}

  whoAmI(): Promise<WhoAmI> {
    return this.dataverse.get<WhoAmI>("WhoAmI");
  }

  async version(): Promise<string> {
    return (await this.dataverse.get<{ Version: string }>("RetrieveVersion")).Version;
  }

  async solutionById(solutionId: string): Promise<InstalledSolution | undefined> {
    const [solution] = await this.dataverse.list<InstalledSolution>("solutions", {
      $select: SOLUTION_SELECT,
      $filter: `solutionid eq ${solutionId}`,
    });
    return solution;
  }

  async findSolution(uniqueName: string): Promise<InstalledSolution | undefined> {
    const [solution] = await this.dataverse.list<InstalledSolution>("solutions", {
      $select: SOLUTION_SELECT,
      $filter: `uniquename eq ${quote(uniqueName)}`,
    });
    return solution;
  }

  /** An import of this solution that has started and not completed (a re-run watches it instead of starting another). */
  async findRunningImport(solutionName: string): Promise<ImportJob | undefined> {
    const jobs = await this.dataverse.list<ImportJob>("importjobs", {
      $select: "importjobid,solutionname,progress,completedon,startedon",
      $filter: `solutionname eq ${quote(solutionName)} and completedon eq null`,
    });
    return jobs[0];
  }

  /**
   * Starts the import. No ImportJobId is sent: Microsoft's own client strips it from ImportSolutionAsync as
   * unsupported, and the service names the import job itself, answering its id as ImportJobKey.
   */
  async importSolutionAsync(bytes: Buffer): Promise<{ AsyncOperationId: string; ImportJobKey?: string }> {
    const { body } = await this.dataverse.post<{ AsyncOperationId: string; ImportJobKey?: string }>("ImportSolutionAsync", {
      OverwriteUnmanagedCustomizations: false,
      PublishWorkflows: true,
      CustomizationFile: bytes.toString("base64"),
    });
    if (!body?.AsyncOperationId) throw new Error("ImportSolutionAsync returned no AsyncOperationId.");
    return body;
  }

  asyncOperation(id: string): Promise<AsyncOperation> {
    return this.dataverse.get<AsyncOperation>(`asyncoperations(${id})?$select=statecode,statuscode,message,friendlymessage`);
  }

  importJob(id: string): Promise<ImportJob> {
    return this.dataverse.get<ImportJob>(`importjobs(${id})?$select=importjobid,solutionname,progress,completedon,startedon`);
  }

  /** The import job's result XML (importexportxml). */
  async importJobData(id: string): Promise<string> {
    return (await this.dataverse.get<{ data: string | null }>(`importjobs(${id})?$select=data`)).data ?? "";
  }

  async formattedImportResults(importJobId: string): Promise<string> {
    return (await this.dataverse.get<{ FormattedResults: string }>(`RetrieveFormattedImportJobResults(ImportJobId=${importJobId})`))
      .FormattedResults;
  }

  async hasLeadTable(): Promise<boolean> {
    try {
      await this.dataverse.get("EntityDefinitions(LogicalName='lead')?$select=LogicalName");
      return true;
    } catch (error) {
      if (error instanceof ServiceError && error.status === 404) return false;
      throw error;
    }
  }

  /** Every business unit's copy of the role (dataverse §6.1). */
  roles(name: string): Promise<RoleRow[]> {
    return this.dataverse.list<RoleRow>("roles", {
      $select: "roleid,name,_businessunitid_value,_parentroleid_value,isinherited,solutionid",
      $filter: `name eq ${quote(name)}`,
    });
  }

  async systemUserByObjectId(objectId: string): Promise<SystemUserRow | undefined> {
    const [user] = await this.dataverse.list<SystemUserRow>("systemusers", {
      $select: SYSTEM_USER_SELECT,
      $filter: `azureactivedirectoryobjectid eq ${objectId}`,
      $expand: "systemuserroles_association($select=roleid,name)",
    });
    return user;
  }

  async systemUserByApplicationId(applicationId: string): Promise<SystemUserRow | undefined> {
    const [user] = await this.dataverse.list<SystemUserRow>("systemusers", {
      $select: SYSTEM_USER_SELECT,
      $filter: `applicationid eq ${applicationId}`,
      $expand: "systemuserroles_association($select=roleid,name)",
    });
    return user;
  }

  /** The root business unit never changes: read once per session, however many steps ask (a failed read is forgotten). */
  rootBusinessUnitId(): Promise<string> {
    this.rootBusinessUnit ??= this.readRootBusinessUnitId();
    this.rootBusinessUnit.catch(() => (this.rootBusinessUnit = undefined));
    return this.rootBusinessUnit;
  }

  private rootBusinessUnit: Promise<string> | undefined;

  private async readRootBusinessUnitId(): Promise<string> {
    const [root] = await this.dataverse.list<{ businessunitid: string }>("businessunits", {
      $select: "businessunitid",
      $filter: "_parentbusinessunitid_value eq null",
    });
    if (!root) throw new Error("Dataverse returned no root business unit.");
    return root.businessunitid;
  }

  /**
   * An application user (dataverse §5.3): the app's identity in Dynamics, in the given business unit.
   * Dataverse refuses it until the app's service principal has replicated (issue 10; the exact refusal
   * text is UNCONFIRMED): such a refusal is resent under the retry policy.
   */
  async createApplicationUser(applicationId: string, businessUnitId: string): Promise<string> {
    const { body, entityId } = await this.dataverse.post<{ systemuserid: string }>(
      "systemusers",
      { applicationid: applicationId, "businessunitid@odata.bind": `/businessunits(${businessUnitId})` },
      { Prefer: "return=representation" },
      { notYetReplicated: applicationNotInTenantYet },
    );
    return body?.systemuserid ?? entityId!;
  }

  /** Application users cannot be deleted, only disabled and enabled (sandbox-emulated; Microsoft's API for it is UNCONFIRMED). */
  async setSystemUserDisabled(systemUserId: string, disabled: boolean): Promise<void> {
    await this.dataverse.patch(`systemusers(${systemUserId})`, { isdisabled: disabled });
  }

  async removeRole(systemUserId: string, roleId: string): Promise<void> {
    try {
      await this.dataverse.delete(`systemusers(${systemUserId})/systemuserroles_association(${roleId})/$ref`);
    } catch (error) {
      if (error instanceof ServiceError && error.status === 404) return;
      throw error;
    }
  }

  deleteSolution(solutionId: string): Promise<void> {
    return this.dataverse.delete(`solutions(${solutionId})`);
  }

  async createLead(fields: Record<string, unknown>): Promise<string> {
    const { body, entityId } = await this.dataverse.post<{ leadid: string }>("leads", fields, { Prefer: "return=representation" });
    return body?.leadid ?? entityId!;
  }

  deleteLead(leadId: string): Promise<void> {
    return this.dataverse.delete(`leads(${leadId})`);
  }

  /** Associates the role; an association that already exists counts as done (0x80040237). */
  async associateRole(systemUserId: string, roleId: string): Promise<void> {
    try {
      await this.dataverse.post(
        `systemusers(${systemUserId})/systemuserroles_association/$ref`,
        { "@odata.id": `${this.dataverse.apiRoot}roles(${roleId})` },
        {},
        { idempotent: true },
      );
    } catch (error) {
      if (isKnown(error, "dataverse-duplicate")) return;
      throw error;
    }
  }

  privileges(names: readonly string[]): Promise<PrivilegeRow[]> {
    const filter = names.map((name) => `name eq ${quote(name)}`).join(" or ");
    return this.dataverse.list<PrivilegeRow>("privileges", {
      $select: "privilegeid,name,canbebasic,canbelocal,canbedeep,canbeglobal",
      $filter: filter,
    });
  }

  async rolePrivileges(roleId: string): Promise<RolePrivilege[]> {
    return (await this.dataverse.get<{ RolePrivileges: RolePrivilege[] }>(`RetrieveRolePrivilegesRole(RoleId=${roleId})`)).RolePrivileges;
  }

  /**
   * AddPrivilegesRole and the role's privileges read back in one round trip: the action in a change set, the
   * read after it (a batch runs in order, and stops at an error). Resending changes nothing.
   */
  async addPrivilegesAndReadBack(
    roleId: string,
    businessUnitId: string,
    privileges: { privilegeId: string; name: string; depth: Depth }[],
  ): Promise<RolePrivilege[]> {
    const [, readBack] = await this.dataverse.batch(
      [
        {
          method: "POST",
          path: `roles(${roleId})/Microsoft.Dynamics.CRM.AddPrivilegesRole`,
          body: addPrivilegesBody(businessUnitId, privileges),
          changeSet: true,
        },
        { method: "GET", path: `RetrieveRolePrivilegesRole(RoleId=${roleId})` },
      ],
      true,
    );
    return (JSON.parse(readBack!.text) as { RolePrivileges: RolePrivilege[] }).RolePrivileges;
  }

  /** Sets member privilege inheritance and returns the value Dataverse now holds (read back in the same call). */
  async setMemberPrivilegeInheritance(roleId: string): Promise<number> {
    const updated = await this.dataverse.patch<{ isinherited: number }>(
      `roles(${roleId})?$select=isinherited`,
      { isinherited: 1 },
      { returnRepresentation: true },
    );
    return updated?.isinherited ?? -1;
  }
}

function addPrivilegesBody(businessUnitId: string, privileges: { privilegeId: string; name: string; depth: Depth }[]) {
  return {
    Privileges: privileges.map((p) => ({
      PrivilegeId: p.privilegeId,
      PrivilegeName: p.name,
      Depth: p.depth,
      BusinessUnitId: businessUnitId,
    })),
  };
}
