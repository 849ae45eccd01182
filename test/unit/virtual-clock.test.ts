import { describe, expect, it } from "vitest";
import { VirtualClock } from "../virtual-clock.js";
import { untilAborted } from "../../src/clock.js";

describe("VirtualClock", () => {
  it("resolves sleeps in deadline order, moving time to each deadline", async () => {
    const clock = new VirtualClock(1_000);
    const woke: [string, number][] = [];
    const sleeper = (name: string, ms: number) => clock.sleep(ms).then(() => woke.push([name, clock.now()]));
    await Promise.all([sleeper("late", 30_000), sleeper("early", 500), sleeper("same-as-late", 30_000)]);
    expect(woke).toEqual([
      ["early", 1_500],
      ["late", 31_000],
      ["same-as-late", 31_000],
    ]);
  });

  it("a sleep registered after waking counts from the new time", async () => {
    const clock = new VirtualClock(0);
    await clock.sleep(1_000);
    await clock.sleep(2_000);
    expect(clock.now()).toBe(3_000);
  });

  it("an aborted sleep rejects with the reason and never moves time", async () => {
    const clock = new VirtualClock(0);
    const controller = new AbortController();
    const waiting = clock.sleep(60_000, controller.signal);
    controller.abort(new Error("Ctrl+C"));
    await expect(waiting).rejects.toThrow("Ctrl+C");
    expect(clock.now()).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it("does not move while work is marked busy, and moves once it is released", async () => {
    const clock = new VirtualClock(0);
    const release = clock.busy();
    let woke = false;
    const waiting = clock.sleep(10_000).then(() => (woke = true));
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect({ woke, now: clock.now() }).toEqual({ woke: false, now: 0 });
    release();
    await waiting;
    expect(clock.now()).toBe(10_000);
  });
});

describe("untilAborted", () => {
  it("rejects at the abort with the reason and tells the waited-on work to stop", async () => {
    const controller = new AbortController();
    let stopped = false;
    const never = new Promise<never>(() => undefined);
    const waiting = untilAborted(never, controller.signal, () => (stopped = true));
    controller.abort(new Error("Ctrl+C"));
    await expect(waiting).rejects.toThrow("Ctrl+C");
    expect(stopped).toBe(true);
  });

  it("already aborted: rejects with the reason, and the work failing later is no unhandled rejection", async () => {
    const controller = new AbortController();
    controller.abort(new Error("Ctrl+C"));
    let fail: (error: Error) => void = () => undefined;
    const work = new Promise<never>((_resolve, reject) => (fail = reject));
    await expect(untilAborted(work, controller.signal)).rejects.toThrow("Ctrl+C");
    fail(new Error("network_error after the abort"));
    await new Promise((resolve) => setImmediate(resolve));
  });

  it("passes the work's own result through when no abort comes", async () => {
    await expect(untilAborted(Promise.resolve(42), new AbortController().signal)).resolves.toBe(42);
  });
});
