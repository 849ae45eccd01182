import { belongsToCommand, CliError, toCliError } from "./errors.js";
import type { Progress, Reads, Writes } from "./steps/ports.js";
import type { AnyStep, StepId, StepOutputs, StepPlan, StepResult, Upstream, UpstreamEntry } from "./steps/step.js";

/**
 * The runner. Two phases: inspect and plan every step in order, each seeing the outputs of the earlier ones
 * (`Upstream`: known, or pending while their ops are still to be applied); then, unless it is a dry run,
 * let the caller confirm and apply the ops. A step applies once the earlier steps it needs (`Step.after`;
 * by default all of them) have ended, so steps that do not need each other run at the same time: the
 * service user is created, and Entra starts syncing it to Dynamics, while the solution imports. A plan that
 * assumed an earlier step's pending ops (`dependsOn`) is inspected again once they are applied. After a
 * failure no further step starts; steps already running finish, and the rest are reported as not run.
 * Results come back in plan order, with every step's output; rendering them is the renderer's job.
 */

export interface RunPorts {
  reads: Reads;
  writes: Writes;
  /** Where a step's progress is shown. */
  progress: Progress;
}

export interface RunOutcome {
  results: StepResult[];
  error: CliError | undefined;
  /** True when the plan had ops (for --detailed-exitcode). */
  changesPending: boolean;
  /** Each step's output as the run left it: applied, unchanged, or as inspected (a failed step keeps what its applied ops made). */
  outputs: Partial<{ [K in keyof StepOutputs]: StepOutputs[K] }>;
}

export interface RunHooks {
  /** Called with the whole plan before anything is applied; may ask for confirmation and throw to stop. */
  confirm?: (preview: StepResult[]) => Promise<void>;
  /** Called as each step starts inspecting or applying, for the progress display. */
  onStep?: (step: AnyStep, phase: "inspect" | "apply") => void;
  /** Runs a step's ops, so that the progress display can show what the step reports on the step's own line. */
  within?: <T>(step: AnyStep, work: () => Promise<T>) => Promise<T>;
  /** Called with each step's final result as soon as it is known (apply phase): steps that run at the same time end in any order. */
  onResult?: (result: StepResult) => void;
}

/** The outputs of the steps of one run: the runner writes them, steps read them. */
export class RunUpstream implements Upstream {
  private readonly entries = new Map<StepId, UpstreamEntry<unknown>>();

  get<K extends keyof StepOutputs>(id: K): UpstreamEntry<StepOutputs[K]> | undefined {
    return this.entries.get(id) as UpstreamEntry<StepOutputs[K]> | undefined;
  }

  pending(id: StepId): boolean {
    return this.entries.get(id)?.pending ?? false;
  }

  set(id: StepId, pending: boolean, output: unknown): void {
    this.entries.set(id, { pending, output });
  }

  outputs(): RunOutcome["outputs"] {
    return Object.fromEntries([...this.entries].map(([id, entry]) => [id, entry.output]));
  }
}

interface Planned {
  step: AnyStep;
  state: unknown;
  plan: StepPlan<unknown>;
}

/** Whether a plan has ops to apply. */
const changes = (plan: StepPlan<unknown>) => plan.ops.length > 0 && !plan.skipReason;

/** Inspects and plans one step, and records what later steps may know of it. */
export async function inspectStep(step: AnyStep, reads: Reads, upstream: RunUpstream): Promise<Planned> {
  const state = await step.inspect(reads, upstream);
  const plan = step.plan(state);
  upstream.set(step.id, changes(plan), step.output(state, []));
  return { step, state, plan };
}

export function previewOf({ step, plan }: Planned): StepResult {
  if (plan.skipReason) return { id: step.id, status: "skipped", summary: plan.skipReason, changes: [], details: plan.details };
  if (plan.ops.length === 0) return { id: step.id, status: "unchanged", summary: plan.summary, changes: [], details: plan.details };
  return {
    id: step.id,
    status: "planned",
    summary: plan.summary,
    changes: plan.ops.map((op) => step.describe(op)),
    details: plan.details,
    drift: plan.drift,
  };
}

function failedResult(step: AnyStep, failure: CliError, plan?: StepPlan<unknown>): StepResult {
  const details = plan?.details || failure.details ? { ...plan?.details, ...failure.details } : undefined;
  return { id: step.id, status: "failed", summary: failure.message, changes: plan ? plan.ops.map((op) => step.describe(op)) : [], details };
}

export interface RunOptions {
  dryRun: boolean;
  signal: AbortSignal;
}

