import type { Clock } from "../src/clock.js";

interface Timer {
  at: number;
  seq: number;
  resolve(): void;
}

/**
 * Virtual time for tests. `now()` starts at the real time and moves only when the clock advances it;
 * `sleep(ms)` registers a timer. Once the process has nothing else ready to run (a few turns of the event
 * loop with no new work, and no HTTP exchange in flight: see `busy`), the clock jumps to the earliest
 * timer and resolves it, one at a time in deadline order. So a 30 s Retry-After or a ten-minute sync wait
 * takes no real time, and a wait still never ends before an answer that real time would have delivered
 * first. Sleeps are abortable, like the system clock's.
 */
export class VirtualClock implements Clock {
  private current: number;
  private readonly timers: Timer[] = [];
  private seq = 0;
  private inFlight = 0;
  private pumping = false;
  /** Every sleep asked for, in milliseconds, in order: what a test asserts about the waits a run made. */
  readonly sleeps: number[] = [];

  /** `idleTurns`: event-loop turns with nothing new before time moves (I/O callbacks run between turns). */
  constructor(
    start = Date.now(),
    private readonly idleTurns = 5,
  ) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Milliseconds of virtual time that passed since `since`. */
  elapsedSince(since: number): number {
    return this.current - since;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Timer = {
        at: this.current + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.remove(timer);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.timers.push(timer);
      this.pump();
    });
  }

  busy(): () => void {
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.pump();
    };
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.length;
  }

  private remove(timer: Timer): void {
    const index = this.timers.indexOf(timer);
    if (index >= 0) this.timers.splice(index, 1);
  }

  /** Moves time to the earliest timer once the process is idle; stops while an exchange is in flight. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const turn = (idle: number): void => {
      setImmediate(() => {
        if (this.timers.length === 0 || this.inFlight > 0) {
          this.pumping = false;
          return;
        }
        if (idle < this.idleTurns) return turn(idle + 1);
        this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = this.timers.shift()!;
        this.current = Math.max(this.current, next.at);
        next.resolve();
        turn(0);
      });
    };
    turn(0);
  }
}

/**
 * A simpler clock for steps run on their own: every sleep ends at once and moves its time on (after one turn
 * of the event loop, so that the sandbox's own timers run between looks). No idle detection: for tests that
 * do not share the clock with a sandbox.
 */
export function instantClock(start = Date.now()): Clock {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}
