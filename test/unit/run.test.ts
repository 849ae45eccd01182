import { describe, expect, it } from "vitest";
import { StepFailedError } from "../../src/errors.js";
import { runSteps, type RunHooks, type RunPorts } from "../../src/runner.js";
import { onceMemo, silentProgress } from "../../src/tenant-ports.js";
import type { AnyStep, Step, StepId, StepResult } from "../../src/steps/step.js";
import type { Clock } from "../../src/clock.js";
import { importEta } from "../../src/steps/import-solution.js";
import { MIN_POLL_MS, pollUntil } from "../../src/steps/wait.js";

/**
 * The runner's schedule: steps that name the earlier steps they need run alongside the others; the rest
 * wait for everything before them. The steps here are test steps whose apply ends when the test says so.
 */

const noTenant = () => Promise.reject(new Error("this test has no tenant"));

/** Ports with no tenant behind them: the test steps read and write nothing but what they are given. */
function testPorts(clock: Clock = virtualClock()): RunPorts {
  return {
    reads: {
      tenant: noTenant,
      partnerCenter: noTenant,
      once: onceMemo(),
      ledger: { createdUser: noTenant, passwordNeverShown: noTenant, secretRecord: noTenant, recordedAppId: noTenant },
      solutions: { fromFile: noTenant, cached: noTenant, fetch: noTenant },
      clock,
    },
    writes: {
      tenant: noTenant,
      partnerCenter: noTenant,
      ledger: { recordPassword: noTenant, recordSecret: noTenant, recordSecretPending: noTenant, recordApp: noTenant },
      solutions: { download: noTenant, cache: noTenant },
      secrets: { keep: () => undefined },
      signInAs: noTenant,
      powerPlatform: noTenant,
      clock,
      signal: new AbortController().signal,
    },
    progress: silentProgress,
  };
}

const runAll = (steps: AnyStep[], hooks: RunHooks = {}, dryRun = false) =>
  runSteps(steps, testPorts(), { dryRun, signal: new AbortController().signal }, hooks);

/** A clock whose sleeps end at once, moving its time on: waits cost no real time. */
function virtualClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      slept.push(ms);
      now += ms;
    },
  };
}

interface Controlled {
  step: AnyStep;
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
      plan: () => ({ ops: [id], summary: `Will make ${id}` }),
      describe: (op: string) => ({ action: "make", target: op }),
      apply: async () => {
        log.push(`start ${id}`);
        try {
          await applied;
        } finally {
          log.push(`end ${id}`);
        }
      },
      summarize: () => ({ summary: `Made ${id}` }),
      output: () => undefined,
    },
    finish: () => finish(),
    fail: (message) => fail(new StepFailedError({ code: "test-failure", message, hint: "none" })),
  };
}

