import { afterEach, describe, expect, it, vi } from "vitest";
import { StepFailedError } from "../../src/errors.js";
import type { CommandContext } from "../../src/context.js";
import { runSteps } from "../../src/run.js";
import { remember, startEarly, type RememberedFact, type Step, type StepId, type StepResult } from "../../src/steps/step.js";
import type { RoleRow } from "../../src/services/dataverse.js";
import { importEta } from "../../src/steps/import-solution.js";
import { MIN_POLL_MS, pollUntil } from "../../src/steps/wait.js";
import { systemClock } from "../../src/clock.js";

/**
 * The runner's schedule: steps that name the earlier steps they need run alongside the others; the rest
 * wait for everything before them. The steps here are test steps whose apply ends when the test says so.
 */

function contextFor(options: { dryRun?: boolean } = {}): CommandContext {
  return {
    options: { dryRun: options.dryRun ?? false, syncTimeout: 60 },
    facts: { pending: new Set() },
    signal: new AbortController().signal,
    // The system clock, whose timers and Date.now the fake timers below take over.
    clock: systemClock,
  } as unknown as CommandContext;
}

interface Controlled {
  step: Step<unknown>;
  finish(): void;
  fail(message: string): void;
}

/** A step with one planned change whose apply waits until the test finishes or fails it; `log` records starts and ends. */
function controlled(id: StepId, after: StepId[] | undefined, log: string[]): Controlled {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const applied = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  applied.catch(() => undefined);
  return {
    step: {
      id,
      title: id,
      after,
      inspect: async () => undefined,
      plan: () => ({ changes: [{ action: "make", target: id }], summary: `Will make ${id}` }),
      apply: async () => {
        log.push(`start ${id}`);
        try {
          await applied;
        } finally {
          log.push(`end ${id}`);
        }
        return { summary: `Made ${id}` };
      },
    },
    finish: () => finish(),
    fail: (message) => fail(new StepFailedError({ code: "test-failure", message, hint: "none" })),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("applying the plan", () => {
  it("runs steps that do not need each other at the same time, and a step once all it needs has ended", async () => {
    const log: string[] = [];
    const download = controlled("download-solution", [], log);
    const importing = controlled("import-solution", ["download-solution"], log);
    const user = controlled("create-user", [], log);
    const assign = controlled("assign-role", ["import-solution", "create-user"], log);
    const patch = controlled("patch-role", ["import-solution"], log);
    const ended: StepResult[] = [];
    const run = runSteps(
      contextFor(),
      [download, importing, user, assign, patch].map((c) => c.step),
      { onResult: (r) => ended.push(r) },
    );

    await settle();
    expect(log).toEqual(["start download-solution", "start create-user"]);
    download.finish();
    await settle();
    expect(log.slice(2)).toEqual(["end download-solution", "start import-solution"]);
    importing.finish();
    await settle();
    // patch-role needs only the import; assign-role still waits for the user.
    expect(log.slice(4)).toEqual(["end import-solution", "start patch-role"]);
    user.finish();
    await settle();
    expect(log.slice(6)).toEqual(["end create-user", "start assign-role"]);
    assign.finish();
    patch.finish();
    const outcome = await run;

    expect(outcome.error).toBeUndefined();
    expect(outcome.results.map((r) => `${r.id} ${r.status}`)).toEqual([
      "download-solution done",
      "import-solution done",
      "create-user done",
      "assign-role done",
      "patch-role done",
    ]);
    // Results are returned in plan order, and reported as each step ends.
    expect(ended.map((r) => r.id)).toEqual(["download-solution", "import-solution", "create-user", "assign-role", "patch-role"]);
  });

  it("reports steps as they end when that is not plan order", async () => {
    const log: string[] = [];
    const download = controlled("download-solution", [], log);
    const user = controlled("create-user", [], log);
    const ended: string[] = [];
    const run = runSteps(contextFor(), [download.step, user.step], { onResult: (r) => ended.push(r.id) });
    await settle();
    user.finish();
    await settle();
    download.finish();
    const outcome = await run;
    expect(ended).toEqual(["create-user", "download-solution"]);
    expect(outcome.results.map((r) => r.id)).toEqual(["download-solution", "create-user"]);
  });

  it("without `after`, a step waits for every step before it", async () => {
    const log: string[] = [];
    const first = controlled("download-solution", [], log);
    const second = controlled("create-user", [], log);
    const last = controlled("verify", undefined, log);
    const run = runSteps(contextFor(), [first.step, second.step, last.step]);
    await settle();
    first.finish();
    await settle();
    expect(log).toEqual(["start download-solution", "start create-user", "end download-solution"]);
    second.finish();
    await settle();
    expect(log.at(-1)).toBe("start verify");
    last.finish();
    expect((await run).results.every((r) => r.status === "done")).toBe(true);
  });

  it("after a failure starts nothing more, lets running steps finish, and reports the rest as not run", async () => {
    const log: string[] = [];
    const download = controlled("download-solution", [], log);
    const importing = controlled("import-solution", ["download-solution"], log);
    const user = controlled("create-user", [], log);
    const assign = controlled("assign-role", ["import-solution", "create-user"], log);
    // verify needs only the user: it would have started once create-user ended, had nothing failed.
    const verify = controlled("verify", ["create-user"], log);
    const run = runSteps(
      contextFor(),
      [download, importing, user, assign, verify].map((c) => c.step),
    );
    await settle();
    download.fail("the download failed");
    await settle();
    expect(log).toContain("start create-user");
    user.finish();
    const outcome = await run;
    expect(outcome.error?.message).toBe("the download failed");
    expect(outcome.results.map((r) => `${r.id} ${r.status}`)).toEqual([
      "download-solution failed",
      "import-solution skipped",
      "create-user done",
      "assign-role skipped",
      "verify skipped",
    ]);
    expect(outcome.results[1]!.summary).toBe("Not run: download-solution failed.");
    expect(log).not.toContain("start import-solution");
    expect(log).not.toContain("start assign-role");
    expect(log).not.toContain("start verify");
  });

  it("a step that fails while another runs: the other still ends, and its result is kept", async () => {
    const log: string[] = [];
    const download = controlled("download-solution", [], log);
    const user = controlled("create-user", [], log);
    const late = controlled("patch-role", undefined, log);
    const run = runSteps(contextFor(), [download.step, user.step, late.step]);
    await settle();
    user.fail("no seat");
    await settle();
    expect(log).not.toContain("end download-solution");
    download.finish();
    const outcome = await run;
    expect(outcome.results.map((r) => `${r.id} ${r.status}`)).toEqual([
      "download-solution done",
      "create-user failed",
      "patch-role skipped",
    ]);
    expect(outcome.results[2]!.summary).toBe("Not run: create-user failed.");
  });

  it("ignores an `after` that names a later step, so the order of the list cannot deadlock a run", async () => {
    const log: string[] = [];
    const first = controlled("assign-role", ["patch-role"], log);
    const second = controlled("patch-role", undefined, log);
    const run = runSteps(contextFor(), [first.step, second.step]);
    await settle();
    expect(log).toEqual(["start assign-role"]);
    first.finish();
    await settle();
    second.finish();
    expect((await run).results.map((r) => r.status)).toEqual(["done", "done"]);
  });
});

describe("reads shared within a run", () => {
  it("remember: later calls share the first read; a failed one is forgotten and read again; a fact a step set wins", async () => {
    const context = contextFor();
    let reads = 0;
    const read = async () => {
      reads++;
      if (reads === 1) throw new Error("throttled");
      return [{ roleid: `role ${reads}` } as RoleRow];
    };
    await expect(remember(context, "leadWriterRoles", read)).rejects.toThrow("throttled");
    const [a, b] = await Promise.all([remember(context, "leadWriterRoles", read), remember(context, "leadWriterRoles", read)]);
    expect([a[0]!.roleid, b[0]!.roleid, reads]).toEqual(["role 2", "role 2", 2]);
    expect(context.facts.leadWriterRoles).toBe(a);
    context.facts.leadWriterRoles = [{ roleid: "after the import" } as RoleRow];
    expect((await remember(context, "leadWriterRoles", read))[0]!.roleid).toBe("after the import");
    expect(reads).toBe(2);
  });

  it("starts every step's prefetch before the first inspect, so independent reads overlap", async () => {
    const log: string[] = [];
    const step = (id: StepId, fact: RememberedFact): Step<unknown> => ({
      id,
      title: id,
      prefetch: (context) => startEarly(() => remember(context, fact, async () => (log.push(`read ${id}`), [] as never))),
      inspect: async (context) => {
        log.push(`inspect ${id}`);
        await remember(context, fact, async () => (log.push(`read again ${id}`), [] as never));
      },
      plan: () => ({ changes: [], summary: "nothing to do" }),
      apply: async () => ({ summary: "" }),
    });
    await runSteps(contextFor({ dryRun: true }), [
      step("import-solution", "environment"),
      step("create-user", "user"),
      step("patch-role", "privileges"),
    ]);
    expect(log).toEqual([
      "read import-solution",
      "read create-user",
      "read patch-role",
      "inspect import-solution",
      "inspect create-user",
      "inspect patch-role",
    ]);
  });
});

describe("waiting for an import", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("projects the import job's progress to 100 %", () => {
    expect(
      importEta([
        { at: 1_000, progress: 0 },
        { at: 1_300, progress: 75 },
      ]),
    ).toBe(100);
    expect(
      importEta([
        { at: 0, progress: 10 },
        { at: 10_000, progress: 20 },
        { at: 20_000, progress: 60 },
      ]),
    ).toBe(16_000);
    // Nothing to project from: one reading, no progress yet, or already at 100 %.
    expect(importEta([{ at: 1_000, progress: 40 }])).toBeUndefined();
    expect(
      importEta([
        { at: 0, progress: 0 },
        { at: 500, progress: 0 },
      ]),
    ).toBeUndefined();
    expect(
      importEta([
        { at: 0, progress: 0 },
        { at: 500, progress: 100 },
      ]),
    ).toBeUndefined();
  });

  it("looks again when the estimate says, never sooner than the minimum nor later than the back-off", async () => {
    vi.useFakeTimers();
    const estimates = [30, undefined, 10_000, 120];
    const looks: number[] = [];
    const start = Date.now();
    const wait = pollUntil(contextFor(), { initialDelayMs: 250, estimateMs: () => estimates.shift() }, async () => {
      looks.push(Date.now() - start);
      return looks.length === 5 ? "done" : undefined;
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await wait).toBe("done");
    // 250 ms first; then max(MIN, 30) = 100; the back-off's 400; min(10 000, 640) = 640; and the estimate's 120.
    expect(MIN_POLL_MS).toBe(100);
    expect(looks).toEqual([250, 350, 750, 1_390, 1_510]);
  });
});
