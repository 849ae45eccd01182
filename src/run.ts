import { CliError, toCliError } from "./errors.js";
import type { CommandContext } from "./context.js";
import type { Plan, Step, StepResult } from "./steps/step.js";

/**
 * Runs steps: inspect and plan each, then (unless --dry-run) apply the ones with changes. The outcome is
 * data; rendering is the renderer's job. A failure stops the run and is reported with the results so far.
 */
export interface RunOutcome {
  results: StepResult[];
  error: CliError | undefined;
  /** True when a dry-run found changes to make (for --detailed-exitcode). */
  changesPending: boolean;
}

export async function runSteps(context: CommandContext, steps: Step<unknown>[]): Promise<RunOutcome> {
  const results: StepResult[] = [];
  let changesPending = false;
  for (const step of steps) {
    let plan: Plan | undefined;
    try {
      const state = await step.inspect(context);
      plan = step.plan(state);
      if (plan.skipReason) {
        results.push({ id: step.id, status: "skipped", summary: plan.skipReason, changes: [], details: plan.details });
        continue;
      }
      if (plan.changes.length === 0) {
        results.push({ id: step.id, status: "unchanged", summary: plan.summary, changes: [], details: plan.details });
        continue;
      }
      changesPending = true;
      if (context.options.dryRun) {
        results.push({ id: step.id, status: "planned", summary: plan.summary, changes: plan.changes, details: plan.details });
        continue;
      }
      const applied = await step.apply(context, state, plan);
      results.push({ id: step.id, status: "done", summary: applied.summary, changes: plan.changes, details: { ...plan.details, ...applied.details } });
    } catch (error) {
      const failure = toCliError(context.signal.aborted ? context.signal.reason : error);
      results.push({ id: step.id, status: "failed", summary: failure.message, changes: plan?.changes ?? [], details: plan?.details });
      return { results, error: failure, changesPending };
    }
  }
  return { results, error: undefined, changesPending };
}
