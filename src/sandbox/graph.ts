import { randomBytes, randomUUID } from "node:crypto";
import { jsonResponse, newRequestId, noContent, readJson, type SandboxRequest, type SandboxResponse, type TokenClaims } from "./kit.js";
import { applyFilter, applySelect, ODataSyntaxError, pageOf } from "./odata.js";
import type { Application, DirectoryUser, TenantState } from "./state.js";
import type { FaultInjector } from "./faults.js";

/**
 * Emulated Microsoft Graph v1.0 (reference: graph-and-msal §A): organization, domains, subscribedSkus,
 * users (create/get/patch/delete with Entra's validation), assignLicense (usage-location and seat rules),
 * licenseDetails, memberOf, applications (+addPassword/removePassword) and servicePrincipals. Errors use
 * Graph's envelope; every response carries request-id / client-request-id.
 */

export function graphError(status: number, code: string, message: string, extra: Record<string, unknown> = {}): SandboxResponse {
  const requestId = newRequestId();
  return jsonResponse(status, {
    error: {
      code,
      message,
      innerError: { date: new Date().toISOString().slice(0, 19), "request-id": requestId, "client-request-id": requestId },
      ...extra,
    },
  });
}

const COMPLEXITY_MESSAGE =
  "The specified password does not comply with password complexity requirements. Please provide a different password.";

