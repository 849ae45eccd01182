import { AuthenticationHandler, Client, GraphError, type Context, type Middleware, type MiddlewareOptions } from "@microsoft/microsoft-graph-client";
import { AsyncLocalStorage } from "node:async_hooks";
import type { HttpClient } from "./http.js";
import { CliError } from "../errors.js";
import type { TokenProvider } from "../auth/msal.js";
import { ServiceError } from "./service-error.js";

/**
 * Microsoft Graph through the Graph SDK (reference: graph-and-msal §B). The SDK's own retry and redirect
 * handlers are replaced by our HTTP layer, so Graph shares the one retry policy and the redacted trace.
 * Two SDK pitfalls handled here: the Authorization header is only kept for hosts listed in `customHosts`
 * (host name only, no port), and Node's fetch sends `Accept-Language: *`, which Graph rejects on some
 * endpoints, so an explicit language is sent.
 */
/**
 * The SDK turns anything thrown below it (our sign-in or network failure) into a GraphError with status -1
 * whose code is the error's class name ("-1 SignInError"), losing the error itself; each call keeps what
 * was thrown below it here, so it is reported as it was raised.
 */
const thrownBelow = new AsyncLocalStorage<{ error?: CliError }>();

function keepThrown<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    const store = thrownBelow.getStore();
    if (store && error instanceof CliError) store.error ??= error;
    throw error;
  });
}

/** Per-request marker: this write may be resent after a 5xx or a dropped connection (same effect twice). */
class ResendSafely implements MiddlewareOptions {}

class HttpLayerHandler implements Middleware {
  constructor(private readonly http: HttpClient) {}

  async execute(context: Context): Promise<void> {
    const request = context.request;
    const url = typeof request === "string" ? request : (request as Request).url;
    const options = context.options ?? {};
    const headers: Record<string, string> = {};
    new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).forEach((value, name) => {
      headers[name] = value;
    });
    const method = (options.method ?? "GET").toUpperCase() as "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
    const idempotent = context.middlewareControl?.getMiddlewareOptions(ResendSafely) ? true : undefined;
    const response = await keepThrown(this.http.send({ service: "graph", method, url, headers, body: typeof options.body === "string" ? options.body : undefined, idempotent }));
    const empty = response.status === 204 || response.status === 304 || response.body.length === 0;
    context.response = new Response(empty ? null : response.body, { status: response.status, headers: response.headers });
  }
}

export interface GraphRequestOptions {
  select?: string[];
  filter?: string;
}

export class GraphApi {
  private readonly client: Client;

  constructor(
    http: HttpClient,
    private readonly graphEndpoint: string,
    tokens: TokenProvider,
  ) {
    this.client = Client.initWithMiddleware({
      baseUrl: `${graphEndpoint}/`,
      defaultVersion: "v1.0",
      customHosts: new Set([new URL(graphEndpoint).hostname]),
      fetchOptions: { headers: { "Accept-Language": "en-US" } },
      middleware: [new AuthenticationHandler({ getAccessToken: () => keepThrown(tokens.getAccessToken(graphEndpoint)) }), new HttpLayerHandler(http)],
    });
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const below: { error?: CliError } = {};
    try {
      return await thrownBelow.run(below, run);
    } catch (error) {
      if (below.error) throw below.error;
      if (error instanceof GraphError) {
        throw new ServiceError("graph", error.statusCode, error.code ?? "", error.message, operation, error.requestId ?? undefined);
      }
      throw error;
    }
  }

  async get<T>(path: string, options: GraphRequestOptions = {}): Promise<T> {
    return this.call(`GET ${path}`, async () => {
      let request = this.client.api(path);
      if (options.select) request = request.select(options.select);
      if (options.filter) request = request.filter(options.filter);
      return (await request.get()) as T;
    });
  }

  async list<T>(path: string, options: GraphRequestOptions = {}): Promise<T[]> {
    const page = await this.get<{ value: T[] }>(path, options);
    return page.value;
  }

  /** `idempotent`: sending it twice has the effect of sending it once, so transient failures are retried. */
  async post<T>(path: string, body: unknown, options: { idempotent?: boolean } = {}): Promise<T> {
    const request = options.idempotent ? this.client.api(path).middlewareOptions([new ResendSafely()]) : this.client.api(path);
    return this.call(`POST ${path}`, async () => (await request.post(body)) as T);
  }

  /** PATCH sets values: sending it twice has the same effect, so it is retried like a read. */
  async patch(path: string, body: unknown): Promise<void> {
    await this.call(`PATCH ${path}`, async () => this.client.api(path).middlewareOptions([new ResendSafely()]).patch(body));
  }

  async delete(path: string): Promise<void> {
    await this.call(`DELETE ${path}`, async () => this.client.api(path).delete());
  }

  get endpoint(): string {
    return this.graphEndpoint;
  }
}

// ─── The Graph calls the steps need, typed (reference: graph-and-msal §A) ────────────────────────────

