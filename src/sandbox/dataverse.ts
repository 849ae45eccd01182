import { randomUUID } from "node:crypto";
import { jsonResponse, noContent, readJson, type SandboxRequest, type SandboxResponse, type TokenClaims } from "./kit.js";
import { applyFilter, applySelect, ODataSyntaxError, pageOf } from "./odata.js";
import { readPackageForImport } from "./solution-zip.js";
import { compareVersions } from "../solution/version.js";
import {
  DEPTH_ORDER,
  ORGANIZATION_ID,
  SYSTEM_SOLUTIONS,
  type PrivilegeDepth,
  type Role,
  type SystemUser,
  type TenantState,
} from "./state.js";
import type { FaultInjector } from "./faults.js";

/**
 * Emulated Dataverse Web API v9.2 (reference: dataverse-and-partner-center §2–§6, §9): WhoAmI,
 * RetrieveVersion, solutions, ImportSolutionAsync with an async operation that progresses over time,
 * importjobs, RetrieveFormattedImportJobResults, businessunits, roles (one copy per business unit),
 * privileges, AddPrivilegesRole, RetrieveRolePrivilegesRole, systemusers (application users too),
 * systemuserroles_association, leads and EntityDefinitions. Errors use Dataverse's `{error:{code,message}}`.
 * Where Microsoft's exact error code is not public, the sandbox's own is marked "sandbox" beside it.
 */

export function dataverseError(status: number, code: string, message: string): SandboxResponse {
  return jsonResponse(status, { error: { code, message } });
}

const API_PREFIX = "/api/data/v9.2/";
const GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const SEGMENT = new RegExp(`^([A-Za-z_.]+)(?:\\((.*)\\))?$`);
const MAX_IMPORT_BYTES = 32 * 1024 * 1024;
const CONCURRENT_IMPORT_MESSAGE =
  "Cannot start another [Import] because there is a previous [Import] running at this moment. Use Solution History for more details. -- The solution installation or removal failed due to the installation or removal of another solution at the same time. Please try again later.";

interface Segment {
  name: string;
  key: string | undefined;
}

/** A request to the Web API: its first path segment parsed, the segments after it, and the calling system user. */
interface DataverseCall {
  request: SandboxRequest;
  first: Segment;
  rest: string[];
  caller: SystemUser;
}

type DataverseRoute = (call: DataverseCall) => SandboxResponse | undefined;

function parseSegment(text: string): Segment | undefined {
  const match = SEGMENT.exec(text);
  return match ? { name: match[1]!, key: match[2] } : undefined;
}

/** `RoleId=<guid>` or `<guid>` → the guid, lower case. */
function keyGuid(key: string | undefined, name?: string): string | undefined {
  if (!key) return undefined;
  const pattern = new RegExp(`^(?:${name ?? "[A-Za-z]+"}=)?(${GUID})$`);
  return pattern.exec(key)?.[1]?.toLowerCase();
}

function parseDepth(value: unknown): PrivilegeDepth | undefined {
  if (typeof value === "number" || /^\d$/.test(String(value))) return DEPTH_ORDER[Number(value)];
  return DEPTH_ORDER.find((d) => d.toLowerCase() === String(value).toLowerCase());
}

export class DataverseService {
  constructor(
    private readonly state: TenantState,
    private readonly faults: FaultInjector,
    private readonly orgUrl: string,
  ) {}

  private context(name: string): string {
    return `${this.orgUrl}${API_PREFIX}$metadata#${name}`;
  }

  handle(request: SandboxRequest, claims: TokenClaims): SandboxResponse {
    const path = request.url.pathname;
    if (!path.startsWith(API_PREFIX))
      return dataverseError(404, "0x80060888", `Resource not found for the segment '${path.split("/")[3] ?? ""}'.`);
    const caller = this.callerOf(claims);
    if ("status" in caller) return caller;
    const segments = path.slice(API_PREFIX.length).split("/").filter(Boolean).map(decodeURIComponent);
    try {
      return this.route(request, segments, caller);
    } catch (error) {
      if (error instanceof ODataSyntaxError) return dataverseError(400, "0x80060888", `Syntax error: ${error.message}`);
      if (error instanceof SyntaxError)
        return dataverseError(400, "0x80048d19", "Error identified in Payload provided by the user for Entity.");
      throw error;
    }
  }

