import { belongsToCommand, CliError, toCliError } from "./errors.js";
import type { CommandContext } from "./context.js";
import type { Plan, Step, StepResult } from "./steps/step.js";

/**
 * Runs steps in two phases: inspect and plan every step in order (later steps see which earlier ones will
 * change something), then, unless it is a dry run, let the caller confirm and apply the plans. A step
 * applies once the earlier steps it needs (`Step.after`; by default all of them) have ended, so steps that
 * do not need each other run at the same time: the service user is created, and Entra starts syncing it
 * to Dynamics, while the solution imports. A plan that assumed an earlier step's pending change is
 * re-inspected once that change is made. After a failure no further step starts; steps already running
 * finish, and the rest are reported as not run. Results are returned in plan order. The outcome is data;
 * rendering it is the renderer's job.
 */
export interface RunOutcome {
  results: StepResult[];
  error: CliError | undefined;
  /** True when the plan had changes (for --detailed-exitcode). */
  changesPending: boolean;
}

export interface RunHooks {
  /** Called with the whole plan before anything is applied; may ask for confirmation and throw to stop. */
  confirm?: (preview: StepResult[]) => Promise<void>;
  /** Called as each step starts inspecting or applying, for the progress display. */
  onStep?: (step: Step<unknown>, phase: "inspect" | "apply") => void;
  /** Runs a step's apply, so that the progress display can show what the step reports on the step's own line. */
  within?: <T>(step: Step<unknown>, work: () => Promise<T>) => Promise<T>;
  /** Called with each step's final result as soon as it is known (apply phase): steps that run at the same time end in any order. */
  onResult?: (result: StepResult) => void;
}

interface Planned {
  step: Step<unknown>;
  state: unknown;
  plan: Plan;
}

function previewOf({ step, plan }: Planned): StepResult {
  if (plan.skipReason) return { id: step.id, status: "skipped", summary: plan.skipReason, changes: [], details: plan.details };
  if (plan.changes.length === 0) return { id: step.id, status: "unchanged", summary: plan.summary, changes: [], details: plan.details };
  return { id: step.id, status: "planned", summary: plan.summary, changes: plan.changes, details: plan.details, drift: plan.drift };
}

export async function runSteps(context: CommandContext, steps: Step<unknown>[], hooks: RunHooks = {}): Promise<RunOutcome> {
  const planned: Planned[] = [];
  const failed = (step: Step<unknown>, error: unknown, plan?: Plan): StepResult => {
    const failure = toCliError(context.signal.aborted ? context.signal.reason : error);
    const details = plan?.details || failure.details ? { ...plan?.details, ...failure.details } : undefined;
    return { id: step.id, status: "failed", summary: failure.message, changes: plan?.changes ?? [], details };
  };

  // Reads that need nothing from earlier steps start now and overlap; inspect then goes step by step.
  for (const step of steps) step.prefetch?.(context);
  for (const step of steps) {
    try {
      hooks.onStep?.(step, "inspect");
      const state = await step.inspect(context);
      const plan = step.plan(state, context);
      planned.push({ step, state, plan });
      if (plan.changes.length > 0 && !plan.skipReason) context.facts.pending.add(step.id);
    } catch (error) {
      const failure = toCliError(context.signal.aborted ? context.signal.reason : error);
      const results = belongsToCommand(failure) ? planned.map(previewOf) : [...planned.map(previewOf), failed(step, error)];
      return { results, error: failure, changesPending: context.facts.pending.size > 0 };
    }
  }
  const preview = planned.map(previewOf);
  const changesPending = preview.some((r) => r.status === "planned");
  if (context.options.dryRun || !changesPending) return { results: preview, error: undefined, changesPending };

  try {
    await hooks.confirm?.(preview);
  } catch (error) {
    return {
      results: preview.map((r) => (r.status === "planned" ? { ...r, status: "skipped", summary: `Not applied: ${r.summary}` } : r)),
      error: toCliError(error),
      changesPending,
    };
  }

  const results = new Map<number, StepResult>();
  const settle = (index: number, result: StepResult) => {
    results.set(index, result);
    hooks.onResult?.(result);
  };
  const ids = planned.map((entry) => entry.step.id);
  const ended = new Set<string>();
  let failure: { step: Step<unknown>; error: unknown } | undefined;
  // Only earlier steps count as prerequisites, so the order of the list can never deadlock the run.
  const ready = (index: number) => {
    const needs = planned[index]!.step.after ?? ids.slice(0, index);
    return needs.every((id) => {
      const at = ids.indexOf(id);
      return at < 0 || at >= index || ended.has(id);
    });
  };

  const applyOne = async (index: number): Promise<void> => {
    let { state, plan } = planned[index]!;
    const { step } = planned[index]!;
    if (plan.skipReason || plan.changes.length === 0) {
      settle(index, preview[index]!);
      ended.add(step.id);
      return;
    }
    try {
      if (plan.dependsOn?.length) {
        state = await step.inspect(context);
        plan = step.plan(state, context);
        if (plan.changes.length === 0) {
          context.facts.pending.delete(step.id);
          settle(index, { id: step.id, status: "unchanged", summary: plan.summary, changes: [], details: plan.details });
          ended.add(step.id);
          return;
        }
      }
      hooks.onStep?.(step, "apply");
      const apply = () => step.apply(context, state, plan);
      const applied = await (hooks.within ? hooks.within(step, apply) : apply());
      context.facts.pending.delete(step.id);
      settle(index, {
        id: step.id,
        status: "done",
        summary: applied.summary,
        changes: plan.changes,
        details: { ...plan.details, ...applied.details },
      });
      ended.add(step.id);
    } catch (error) {
      failure ??= { step, error };
      settle(index, failed(step, error, plan));
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
    for (let index = 0; index < planned.length; index++) {
      if (!results.has(index))
        settle(index, { id: planned[index]!.step.id, status: "skipped", summary: `Not run: ${failure.step.id} failed.`, changes: [] });
    }
  }
  const ordered = planned.map((_, index) => results.get(index)!);
  return {
    results: ordered,
    error: failure ? toCliError(context.signal.aborted ? context.signal.reason : failure.error) : undefined,
    changesPending,
  };
}
