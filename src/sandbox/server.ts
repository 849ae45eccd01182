import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { randomBytes, randomUUID } from "node:crypto";
import { createSandboxTls, type SandboxTls } from "./ca.js";
import { authenticate, EntraService } from "./entra.js";
import { GraphService, graphError } from "./graph.js";
import { DataverseService, dataverseError } from "./dataverse.js";
import { handleBatch } from "./dataverse-batch.js";
import { PowerPlatformAdminService } from "./bap.js";
import { PartnerCenterService, PRODUCT_INGESTION_PATH } from "./partner-center.js";
import { PartnerCenterAccount, SANDBOX_OFFERS } from "./partner-center-state.js";
import { FaultInjector, type FaultConfig, type FaultDecision, type ServiceName } from "./faults.js";
import { jsonResponse, newRequestId, type SandboxRequest, type SandboxResponse } from "./kit.js";
import { buildSandboxSolutionZip, SANDBOX_SOLUTION_FILE_NAME } from "./solution-zip.js";
import { parseFaults } from "./switches.js";
import { TenantState, TENANT_ID, AZURE_POWERSHELL_CLIENT_ID, type SandboxCloud, type SandboxScenario } from "./state.js";
import { TokenAuthority } from "./tokens.js";
import type { Clock } from "../clock.js";

export { SANDBOX_OFFERS };

/**
 * The emulated tenant: one HTTPS listener per Microsoft service on loopback (so each has its own origin and
 * token audience), a certificate authority generated at start, shared state, fault switches, and a log of
 * every request so tests can assert what the CLI sent (e.g. "no mutating request during --dry-run").
 */

export interface RequestLogEntry {
  seq: number;
  at: number;
  service: ServiceName;
  /** The Host the client addressed (a cloud's real host name when the sandbox poses as that cloud). */
  host: string;
  method: string;
  /** Path and query, e.g. `/v1.0/users/abc?$select=id`. */
  path: string;
  status: number;
  /** POST/PATCH/PUT/DELETE to Graph, Dataverse or the Power Platform admin API (token requests excluded). */
  mutating: boolean;
  fault?: "throttle" | "error" | "drop";
  /** A retry sent before the Retry-After of an earlier 429 had passed. */
  retryAfterViolation?: boolean;
  /** When the answer was fully sent (for measuring round trips). */
  doneAt?: number;
  /** One request of a `$batch` (logged after the batch's own entry, answered with it). */
  inBatch?: boolean;
}

/** What a client needs to use a running sandbox; written to the connection file. */
export interface SandboxConnection {
  instanceId: string;
  pid: number;
  tenantId: string;
  tenantDomain: string;
  loginOrigin: string;
  graphOrigin: string;
  orgUrl: string;
  bapOrigin: string;
  downloadUrl: string;
  caPem: string;
  publicClientId: string;
  adminUserName: string;
  adminPassword: string;
  automationClientId: string;
  automationClientSecret: string;
  controlToken: string;
  /** Offer IDs (external ids) of the Partner Center account's products, served at `${graphOrigin}/rp/product-ingestion`. */
  partnerCenterOffers?: string[];
  /** Set when the sandbox poses as a cloud's real hosts: the cloud, and where those hosts really are. */
  cloud?: SandboxCloud;
  connectTo?: Record<string, { host: string; port: number }>;
}

/**
 * The real host names of each cloud, written here independently of the CLI's own cloud table
 * (reference: graph-and-msal §E, dataverse §8): when the sandbox poses as a cloud, a wrong entry in the
 * CLI's table sends traffic to a host the sandbox does not answer for, and the test fails.
 */
export type { SandboxCloud } from "./state.js";
// bapAudience: Entra issues Power Platform admin API tokens only for this resource; any other is AADSTS500011.
// GCC and GCC High follow Microsoft's SharePoint Migration Tool endpoint list (OfficeDocs-SharePoint
// migration/spmt-workflow-step1.md: gov.service.powerapps.us beside gov.api.bap.microsoft.us,
// high.service.powerapps.us beside high.api.bap.microsoft.us) and the audience map of Microsoft's
// PowerApps admin PowerShell module (Get-DefaultAudienceForEndPoint), rather than the Terraform provider's
// constants (service.powerapps.us, high.service.apps.appsplatform.us). Not confirmed against a real tenant.
const CLOUD_HOSTS: Record<
  SandboxCloud,
  { entra: string; graph: string; dataverse: string; bap: string; bapAudience: string; entraAliases?: string[] }
