/**
 * The retry policy of every service call (Graph, Dataverse, Entra, Power Platform, downloads), and the one
 * poll schedule below. Pure: it only decides; the HTTP layer sleeps (on its injected Clock) and resends. Rules (reference: graph-and-msal §A.11, dataverse §7):
 * - 429 is always retried, even for POST: a throttled request was refused before it was processed.
 * - 503/504 and 500/502 and dropped connections are retried only for idempotent requests. A POST that may
 *   have been applied is never resent blindly; the step re-inspects the tenant instead.
 * - Retry-After (seconds or an HTTP date) is honoured exactly: never a resend before it has passed.
 * - An answer that says a just-created directory object has not replicated yet (Entra's eventual
 *   consistency: msgraph-sdk-dotnet#3108, terraform-provider-azuread#581/#611) is a refusal, so it is
 *   retried even for POST, for up to `replicationAttempts`: replication takes seconds, sometimes a minute.
 * - Otherwise capped exponential back-off with jitter; a cap on attempts and an overall deadline.
 */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry is scheduled that would end after this much time since the first attempt. */
  deadlineMs: number;
  /** Each attempt is abandoned after this long without a complete answer. */
  requestTimeoutMs: number;
  /** Attempts for a request refused only because a just-created object has not replicated yet. */
  replicationAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  deadlineMs: 180_000,
  requestTimeoutMs: 100_000,
  replicationAttempts: 10,
};

/** Milliseconds to wait, from a Retry-After header (delta-seconds or HTTP-date), or undefined. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export type RetryDecision = { retry: true; delayMs: number; reason: string } | { retry: false; reason: string };

export interface AttemptOutcome {
  /** 1 for the first attempt. */
  attempt: number;
  status?: number;
  /** Set when no answer arrived (connection dropped, timeout). */
  networkError?: string;
  retryAfterMs?: number;
  idempotent: boolean;
  /** The answer says a just-created object is not replicated yet: refused, not applied. */
  notYetReplicated?: boolean;
  elapsedMs: number;
}

export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}

export function decideRetry(outcome: AttemptOutcome, policy: RetryPolicy, random: () => number = Math.random): RetryDecision {
  const { status, networkError, idempotent } = outcome;
  let reason: string;
  let maxAttempts = policy.maxAttempts;
  if (status === 429) reason = "throttled (429)";
  else if (outcome.notYetReplicated) {
    reason = `not replicated yet (${status})`;
    maxAttempts = policy.replicationAttempts;
  } else if (networkError !== undefined) {
    // A host name that does not resolve, a port where nothing listens (or a firewall rejects), or a
    // certificate that is not trusted, will not get better within the seconds a retry waits.
    if (/ENOTFOUND|ECONNREFUSED|certificate not trusted/.test(networkError))
      return { retry: false, reason: `connection failed (${networkError})` };
    if (!idempotent) return { retry: false, reason: `connection failed (${networkError}) on a request that must not be resent blindly` };
    reason = `connection failed (${networkError})`;
  } else if (status !== undefined && [500, 502, 503, 504].includes(status)) {
    if (!idempotent) return { retry: false, reason: `server error (${status}) on a request that must not be resent blindly` };
    reason = `server error (${status})`;
  } else {
    return { retry: false, reason: `status ${status} is not transient` };
  }
  if (outcome.attempt >= maxAttempts) return { retry: false, reason: `${reason}; gave up after ${outcome.attempt} attempts` };
  const delayMs = outcome.retryAfterMs ?? backoffDelay(outcome.attempt, policy, random);
  if (outcome.elapsedMs + delayMs > policy.deadlineMs) {
    return {
      retry: false,
      reason: `${reason}; waiting ${Math.ceil(delayMs / 1000)} s more would pass the ${Math.round(policy.deadlineMs / 1000)} s deadline`,
    };
  }
  return { retry: true, delayMs, reason };
}

/**
 * The one schedule for waiting on work that Microsoft finishes in the background (an import, a user sync
 * into Dynamics, a licence propagating, a Partner Center configure job): quick looks at first, since a
 * small import or a sandbox finishes in moments, backing off to one look every `maxMs`. Waits that are not
 * polls (a refused request) use `backoffDelay` above; a Retry-After, when given, always wins over both.
 */
export interface PollSchedule {
  firstMs: number;
  factor: number;
  maxMs: number;
}

export const DEFAULT_POLL_SCHEDULE: PollSchedule = { firstMs: 250, factor: 1.6, maxMs: 5000 };

/** The delays between looks, endless: the caller stops at its deadline (--sync-timeout) or when the work is done. */
export function* pollDelays(schedule: PollSchedule = DEFAULT_POLL_SCHEDULE): Generator<number, never> {
  for (let delay = schedule.firstMs; ; delay = Math.min(schedule.maxMs, Math.round(delay * schedule.factor))) yield delay;
}
