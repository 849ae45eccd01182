import type { Clock } from "../src/clock.js";
import { VirtualClock } from "./virtual-clock.js";

/**
 * Time for a sandbox that a spawned CLI and in-process runs both talk to, one after the other. Real time
 * passes on it, so a spawned process's real 1 s wait satisfies the sandbox's Retry-After of 1 s; the
 * in-process runs wait on a VirtualClock (its idle rule and its `busy` marks), whose waits move this clock
 * on as well, costing no real time. So `now()` is the start, plus the real time passed, plus every virtual
 * wait: it never goes back, and the sandbox's rules (a poll sooner than Retry-After is refused) hold for
 * both kinds of run. Give it to the sandbox and to `runInProcess`; not for an in-process run and a spawned
 * process at the same moment (a virtual wait would then pass for the spawned process too).
 */
export class SharedClock implements Clock {
  private readonly realStart: number;
  private readonly waits: VirtualClock;

  /** `realNow`: the real time (Date.now; a test of this clock passes its own). */
  constructor(private readonly realNow: () => number = Date.now) {
    this.realStart = realNow();
    this.waits = new VirtualClock(this.realStart);
  }

  now(): number {
    return this.waits.now() + (this.realNow() - this.realStart);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.waits.sleep(ms, signal);
  }

  busy(): () => void {
    return this.waits.busy();
  }
}