> = {
  public: {
    entra: "login.microsoftonline.com",
    graph: "graph.microsoft.com",
    dataverse: "contoso.crm4.dynamics.com",
    bap: "api.bap.microsoft.com",
    bapAudience: "https://service.powerapps.com",
  },
  gcc: {
    entra: "login.microsoftonline.com",
    graph: "graph.microsoft.com",
    dataverse: "agency.crm9.dynamics.com",
    bap: "gov.api.bap.microsoft.us",
    bapAudience: "https://gov.service.powerapps.us",
  },
  gcchigh: {
    entra: "login.microsoftonline.us",
    graph: "graph.microsoft.us",
    dataverse: "agency.crm.microsoftdynamics.us",
    bap: "high.api.bap.microsoft.us",
    bapAudience: "https://high.service.powerapps.us",
  },
  dod: {
    entra: "login.microsoftonline.us",
    graph: "dod-graph.microsoft.us",
    dataverse: "agency.crm.appsplatform.us",
    bap: "api.bap.appsplatform.us",
    bapAudience: "https://service.apps.appsplatform.us",
  },
  // MSAL's own metadata makes login.partner.microsoftonline.cn the preferred alias of login.chinacloudapi.cn.
  china: {
    entra: "login.chinacloudapi.cn",
    graph: "microsoftgraph.chinacloudapi.cn",
    dataverse: "contoso.crm.dynamics.cn",
    bap: "api.bap.partner.microsoftonline.cn",
    bapAudience: "https://service.powerapps.cn",
    entraAliases: ["login.partner.microsoftonline.cn"],
  },
};

export interface SandboxOptions {
  /** Pose as this cloud's real hosts (clients route them here with the connection's connectTo). */
  cloud?: SandboxCloud;
  scenario?: Partial<SandboxScenario>;
  faults?: FaultConfig;
  /** Fixed ports for login, graph, dataverse, bap, download (0 = any free port). */
  ports?: Partial<Record<ServiceName, number>>;
  /**
   * The tenant's time (default real time): sync delays, import durations and Retry-After checks run on
   * it, so a test that gives the CLI and the sandbox one virtual clock waits for none of them. Injected
   * latency stays real: it stands for the network, and the benchmark measures it from outside.
   */
  clock?: Clock;
  /**
   * The network between the client and Microsoft: every answer of every service, sign-in and the solution
   * download included (control endpoints excluded), waits this long before its headers, each on its own, so
   * dependent round trips add up and parallel ones overlap. Modelled on Dev Proxy's LatencyPlugin with
   * minMs = maxMs (learn.microsoft.com/microsoft-cloud/dev/dev-proxy/technical-reference/latencyplugin);
   * the benchmark measures the CLI's chain of dependent round trips with it.
   */
  latencyMs?: number;
}

export interface Sandbox {
  connection: SandboxConnection;
  state: TenantState;
  /** The Partner Center account behind the Product Ingestion API: offers, roles, configure jobs. */
  partnerCenter: PartnerCenterAccount;
  faults: FaultInjector;
  requests: RequestLogEntry[];
  mutatingRequests(): RequestLogEntry[];
  /** Called after each answer is sent (or a connection dropped): lets a test act at an exact moment. */
  onRequest(listener: (entry: RequestLogEntry) => void): () => void;
  /** Every token, refresh token and secret the sandbox issued or holds: what must never appear in output. */
  issuedSecrets(): string[];
  clearRequests(): void;
  close(): Promise<void>;
}

const SERVICES: readonly ServiceName[] = ["entra", "graph", "dataverse", "bap", "download"];
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MUTATING = new Set(["POST", "PATCH", "PUT", "DELETE"]);

type CloudHosts = (typeof CLOUD_HOSTS)[SandboxCloud];

/** The HTTPS listeners, one per service, and where each is reached. */
interface Listening {
  servers: Map<ServiceName, Server>;
  origins: Record<ServiceName, string>;
  connectTo: Record<string, { host: string; port: number }>;
  sockets: Set<Socket>;
}