  /** The caller's system user: delegated tokens by Entra object id, app tokens by application id. */
  private callerOf(claims: TokenClaims): SystemUser | SandboxResponse {
    const caller = [...this.state.systemUsers.values()].find((u) =>
      claims.idtyp === "app" ? u.applicationid === claims.appid : u.azureactivedirectoryobjectid === claims.oid,
    );
    if (!caller) return dataverseError(403, "0x80072560", "The user is not a member of the organization.");
    if (caller.isdisabled)
      return dataverseError(403, "0x80040225", `The user with SystemUserId=${caller.systemuserid} is disabled. (sandbox code)`);
    if (caller.roles.size === 0)
      return dataverseError(403, "0x80042f09", "SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user.");
    return caller;
  }

  private isSystemAdministrator(user: SystemUser): boolean {
    return [...user.roles].some((id) => this.state.roles.get(id)?.name === "System Administrator");
  }

  private requirePrivilege(user: SystemUser, privilegeName: string, entity: string): SandboxResponse | undefined {
    if (this.state.effectiveDepth(user, privilegeName)) return undefined;
    const privilege = this.state.privilegeByName(privilegeName);
    return dataverseError(
      403,
      "0x80040220",
      `Principal user (Id=${user.systemuserid}, type=8, roleCount=${user.roles.size}) is missing ${privilegeName} privilege (Id=${privilege?.privilegeid ?? "unknown"}) on entity '${entity}'.`,
    );
  }

  private requireAdmin(user: SystemUser, privilegeName: string, entity: string): SandboxResponse | undefined {
    return this.isSystemAdministrator(user) ? undefined : this.requirePrivilege(user, privilegeName, entity);
  }

  private route(request: SandboxRequest, segments: string[], caller: SystemUser): SandboxResponse {
    const first = parseSegment(segments[0] ?? "");
    if (!first) return dataverseError(400, "0x80060888", `Bad Request - Error in query syntax.`);
    const route = Object.hasOwn(this.routes, first.name) ? this.routes[first.name] : undefined;
    return (
      route?.({ request, first, rest: segments.slice(1), caller }) ??
      dataverseError(404, "0x80060888", `Resource not found for the segment '${segments[0]}'.`)
    );
  }

  /** The first path segment's name → its handler; a handler answers undefined for a method it does not serve (404). */
  private readonly routes: Record<string, DataverseRoute> = {
    WhoAmI: ({ caller }) =>
      jsonResponse(200, {
        "@odata.context": this.context("Microsoft.Dynamics.CRM.WhoAmIResponse"),
        BusinessUnitId: caller.businessunitid,
        UserId: caller.systemuserid,
        OrganizationId: ORGANIZATION_ID,
      }),
    RetrieveVersion: () =>
      jsonResponse(200, {
        "@odata.context": this.context("Microsoft.Dynamics.CRM.RetrieveVersionResponse"),
        Version: this.state.scenario.dynamicsVersion,
      }),
    EntityDefinitions: ({ first }) => this.entityDefinition(first),
    solutions: (call) => this.solutions(call),
    ImportSolutionAsync: ({ request, caller }) =>
      request.method === "POST"
        ? (this.requireAdmin(caller, "prvImportCustomization", "solution") ?? this.importSolutionAsync(readJson(request)))
        : undefined,
    asyncoperations: ({ request, first }) =>
      this.entityOrList("asyncoperations", first.key, this.asyncOperationRows(), "asyncoperationid", request),
    importjobs: ({ request, first }) =>
      this.entityOrList(
        "importjobs",
        first.key,
        [...this.state.importJobs.values()].map(({ components: _, ...job }) => job),
        "importjobid",
        request,
      ),
    RetrieveFormattedImportJobResults: ({ first }) => this.formattedImportJobResults(first),
    businessunits: ({ request, first }) =>
      this.entityOrList(
        "businessunits",
        first.key,
        this.state.businessUnits.map((b) => ({
          businessunitid: b.businessunitid,
          name: b.name,
          _parentbusinessunitid_value: b.parentbusinessunitid,
        })),
        "businessunitid",
        request,
      ),
    privileges: ({ request, first }) =>
      this.entityOrList(
        "privileges",
        first.key,
        this.state.privileges.map((p) => ({ ...p })),
        "privilegeid",
        request,
      ),
    roles: ({ request, first, rest, caller }) => this.roles(request, first, rest, caller),
    RetrieveRolePrivilegesRole: ({ first }) => this.rolePrivileges(keyGuid(first.key, "RoleId")),
    systemusers: (call) => this.systemUsers(call),
    leads: ({ request, first, caller }) => this.leads(request, first, caller),
  };