/** Lets every promise that can move on do so (no timer: nothing races real time). */
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe("applying the plan", () => {
  it("runs steps that do not need each other at the same time, and a step once all it needs has ended", async () => {
    const log: string[] = [];
    const download = controlled("download-solution", [], log);
    const importing = controlled("import-solution", ["download-solution"], log);
    const user = controlled("create-user", [], log);
    const assign = controlled("assign-role", ["import-solution", "create-user"], log);
    const patch = controlled("patch-role", ["import-solution"], log);
    const ended: StepResult[] = [];
    const run = runAll(
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
    const run = runAll([download.step, user.step], { onResult: (r) => ended.push(r.id) });
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
    const run = runAll([first.step, second.step, last.step]);
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
    const run = runAll([download, importing, user, assign, verify].map((c) => c.step));
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
    const run = runAll([download.step, user.step, late.step]);
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
    const run = runAll([first.step, second.step]);
    await settle();
    expect(log).toEqual(["start assign-role"]);
    first.finish();
    await settle();
    second.finish();
    expect((await run).results.map((r) => r.status)).toEqual(["done", "done"]);
  });
});

describe("what flows between steps", () => {
  /** A step that records what it saw of an earlier step, and hands on `made` once applied. */
  const handing = (id: StepId, seen: string[], options: { ops?: string[]; reads?: StepId; failAt?: string } = {}): AnyStep => {
    const step: Step<string, string, { userPrincipalName: string }, string> = {
      id,
      title: id,
      inspect: async (_reads, upstream) => {
        const earlier = options.reads ? upstream.get(options.reads as "create-user") : undefined;
        seen.push(`${id} sees ${earlier ? `${earlier.output.userPrincipalName}${earlier.pending ? " (pending)" : ""}` : "nothing"}`);
        return earlier?.output.userPrincipalName ?? "";
      },
      plan: (state) => ({
        ops: options.ops ?? [],
        summary: "",
        dependsOn: options.reads && state.endsWith("?") ? [options.reads] : undefined,
      }),
      describe: (op) => ({ action: "make", target: op }),
      apply: async (op, { applied }) => {
        if (op === options.failAt) throw new StepFailedError({ code: "test-failure", message: `${op} failed`, hint: "none" });
        return `${op} after ${applied.length}`;
      },
      summarize: (_state, applied) => ({ summary: applied.join("; ") }),
      output: (_state, applied) => ({ userPrincipalName: applied.length ? applied.join(" + ") : "?" }),
    };
    return step;
  };

  it("hands each step's output to later ones: pending while planning, known (and re-inspected) once applied", async () => {
    const seen: string[] = [];
    const outcome = await runAll([
      handing("create-user", seen, { ops: ["user", "licence"] }),
      handing("assign-role", seen, { ops: ["role"], reads: "create-user" }),
    ]);
    expect(seen).toEqual(["create-user sees nothing", "assign-role sees ? (pending)", "assign-role sees user after 0 + licence after 1"]);
    expect(outcome.results.map((r) => r.summary)).toEqual(["user after 0; licence after 1", "role after 0"]);
    expect(outcome.outputs["create-user"]).toEqual({ userPrincipalName: "user after 0 + licence after 1" });
  });

  it("a step that fails after some of its ops keeps what they made (a generated password is never lost)", async () => {
    const outcome = await runAll([handing("create-user", [], { ops: ["user", "licence"], failAt: "licence" })]);
    expect(outcome.error?.message).toBe("licence failed");
    expect(outcome.results[0]).toMatchObject({
      status: "failed",
      changes: [
        { action: "make", target: "user" },
        { action: "make", target: "licence" },
      ],
    });
    expect(outcome.outputs["create-user"]).toEqual({ userPrincipalName: "user after 0" });
  });

  it("a dry run plans every step from the same ops --json and the confirmation list show, and applies nothing", async () => {
    const seen: string[] = [];
    const confirmations: StepResult[][] = [];
    const outcome = await runAll(
      [handing("create-user", seen, { ops: ["user"] })],
      { confirm: async (p: StepResult[]) => void confirmations.push(p) },
      true,
    );
    expect(outcome.results).toEqual([
      {
        id: "create-user",
        status: "planned",
        summary: "",
        changes: [{ action: "make", target: "user" }],
        details: undefined,
        drift: undefined,
      },
    ]);
    expect(confirmations).toEqual([]);
  });

  it("reads once per run: later calls share the first read; a failed one is forgotten and read again", async () => {
    const once = onceMemo();
    let reads = 0;
    const read = async () => {
      reads++;
      if (reads === 1) throw new Error("throttled");
      return `roles ${reads}`;
    };
    await expect(once("roles", read)).rejects.toThrow("throttled");
    const [a, b] = await Promise.all([once("roles", read), once("roles", read)]);
    expect([a, b, reads]).toEqual(["roles 2", "roles 2", 2]);
  });

  it("starts every step's prefetch before the first inspect, so independent reads overlap", async () => {
    const log: string[] = [];
    const step = (id: StepId): AnyStep => ({
      id,
      title: id,
      prefetch: (reads) => void reads.once(id, async () => log.push(`read ${id}`)),
      inspect: async (reads) => {
        log.push(`inspect ${id}`);
        await reads.once(id, async () => log.push(`read again ${id}`));
      },
      plan: () => ({ ops: [], summary: "nothing to do" }),
      describe: () => ({ action: "", target: "" }),
      apply: async () => undefined,
      summarize: () => ({ summary: "" }),
      output: () => undefined,
    });
    await runAll([step("import-solution"), step("create-user"), step("patch-role")], {}, true);
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
    const clock = virtualClock();
    const estimates = [30, undefined, 10_000, 120];
    const looks: number[] = [];
    const wait = { clock, signal: new AbortController().signal, timeoutSeconds: 60 };
    const result = await pollUntil(wait, { initialDelayMs: 250, estimateMs: () => estimates.shift() }, async () => {
      looks.push(clock.now());
      return looks.length === 5 ? "done" : undefined;
    });
    expect(result).toBe("done");
    // 250 ms first; then max(MIN, 30) = 100; the back-off's 400; min(10 000, 640) = 640; and the estimate's 120.
    expect(MIN_POLL_MS).toBe(100);
    expect(looks).toEqual([250, 350, 750, 1_390, 1_510]);
  });

  it("gives up at the timeout, backing off to every 5 s", async () => {
    const clock = virtualClock();
    const result = await pollUntil({ clock, signal: new AbortController().signal, timeoutSeconds: 30 }, {}, async () => undefined);
    expect(result).toBeUndefined();
    expect(clock.now()).toBe(30_000);
    expect(Math.max(...clock.slept)).toBe(5_000);
  });

  it("ends at once when the run is interrupted, whatever the wait", async () => {
    const controller = new AbortController();
    // A clock whose sleeps only ever end by the signal: the wait cannot end by time.
    const frozen: Clock = {
      now: () => 0,
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => {
          if (signal!.aborted) reject(signal!.reason);
          signal!.addEventListener("abort", () => reject(signal!.reason), { once: true });
        }),
    };
    let looks = 0;
    const wait = pollUntil({ clock: frozen, signal: controller.signal, timeoutSeconds: 600 }, {}, async () => void looks++);
    await settle();
    // Asleep after the first look; Ctrl+C ends the sleep.
    expect(looks).toBe(1);
    controller.abort(new Error("Interrupted (Ctrl+C)."));
    await expect(wait).rejects.toThrow("Interrupted (Ctrl+C).");
  });
});
