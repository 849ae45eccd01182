import { Agent, request as httpsRequest } from "node:https";
import { systemClock, type Clock } from "../clock.js";
import type { ClientRequest, IncomingMessage } from "node:http";
import { createSecureContext, type SecureContext } from "node:tls";
import { StepFailedError } from "../errors.js";
import { explain, type KnownCode } from "../catalogue.js";
import type { Redactor } from "../redact.js";
import { decideRetry, DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryPolicy } from "./retry.js";

/**
 * The one HTTP layer (node:https, https only): every call to Entra (through MSAL's network client), Graph (through the Graph SDK's
 * middleware), Dataverse, the Power Platform admin API and the solution download goes through `send`.
 * It applies the retry policy, a timeout per attempt, manual redirects (https only, Authorization dropped
 * across origins), a response size cap, and the --verbose trace with secrets redacted.
 */

export type ServiceLabel = "entra" | "graph" | "dataverse" | "bap" | "download";

export interface HttpRequest {
  service: ServiceLabel;
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Whether resending cannot duplicate an effect. Defaults to true for GET/PUT/DELETE, false for POST/PATCH. */
  idempotent?: boolean;
  /** Abort the transfer when the body grows past this many bytes. */
  maxResponseBytes?: number;
  onProgress?: (receivedBytes: number, totalBytes: number | undefined) => void;
  /** Follow https redirects (default true); false returns the 3xx answer itself. */
  followRedirects?: boolean;
  /**
   * True for an answer that only says the directory has not replicated a just-created object yet: the
   * service refused the request (nothing was applied), so it is resent under the retry policy, even a POST.
   */
  notYetReplicated?: (response: HttpResponse) => boolean;
}

/** Query values by name (`$filter`, `api-version`…); undefined values are left out. */
export type QueryValues = Record<string, string | number | undefined>;

/**
 * The one way to put a query on a URL: every value is percent-encoded, so a name holding `& + # ' %`,
 * spaces or non-ASCII letters reaches the service as typed. Servers decode queries as forms do (a raw `+`
 * is a space, a raw `&` starts the next parameter, `#` ends the URL), so nothing may go raw. `$ , : / @ ( )`
 * stay readable: they mean nothing special inside a query value.
 */