  private entityDefinition(first: Segment): SandboxResponse {
    const logicalName = /^LogicalName='(.+)'$/.exec(first.key ?? "")?.[1];
    if (logicalName !== "lead") return dataverseError(404, "0x80040217", `Could not find entity with logical name '${logicalName}'.`);
    return jsonResponse(200, {
      "@odata.context": this.context("EntityDefinitions/$entity"),
      LogicalName: "lead",
      EntitySetName: "leads",
      MetadataId: "e3fe4ff2-a630-49bb-a1e9-debc3a076815",
    });
  }

  private solutions({ request, first, caller }: DataverseCall): SandboxResponse | undefined {
    if (request.method === "DELETE" && first.key)
      return this.requireAdmin(caller, "prvImportCustomization", "solution") ?? this.deleteSolution(keyGuid(first.key) ?? "");
    if (request.method !== "GET") return undefined;
    return this.list(
      "solutions",
      [...SYSTEM_SOLUTIONS, ...this.state.solutions.values()].map((s) => ({
        solutionid: s.solutionid,
        uniquename: s.uniquename,
        friendlyname: s.friendlyname,
        version: s.version,
        ismanaged: s.ismanaged,
        installedon: s.installedon,
      })),
      request,
    );
  }

  /** The columns of asyncoperation a client may read (not the sandbox's own bookkeeping). */
  private asyncOperationRows(): Record<string, unknown>[] {
    return [...this.state.asyncOperations.values()].map(
      ({ asyncoperationid, name, operationtype, statecode, statuscode, message, friendlymessage, createdon, startedon, completedon }) => ({
        asyncoperationid,
        name,
        operationtype,
        statecode,
        statuscode,
        message,
        friendlymessage,
        createdon,
        startedon,
        completedon,
      }),
    );
  }

  private formattedImportJobResults(first: Segment): SandboxResponse {
    const job = this.state.importJobs.get(keyGuid(first.key, "ImportJobId") ?? "");
    if (!job) return dataverseError(404, "0x80040217", `importjob With Id = ${first.key} Does Not Exist`);
    // "The results are returned in Microsoft Excel format" (see import-results.ts), not the raw data column.
    return jsonResponse(200, {
      "@odata.context": this.context("Microsoft.Dynamics.CRM.RetrieveFormattedImportJobResultsResponse"),
      FormattedResults: this.state.formattedResults(job),
    });
  }

  /**
   * A list, paged as Dataverse pages (PADOCS "Page results"): at most 5,000 rows, fewer when the client
   * sends `Prefer: odata.maxpagesize=N` (answered with `Preference-Applied`), or the scenario's page size;
   * `$top` asks for that many rows and no paging.
   */
  private list(name: string, records: Record<string, unknown>[], request: SandboxRequest): SandboxResponse {
    const query = request.url.searchParams;
    const filtered = applyFilter(records, query.get("$filter")).map((r) => applySelect(r, query.get("$select"), query.get("$expand")));
    if (query.has("$top"))
      return jsonResponse(200, { "@odata.context": this.context(name), value: filtered.slice(0, Number(query.get("$top"))) });
    const preferred = Number(/odata\.maxpagesize=(\d+)/.exec(request.headers.prefer ?? "")?.[1] ?? 0);
    const sizes = [5000, preferred, this.state.scenario.pageSize].filter((size) => size > 0);
    const page = pageOf(filtered, request.url, Math.min(...sizes));
    const applied = preferred > 0 ? { "preference-applied": `odata.maxpagesize=${preferred}` } : undefined;
    return jsonResponse(
      200,
      { "@odata.context": this.context(name), value: page.value, ...(page.nextLink ? { "@odata.nextLink": page.nextLink } : {}) },
      applied,
    );
  }

