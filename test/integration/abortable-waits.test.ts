import { describe, expect, it } from "vitest";
import { freshVirtualTenants } from "../in-process.js";

/**
 * Every wait of a run goes through the run's clock and its Ctrl+C signal (issue 12 §2): a wait that sleeps
 * on a bare timer instead is invisible to the virtual clock here, and ignores Ctrl+C in a real terminal.
 */
const fresh = freshVirtualTenants();

type Fresh = Awaited<ReturnType<typeof fresh>>;

/** The waits the run asks the clock for once the sandbox has refused the first import (the back-off). */
function watchWaitsAfterRefusal(sandbox: Fresh["sandbox"], clock: Fresh["clock"], onFirst?: () => void): number[] {
  const waits: number[] = [];
  const sleep = clock.sleep.bind(clock);
  clock.sleep = (ms, signal) => {
    const waiting = sleep(ms, signal);
    if (sandbox.requests.some((r) => r.path.includes("ImportSolutionAsync"))) {
      waits.push(ms);
      if (waits.length === 1) onFirst?.();
    }
    return waiting;
  };
  return waits;
}

const IMPORT = ["import-solution", "--sandbox", "--yes", "--auth", "client-secret", "--json"];

describe("Ctrl+C during a wait, in-process on a virtual clock", () => {
  it("ends import-solution's back-off after 'a previous import is running': exit 130, no second import sent", async () => {
    const { sandbox, clock, run } = await fresh({ faults: { concurrentImportBusy: 1 } });
    let interrupt = () => {};
    // Ctrl+C arrives while the back-off is being waited out: the moment the clock is asked for a wait
    // after the refused import.
    const waitsAfterRefusal = watchWaitsAfterRefusal(sandbox, clock, () => interrupt());
    const result = await run(IMPORT, { onStart: (controls) => (interrupt = controls.interrupt) });
    expect(result.code).toBe(130);
    expect(waitsAfterRefusal.length).toBeGreaterThan(0);
    expect(result.json).toMatchObject({ ok: false, error: { code: "interrupted" } });
    expect(sandbox.requests.filter((r) => r.path.includes("ImportSolutionAsync"))).toHaveLength(1);
    expect(sandbox.state.importJobs.size).toBe(0);
  });

  it("without Ctrl+C the same back-off is waited out on the clock and the import goes through", async () => {
    const { sandbox, clock, run } = await fresh({ faults: { concurrentImportBusy: 1 } });
    const waitsAfterRefusal = watchWaitsAfterRefusal(sandbox, clock);
    const result = await run(IMPORT);
    expect(result.code).toBe(0);
    expect(waitsAfterRefusal.length).toBeGreaterThan(0);
    expect(sandbox.requests.filter((r) => r.path.includes("ImportSolutionAsync"))).toHaveLength(2);
    expect(sandbox.state.solutions.size).toBe(1);
  });
});