export function withQuery(path: string, query: QueryValues = {}): string {
  const pairs = Object.entries(query)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${encodeQueryValue(String(value))}`);
  if (pairs.length === 0) return path;
  return `${path}${path.includes("?") ? "&" : "?"}${pairs.join("&")}`;
}

function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/%(24|2C|3A|2F|40)/gi, (escaped) => decodeURIComponent(escaped));
}

/** An OData string literal: quoted, with each single quote doubled (OData ABNF, SQUOTE-in-string). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  url: string;
  text(): string;
  json<T = unknown>(): T;
}

export interface HttpTrace {
  (line: string): void;
}

export interface HttpClientOptions {
  /**
   * The only CA to trust, instead of the system store: the sandbox's own CA. Every request of a sandbox
   * run is routed to the sandbox, so nothing else needs trusting, and nothing can reach a real host.
   */
  onlyCaPem?: string;
  policy?: Partial<RetryPolicy>;
  redactor: Redactor;
  /** --verbose sink; undefined means no trace. */
  trace?: HttpTrace;
  /**
   * Back-off waits, Retry-After and the retry deadline run on this clock (default the system clock). The
   * per-attempt timeout stays on real time: it guards a socket, which only real time can stall.
   */
  clock?: Clock;
  random?: () => number;
  signal?: AbortSignal;
  /**
   * Host (and port) → loopback address to connect to instead, as curl's --connect-to: the sandbox can pose
   * as a cloud's real hosts while TLS still verifies the real name against the sandbox's CA.
   */
  connectTo?: Record<string, { host: string; port: number }>;
}

/**
 * Raised when no usable answer came back (network failure, or retries exhausted). A network failure names
 * the host and what happened (DNS, refused, TLS, timeout, proxy) with a stable `network-…` code from the
 * catalogue; it is never a sign-in failure, even when MSAL was the caller (SPEC §3, exit 1).
 */
export class HttpFailure extends StepFailedError {
  /** The host that could not be reached (network failures only). */
  readonly host: string | undefined;
  /** The catalogue entry of a network failure, matched once here (ask `isKnown(error, code)`). */
  readonly known: KnownCode | undefined;
  constructor(
    readonly request: { method: string; url: string },
    message: string,
    readonly lastStatus: number | undefined,
    readonly networkCode?: string,
  ) {
    const known = networkCode ? explain({ service: "network", serviceCode: networkCode, text: message }) : undefined;
    super({
      code: known?.code ?? (lastStatus === undefined ? "network-error" : "service-unavailable"),
      message: known ? `${message} ${known.meaning}` : message,
      hint: known
        ? `${known.fix} See ${known.link}`
        : "The service is throttling, unavailable or unreachable. Wait a few minutes and re-run the same command: it resumes where it stopped.",
    });
    this.host = networkCode ? hostOf(request.url) : undefined;
    this.known = known?.code;
  }

  /** True when the host was never reached (as opposed to a service that answered with errors). */
  get unreachable(): boolean {
    return this.networkCode !== undefined;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

const MAX_REDIRECTS = 5;
const TRACE_BODY_LIMIT = 2000;

const secureContexts = new Map<string, SecureContext>();

/**
 * A TLS context trusting one CA, built once per process: passing `ca` to the agent instead would build a
 * new context for every connection.
 */
function secureContextTrusting(caPem: string): SecureContext {
  let context = secureContexts.get(caPem);
  if (!context) {
    context = createSecureContext({ ca: caPem });
    secureContexts.set(caPem, context);
  }
  return context;
}

export class HttpClient {
  readonly policy: RetryPolicy;
  private readonly agent: Agent;
  readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly options: HttpClientOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
    // Keep-alive saves a TLS handshake per call; the sandbox's CA is trusted on this client only.
    this.agent = new Agent({ keepAlive: true, ...(options.onlyCaPem ? { secureContext: secureContextTrusting(options.onlyCaPem) } : {}) });
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  get redactor(): Redactor {
    return this.options.redactor;
  }

  async send(request: HttpRequest): Promise<HttpResponse> {
    const idempotent = request.idempotent ?? !["POST", "PATCH"].includes(request.method);
    const started = this.clock.now();
    for (let attempt = 1; ; attempt++) {
      let response: HttpResponse | undefined;
      let networkError: string | undefined;
      try {
        response = await this.sendOnce(request);
      } catch (error) {
        if (this.options.signal?.aborted) throw this.options.signal.reason;
        if (error instanceof HttpFailure) throw error;
        networkError = describeNetworkError(error);
        this.trace(`✗ ${request.method} ${this.safeUrl(request.url)}: ${networkError}`);
      }
      const notYetReplicated = response !== undefined && request.notYetReplicated?.(response) === true;
      // A proxy that wants credentials answers 407 for every host: no service was reached (RFC 9110 §15.5.8).
      if (response?.status === 407) throw proxyRefused(request, this.safeUrl(request.url));
      if (response && !isTransientStatus(response.status) && !notYetReplicated) return response;
      const decision = decideRetry(
        {
          attempt,
          status: response?.status,
          notYetReplicated,
          networkError,
          retryAfterMs: parseRetryAfter(response?.headers["retry-after"], this.clock.now()),
          idempotent,
          elapsedMs: this.clock.now() - started,
        },
        this.policy,
        this.random,
      );
      if (!decision.retry) {
        if (networkError !== undefined) {
          const networkCode = /^([A-Z_0-9]+)[:( ]/.exec(networkError)?.[1] ?? /\(([A-Z_0-9]+)\)/.exec(networkError)?.[1] ?? "ENETWORK";
          throw new HttpFailure(
            request,
            `Could not reach ${hostOf(request.url)}: ${decision.reason} (${request.method} ${this.safeUrl(request.url)}).`,
            undefined,
            networkCode,
          );
        }
        // A non-idempotent request answered 5xx goes back to the caller, which reports the service's own
        // error and leaves the tenant to be re-inspected on the next run rather than resending it.
        if (notYetReplicated || (!idempotent && response!.status !== 429)) return response!;
        throw new HttpFailure(
          request,
          `${request.method} ${this.safeUrl(request.url)} kept failing: ${decision.reason}.`,
          response!.status,
        );
      }
      this.trace(
        `↻ ${decision.reason}; retrying in ${(decision.delayMs / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${this.policy.maxAttempts})`,
      );
      await this.clock.sleep(decision.delayMs, this.options.signal);
    }
  }

  private async sendOnce(request: HttpRequest): Promise<HttpResponse> {
    let url = request.url;
    let method = request.method;
    let headers = { ...request.headers };
    let body = request.body;
    for (let redirects = 0; ; redirects++) {
      const response = await this.exchange({ ...request, url, method, headers, body });
      const location = response.headers.location;
      if (request.followRedirects === false || ![301, 302, 303, 307, 308].includes(response.status) || !location || method !== "GET")
        return response;
      if (redirects >= MAX_REDIRECTS)
        throw new HttpFailure(request, `${method} ${this.safeUrl(request.url)}: more than ${MAX_REDIRECTS} redirects.`, response.status);
      const next = new URL(location, url);
      if (next.protocol !== "https:")
        throw new HttpFailure(request, `${this.safeUrl(url)} redirected to a non-https address; refusing to follow.`, response.status);
      if (next.origin !== new URL(url).origin) {
        headers = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== "authorization"));
      }
      url = next.href;
      body = undefined;
    }
  }

  private async exchange(request: HttpRequest): Promise<HttpResponse> {
    const url = new URL(request.url);
    if (url.protocol !== "https:")
      throw new HttpFailure(
        request,
        `Refusing to send ${request.method} ${this.safeUrl(request.url)} over ${url.protocol.replace(":", "")}: only https is used.`,
        undefined,
      );
    const controller = new AbortController();
    const onAbort = () => controller.abort(this.options.signal?.reason);
    this.options.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(
      () =>
        controller.abort(Object.assign(new Error(`no answer within ${seconds(this.policy.requestTimeoutMs)} s`), { code: "ETIMEDOUT" })),
      this.policy.requestTimeoutMs,
    );
    const release = this.clock.busy?.();
    const begin = Date.now();
    this.traceRequest(request);
    try {
      const incoming = await new Promise<IncomingMessage>((resolve, reject) => {
        const outgoing = this.open(request, url, controller.signal, resolve);
        outgoing.on("error", (error) => reject(controller.signal.aborted ? (controller.signal.reason ?? error) : error));
        outgoing.end(request.body);
      });
      const response = await this.receive(request, incoming, controller.signal);
      this.traceResponse(request, response, Date.now() - begin);
      return response;
    } finally {
      clearTimeout(timer);
      release?.();
      this.options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** The request on the wire: to the URL's host, or to where `connectTo` routes it with TLS still checking the URL's name. */
  private open(request: HttpRequest, url: URL, signal: AbortSignal, onResponse: (incoming: IncomingMessage) => void): ClientRequest {
    const target = this.options.connectTo?.[url.host];
    if (!target) return httpsRequest(url, { method: request.method, headers: request.headers, agent: this.agent, signal }, onResponse);
    return httpsRequest(
      {
        protocol: "https:",
        hostname: target.host,
        port: target.port,
        path: `${url.pathname}${url.search}`,
        servername: url.hostname,
        method: request.method,
        headers: { ...request.headers, host: url.host },
        agent: this.agent,
        signal,
      },
      onResponse,
    );
  }

  /** Reads the answer, within the size cap. */
  private async receive(request: HttpRequest, incoming: IncomingMessage, signal: AbortSignal): Promise<HttpResponse> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
    }
    const status = incoming.statusCode ?? 0;
    const total = headers["content-length"] ? Number(headers["content-length"]) : undefined;
    const limit = request.maxResponseBytes ?? 64 * 1024 * 1024;
    if (total !== undefined && total > limit) {
      incoming.destroy();
      throw new HttpFailure(request, `${this.safeUrl(request.url)} answered with ${total} bytes, more than the ${limit} allowed.`, status);
    }
    const chunks: Buffer[] = [];
    let received = 0;
    try {
      for await (const chunk of incoming) {
        received += (chunk as Buffer).length;
        if (received > limit) {
          incoming.destroy();
          throw new HttpFailure(request, `${this.safeUrl(request.url)} sent more than the ${limit} bytes allowed.`, status);
        }
        chunks.push(chunk as Buffer);
        request.onProgress?.(received, total);
      }
    } catch (error) {
      if (error instanceof HttpFailure) throw error;
      throw signal.aborted ? (signal.reason ?? error) : error;
    }
    const buffer = Buffer.concat(chunks);
    return {
      status,
      headers,
      body: buffer,
      url: request.url,
      text: () => buffer.toString("utf8"),
      json: <T>() => JSON.parse(buffer.toString("utf8")) as T,
    };
  }

  private safeUrl(url: string): string {
    return this.options.redactor.redact(url);
  }

  private trace(line: string): void {
    this.options.trace?.(this.options.redactor.redact(line));
  }

  private traceRequest(request: HttpRequest): void {
    if (!this.options.trace) return;
    const headers = this.options.redactor.headers(request.headers ?? {});
    this.trace(`→ ${request.method} ${request.url} [${request.service}] ${JSON.stringify(headers)}`);
    if (request.body !== undefined) this.trace(`  body ${this.traceBody(request.body, request.headers?.["content-type"])}`);
  }

  private traceResponse(request: HttpRequest, response: HttpResponse, ms: number): void {
    if (!this.options.trace) return;
    this.trace(
      `← ${response.status} ${request.method} ${request.url} (${ms} ms) ${JSON.stringify(this.options.redactor.headers(pickTraceHeaders(response.headers)))}`,
    );
    if (response.body.length > 0) this.trace(`  body ${this.traceBody(response.body, response.headers["content-type"])}`);
  }

  private traceBody(body: string | Buffer, contentType: string | undefined): string {
    if (Buffer.isBuffer(body) && !/json|text|xml|form/.test(contentType ?? "")) return `<${body.length} bytes ${contentType ?? "binary"}>`;
    const text = this.options.redactor.redact(body.toString());
    return text.length > TRACE_BODY_LIMIT ? `${text.slice(0, TRACE_BODY_LIMIT)}… (${text.length} characters)` : text;
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}

function isTransientStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

function pickTraceHeaders(headers: Record<string, string>): Record<string, string> {
  const keep = ["content-type", "retry-after", "request-id", "client-request-id", "x-ms-service-request-id", "location", "odata-entityid"];
  return Object.fromEntries(Object.entries(headers).filter(([name]) => keep.includes(name)));
}

function proxyRefused(request: HttpRequest, safeUrl: string): HttpFailure {
  return new HttpFailure(
    request,
    `Could not reach ${hostOf(request.url)}: a proxy answered 407 Proxy Authentication Required (${request.method} ${safeUrl}).`,
    407,
    "PROXY_AUTH_REQUIRED",
  );
}

/**
 * The failure as "CODE: text". Node reports DNS as ENOTFOUND / EAI_AGAIN, a closed port as ECONNREFUSED,
 * and an untrusted certificate with OpenSSL's verify codes (UNABLE_TO_VERIFY_LEAF_SIGNATURE,
 * SELF_SIGNED_CERT_IN_CHAIN, DEPTH_ZERO_SELF_SIGNED_CERT…) or ERR_TLS_CERT_ALTNAME_INVALID for a name mismatch.
 */
function describeNetworkError(error: unknown): string {
  const err = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code ?? err.code;
  const message = err.cause?.message ?? err.message ?? String(error);
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return `TLS certificate not trusted (${code})`;
  return code ? `${code}: ${message}` : message;
}