  private entityOrList(
    name: string,
    key: string | undefined,
    records: Record<string, unknown>[],
    idField: string,
    request: SandboxRequest,
  ): SandboxResponse {
    const query = request.url.searchParams;
    if (key === undefined) return this.list(name, records, request);
    const id = keyGuid(key);
    const record = records.find((r) => r[idField] === id);
    if (!record) return dataverseError(404, "0x80040217", `${name.replace(/s$/, "")} With Id = ${key} Does Not Exist`);
    return jsonResponse(200, { "@odata.context": this.context(`${name}/$entity`), ...applySelect(record, query.get("$select")) });
  }

  private importSolutionAsync(body: Record<string, unknown>): SandboxResponse {
    if (typeof body.CustomizationFile !== "string" || body.CustomizationFile.length === 0) {
      return dataverseError(400, "0x80040203", "Required field 'CustomizationFile' is missing.");
    }
    const bytes = Buffer.from(body.CustomizationFile, "base64");
    if (bytes.length > MAX_IMPORT_BYTES) return dataverseError(413, "0x80044184", "The solution file exceeds the maximum size.");
    // The service names the import job itself and answers its id as ImportJobKey. The action's metadata still
    // lists ImportJobId, but Microsoft's own client strips it from ImportSolutionAsync as an "unsupported
    // parameter" (microsoft/PowerPlatform-DataverseServiceClient, DeploymentExtensions.ImportSolutionToImpl):
    // a sent one is accepted and ignored here, so a client that polls by the id it sent finds no job.
    const importJobId = randomUUID();
    const running = [...this.state.asyncOperations.values()].some((op) => op.statecode !== 3);
    if (running || this.faults.takeConcurrentImportBusy()) return dataverseError(400, "0x80071151", CONCURRENT_IMPORT_MESSAGE);
    const read = readPackageForImport(bytes);
    let failure = "failure" in read ? read.failure : this.faults.takeImportFailure();
    const outcome = "failure" in read ? undefined : read;
    if (outcome) {
      const installed = [...this.state.solutions.values()].find((s) => s.uniquename === outcome.manifest.uniqueName);
      if (installed && compareVersions(installed.version, outcome.manifest.version) > 0) {
        failure = {
          component: "solution.xml",
          message: `The solution ${installed.uniquename} is already installed at version ${installed.version}, higher than ${outcome.manifest.version}.`,
        };
      }
      if (installed && installed.ismanaged !== outcome.manifest.managed) {
        failure = {
          component: "solution.xml",
          message: `The solution ${installed.uniquename} is installed as ${installed.ismanaged ? "managed" : "unmanaged"}; a ${outcome.manifest.managed ? "managed" : "unmanaged"} package cannot replace it.`,
        };
      }
    }
    const now = this.state.clock.now();
    const asyncoperationid = randomUUID();
    this.state.importJobs.set(importJobId, {
      importjobid: importJobId,
      solutionname: outcome?.manifest.uniqueName ?? "",
      progress: 0,
      startedon: new Date(now).toISOString(),
      completedon: null,
      data: null,
      components: [],
    });
    this.state.asyncOperations.set(asyncoperationid, {
      asyncoperationid,
      name: "ImportSolution",
      operationtype: 103,
      statecode: 0,
      statuscode: 0,
      message: null,
      friendlymessage: null,
      createdon: new Date(now).toISOString(),
      startedon: new Date(now).toISOString(),
      completedon: null,
      importJobId,
      startedAt: now,
      durationMs: failure ? Math.min(this.state.scenario.importMs, 200) : this.state.scenario.importMs,
      outcome,
      failure,
    });
    return jsonResponse(200, {
      "@odata.context": this.context("Microsoft.Dynamics.CRM.ImportSolutionAsyncResponse"),
      AsyncOperationId: asyncoperationid,
      ImportJobKey: importJobId,
    });
  }

