import { describe, expect, it } from "vitest";
import { freshVirtualTenants } from "../in-process.js";

/**
 * Every wait of a run goes through the run's clock and its Ctrl+C signal (issue 12 §2): a wait that sleeps
 * on a bare timer instead is invisible to the virtual clock here, and ignores Ctrl+C in a real terminal.
 */
const fresh = freshVirtualTenants();

const IMPORT = ["import-solution", "--sandbox", "--yes", "--auth", "client-secret", "--json"];

describe("Ctrl+C during a wait, in-process on a virtual clock", () => {
  it("ends import-solution's back-off after 'a previous import is running': exit 130, no second import sent", async () => {
    const { sandbox, clock, run } = await fresh({ faults: { concurrentImportBusy: 1 } });
    let interrupt = () => {};
    // Ctrl+C arrives while the back-off is being waited out: the moment the clock is asked for it.
    const sleep = clock.sleep.bind(clock);
    clock.sleep = (ms, signal) => {
      const waiting = sleep(ms, signal);
      if (ms === 5000) interrupt();
      return waiting;
    };
    const result = await run(IMPORT, { onStart: (controls) => (interrupt = controls.interrupt) });
    expect(result.code).toBe(130);
    expect(clock.sleeps).toContain(5000);
    expect(result.json).toMatchObject({ ok: false, error: { code: "interrupted" } });
    expect(sandbox.requests.filter((r) => r.path.includes("ImportSolutionAsync"))).toHaveLength(1);
    expect(sandbox.state.importJobs.size).toBe(0);
  });

  it("without Ctrl+C the same back-off is waited out on the clock and the import goes through", async () => {
    const { sandbox, clock, run } = await fresh({ faults: { concurrentImportBusy: 1 } });
    const result = await run(IMPORT);
    expect(result.code).toBe(0);
    expect(clock.sleeps).toContain(5000);
    expect(sandbox.requests.filter((r) => r.path.includes("ImportSolutionAsync"))).toHaveLength(2);
    expect(sandbox.state.solutions.size).toBe(1);
  });
});
