import { seededRandom } from "./kit.js";
import { systemClock, type Clock } from "../clock.js";

export type ServiceName = "entra" | "graph" | "dataverse" | "bap" | "download";

/**
 * Fault switches, modelled on Microsoft Dev Proxy (reference: graph-and-msal §F). All are off by default.
 * The sandbox records every injected fault and every request sent before a Retry-After had passed.
 */
export interface FaultConfig {
  /** 429 with this Retry-After (seconds) on the first call of every method + path. */
  throttleFirstCall?: { retryAfterSeconds: number };
  /** Share of calls (0–1) answered with one of `errorStatuses` (default 503, 504). */
  errorRate?: number;
  errorStatuses?: number[];
  /** Share of GET calls (0–1) whose connection is dropped without an answer. */
  dropRate?: number;
  /** After a user is created, this many requests about it answer 404 (directory replication). */
  replication404s?: number;
  /**
   * Entra's replication delay after an app is created (msgraph-sdk-dotnet#3108, terraform-provider-azuread
   * #581 and #611): this many `POST /servicePrincipals` for the new appId answer 400 "…does not reference a
   * valid application object", this many `addPassword` on it answer 404, and, once its service principal
   * exists, this many Dataverse application-user creates for it are refused.
   */
  appReplicationMisses?: number;
  /**
   * Requests (`"<METHOD> <path suffix>"`, e.g. `"POST /addPassword"`) that the service applies once and whose
   * answer is then lost (the connection drops): the client cannot know whether they took effect.
   */
  lostAnswers?: string[];
  /** Added to every response. */
  latencyMs?: number;
  /** AADSTS error for password (ROPC) sign-ins of these users (all non-admin users when empty). */
  signInError?: { aadsts: number; users?: string[] };
  /** The next import fails on this component (of this type, with this error code) with this message. */
  importFailure?: { component: string; message: string; componentType?: string; errorCode?: string };
  /** The next N ImportSolutionAsync calls answer "a previous [Import] is running". */
  concurrentImportBusy?: number;
  /** Services the transport faults (throttle, error rate, drops, latency) apply to; default all but entra. */
  services?: ServiceName[];
  seed?: number;
}

export type FaultDecision =
  | { kind: "none" }
  | { kind: "throttle"; retryAfterSeconds: number; violation: boolean }
  | { kind: "error"; status: number }
  | { kind: "drop" };

export class FaultInjector {
  private config: FaultConfig = {};
  /**
   * One seeded stream of chances per request identity (method and path, ids left out), so what a request
   * meets depends on how often that request was made, not on how it interleaved with parallel ones.
   */
  private readonly streams = new Map<string, () => number>();
  private readonly firstCallsSeen = new Set<string>();
  /** method+path → earliest time (ms) a retry is allowed. */
  private readonly retryNotBefore = new Map<string, number>();
  readonly stats = { throttled: 0, errors: 0, drops: 0, retryAfterViolations: 0, replication404s: 0, replicationMisses: 0, lostAnswers: 0 };
  /** `<operation>:<appId>` → refusals left before the new object counts as replicated there. */
  private readonly replicating = new Map<string, number>();

  /** Retry-After is enforced on this clock: the one the client's waits run on in a test, else real time. */
  constructor(private readonly clock: Clock = systemClock) {}

  get current(): Readonly<FaultConfig> {
    return this.config;
  }

  set(config: FaultConfig): void {
    this.config = { ...config };
    this.streams.clear();
    this.firstCallsSeen.clear();
    this.retryNotBefore.clear();
  }

  private chance(method: string, path: string): number {
    const identity = `${method} ${path.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "{id}")}`;
    let stream = this.streams.get(identity);
    if (!stream) {
      stream = seededRandom(fnv1a(`${this.config.seed ?? 1} ${identity}`));
      this.streams.set(identity, stream);
    }
    return stream();
  }