  /** Uninstalling a managed solution removes its components: here, its roles and their assignments. */
  private deleteSolution(solutionId: string): SandboxResponse {
    const system = SYSTEM_SOLUTIONS.find((s) => s.solutionid === solutionId);
    if (system) return dataverseError(400, "0x80048035", `The ${system.uniquename} solution cannot be deleted. (sandbox code)`);
    const solution = this.state.solutions.get(solutionId);
    if (!solution) return dataverseError(404, "0x80040217", `solution With Id = ${solutionId} Does Not Exist`);
    for (const role of [...this.state.roles.values()].filter((r) => r.installedBy === solutionId)) {
      this.state.roles.delete(role.roleid);
      for (const user of this.state.systemUsers.values()) user.roles.delete(role.roleid);
    }
    this.state.solutions.delete(solutionId);
    return noContent();
  }

  private roleJson(role: Role): Record<string, unknown> {
    return {
      roleid: role.roleid,
      name: role.name,
      _businessunitid_value: role.businessunitid,
      _parentroleid_value: role.parentroleid,
      _parentrootroleid_value: role.parentrootroleid,
      ismanaged: role.ismanaged,
      iscustomizable: { Value: role.iscustomizable },
      isinherited: this.state.rootRoleOf(role).isinherited,
      solutionid: role.solutionid,
    };
  }

  private roles(request: SandboxRequest, first: Segment, rest: string[], caller: SystemUser): SandboxResponse {
    const method = request.method;
    if (first.key === undefined) {
      if (method !== "GET") return dataverseError(405, "0x80060888", "Method not allowed.");
      return this.list(
        "roles",
        [...this.state.roles.values()].map((r) => this.roleJson(r)),
        request,
      );
    }
    const role = this.state.roles.get(keyGuid(first.key) ?? "");
    if (!role) return dataverseError(404, "0x80040217", `role With Id = ${first.key} Does Not Exist`);
    const action = rest[0];
    if (!action) {
      if (method === "GET")
        return jsonResponse(200, {
          "@odata.context": this.context("roles/$entity"),
          ...applySelect(this.roleJson(role), request.url.searchParams.get("$select")),
        });
      if (method === "PATCH") {
        const denied = this.requireAdmin(caller, "prvWriteRole", "role");
        if (denied) return denied;
        const body = readJson(request);
        if (body.isinherited !== undefined) {
          if (role.parentroleid !== null)
            return dataverseError(
              400,
              "0x80040203",
              "Inherited role copies cannot be edited; edit the role in the root business unit. (sandbox code)",
            );
          if (body.isinherited !== 0 && body.isinherited !== 1)
            return dataverseError(
              400,
              "0x80040203",
              `A validation error occurred. The value ${String(body.isinherited)} of 'isinherited' is outside the valid range.`,
            );
          role.isinherited = body.isinherited;
          this.state.customiseRole(role);
        }
        if ((request.headers.prefer ?? "").includes("return=representation")) {
          return jsonResponse(200, {
            "@odata.context": this.context("roles/$entity"),
            ...applySelect(this.roleJson(role), request.url.searchParams.get("$select")),
          });
        }
        return noContent();
      }
    }
    if ((action === "Microsoft.Dynamics.CRM.AddPrivilegesRole" || action === "AddPrivilegesRole") && method === "POST") {
      const denied = this.requireAdmin(caller, "prvWriteRole", "role");
      return denied ?? this.addPrivileges(role, readJson(request));
    }
    if (
      (action === "Microsoft.Dynamics.CRM.RetrieveRolePrivilegesRole()" ||
        action === "Microsoft.Dynamics.CRM.RetrieveRolePrivilegesRole") &&
      method === "GET"
    ) {
      return this.rolePrivileges(role.roleid);
    }
    return dataverseError(404, "0x80060888", `Resource not found for the segment '${action}'.`);
  }

