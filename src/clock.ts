/**
 * Time, injected. The CLI runs on the system clock; tests run the same code on a virtual clock, so that a
 * Retry-After of 30 s or a five-minute sync wait costs no real time. Every wait in the product goes through
 * a Clock and takes the run's AbortSignal, so Ctrl+C ends any wait at once.
 */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason as soon as it is aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Marks real work in flight (an HTTP exchange) until the returned release is called. A virtual clock
   * does not move while any is held, so a wait never "passes" while an answer is still on its way; the
   * system clock needs no such mark.
   */
  busy?(): () => void;
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export const systemClock: Clock = { now: () => Date.now(), sleep: abortableSleep };

/**
 * Waits for `work` unless the signal is aborted first: for a library wait that cannot be handed our
 * signal (MSAL's device-code polling, its loopback redirect server), so that Ctrl+C still ends it at once.
 * `onAbort` lets the caller tell the library to stop too.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort?: () => void): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    onAbort?.();
    // The work goes on (or fails) unwatched: its failure must not surface as an unhandled rejection.
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort?.();
      reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", abort);
        reject(error);
      },
    );
  });
}
