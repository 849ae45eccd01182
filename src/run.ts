import { CliError, toCliError } from "./errors.js";
import type { CommandContext } from "./context.js";
import type { Plan, Step, StepResult } from "./steps/step.js";

/**
 * Runs steps in two phases: inspect and plan every step (later steps see which earlier ones will change
 * something), then, unless it is a dry run, let the caller confirm and apply each plan in order. A plan
 * that assumed an earlier step's pending change is re-inspected once that change is made. The outcome
 * is data; rendering it is the renderer's job.
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
  /** Called with each step's final result as soon as it is known (apply phase), in order. */
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
    return { id: step.id, status: "failed", summary: failure.message, changes: plan?.changes ?? [], details: plan?.details };
  };

  for (const step of steps) {
    try {
      hooks.onStep?.(step, "inspect");
      const state = await step.inspect(context);
      const plan = step.plan(state, context);
      planned.push({ step, state, plan });
      if (plan.changes.length > 0 && !plan.skipReason) context.facts.pending.add(step.id);
    } catch (error) {
      const results = [...planned.map(previewOf), failed(step, error)];
      return { results, error: toCliError(context.signal.aborted ? context.signal.reason : error), changesPending: context.facts.pending.size > 0 };
    }
  }
  const preview = planned.map(previewOf);
  const changesPending = preview.some((r) => r.status === "planned");
  if (context.options.dryRun || !changesPending) return { results: preview, error: undefined, changesPending };

  try {
    await hooks.confirm?.(preview);
  } catch (error) {
    return { results: preview.map((r) => (r.status === "planned" ? { ...r, status: "skipped", summary: `Not applied: ${r.summary}` } : r)), error: toCliError(error), changesPending };
  }

  const results: StepResult[] = [];
  const settle = (result: StepResult) => {
    results.push(result);
    hooks.onResult?.(result);
  };
  for (const [index, entry] of planned.entries()) {
    let { state, plan } = entry;
    const { step } = entry;
    if (plan.skipReason || plan.changes.length === 0) {
      settle(preview[index]!);
      continue;
    }
    try {
      if (plan.dependsOn?.length) {
        state = await step.inspect(context);
        plan = step.plan(state, context);
        if (plan.changes.length === 0) {
          context.facts.pending.delete(step.id);
          settle({ id: step.id, status: "unchanged", summary: plan.summary, changes: [], details: plan.details });
          continue;
        }
      }
      hooks.onStep?.(step, "apply");
      const applied = await step.apply(context, state, plan);
      context.facts.pending.delete(step.id);
      settle({ id: step.id, status: "done", summary: applied.summary, changes: plan.changes, details: { ...plan.details, ...applied.details } });
    } catch (error) {
      settle(failed(step, error, plan));
      for (const rest of planned.slice(index + 1)) {
        settle({ id: rest.step.id, status: "skipped", summary: `Not run: ${step.id} failed.`, changes: [] });
      }
      return { results, error: toCliError(context.signal.aborted ? context.signal.reason : error), changesPending };
    }
  }
  return { results, error: undefined, changesPending };
}