  private addPrivileges(role: Role, body: Record<string, unknown>): SandboxResponse {
    if (role.parentroleid !== null)
      return dataverseError(
        400,
        "0x80040203",
        "Inherited role copies cannot be edited; edit the role in the root business unit. (sandbox code)",
      );
    if (!Array.isArray(body.Privileges)) return dataverseError(400, "0x80040203", "Required field 'Privileges' is missing.");
    const changes: [string, PrivilegeDepth][] = [];
    for (const entry of body.Privileges as Record<string, unknown>[]) {
      const privilege = this.state.privileges.find((p) => p.privilegeid === String(entry.PrivilegeId ?? "").toLowerCase());
      if (!privilege) return dataverseError(404, "0x80040217", `privilege With Id = ${String(entry.PrivilegeId)} Does Not Exist`);
      const depth = parseDepth(entry.Depth);
      if (!depth) return dataverseError(400, "0x80040203", `Invalid depth '${String(entry.Depth)}' for privilege ${privilege.name}.`);
      const allowed = {
        Basic: privilege.canbebasic,
        Local: privilege.canbelocal,
        Deep: privilege.canbedeep,
        Global: privilege.canbeglobal,
      }[depth];
      if (!allowed) {
        const valid = DEPTH_ORDER.filter(
          (d) =>
            ({ Basic: privilege.canbebasic, Local: privilege.canbelocal, Deep: privilege.canbedeep, Global: privilege.canbeglobal })[d],
        );
        return dataverseError(
          400,
          "0x80040203",
          `Privilege ${privilege.name} cannot be set at ${depth} depth; it allows ${valid.join(", ")}. (sandbox code)`,
        );
      }
      changes.push([privilege.privilegeid, depth]);
    }
    for (const [id, depth] of changes) role.privileges.set(id, depth);
    this.state.customiseRole(role);
    return noContent();
  }

  private rolePrivileges(roleId: string | undefined): SandboxResponse {
    const role = this.state.roles.get(roleId ?? "");
    if (!role) return dataverseError(404, "0x80040217", `role With Id = ${roleId} Does Not Exist`);
    const root = this.state.rootRoleOf(role);
    const rolePrivileges = [...root.privileges].map(([privilegeId, depth]) => ({
      Depth: depth,
      PrivilegeId: privilegeId,
      BusinessUnitId: role.businessunitid,
      PrivilegeName: this.state.privileges.find((p) => p.privilegeid === privilegeId)?.name ?? "",
      RecordFilterId: "00000000-0000-0000-0000-000000000000",
      RecordFilterUniqueName: "",
    }));
    return jsonResponse(200, {
      "@odata.context": this.context("Microsoft.Dynamics.CRM.RetrieveRolePrivilegesRoleResponse"),
      RolePrivileges: rolePrivileges,
    });
  }

  private systemUserJson(user: SystemUser, expandRoles: boolean): Record<string, unknown> {
    return {
      systemuserid: user.systemuserid,
      domainname: user.domainname,
      fullname: user.fullname,
      azureactivedirectoryobjectid: user.azureactivedirectoryobjectid,
      applicationid: user.applicationid,
      isdisabled: user.isdisabled,
      islicensed: user.islicensed,
      accessmode: user.accessmode,
      _businessunitid_value: user.businessunitid,
      createdon: user.createdon,
      ...(expandRoles
        ? {
            systemuserroles_association: [...user.roles]
              .map((id) => this.state.roles.get(id))
              .filter(Boolean)
              .map((r) => ({ roleid: r!.roleid, name: r!.name, _businessunitid_value: r!.businessunitid })),
          }
        : {}),
    };
  }

  private systemUsers(call: DataverseCall): SandboxResponse {
    const { request, first, rest, caller } = call;
    const method = request.method;
    const expandRoles = (request.url.searchParams.get("$expand") ?? "").includes("systemuserroles_association");
    if (first.key === undefined) {
      if (method === "GET")
        return this.list(
          "systemusers",
          [...this.state.systemUsers.values()].map((u) => this.systemUserJson(u, expandRoles)),
          request,
        );
      if (method === "POST")
        return this.requireAdmin(caller, "prvCreateUser", "systemuser") ?? this.createApplicationUser(readJson(request));
      return dataverseError(405, "0x80060888", "Method not allowed.");
    }
    const user = this.state.systemUsers.get(keyGuid(first.key) ?? "");
    if (!user) return dataverseError(404, "0x80040217", `systemuser With Id = ${first.key} Does Not Exist`);
    if (rest.length === 0) return this.systemUser(call, user, expandRoles);
    return this.systemUserRoles(call, user);
  }