export interface GraphDomain {
  id: string;
  authenticationType: "Managed" | "Federated";
  isDefault: boolean;
  isInitial: boolean;
  isVerified: boolean;
}

export interface GraphOrganization {
  id: string;
  displayName: string;
  countryLetterCode: string | null;
}

export interface ServicePlanInfo {
  servicePlanId: string;
  servicePlanName: string;
  provisioningStatus: string;
  appliesTo: string;
}

export interface SubscribedSku {
  skuId: string;
  skuPartNumber: string;
  appliesTo: string;
  capabilityStatus: string;
  consumedUnits: number;
  prepaidUnits: { enabled: number };
  servicePlans: ServicePlanInfo[];
}

export interface GraphUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  accountEnabled: boolean;
  usageLocation: string | null;
  passwordPolicies: string | null;
  assignedLicenses: { skuId: string; disabledPlans: string[] }[];
}

export const USER_SELECT = ["id", "userPrincipalName", "displayName", "accountEnabled", "usageLocation", "passwordPolicies", "assignedLicenses"];

export class DirectoryApi {
  constructor(readonly graph: GraphApi) {}

  async organization(): Promise<GraphOrganization> {
    const [organization] = await this.graph.list<GraphOrganization>("/organization", { select: ["id", "displayName", "countryLetterCode"] });
    if (!organization) throw new Error("Graph returned no organization for this tenant.");
    return organization;
  }

  domains(): Promise<GraphDomain[]> {
    return this.graph.list<GraphDomain>("/domains");
  }

  subscribedSkus(): Promise<SubscribedSku[]> {
    return this.graph.list<SubscribedSku>("/subscribedSkus");
  }

  /** The user, or undefined when Graph says it does not exist. */
  async findUser(idOrUpn: string): Promise<GraphUser | undefined> {
    try {
      return await this.graph.get<GraphUser>(`/users/${encodeURIComponent(idOrUpn)}`, { select: USER_SELECT });
    } catch (error) {
      if (error instanceof ServiceError && error.status === 404) return undefined;
      throw error;
    }
  }

  createUser(body: Record<string, unknown>): Promise<GraphUser> {
    return this.graph.post<GraphUser>("/users", body);
  }

  updateUser(id: string, changes: Record<string, unknown>): Promise<void> {
    return this.graph.patch(`/users/${id}`, changes);
  }

  deleteUser(id: string): Promise<void> {
    return this.graph.delete(`/users/${id}`);
  }

  async assignLicense(userId: string, skuId: string): Promise<void> {
    // Assigning a licence the user already holds changes nothing: safe to resend.
    await this.graph.post(`/users/${userId}/assignLicense`, { addLicenses: [{ skuId, disabledPlans: [] }], removeLicenses: [] }, { idempotent: true });
  }
}

export interface GraphApplication {
  id: string;
  appId: string;
  displayName: string;
  signInAudience: string;
  passwordCredentials: { keyId: string; displayName: string | null; endDateTime: string }[];
}

export interface ServicePrincipal {
  id: string;
  appId: string;
}

const quoteOData = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** Applications and service principals (the app identity), in the same typed style. */
export class ApplicationsApi {
  constructor(readonly graph: GraphApi) {}

  byDisplayName(displayName: string): Promise<GraphApplication[]> {
    return this.graph.list<GraphApplication>("/applications", { filter: `displayName eq ${quoteOData(displayName)}`, select: ["id", "appId", "displayName", "signInAudience", "passwordCredentials"] });
  }

  create(body: Record<string, unknown>): Promise<GraphApplication> {
    return this.graph.post<GraphApplication>("/applications", body);
  }

  async servicePrincipal(appId: string): Promise<ServicePrincipal | undefined> {
    const [servicePrincipal] = await this.graph.list<ServicePrincipal>("/servicePrincipals", { filter: `appId eq ${quoteOData(appId)}`, select: ["id", "appId"] });
    return servicePrincipal;
  }

  createServicePrincipal(appId: string): Promise<ServicePrincipal> {
    return this.graph.post<ServicePrincipal>("/servicePrincipals", { appId });
  }

  addPassword(applicationObjectId: string, displayName: string, endDateTime: Date): Promise<{ keyId: string; secretText: string; endDateTime: string }> {
    return this.graph.post(`/applications/${applicationObjectId}/addPassword`, { passwordCredential: { displayName, endDateTime: endDateTime.toISOString() } });
  }

  async removePassword(applicationObjectId: string, keyId: string): Promise<void> {
    await this.graph.post(`/applications/${applicationObjectId}/removePassword`, { keyId });
  }

  delete(applicationObjectId: string): Promise<void> {
    return this.graph.delete(`/applications/${applicationObjectId}`);
  }

  deleteServicePrincipal(id: string): Promise<void> {
    return this.graph.delete(`/servicePrincipals/${id}`);
  }
}
