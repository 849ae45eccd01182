import { describe, expect, it } from "vitest";
import { SharedClock } from "../shared-clock.js";

describe("SharedClock", () => {
  it("moves with real time and with each virtual wait, on top of each other", async () => {
    let real = 1_000;
    const clock = new SharedClock(() => real);
    expect(clock.now()).toBe(1_000);
    real += 700; // a spawned process waited in real time
    expect(clock.now()).toBe(1_700);
    await clock.sleep(30_000); // an in-process run's Retry-After: virtual
    expect(clock.now()).toBe(31_700);
    real += 300;
    expect(clock.now()).toBe(32_000);
  });

  it("does not move a virtual wait on while an exchange is marked busy", async () => {
    const clock = new SharedClock(() => 0);
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