/** What answers a request: the tenant, its emulated services, the fault switches and the request log. */
interface SandboxRuntime {
  origins: Record<ServiceName, string>;
  /** The token audience each service accepts. */
  audiences: Record<ServiceName, string>;
  state: TenantState;
  faults: FaultInjector;
  tokens: TokenAuthority;
  entra: EntraService;
  graph: GraphService;
  dataverse: DataverseService;
  bap: PowerPlatformAdminService;
  productIngestion: PartnerCenterService;
  partnerCenter: PartnerCenterAccount;
  solutionZip: Buffer;
  downloadPath: string;
  connection: SandboxConnection;
  latencyMs: number;
  requests: RequestLogEntry[];
  listeners: Set<(entry: RequestLogEntry) => void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const cloudHosts = options.cloud ? CLOUD_HOSTS[options.cloud] : undefined;
  // MSAL may ask login.microsoftonline.com for instance discovery whatever the cloud: answered here too.
  const discoveryHost = "login.microsoftonline.com";
  const entraHosts = cloudHosts ? [cloudHosts.entra, discoveryHost, ...(cloudHosts.entraAliases ?? [])] : [];
  const tls = await createSandboxTls([
    "localhost",
    ...(cloudHosts ? [...entraHosts, cloudHosts.graph, cloudHosts.dataverse, cloudHosts.bap] : []),
  ]);
  const listening = await listen(tls, options.ports, cloudHosts);
  for (const alias of entraHosts.slice(1)) listening.connectTo[alias] = listening.connectTo[cloudHosts!.entra]!;
  const runtime = createRuntime(options, cloudHosts, listening, tls.caPem);
  for (const [service, server] of listening.servers) {
    server.on("request", (incoming: IncomingMessage, outgoing: ServerResponse) => {
      answer(runtime, service, incoming, outgoing).catch((error: Error) => {
        if (!outgoing.headersSent) outgoing.writeHead(500, { "content-type": "text/plain" });
        outgoing.end(`Sandbox failure: ${error.message}`);
      });
    });
  }
  return sandboxHandle(runtime, listening);
}