export async function runSteps(steps: AnyStep[], ports: RunPorts, options: RunOptions, hooks: RunHooks = {}): Promise<RunOutcome> {
  const upstream = new RunUpstream();
  const blame = (error: unknown) => toCliError(options.signal.aborted ? options.signal.reason : error);
  // Reads that need nothing from earlier steps start now and overlap; inspect then goes step by step.
  for (const step of prefetchOrder(steps)) step.prefetch?.(ports.reads);
  const planned: Planned[] = [];
  for (const step of steps) {
    try {
      hooks.onStep?.(step, "inspect");
      planned.push(await inspectStep(step, ports.reads, upstream));
    } catch (error) {
      const failure = blame(error);
      const results = planned.map(previewOf);
      if (!belongsToCommand(failure)) results.push(failedResult(step, failure));
      return { results, error: failure, changesPending: planned.some((p) => changes(p.plan)), outputs: upstream.outputs() };
    }
  }
  const preview = planned.map(previewOf);
  const changesPending = preview.some((r) => r.status === "planned");
  if (options.dryRun || !changesPending) return { results: preview, error: undefined, changesPending, outputs: upstream.outputs() };
  try {
    await hooks.confirm?.(preview);
  } catch (error) {
    return {
      results: preview.map((r) => (r.status === "planned" ? { ...r, status: "skipped", summary: `Not applied: ${r.summary}` } : r)),
      error: toCliError(error),
      changesPending,
      outputs: upstream.outputs(),
    };
  }
  const { results, failure } = await applyInSchedule(
    planned,
    preview,
    (index) => applyStep(planned[index]!, ports, upstream, hooks),
    hooks,
  );
  return { results, error: failure ? blame(failure.error) : undefined, changesPending, outputs: upstream.outputs() };
}

/**
 * The steps that follow no other (`after: []`: the package, the service identity) start their reads first,
 * then the rest in plan order. Their reads begin the longest chains (the directory's domains, then the user;
 * the app, then its service principal), and the first read that needs a token decides which resource the
 * interactive sign-in is for: the other resource's token follows one refresh later, beside those reads.
 */
function prefetchOrder(steps: AnyStep[]): AnyStep[] {
  const independent = steps.filter((step) => step.after?.length === 0);
  return [...independent, ...steps.filter((step) => !independent.includes(step))];
}

/** Applies one step's ops in plan order (inspecting it again first when its plan assumed pending ops). */
async function applyStep(planned: Planned, ports: RunPorts, upstream: RunUpstream, hooks: RunHooks): Promise<StepResult> {
  let { state, plan } = planned;
  const { step } = planned;
  if (plan.dependsOn?.length) {
    ({ state, plan } = await inspectStep(step, ports.reads, upstream));
    if (plan.ops.length === 0) return { id: step.id, status: "unchanged", summary: plan.summary, changes: [], details: plan.details };
  }
  hooks.onStep?.(step, "apply");
  const applied: unknown[] = [];
  const applyOne = (op: unknown) => step.apply(op, { writes: ports.writes, progress: ports.progress, applied });
  const applyOps = async () => {
    if (!step.independentOps) {
      for (const op of plan.ops) applied.push(await applyOne(op));
      return;
    }
    const settled = await Promise.allSettled(plan.ops.map(applyOne));
    for (const outcome of settled) if (outcome.status === "fulfilled") applied.push(outcome.value);
    const failed = settled.find((outcome) => outcome.status === "rejected");
    if (failed) throw failed.reason;
  };
  try {
    await (hooks.within ? hooks.within(step, applyOps) : applyOps());
  } finally {
    // What the applied ops made is known even when a later op failed (e.g. a password that must be shown).
    if (applied.length > 0) upstream.set(step.id, applied.length < plan.ops.length, step.output(state, applied));
  }
  const done = step.summarize(state, applied);
  return {
    id: step.id,
    status: "done",
    summary: done.summary,
    changes: plan.ops.map((op) => step.describe(op)),
    details: plan.details || done.details ? { ...plan.details, ...done.details } : undefined,
  };
}

/**
 * Starts each step once the steps it must follow have ended, until all have ended or one failed; returns
 * the results in plan order (steps not started after a failure are "not run").
 */
async function applyInSchedule(
  planned: Planned[],
  preview: StepResult[],
  apply: (index: number) => Promise<StepResult>,
  hooks: RunHooks,
): Promise<{ results: StepResult[]; failure: { step: AnyStep; error: unknown } | undefined }> {
  const results = new Map<number, StepResult>();
  const ended = new Set<StepId>();
  let failure: { step: AnyStep; error: unknown } | undefined;
  const settle = (index: number, result: StepResult) => {
    results.set(index, result);
    ended.add(planned[index]!.step.id);
    hooks.onResult?.(result);
  };
  const ready = (index: number): boolean => {
    const { step } = planned[index]!;
    const earlier = planned.slice(0, index).map((p) => p.step.id);
    const needs = step.after ? earlier.filter((id) => step.after!.includes(id)) : earlier;
    return needs.every((id) => ended.has(id));
  };
  const applyOne = async (index: number): Promise<void> => {
    const { step, plan } = planned[index]!;
    if (!changes(plan)) return settle(index, preview[index]!);
    try {
      settle(index, await apply(index));
    } catch (error) {
      failure ??= { step, error };
      settle(index, failedResult(step, toCliError(error), plan));
    }
  };
  const started = new Set<number>();
  const running = new Set<Promise<void>>();
  for (;;) {
    if (!failure) {
      for (let index = 0; index < planned.length; index++) {
        if (started.has(index) || !ready(index)) continue;
        started.add(index);
        const run: Promise<void> = applyOne(index).finally(() => running.delete(run));
        running.add(run);
      }
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  if (failure) {
    const failed = failure.step.id;
    planned.forEach(({ step }, index) => {
      if (!results.has(index)) settle(index, { id: step.id, status: "skipped", summary: `Not run: ${failed} failed.`, changes: [] });
    });
  }
  return { results: planned.map((_, index) => results.get(index)!), failure };
}
