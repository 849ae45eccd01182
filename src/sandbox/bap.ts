import { jsonResponse, readJson, type SandboxRequest, type SandboxResponse, type TokenClaims } from "./kit.js";
import { pageOf } from "./odata.js";
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

  private environment(
    name: string,
    displayName: string,
    domainName: string,
    environmentSku: string,
    instanceUrl = `https://${domainName}.crm.dynamics.com/`,
  ): Record<string, unknown> {
    return {
      id: `${PREFIX}/${name}`,
      name,
      type: "Microsoft.BusinessAppPlatform/scopes/environments",
      location: "unitedstates",
      properties: {
        displayName,
        environmentSku,
        azureRegion: "westus",
        linkedEnvironmentMetadata: {
          instanceUrl,
          domainName,
          uniqueName: `${domainName}sandbox`,
          version: this.state.scenario.dynamicsVersion,
        },
      },
    };
  }

  handle(request: SandboxRequest, claims: TokenClaims): SandboxResponse {
    if (!request.url.searchParams.get("api-version"))
      return bapError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
    const caller = claims.idtyp === "app" ? undefined : this.state.users.get(claims.oid);
    const isAdmin =
      (caller?.directoryRoles.length ?? 0) > 0 ||
      [...this.state.applications.values()].some((a) => a.appId === claims.appid && a.appRoles.has("graph-admin"));
    if (!isAdmin) return bapError(403, "Forbidden", "The caller does not have the Power Platform administrator role.");
    const path = request.url.pathname.replace(/\/+$/, "");
    if (request.method === "GET" && path === PREFIX) {
      // A tenant has several environments (the default one, developer ones…) and the list pages with
      // `nextLink` (the Terraform provider for Power Platform follows it): ours is not the first.
      const environments = [
        this.environment("2d0e4b7a-6c1f-4f7e-8a31-5b9c0d2e7f40", "Contoso developer", "contosodev", "Developer"),
        this.environment("7f4c2c1e-2a59-4c9b-9a57-3d1e8e2f0b11", "Contoso trial", "contosotrial", "Trial"),
        this.environment(ENVIRONMENT_ID, "Contoso (sandbox)", "contoso", "Production", `${this.orgUrl}/`),
      ];
      const page = pageOf(environments, request.url, this.state.scenario.pageSize);
      return jsonResponse(200, { value: page.value, ...(page.nextLink ? { nextLink: page.nextLink } : {}) });
    }
    const addUser = new RegExp(`^${PREFIX}/([^/]+)/addUser$`).exec(path);
    if (request.method === "POST" && addUser) {
      if (addUser[1] !== ENVIRONMENT_ID)
        return bapError(404, "EnvironmentNotFound", `The environment '${addUser[1]}' could not be found in the tenant.`);
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