async function listen(tls: SandboxTls, ports: SandboxOptions["ports"], cloudHosts: CloudHosts | undefined): Promise<Listening> {
  const listening: Listening = { servers: new Map(), origins: {} as Record<ServiceName, string>, connectTo: {}, sockets: new Set() };
  for (const service of SERVICES) {
    const server = createServer({ key: tls.keyPem, cert: tls.certPem });
    server.on("connection", (socket: Socket) => {
      listening.sockets.add(socket);
      socket.on("close", () => listening.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(ports?.[service] ?? 0, "127.0.0.1", () => resolve());
    });
    listening.servers.set(service, server);
    const port = (server.address() as AddressInfo).port;
    const publicHost = cloudHosts && service !== "download" ? cloudHosts[service] : undefined;
    listening.origins[service] = publicHost ? `https://${publicHost}` : `https://localhost:${port}`;
    if (publicHost) listening.connectTo[publicHost] = { host: "127.0.0.1", port };
  }
  return listening;
}

function createRuntime(options: SandboxOptions, cloudHosts: CloudHosts | undefined, listening: Listening, caPem: string): SandboxRuntime {
  const { origins } = listening;
  const state = new TenantState(options.scenario, options.clock);
  const faults = new FaultInjector(options.clock);
  if (options.faults) faults.set(options.faults);
  const tokens = new TokenAuthority();
  // Tokens for the Power Platform admin API are issued for its own resource, not for its host (dataverse §8).
  const audiences = { ...origins, bap: cloudHosts?.bapAudience ?? origins.bap };
  // The Partner Center account is associated with the sandbox tenant; its admin and automation app hold the scenario's role.
  const automationApp = [...state.applications.values()].find((a) => a.appId === state.credentials.automationClientId)!;
  const partnerCenter = new PartnerCenterAccount(
    TENANT_ID,
    [state.findUser(state.credentials.adminUserName)!.id, automationApp.appId],
    state.scenario.partnerCenterRole,
  );
  // Query strings are read with WHATWG URLSearchParams, which decodes them as Graph, Dataverse and the admin
  // API do (application/x-www-form-urlencoded): a raw `+` is a space, `%XX` is decoded, a raw `&` ends the
  // value and starts the next parameter. A client that does not encode its query values fails here as there.
  const downloadPath = `/sandbox-packages/${SANDBOX_SOLUTION_FILE_NAME}`;
  return {
    origins,
    audiences,
    state,
    faults,
    tokens,
    entra: new EntraService(state, tokens, faults, {
      loginOrigin: origins.entra,
      resources: [origins.graph, origins.dataverse, audiences.bap],
    }),
    graph: new GraphService(state, faults, origins.graph),
    dataverse: new DataverseService(state, faults, origins.dataverse),
    bap: new PowerPlatformAdminService(state, origins.dataverse),
    productIngestion: new PartnerCenterService(partnerCenter, state.scenario, faults, origins.graph),
    partnerCenter,
    solutionZip: buildSandboxSolutionZip(),
    downloadPath,
    connection: connectionOf(options, state, partnerCenter, listening, `${origins.download}${downloadPath}`, caPem),
    latencyMs: options.latencyMs ?? 0,
    requests: [],
    listeners: new Set(),
  };
}

function connectionOf(
  options: SandboxOptions,
  state: TenantState,
  partnerCenter: PartnerCenterAccount,
  { origins, connectTo }: Listening,
  downloadUrl: string,
  caPem: string,
): SandboxConnection {
  return {
    instanceId: randomUUID(),
    pid: process.pid,
    tenantId: TENANT_ID,
    tenantDomain: "contoso.onmicrosoft.com",
    loginOrigin: origins.entra,
    graphOrigin: origins.graph,
    orgUrl: origins.dataverse,
    bapOrigin: origins.bap,
    downloadUrl,
    caPem,
    publicClientId: AZURE_POWERSHELL_CLIENT_ID,
    adminUserName: state.credentials.adminUserName,
    adminPassword: state.credentials.adminPassword,
    automationClientId: state.credentials.automationClientId,
    automationClientSecret: state.credentials.automationClientSecret,
    controlToken: randomBytes(24).toString("base64url"),
    partnerCenterOffers: partnerCenter.products.map((p) => p.externalId),
    ...(options.cloud ? { cloud: options.cloud, connectTo } : {}),
  };
}

function sandboxHandle(runtime: SandboxRuntime, listening: Listening): Sandbox {
  const { state, requests, listeners, partnerCenter } = runtime;
  return {
    connection: runtime.connection,
    state,
    partnerCenter,
    faults: runtime.faults,
    requests,
    mutatingRequests: () => requests.filter((r) => r.mutating),
    onRequest: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    issuedSecrets: () => [
      ...runtime.tokens.issued,
      state.credentials.adminPassword,
      state.credentials.automationClientSecret,
      ...[...state.applications.values()].flatMap((a) => a.passwordCredentials.map((c) => c.secretText)),
      ...[...state.users.values()].map((u) => u.password),
      ...partnerCenter.storedSecrets(),
    ],
    clearRequests: () => {
      requests.length = 0;
    },
    close: async () => {
      for (const socket of listening.sockets) socket.destroy();
      await Promise.all([...listening.servers.values()].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}

/** One request, end to end: read, log, injected latency and faults, the emulated service's answer, sent. */
async function answer(runtime: SandboxRuntime, service: ServiceName, incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
  const request = await readRequest(incoming, runtime.origins[service]);
  if (!request) {
    outgoing.writeHead(413).end();
    return;
  }
  const { faults, requests } = runtime;
  const url = request.url;
  const isControl = url.pathname.startsWith("/_sandbox/");
  const entry: RequestLogEntry = {
    seq: requests.length + 1,
    at: Date.now(),
    service,
    host: incoming.headers.host ?? "",
    method: request.method,
    path: `${url.pathname}${url.search}`,
    status: 0,
    mutating: service !== "entra" && service !== "download" && MUTATING.has(request.method),
  };
  if (!isControl) requests.push(entry);
  runtime.state.advance();
  const decision = isControl ? { kind: "none" as const } : faults.decide(service, request.method, url.pathname);
  const latency = isControl ? 0 : runtime.latencyMs + faults.latencyFor(service);
  if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
  if (decision.kind === "drop") {
    entry.fault = "drop";
    incoming.socket.destroy();
    if (!isControl) notify(runtime, entry);
    return;
  }
  const response = faultAnswer(service, decision, entry) ?? dispatchSafely(runtime, service, request);
  if (decision.kind === "none" && !isControl && faults.takeLostAnswer(request.method, url.pathname)) {
    // Applied, but the answer never arrives: the client cannot tell whether the request took effect.
    entry.fault = "drop";
    entry.status = response.status;
    incoming.socket.destroy();
    notify(runtime, entry);
    return;
  }
  entry.status = response.status;
  outgoing.writeHead(response.status, { date: new Date().toUTCString(), ...serviceHeaders(service, request), ...response.headers });
  outgoing.end(response.body ?? "", () => {
    entry.doneAt = Date.now();
    if (isControl) return;
    notify(runtime, entry);
    for (const inner of batched.get(request) ?? []) {
      inner.doneAt = entry.doneAt;
      notify(runtime, inner);
    }
  });
}

/** The request with its body read, or undefined when the body is over the size limit. */
async function readRequest(incoming: IncomingMessage, origin: string): Promise<SandboxRequest | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return {
    method: incoming.method ?? "GET",
    url: new URL(incoming.url ?? "/", origin),
    headers: Object.fromEntries(Object.entries(incoming.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v])),
    body: Buffer.concat(chunks),
  };
}

function notify(runtime: SandboxRuntime, entry: RequestLogEntry): void {
  for (const listener of runtime.listeners) listener(entry);
}

/** The answer a throttling or failing service gives for this fault decision; undefined when there is none. */
function faultAnswer(service: ServiceName, decision: FaultDecision, entry: RequestLogEntry): SandboxResponse | undefined {
  if (decision.kind === "throttle") {
    entry.fault = "throttle";
    entry.retryAfterViolation = decision.violation;
    return faultResponse(service, 429, decision.retryAfterSeconds);
  }
  if (decision.kind === "error") {
    entry.fault = "error";
    return faultResponse(service, decision.status, decision.status === 503 ? 1 : undefined);
  }
  return undefined;
}

function dispatchSafely(runtime: SandboxRuntime, service: ServiceName, request: SandboxRequest): SandboxResponse {
  try {
    return dispatch(runtime, service, request);
  } catch (error) {
    return jsonResponse(500, { error: { code: "InternalServerError", message: `Sandbox failure: ${(error as Error).message}` } });
  }
}

function dispatch(runtime: SandboxRuntime, service: ServiceName, request: SandboxRequest): SandboxResponse {
  if (service === "entra") return request.url.pathname.startsWith("/_sandbox/") ? control(runtime, request) : runtime.entra.handle(request);
  if (service === "download") return download(runtime, request);
  const audience = runtime.audiences[service];
  const claims = authenticate(request, runtime.tokens, audience);
  if ("reason" in claims) {
    const challenge = {
      "www-authenticate": `Bearer authorization_uri=${runtime.origins.entra}/${TENANT_ID}/oauth2/authorize, resource_id=${audience}`,
    };
    const failed =
      service === "graph" ? graphError(401, "InvalidAuthenticationToken", claims.reason) : dataverseError(401, "0x80072560", claims.reason);
    return { ...failed, headers: { ...failed.headers, ...challenge } };
  }
  request.claims = claims;
  if (service === "graph") {
    const path = request.url.pathname;
    return path === PRODUCT_INGESTION_PATH || path.startsWith(`${PRODUCT_INGESTION_PATH}/`)
      ? runtime.productIngestion.handle(request, claims)
      : runtime.graph.handle(request, claims);
  }
  if (service === "dataverse")
    return request.url.pathname === "/api/data/v9.2/$batch"
      ? handleBatch(request, (inner) => logBatched(runtime, request, inner, runtime.dataverse.handle(inner, claims)))
      : runtime.dataverse.handle(request, claims);
  return runtime.bap.handle(request, claims);
}

/** The requests inside each `$batch` being answered: logged each in its own entry, after the batch's. */
const batched = new WeakMap<SandboxRequest, RequestLogEntry[]>();

/** Logs one request of a batch (`inBatch`), so that tests see what a batch did as they see single requests. */
function logBatched(runtime: SandboxRuntime, batch: SandboxRequest, inner: SandboxRequest, response: SandboxResponse): SandboxResponse {
  const entry: RequestLogEntry = {
    seq: runtime.requests.length + 1,
    at: Date.now(),
    service: "dataverse",
    host: batch.headers.host ?? "",
    method: inner.method,
    path: `${inner.url.pathname}${inner.url.search}`,
    status: response.status,
    mutating: MUTATING.has(inner.method),
    inBatch: true,
  };
  runtime.requests.push(entry);
  batched.set(batch, [...(batched.get(batch) ?? []), entry]);
  return response;
}

/** The solution package, served as Azure Blob Storage serves a public blob. */
function download(runtime: SandboxRuntime, request: SandboxRequest): SandboxResponse {
  const { solutionZip } = runtime;
  if (request.method === "GET" && request.url.pathname === runtime.downloadPath) {
    return {
      status: 200,
      headers: { "content-type": "application/zip", "content-length": String(solutionZip.length), "x-ms-blob-type": "BlockBlob" },
      body: solutionZip,
    };
  }
  return {
    status: 404,
    headers: { "content-type": "application/xml" },
    body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>`,
  };
}

/** Control endpoints (on the login origin): health, the request log, fault switches, held progress. */
function control(runtime: SandboxRuntime, request: SandboxRequest): SandboxResponse {
  const { connection, faults, state } = runtime;
  const path = request.url.pathname;
  if (path === "/_sandbox/health") return jsonResponse(200, { instanceId: connection.instanceId, tenantId: TENANT_ID });
  if (request.headers["x-sandbox-control"] !== connection.controlToken) return jsonResponse(403, { error: "control token required" });
  if (path === "/_sandbox/requests" && request.method === "GET")
    return jsonResponse(200, { requests: runtime.requests, faultStats: faults.stats });
  if (path === "/_sandbox/faults" && request.method === "POST") {
    try {
      const body: unknown = JSON.parse(request.body.toString("utf8") || "{}");
      faults.set(
        parseFaults(
          body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : { body },
          "fault switches",
        ),
      );
    } catch (error) {
      return jsonResponse(400, { error: (error as Error).message });
    }
    return jsonResponse(200, { faults: faults.current });
  }
  if (path === "/_sandbox/hold" && request.method === "POST") {
    // { "import": true } holds every import short of completion until { "import": false } (likewise "user-sync").
    const switches = JSON.parse(request.body.toString("utf8") || "{}") as Partial<Record<"import" | "user-sync", boolean>>;
    for (const what of ["import", "user-sync"] as const)
      if (switches[what] !== undefined) (switches[what] ? state.hold : state.release).call(state, what);
    return jsonResponse(200, { held: [...state.held] });
  }
  return jsonResponse(404, { error: "unknown control endpoint" });
}

function faultResponse(service: ServiceName, status: number, retryAfterSeconds?: number): SandboxResponse {
  const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) };
  const text =
    status === 429
      ? "Too many requests. Please try again later."
      : status === 503
        ? "The service is temporarily unavailable."
        : "The gateway timed out.";
  const response =
    service === "graph"
      ? graphError(status, status === 429 ? "TooManyRequests" : status === 503 ? "serviceNotAvailable" : "gatewayTimeout", text)
      : service === "dataverse"
        ? dataverseError(
            status,
            status === 429 ? "0x80072322" : "0x80040216",
            status === 429 ? "Number of requests exceeded the limit of 6000 over time window of 300 seconds." : text,
          )
        : jsonResponse(status, { error: { code: String(status), message: text } });
  return { ...response, headers: { ...response.headers, ...headers } };
}

/** The request-id headers each service sets on every answer. */
function serviceHeaders(service: ServiceName, request: SandboxRequest): Record<string, string> {
  const requestId = newRequestId();
  if (service === "graph")
    return {
      "request-id": requestId,
      "client-request-id": request.headers["client-request-id"] ?? requestId,
      "x-ms-ags-diagnostic": JSON.stringify({
        ServerInfo: { DataCenter: "Sandbox", Slice: "E", Ring: "0", ScaleUnit: "000", RoleInstance: "sandbox" },
      }),
      "cache-control": "no-store",
    };
  if (service === "dataverse") return { "odata-version": "4.0", req_id: requestId, "x-ms-service-request-id": requestId };
  return { "x-ms-request-id": requestId };
}
