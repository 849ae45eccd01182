import {
  AuthenticationHandler,
  Client,
  GraphError,
  type Context,
  type GraphRequest,
  type Middleware,
  type MiddlewareOptions,
} from "@microsoft/microsoft-graph-client";
import { AsyncLocalStorage } from "node:async_hooks";
import { HttpFailure, odataString, withQuery, type HttpClient, type HttpResponse, type QueryValues } from "./http.js";
import { readAllPages, type ListPage } from "./pages.js";
import type { TokenProvider } from "./tokens.js";
import { ServiceError } from "./service-error.js";
import { refusedUntilReplicated } from "../catalogue.js";

/**
 * Microsoft Graph through the Graph SDK (reference: graph-and-msal §B). The SDK's own retry and redirect
 * handlers are replaced by our HTTP layer, so Graph shares the one retry policy and the redacted trace.
 * Two SDK pitfalls handled here: the Authorization header is only kept for hosts listed in `customHosts`
 * (host name only, no port), and Node's fetch sends `Accept-Language: *`, which Graph rejects on some
 * endpoints, so an explicit language is sent.
 */
/** Per-request marker: this write may be resent after a 5xx or a dropped connection (same effect twice). */
class ResendSafely implements MiddlewareOptions {}

/**
 * What was thrown below the SDK during one call (no answer, retries exhausted, Ctrl+C, a sign-in or network
 * failure while getting the token): the SDK turns any error of a middleware into a GraphError with status -1
 * (the wizard once said "GET /organization failed: -1 SignInError") and drops the original, which steps need
 * in order to tell "refused" from "outcome unknown", and the user needs to see as it was raised.
 */
interface ThrownBelow {
  failure?: unknown;
}
const thrownBelow = new AsyncLocalStorage<ThrownBelow>();

function keepThrown<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    const store = thrownBelow.getStore();
    if (store && store.failure === undefined) store.failure = error;
    throw error;
  });
}

