import { jsonResponse, readJson, type SandboxRequest, type SandboxResponse, type TokenClaims } from "./kit.js";
import { ENVIRONMENT_ID, type TenantState } from "./state.js";

/**
 * Emulated Power Platform admin API subset (reference: dataverse-and-partner-center §5.2): the environment
 * list, and `addUser`, which brings a licensed Entra user into the environment at once and answers
 * `userNotLicensed` while the user holds no Dynamics licence.
 */
const PREFIX = "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments";

function bapError(status: number, code: string, message: string): SandboxResponse {
  return jsonResponse(status, { error: { code, message } });
}

export class PowerPlatformAdminService {
  constructor(
    private readonly state: TenantState,
    private readonly orgUrl: string,
  ) {}

  handle(request: SandboxRequest, claims: TokenClaims): SandboxResponse {
    if (!request.url.searchParams.get("api-version")) return bapError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
    const caller = claims.idtyp === "app" ? undefined : this.state.users.get(claims.oid);
    const isAdmin = (caller?.directoryRoles.length ?? 0) > 0 || [...this.state.applications.values()].some((a) => a.appId === claims.appid && a.appRoles.has("graph-admin"));
    if (!isAdmin) return bapError(403, "Forbidden", "The caller does not have the Power Platform administrator role.");
    const path = request.url.pathname.replace(/\/+$/, "");
    if (request.method === "GET" && path === PREFIX) {
      return jsonResponse(200, {
        value: [{
          id: `${PREFIX}/${ENVIRONMENT_ID}`, name: ENVIRONMENT_ID, type: "Microsoft.BusinessAppPlatform/scopes/environments", location: "unitedstates",
          properties: {
            displayName: "Contoso (sandbox)", environmentSku: "Production", azureRegion: "westus",
            linkedEnvironmentMetadata: { instanceUrl: `${this.orgUrl}/`, domainName: "contoso", uniqueName: "contososandbox", version: this.state.scenario.dynamicsVersion },
          },
        }],
      });
    }
    const addUser = new RegExp(`^${PREFIX}/([^/]+)/addUser$`).exec(path);
    if (request.method === "POST" && addUser) {
      if (addUser[1] !== ENVIRONMENT_ID) return bapError(404, "EnvironmentNotFound", `The environment '${addUser[1]}' could not be found in the tenant.`);
      const body = readJson(request);
      const objectId = String(body.objectId ?? body.ObjectId ?? "").toLowerCase();
      const user = this.state.users.get(objectId);
      if (!user) return bapError(404, "UserNotFound", `The user with object id '${objectId}' was not found in the tenant.`);
      if (!user.accountEnabled || !this.state.grantsDynamicsAccess(user)) {
        return bapError(400, "userNotLicensed", `The user ${user.userPrincipalName} is not licensed for this environment.`);
      }
      this.state.syncUser(user);
      return jsonResponse(200, {});
    }
    return bapError(404, "NotFound", `The sandbox's Power Platform admin API has no endpoint ${request.method} ${path}.`);
  }
}