  private systemUser({ request, caller }: DataverseCall, user: SystemUser, expandRoles: boolean): SandboxResponse {
    const query = request.url.searchParams;
    if (request.method === "GET")
      return jsonResponse(200, {
        "@odata.context": this.context("systemusers/$entity"),
        ...applySelect(this.systemUserJson(user, expandRoles), query.get("$select"), query.get("$expand")),
      });
    if (request.method !== "PATCH") return dataverseError(405, "0x80060888", "Method not allowed.");
    const denied = this.requireAdmin(caller, "prvWriteUser", "systemuser");
    if (denied) return denied;
    const body = readJson(request);
    if (body.isdisabled !== undefined) {
      // Entra-synchronised users follow Entra; only application users are enabled or disabled here.
      if (!user.applicationid)
        return dataverseError(
          400,
          "0x80040203",
          "isdisabled of a user synchronised from Entra ID follows its Entra account. (sandbox code)",
        );
      user.isdisabled = body.isdisabled === true;
    }
    return noContent();
  }

  /** `systemusers(<id>)/systemuserroles_association`: the user's roles, and assigning or removing one (`/$ref`). */
  private systemUserRoles({ request, rest, caller }: DataverseCall, user: SystemUser): SandboxResponse {
    const method = request.method;
    const association = parseSegment(rest[0]!);
    if (association?.name !== "systemuserroles_association")
      return dataverseError(404, "0x80060888", `Resource not found for the segment '${rest[0]}'.`);
    if (method === "GET" && rest.length === 1) {
      const roles = [...user.roles]
        .map((id) => this.state.roles.get(id))
        .filter((r): r is Role => Boolean(r))
        .map((r) => this.roleJson(r));
      return this.list("roles", roles, request);
    }
    if (rest[rest.length - 1] !== "$ref")
      return dataverseError(404, "0x80060888", `Resource not found for the segment '${rest.join("/")}'.`);
    const denied = this.requireAdmin(caller, "prvWriteRole", "systemuser");
    if (denied) return denied;
    if (method === "POST") return this.assignRole(user, String(readJson(request)["@odata.id"] ?? ""));
    if (method === "DELETE") {
      const roleId =
        keyGuid(association.key) ?? new RegExp(`roles\\((${GUID})\\)`).exec(request.url.searchParams.get("$id") ?? "")?.[1]?.toLowerCase();
      if (!roleId || !user.roles.has(roleId))
        return dataverseError(404, "0x80040217", `The role is not associated with systemuser ${user.systemuserid}.`);
      user.roles.delete(roleId);
      return noContent();
    }
    return dataverseError(405, "0x80060888", "Method not allowed.");
  }

  private assignRole(user: SystemUser, target: string): SandboxResponse {
    const roleId = new RegExp(`roles\\((${GUID})\\)`).exec(target)?.[1]?.toLowerCase();
    const role = this.state.roles.get(roleId ?? "");
    if (!role) return dataverseError(404, "0x80040217", `role With Id = ${roleId ?? target} Does Not Exist`);
    if (user.isdisabled) return dataverseError(400, "0x8004d2a8", "Security roles can only be assigned to enabled users. (sandbox code)");
    if (role.businessunitid !== user.businessunitid) {
      return dataverseError(
        400,
        "0x8004050c",
        `Role ${role.roleid} belongs to business unit ${role.businessunitid}; the user belongs to ${user.businessunitid}. Assign the role copy of the user's business unit. (sandbox code)`,
      );
    }
    if (user.roles.has(role.roleid)) return dataverseError(412, "0x80040237", "Cannot insert duplicate key.");
    user.roles.add(role.roleid);
    return noContent();
  }