/** Per-request marker: resend while the answer says a just-created object is not replicated yet. */
class RetryWhileReplicating implements MiddlewareOptions {
  constructor(readonly notYetReplicated: (response: HttpResponse) => boolean) {}
}

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
    const replication = context.middlewareControl?.getMiddlewareOptions(RetryWhileReplicating) as RetryWhileReplicating | undefined;
    const body = typeof options.body === "string" ? options.body : undefined;
    const response = await keepThrown(
      this.http.send({ service: "graph", method, url, headers, body, idempotent, notYetReplicated: replication?.notYetReplicated }),
    );
    const empty = response.status === 204 || response.status === 304 || response.body.length === 0;
    context.response = new Response(empty ? null : response.body, { status: response.status, headers: response.headers });
  }
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
      middleware: [
        new AuthenticationHandler({ getAccessToken: () => keepThrown(tokens.getAccessToken(graphEndpoint)) }),
        new HttpLayerHandler(http),
      ],
    });
  }

  /** One request: `markers` are per-request middleware options; errors become ServiceError or the one thrown below the SDK. */
  private async call<T>(
    operation: string,
    path: string,
    markers: MiddlewareOptions[],
    run: (request: GraphRequest) => Promise<T>,
  ): Promise<T> {
    const below: ThrownBelow = {};
    try {
      return await thrownBelow.run(below, () => run(this.client.api(path).middlewareOptions(markers)));
    } catch (error) {
      if (below.failure !== undefined) throw below.failure;
      if (error instanceof GraphError) {
        throw new ServiceError("graph", error.statusCode, error.code ?? "", error.message, operation, error.requestId ?? undefined);
      }
      throw error;
    }
  }

  /** `query` values are encoded by `withQuery`; the SDK passes a query given in the path through as it is. */
  async get<T>(path: string, query: QueryValues = {}): Promise<T> {
    return this.call(`GET ${path.split("?")[0]}`, withQuery(path, query), [], async (request) => (await request.get()) as T);
  }

  /** Every item of a collection, following `@odata.nextLink` (Graph pages applications, users, …). */
  async list<T>(path: string, query: QueryValues = {}): Promise<T[]> {
    const first = await this.get<ListPage<T>>(path, query);
    return readAllPages(`${this.graphEndpoint}/v1.0${path}`, first, (nextLink) => this.get<ListPage<T>>(nextLink));
  }

  /**
   * `idempotent`: sending it twice has the effect of sending it once, so transient failures are retried.
   * `notYetReplicated`: an answer that only means a just-created object is not replicated yet (resent).
   */
  async post<T>(
    path: string,
    body: unknown,
    options: { idempotent?: boolean; notYetReplicated?: (response: HttpResponse) => boolean } = {},
  ): Promise<T> {
    const markers: MiddlewareOptions[] = [
      ...(options.idempotent ? [new ResendSafely()] : []),
      ...(options.notYetReplicated ? [new RetryWhileReplicating(options.notYetReplicated)] : []),
    ];
    return this.call(`POST ${path}`, path, markers, async (request) => (await request.post(body)) as T);
  }

  /** PATCH sets values: sending it twice has the same effect, so it is retried like a read. */
  async patch(path: string, body: unknown): Promise<void> {
    await this.call(`PATCH ${path}`, path, [new ResendSafely()], async (request) => request.patch(body));
  }

  async delete(path: string): Promise<void> {
    await this.call(`DELETE ${path}`, path, [], async (request) => request.delete());
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

export const USER_SELECT = [
  "id",
  "userPrincipalName",
  "displayName",
  "accountEnabled",
  "usageLocation",
  "passwordPolicies",
  "assignedLicenses",
];

export class DirectoryApi {
  constructor(readonly graph: GraphApi) {}

  async organization(): Promise<GraphOrganization> {
    const [organization] = await this.graph.list<GraphOrganization>("/organization", { $select: "id,displayName,countryLetterCode" });
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
      return await this.graph.get<GraphUser>(`/users/${encodeURIComponent(idOrUpn)}`, { $select: USER_SELECT.join(",") });
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
    await this.graph.post(
      `/users/${userId}/assignLicense`,
      { addLicenses: [{ skuId, disabledPlans: [] }], removeLicenses: [] },
      // A user just created may not be replicated yet: 404 Request_ResourceNotFound (graph-and-msal §A.4).
      { idempotent: true, notYetReplicated: applicationNotReplicated },
    );
  }
}

export interface GraphApplication {
  id: string;
  appId: string;
  displayName: string;
  signInAudience: string;
  passwordCredentials: { keyId: string; displayName: string | null; startDateTime?: string; endDateTime: string }[];
}

export interface ServicePrincipal {
  id: string;
  appId: string;
}

const APPLICATION_SELECT = "id,appId,displayName,signInAudience,passwordCredentials";

/**
 * Entra's replication right after POST /applications (msgraph-sdk-dotnet#3108, terraform-provider-azuread
 * #581 and #611): for seconds, POST /servicePrincipals answers 400 "…does not reference a valid application
 * object" and addPassword answers 404 Request_ResourceNotFound. Both are refusals, resent under the policy.
 */
const servicePrincipalNotReplicated = refusedUntilReplicated("graph", "graph-application-not-replicated");
const applicationNotReplicated = refusedUntilReplicated("graph", "graph-request-resourcenotfound");

/** Whether a write may have been applied although no answer said so (a dropped connection, a 5xx). */
function outcomeUnknown(error: unknown): boolean {
  return (error instanceof HttpFailure && error.lastStatus === undefined) || (error instanceof ServiceError && error.status >= 500);
}

/** Applications and service principals (the app identity), in the same typed style. */
export class ApplicationsApi {
  constructor(readonly graph: GraphApi) {}

  byDisplayName(displayName: string): Promise<GraphApplication[]> {
    return this.graph.list<GraphApplication>("/applications", {
      $filter: `displayName eq ${odataString(displayName)}`,
      $select: APPLICATION_SELECT,
    });
  }

  async byAppId(appId: string): Promise<GraphApplication | undefined> {
    const [application] = await this.graph.list<GraphApplication>("/applications", {
      $filter: `appId eq ${odataString(appId)}`,
      $select: APPLICATION_SELECT,
    });
    return application;
  }

  create(body: Record<string, unknown>): Promise<GraphApplication> {
    return this.graph.post<GraphApplication>("/applications", body);
  }

  async servicePrincipal(appId: string): Promise<ServicePrincipal | undefined> {
    const [servicePrincipal] = await this.graph.list<ServicePrincipal>("/servicePrincipals", {
      $filter: `appId eq ${odataString(appId)}`,
      $select: "id,appId",
    });
    return servicePrincipal;
  }

  createServicePrincipal(appId: string): Promise<ServicePrincipal> {
    return this.graph.post<ServicePrincipal>("/servicePrincipals", { appId }, { notYetReplicated: servicePrincipalNotReplicated });
  }

  /**
   * Adds a client secret. Never resent blindly: a secret added without its answer reaching us is a live
   * credential nobody holds. So each call names its secret with a marker, and after an unknown outcome it
   * looks at the application's secrets, removes the one it may have added, and only then sends once more.
   */
  async addPassword(
    applicationObjectId: string,
    endDateTime: Date,
    /** The description the secret carries, unique to the request, by which it is found again after a lost answer. */
    marked: string,
  ): Promise<{ keyId: string; secretText: string; endDateTime: string }> {
    const send = () =>
      this.graph.post<{ keyId: string; secretText: string; endDateTime: string }>(
        `/applications/${applicationObjectId}/addPassword`,
        { passwordCredential: { displayName: marked, endDateTime: endDateTime.toISOString() } },
        { notYetReplicated: applicationNotReplicated },
      );
    try {
      return await send();
    } catch (error) {
      if (!outcomeUnknown(error)) throw error;
    }
    await this.removeMarkedPassword(applicationObjectId, marked);
    try {
      return await send();
    } catch (error) {
      // Unknown twice: leave no secret of this run behind; a re-run adds one.
      if (outcomeUnknown(error)) await this.removeMarkedPassword(applicationObjectId, marked);
      throw error;
    }
  }

  /** Removes the secret this run may have added (found by its marker), if Entra holds it. */
  private async removeMarkedPassword(applicationObjectId: string, marked: string): Promise<void> {
    const application = await this.graph.get<Pick<GraphApplication, "passwordCredentials">>(`/applications/${applicationObjectId}`, {
      $select: "passwordCredentials",
    });
    for (const orphan of application.passwordCredentials.filter((c) => c.displayName === marked))
      await this.removePassword(applicationObjectId, orphan.keyId);
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
