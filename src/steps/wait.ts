import type { Clock } from "../clock.js";
import { DEFAULT_POLL_SCHEDULE, pollDelays } from "../services/retry.js";

/** How long a step waits for Dynamics (an import, a user sync) before exit 5, in seconds. */
export const DEFAULT_SYNC_TIMEOUT_SECONDS = 600;

/** The shortest wait between two looks, however close to done an estimate says the work is. */
export const MIN_POLL_MS = 100;

/** The longest wait between two looks: a person watching sees a change at least this often. */
export const MAX_POLL_MS = DEFAULT_POLL_SCHEDULE.maxMs;

/** Where waits get their time from: the run's clock and its signal (Ctrl+C ends any wait at once). */
export interface WaitScope {
  clock: Clock;
  signal: AbortSignal;
  timeoutSeconds: number;
}

export interface PollOptions {
  initialDelayMs?: number;
  /**
   * Milliseconds until the work is likely done (e.g. from an import job's progress), when known: the next
   * look comes then, if that is sooner than the back-off would have it, never sooner than MIN_POLL_MS.
   */
  estimateMs?: () => number | undefined;
}

/**
 * The one poll schedule of every wait in the steps (an import, a user sync, a busy import slot, a licence
 * still propagating): calls `check` until it returns a value, quickly at first (a sandbox or a small import
 * finishes in moments) and backing off to every 5 s, within the timeout. Returns undefined when time runs
 * out. Every sleep takes the clock and the signal: Ctrl+C ends the wait at once, and a test's virtual clock
 * makes a ten-minute wait cost nothing.
 */
export async function pollUntil<T>(scope: WaitScope, options: PollOptions, check: () => Promise<T | undefined>): Promise<T | undefined> {
  const { clock, signal } = scope;
  const deadline = clock.now() + scope.timeoutSeconds * 1000;
  const intervals = pollDelays();
  if (options.initialDelayMs) await clock.sleep(options.initialDelayMs, signal);
  for (;;) {
    signal.throwIfAborted();
    const result = await check();
    if (result !== undefined) return result;
    const left = deadline - clock.now();
    if (left <= 0) return undefined;
    const interval = intervals.next().value;
    const estimate = options.estimateMs?.();
    const delay = estimate === undefined ? interval : Math.min(interval, Math.max(MIN_POLL_MS, estimate));
    await clock.sleep(Math.min(delay, left), signal);
  }
}