  /** Application user (dataverse §5.3): the app must exist in the tenant; one system user per application id. */
  private createApplicationUser(body: Record<string, unknown>): SandboxResponse {
    const applicationId = String(body.applicationid ?? "").toLowerCase();
    if (!applicationId)
      return dataverseError(
        400,
        "0x80040203",
        "Only application users can be created in this environment through the Web API; 'applicationid' is required. (sandbox code)",
      );
    const app = [...this.state.applications.values()].find((a) => a.appId === applicationId);
    // Dataverse looks the app up through its service principal, so it is refused until the service
    // principal exists and has replicated (issue 10; terraform-provider-azuread#581). Microsoft's exact
    // code and wording for this refusal are UNCONFIRMED: the sandbox keeps its own.
    const servicePrincipal = [...this.state.servicePrincipals.values()].find((sp) => sp.appId === applicationId);
    if (!app || !servicePrincipal || this.faults.notReplicatedYet("dataverseApplicationUser", applicationId)) {
      return dataverseError(400, "0x80040216", `The application with id ${applicationId} was not found in the tenant. (sandbox code)`);
    }
    if ([...this.state.systemUsers.values()].some((u) => u.applicationid === applicationId))
      return dataverseError(412, "0x80040237", "A record with matching key values already exists.");
    const bind = String(body["businessunitid@odata.bind"] ?? "");
    const businessUnitId = new RegExp(`businessunits\\((${GUID})\\)`).exec(bind)?.[1]?.toLowerCase();
    const businessUnit = this.state.businessUnits.find((b) => b.businessunitid === businessUnitId);
    if (!businessUnit) return dataverseError(400, "0x80040217", `businessunit With Id = ${businessUnitId ?? bind} Does Not Exist`);
    const user = this.state.addSystemUser({
      domainname: `${applicationId}@${this.state.domains.find((d) => d.isInitial)!.id}`,
      fullname: `# ${app.displayName}`,
      applicationid: applicationId,
      azureactivedirectoryobjectid: servicePrincipal.id,
      accessmode: 4,
      islicensed: false,
      businessunitid: businessUnit.businessunitid,
    });
    return jsonResponse(
      201,
      { "@odata.context": this.context("systemusers/$entity"), ...this.systemUserJson(user, false) },
      { "OData-EntityId": `${this.orgUrl}${API_PREFIX}systemusers(${user.systemuserid})` },
    );
  }

  private leads(request: SandboxRequest, first: Segment, caller: SystemUser): SandboxResponse {
    const method = request.method;
    if (first.key === undefined && method === "POST") {
      const denied = this.requirePrivilege(caller, "prvCreateLead", "lead");
      if (denied) {
        const body = readJson(request);
        if (body.leadsourcecode !== undefined)
          return dataverseError(
            403,
            "0x8004f507",
            "User does not have create permissions for the leadsourcecode attribute in the lead entity.",
          );
        return denied;
      }
      const fields = readJson(request);
      const lead = { leadid: randomUUID(), fields, ownerid: caller.systemuserid, createdon: new Date().toISOString() };
      this.state.leads.set(lead.leadid, lead);
      const entityId = `${this.orgUrl}${API_PREFIX}leads(${lead.leadid})`;
      if ((request.headers.prefer ?? "").includes("return=representation")) {
        return jsonResponse(
          201,
          { "@odata.context": this.context("leads/$entity"), leadid: lead.leadid, ...fields },
          { "OData-EntityId": entityId },
        );
      }
      return noContent({ "OData-EntityId": entityId });
    }
    if (first.key === undefined && method === "GET") {
      const denied = this.requirePrivilege(caller, "prvReadLead", "lead");
      return (
        denied ??
        this.list(
          "leads",
          [...this.state.leads.values()].map((l) => ({ leadid: l.leadid, ...l.fields, _ownerid_value: l.ownerid, createdon: l.createdon })),
          request,
        )
      );
    }
    const lead = this.state.leads.get(keyGuid(first.key) ?? "");
    if (!lead) return dataverseError(404, "0x80040217", `lead With Id = ${first.key} Does Not Exist`);
    if (method === "GET") return jsonResponse(200, { leadid: lead.leadid, ...lead.fields });
    if (method === "DELETE") {
      const denied = this.requirePrivilege(caller, "prvDeleteLead", "lead");
      if (denied) return denied;
      this.state.leads.delete(lead.leadid);
      return noContent();
    }
    return dataverseError(405, "0x80060888", "Method not allowed.");
  }
}