function passwordComplies(password: unknown): boolean {
  if (typeof password !== "string" || password.length < 8 || password.length > 256 || /[^\x20-\x7e]/.test(password)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  return classes >= 3;
}

export class GraphService {
  constructor(
    private readonly state: TenantState,
    private readonly faults: FaultInjector,
    private readonly graphOrigin: string,
  ) {}

  handle(request: SandboxRequest, claims: TokenClaims): SandboxResponse {
    const path = request.url.pathname.replace(/\/+$/, "");
    if (!path.startsWith("/v1.0/")) return graphError(400, "BadRequest", `Invalid version: ${path.split("/")[1] ?? ""}`);
    const segments = path.slice("/v1.0/".length).split("/").map(decodeURIComponent);
    const query = request.url.searchParams;
    // Node's fetch sends `Accept-Language: *`, which Graph rejects on some endpoints (graph-and-msal §B.4);
    // the sandbox rejects it everywhere, so a client that forgets to send a real language is caught.
    if (request.headers["accept-language"] === "*") return graphError(400, "Request_BadRequest", "Invalid language specified.");
    try {
      if (!this.isAdmin(claims) && !(segments[0] === "me" || segments[0] === "organization")) {
        return graphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
      }
      return this.route(request, segments, query, claims);
    } catch (error) {
      if (error instanceof ODataSyntaxError) return graphError(400, "BadRequest", `Invalid filter clause: ${error.message}`);
      if (error instanceof SyntaxError)
        return graphError(
          400,
          "BadRequest",
          "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        );
      throw error;
    }
  }

  private isAdmin(claims: TokenClaims): boolean {
    if (claims.idtyp === "app") {
      return [...this.state.applications.values()].some((a) => a.appId === claims.appid && a.appRoles.has("graph-admin"));
    }
    return (this.state.users.get(claims.oid)?.directoryRoles.length ?? 0) > 0;
  }

  /** A collection; with `requestUrl`, paged as Graph pages directory lists (`@odata.nextLink`, `$skiptoken`). */
  private collection(name: string, value: unknown[], requestUrl?: URL): SandboxResponse {
    const page = requestUrl ? pageOf(value, requestUrl, this.state.scenario.pageSize) : { value, nextLink: undefined };
    return jsonResponse(200, {
      "@odata.context": `${this.graphOrigin}/v1.0/$metadata#${name}`,
      value: page.value,
      ...(page.nextLink ? { "@odata.nextLink": page.nextLink } : {}),
    });
  }

  private route(request: SandboxRequest, segments: string[], query: URLSearchParams, claims: TokenClaims): SandboxResponse {
    const [head, id, action] = segments;
    const method = request.method;
    if (head === "organization" && method === "GET" && !id) {
      return this.collection("organization", [
        {
          id: this.state.organization.id,
          displayName: this.state.organization.displayName,
          countryLetterCode: this.state.organization.countryLetterCode,
          city: this.state.organization.city,
          verifiedDomains: this.state.domains
            .filter((d) => d.isVerified)
            .map((d) => ({
              name: d.id,
              isDefault: d.isDefault,
              isInitial: d.isInitial,
              type: d.authenticationType,
              capabilities: d.supportedServices.join(", "),
            })),
        },
      ]);
    }
    if (head === "domains" && method === "GET" && !id)
      return this.collection(
        "domains",
        this.state.domains.map((d) => ({
          ...d,
          availabilityStatus: null,
          passwordValidityPeriodInDays: 2147483647,
          passwordNotificationWindowInDays: 14,
        })),
        request.url,
      );
    if (head === "subscribedSkus" && method === "GET" && !id) {
      if (query.has("$filter")) return graphError(400, "Request_UnsupportedQuery", "Unsupported Query.");
      return this.collection(
        "subscribedSkus",
        this.state.skus.map((s) => ({
          accountName: "Contoso",
          accountId: this.state.organization.id,
          appliesTo: s.appliesTo,
          capabilityStatus: s.capabilityStatus,
          consumedUnits: s.consumedUnits,
          id: s.id,
          skuId: s.skuId,
          skuPartNumber: s.skuPartNumber,
          subscriptionIds: [randomUUID()],
          prepaidUnits: { enabled: s.prepaidEnabled, lockedOut: 0, suspended: 0, warning: 0 },
          servicePlans: s.servicePlans.map(({ servicePlanId, servicePlanName, provisioningStatus, appliesTo }) => ({
            servicePlanId,
            servicePlanName,
            provisioningStatus,
            appliesTo,
          })),
        })),
      );
    }
    if (head === "me" && method === "GET") {
      const me = this.state.users.get(claims.oid);
      return me
        ? jsonResponse(200, this.userJson(me, query.get("$select")))
        : graphError(404, "Request_ResourceNotFound", "Resource 'me' does not exist.");
    }
    if (head === "users") return this.users(request, id, action, query);
    if (head === "applications") return this.applications(request, id, action, query);
    if (head === "servicePrincipals") return this.servicePrincipals(request, id, query);
    return graphError(400, "BadRequest", `Resource not found for the segment '${head}'.`);
  }

  private userJson(user: DirectoryUser, select: string | null): Record<string, unknown> {
    return applySelect(
      {
        "@odata.context": `${this.graphOrigin}/v1.0/$metadata#users/$entity`,
        id: user.id,
        businessPhones: [],
        displayName: user.displayName,
        mail: null,
        mailNickname: user.mailNickname,
        userPrincipalName: user.userPrincipalName,
        accountEnabled: user.accountEnabled,
        usageLocation: user.usageLocation,
        passwordPolicies: user.passwordPolicies,
        assignedLicenses: user.assignedLicenses,
        createdDateTime: user.createdDateTime,
        onPremisesImmutableId: user.onPremisesImmutableId,
      },
      select,
    );
  }

  /** Directory replication: right after creation, requests about the user may not find it yet (§A.4). */
  private lookupUser(key: string | undefined): DirectoryUser | SandboxResponse {
    const user = key ? this.state.findUser(key) : undefined;
    if (user && user.replicationMisses > 0) {
      user.replicationMisses--;
      this.faults.stats.replication404s++;
      return graphError(
        404,
        "Request_ResourceNotFound",
        `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    return (
      user ??
      graphError(
        404,
        "Request_ResourceNotFound",
        `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
      )
    );
  }

  private users(request: SandboxRequest, id: string | undefined, action: string | undefined, query: URLSearchParams): SandboxResponse {
    const method = request.method;
    if (!id) {
      if (method === "GET") {
        const all = [...this.state.users.values()].map((u) => this.userJson(u, null));
        return this.collection(
          "users",
          applyFilter(all, query.get("$filter")).map((u) => applySelect(u, query.get("$select"))),
          request.url,
        );
      }
      if (method === "POST") return this.createUser(readJson(request));
    }
    const found = this.lookupUser(id);
    if ("status" in found) return found;
    const user = found;
    if (!action) {
      if (method === "GET") return jsonResponse(200, this.userJson(user, query.get("$select")));
      if (method === "PATCH") return this.patchUser(user, readJson(request));
      if (method === "DELETE") {
        for (const assigned of user.assignedLicenses) this.releaseSeat(assigned.skuId);
        this.state.users.delete(user.id);
        for (const systemUser of this.state.systemUsers.values()) {
          if (systemUser.azureactivedirectoryobjectid === user.id) systemUser.isdisabled = true;
        }
        return noContent();
      }
    }
    if (action === "assignLicense" && method === "POST") return this.assignLicense(user, readJson(request));
    if (action === "licenseDetails" && method === "GET") {
      return this.collection(
        `users('${user.id}')/licenseDetails`,
        user.assignedLicenses.map((a) => {
          const sku = this.state.skus.find((s) => s.skuId === a.skuId)!;
          return {
            id: `${sku.skuId}`,
            skuId: sku.skuId,
            skuPartNumber: sku.skuPartNumber,
            servicePlans: sku.servicePlans.map(({ servicePlanId, servicePlanName, provisioningStatus, appliesTo }) => ({
              servicePlanId,
              servicePlanName,
              provisioningStatus,
              appliesTo,
            })),
          };
        }),
      );
    }
    if (action === "memberOf" && method === "GET") {
      return this.collection(
        "directoryObjects",
        user.directoryRoles.map((name) => ({ "@odata.type": "#microsoft.graph.directoryRole", id: randomUUID(), displayName: name })),
      );
    }
    return graphError(405, "Request_BadRequest", `The ${method} method is not supported on this resource.`);
  }

  private createUser(body: Record<string, unknown>): SandboxResponse {
    const required = ["accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"];
    const missing = required.filter((k) => body[k] === undefined || body[k] === null || body[k] === "");
    if (missing.length > 0) {
      return graphError(400, "Request_BadRequest", `Invalid value specified for property '${missing[0]}' of resource 'User'.`);
    }
    const upn = String(body.userPrincipalName);
    const at = upn.lastIndexOf("@");
    const domainName = upn.slice(at + 1).toLowerCase();
    const domain = this.state.domains.find((d) => d.id === domainName);
    if (at <= 0 || !domain || !domain.isVerified) {
      return graphError(
        400,
        "Request_BadRequest",
        "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
        { details: [{ target: "userPrincipalName", code: "InvalidValue" }] },
      );
    }
    if (domain.authenticationType === "Federated" && !body.onPremisesImmutableId) {
      return graphError(400, "Request_BadRequest", "Property onPremisesImmutableId is required for federated users.", {
        details: [{ target: "onPremisesImmutableId", code: "PropertyRequired" }],
      });
    }
    if (this.state.findUser(upn)) {
      return graphError(400, "Request_BadRequest", "Another object with the same value for property userPrincipalName already exists.", {
        details: [{ target: "userPrincipalName", code: "ObjectConflict" }],
      });
    }
    const profile = body.passwordProfile as Record<string, unknown>;
    const policies = typeof body.passwordPolicies === "string" ? body.passwordPolicies : null;
    if (!(policies ?? "").includes("DisableStrongPassword") && !passwordComplies(profile.password)) {
      return graphError(400, "Request_BadRequest", COMPLEXITY_MESSAGE, {
        details: [{ target: "passwordProfile.password", code: "InvalidValue" }],
      });
    }
    if (body.usageLocation !== undefined && body.usageLocation !== null && !/^[A-Z]{2}$/.test(String(body.usageLocation))) {
      return graphError(400, "Request_BadRequest", "Invalid value specified for property 'usageLocation' of resource 'User'.");
    }
    const user = this.state.addDirectoryUser({
      userPrincipalName: upn,
      displayName: String(body.displayName),
      mailNickname: String(body.mailNickname),
      accountEnabled: body.accountEnabled === true,
      usageLocation: (body.usageLocation as string | undefined) ?? null,
      passwordPolicies: policies,
      password: String(profile.password),
      forceChangePasswordNextSignIn: profile.forceChangePasswordNextSignIn !== false,
      forceChangePasswordNextSignInWithMfa: profile.forceChangePasswordNextSignInWithMfa === true,
      onPremisesImmutableId: (body.onPremisesImmutableId as string | undefined) ?? null,
      replicationMisses: this.faults.current.replication404s ?? 0,
    });
    return jsonResponse(201, this.userJson(user, null), { location: `${this.graphOrigin}/v1.0/users/${user.id}` });
  }

  private patchUser(user: DirectoryUser, body: Record<string, unknown>): SandboxResponse {
    if (body.passwordProfile !== undefined) {
      const profile = body.passwordProfile as Record<string, unknown>;
      if (profile.password !== undefined) {
        if (!(user.passwordPolicies ?? "").includes("DisableStrongPassword") && !passwordComplies(profile.password)) {
          return graphError(400, "Request_BadRequest", COMPLEXITY_MESSAGE);
        }
        user.password = String(profile.password);
      }
      user.forceChangePasswordNextSignIn = profile.forceChangePasswordNextSignIn === true;
    }
    if (body.usageLocation !== undefined) {
      if (!/^[A-Z]{2}$/.test(String(body.usageLocation)))
        return graphError(400, "Request_BadRequest", "Invalid value specified for property 'usageLocation' of resource 'User'.");
      user.usageLocation = String(body.usageLocation);
    }
    if (body.passwordPolicies !== undefined) user.passwordPolicies = body.passwordPolicies === null ? null : String(body.passwordPolicies);
    if (body.accountEnabled !== undefined) user.accountEnabled = body.accountEnabled === true;
    if (body.displayName !== undefined) user.displayName = String(body.displayName);
    return noContent();
  }

  private releaseSeat(skuId: string): void {
    const sku = this.state.skus.find((s) => s.skuId === skuId);
    if (sku) sku.consumedUnits = Math.max(0, sku.consumedUnits - 1);
  }

  private assignLicense(user: DirectoryUser, body: Record<string, unknown>): SandboxResponse {
    if (!Array.isArray(body.addLicenses) || !Array.isArray(body.removeLicenses)) {
      return graphError(
        400,
        "Request_BadRequest",
        "Invalid value specified for property 'addLicenses' or 'removeLicenses' of resource 'User'.",
      );
    }
    const adds = body.addLicenses as { skuId?: string; disabledPlans?: string[] }[];
    for (const add of adds) {
      const sku = this.state.skus.find((s) => s.skuId === String(add.skuId ?? "").toLowerCase());
      if (!sku) return graphError(400, "Request_BadRequest", `License ${add.skuId} does not correspond to a valid company License.`);
      if (sku.appliesTo !== "User")
        return graphError(400, "Request_BadRequest", `License ${sku.skuId} cannot be assigned to a user: it applies to the company.`);
      if (!user.usageLocation)
        return graphError(400, "Request_BadRequest", "License assignment cannot be done for user with invalid usage location.");
      const already = user.assignedLicenses.some((a) => a.skuId === sku.skuId);
      if (!already && sku.consumedUnits >= sku.prepaidEnabled) {
        return graphError(400, "Request_BadRequest", `Subscription with SKU ${sku.skuId} does not have any available licenses.`);
      }
    }
    for (const add of adds) {
      const skuId = String(add.skuId).toLowerCase();
      const existing = user.assignedLicenses.find((a) => a.skuId === skuId);
      if (existing) {
        existing.disabledPlans = add.disabledPlans ?? [];
      } else {
        user.assignedLicenses.push({ skuId, disabledPlans: add.disabledPlans ?? [] });
        this.state.skus.find((s) => s.skuId === skuId)!.consumedUnits++;
      }
    }
    for (const removed of body.removeLicenses as string[]) {
      const index = user.assignedLicenses.findIndex((a) => a.skuId === String(removed).toLowerCase());
      if (index >= 0) {
        user.assignedLicenses.splice(index, 1);
        this.releaseSeat(String(removed).toLowerCase());
      }
    }
    if (this.state.grantsDynamicsAccess(user)) user.dynamicsLicensedAt ??= this.state.clock.now();
    else user.dynamicsLicensedAt = undefined;
    return jsonResponse(200, this.userJson(user, null));
  }

  private applicationJson(app: Application): Record<string, unknown> {
    return {
      id: app.id,
      appId: app.appId,
      displayName: app.displayName,
      signInAudience: app.signInAudience,
      createdDateTime: app.createdDateTime,
      requiredResourceAccess: app.requiredResourceAccess,
      isFallbackPublicClient: app.publicClientFlows,
      passwordCredentials: app.passwordCredentials.map(({ keyId, displayName, hint, startDateTime, endDateTime }) => ({
        keyId,
        displayName,
        hint,
        startDateTime,
        endDateTime,
        secretText: null,
        customKeyIdentifier: null,
      })),
      keyCredentials: app.certificates.map((c) => ({
        customKeyIdentifier: c.thumbprintSha256,
        type: "AsymmetricX509Cert",
        usage: "Verify",
      })),
    };
  }

  private findApplication(key: string): Application | undefined {
    const appIdKey = /^\(appId='(.+)'\)$/.exec(key)?.[1];
    return [...this.state.applications.values()].find((a) => (appIdKey ? a.appId === appIdKey : a.id === key));
  }

  private applications(
    request: SandboxRequest,
    id: string | undefined,
    action: string | undefined,
    query: URLSearchParams,
  ): SandboxResponse {
    const method = request.method;
    if (!id) {
      if (method === "GET") {
        const all = [...this.state.applications.values()].map((a) => this.applicationJson(a));
        return this.collection(
          "applications",
          applyFilter(all, query.get("$filter")).map((a) => applySelect(a, query.get("$select"))),
          request.url,
        );
      }
      if (method === "POST") return this.createApplication(readJson(request));
    }
    const app = id ? this.findApplication(id) : undefined;
    if (!app)
      return graphError(
        404,
        "Request_ResourceNotFound",
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      );
    if (!action && method === "GET") return jsonResponse(200, applySelect(this.applicationJson(app), query.get("$select")));
    if (!action && method === "DELETE") {
      this.state.applications.delete(app.id);
      return noContent();
    }
    if (action === "addPassword" && method === "POST") {
      if (this.faults.notReplicatedYet("addPassword", app.appId)) {
        return graphError(
          404,
          "Request_ResourceNotFound",
          `Resource '${app.id}' does not exist or one of its queried reference-property objects are not present.`,
        );
      }
      const credential = (readJson(request).passwordCredential ?? {}) as Record<string, unknown>;
      const secretText = `${randomBytes(3).toString("hex").slice(0, 3)}8Q~${randomBytes(27).toString("base64url").slice(0, 34)}`;
      // The tenant's clock: a test's virtual time decides when a secret expires, here and at sign-in.
      const now = this.state.clock.now();
      const end = typeof credential.endDateTime === "string" ? Date.parse(credential.endDateTime) : now + 2 * 365 * 86_400_000;
      if (Number.isNaN(end) || end <= now)
        return graphError(
          400,
          "Request_BadRequest",
          "Invalid value specified for property 'endDateTime' of resource 'PasswordCredential'.",
        );
      const added = {
        keyId: randomUUID(),
        displayName: typeof credential.displayName === "string" ? credential.displayName : null,
        hint: secretText.slice(0, 3),
        startDateTime: new Date(now).toISOString(),
        endDateTime: new Date(end).toISOString(),
        secretText,
      };
      app.passwordCredentials.push(added);
      return jsonResponse(200, {
        "@odata.context": `${this.graphOrigin}/v1.0/$metadata#microsoft.graph.passwordCredential`,
        customKeyIdentifier: null,
        ...added,
      });
    }
    if (action === "removePassword" && method === "POST") return this.removePassword(app, String(readJson(request).keyId ?? ""));
    return graphError(405, "Request_BadRequest", `The ${method} method is not supported on this resource.`);
  }

  private createApplication(body: Record<string, unknown>): SandboxResponse {
    if (typeof body.displayName !== "string" || !body.displayName)
      return graphError(400, "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'Application'.");
    const app: Application = {
      id: randomUUID(),
      appId: randomUUID(),
      displayName: body.displayName,
      signInAudience: String(body.signInAudience ?? "AzureADMyOrg"),
      createdDateTime: new Date().toISOString(),
      passwordCredentials: [],
      certificates: [],
      requiredResourceAccess: Array.isArray(body.requiredResourceAccess) ? body.requiredResourceAccess : [],
      publicClientFlows: false,
      appRoles: new Set(),
    };
    this.state.applications.set(app.id, app);
    this.faults.startReplication(["servicePrincipal", "addPassword"], app.appId);
    return jsonResponse(201, this.applicationJson(app));
  }

  private removePassword(app: Application, keyId: string): SandboxResponse {
    const index = app.passwordCredentials.findIndex((c) => c.keyId === keyId);
    if (index < 0) return graphError(400, "Request_BadRequest", `No password credential found with keyId ${keyId}.`);
    app.passwordCredentials.splice(index, 1);
    return noContent();
  }

  private servicePrincipals(request: SandboxRequest, id: string | undefined, query: URLSearchParams): SandboxResponse {
    const method = request.method;
    if (!id && method === "GET") {
      const all = [...this.state.servicePrincipals.values()].map((sp) => ({ ...sp }));
      return this.collection(
        "servicePrincipals",
        applyFilter(all, query.get("$filter")).map((sp) => applySelect(sp, query.get("$select"))),
        request.url,
      );
    }
    if (!id && method === "POST") {
      const appId = String(readJson(request).appId ?? "");
      const app = [...this.state.applications.values()].find((a) => a.appId === appId);
      // Also right after the app's creation, until it has replicated (msgraph-sdk-dotnet#3108).
      if (!app || this.faults.notReplicatedYet("servicePrincipal", appId)) {
        return graphError(
          400,
          "Request_BadRequest",
          `The appId '${appId}' of the service principal does not reference a valid application object.`,
          { details: [{ target: "appId", code: "NoBackingApplicationObject" }] },
        );
      }
      if ([...this.state.servicePrincipals.values()].some((sp) => sp.appId === appId)) {
        return graphError(
          409,
          "Request_MultipleObjectsWithSameKeyValue",
          "The service principal cannot be created, updated, or restored because the service principal name is already in use.",
        );
      }
      const servicePrincipal = { id: randomUUID(), appId, displayName: app.displayName, accountEnabled: true };
      this.state.servicePrincipals.set(servicePrincipal.id, servicePrincipal);
      this.faults.startReplication(["dataverseApplicationUser"], appId);
      return jsonResponse(201, servicePrincipal);
    }
    const servicePrincipal = id ? this.state.servicePrincipals.get(id) : undefined;
    if (!servicePrincipal)
      return graphError(
        404,
        "Request_ResourceNotFound",
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      );
    if (method === "GET") return jsonResponse(200, servicePrincipal);
    if (method === "DELETE") {
      this.state.servicePrincipals.delete(servicePrincipal.id);
      return noContent();
    }
    return graphError(405, "Request_BadRequest", `The ${method} method is not supported on this resource.`);
  }
}