  private applies(service: ServiceName): boolean {
    return (this.config.services ?? ["graph", "dataverse", "bap", "download"]).includes(service);
  }

  decide(service: ServiceName, method: string, path: string, now = this.clock.now()): FaultDecision {
    const key = `${method} ${path}`;
    const notBefore = this.retryNotBefore.get(key);
    if (notBefore !== undefined) {
      this.retryNotBefore.delete(key);
      if (now < notBefore) {
        // Dev Proxy's RetryAfterPlugin rule: calling again before Retry-After has passed is throttled again.
        this.stats.retryAfterViolations++;
        return this.throttle(key, 1, now, true);
      }
    }
    if (!this.applies(service)) return { kind: "none" };
    const throttle = this.config.throttleFirstCall;
    if (throttle && !this.firstCallsSeen.has(key)) {
      this.firstCallsSeen.add(key);
      return this.throttle(key, throttle.retryAfterSeconds, now, false);
    }
    if (method === "GET" && (this.config.dropRate ?? 0) > this.chance(method, path)) {
      this.stats.drops++;
      return { kind: "drop" };
    }
    if ((this.config.errorRate ?? 0) > this.chance(method, path)) {
      const statuses = this.config.errorStatuses ?? [503, 504];
      this.stats.errors++;
      return { kind: "error", status: statuses[Math.floor(this.chance(method, path) * statuses.length)]! };
    }
    return { kind: "none" };
  }

  private throttle(key: string, retryAfterSeconds: number, now: number, violation: boolean): FaultDecision {
    this.stats.throttled++;
    this.retryNotBefore.set(key, now + retryAfterSeconds * 1000);
    return { kind: "throttle", retryAfterSeconds, violation };
  }

  /**
   * Answers the next call of this method + path with 429 if it comes before `seconds` have passed: for an
   * answer that itself carried Retry-After (a job's status), so a client that polls sooner is caught.
   */
  holdOff(method: string, path: string, seconds: number, now = this.clock.now()): void {
    if (seconds > 0) this.retryNotBefore.set(`${method} ${path}`, now + seconds * 1000);
  }

  latencyFor(service: ServiceName): number {
    return this.applies(service) ? (this.config.latencyMs ?? 0) : 0;
  }

  /** A new object starts replicating: each of these operations on it is refused `appReplicationMisses` times. */
  startReplication(operations: string[], id: string): void {
    const misses = this.config.appReplicationMisses ?? 0;
    if (misses > 0) for (const operation of operations) this.replicating.set(`${operation}:${id}`, misses);
  }

  /** True (and one refusal used) while this operation on that object is not replicated yet. */
  notReplicatedYet(operation: string, id: string): boolean {
    const key = `${operation}:${id}`;
    const left = this.replicating.get(key) ?? 0;
    if (left <= 0) return false;
    this.replicating.set(key, left - 1);
    this.stats.replicationMisses++;
    return true;
  }

  /** True once for a request named in `lostAnswers`: it is applied, and then its answer is lost. */
  takeLostAnswer(method: string, path: string): boolean {
    const lost = this.config.lostAnswers ?? [];
    const index = lost.findIndex((entry) => {
      const [lostMethod, suffix] = entry.split(" ");
      return lostMethod === method && suffix !== undefined && path.endsWith(suffix);
    });
    if (index < 0) return false;
    this.config.lostAnswers = lost.filter((_, i) => i !== index);
    this.stats.lostAnswers++;
    return true;
  }

  /** Consumes one "previous import running" answer, if any are left. */
  takeConcurrentImportBusy(): boolean {
    const left = this.config.concurrentImportBusy ?? 0;
    if (left <= 0) return false;
    this.config.concurrentImportBusy = left - 1;
    return true;
  }

  takeImportFailure(): FaultConfig["importFailure"] {
    const failure = this.config.importFailure;
    this.config.importFailure = undefined;
    return failure;
  }
}

/** FNV-1a: a small, stable string hash for seeding. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}
