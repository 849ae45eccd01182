import { pollDelays } from "../services/retry.js";
import type { CommandContext } from "../context.js";

/** How long a step waits for Dynamics (an import, a user sync) before exit 5, in seconds. */
export const DEFAULT_SYNC_TIMEOUT_SECONDS = 600;

export function syncTimeoutSeconds(context: CommandContext): number {
  return context.options.syncTimeout ?? DEFAULT_SYNC_TIMEOUT_SECONDS;
}

/** The shortest wait between two looks, however close to done an estimate says the work is. */
export const MIN_POLL_MS = 100;

export interface PollOptions {
  initialDelayMs?: number;
  /**
   * Milliseconds until the work is likely done (e.g. from an import job's progress), when known: the next
   * look comes then, if that is sooner than the back-off would have it, never sooner than MIN_POLL_MS.
   */
  estimateMs?: () => number | undefined;
}

/**
 * Calls `check` until it returns a value, polling quickly at first (a sandbox or a small import finishes
 * in moments) and backing off to every 5 s, within --sync-timeout. Returns undefined when time runs out;
 * Ctrl+C ends the wait at once.
 */
export async function pollUntil<T>(
  context: CommandContext,
  options: PollOptions,
  check: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const { clock, signal } = context;
  const deadline = clock.now() + syncTimeoutSeconds(context) * 1000;
  const intervals = pollDelays();
  if (options.initialDelayMs) await clock.sleep(options.initialDelayMs, signal);
  for (;;) {
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
