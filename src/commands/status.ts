import { belongsToCommand, TenantNotReadyError, toCliError } from "../errors.js";
import type { CommandContext } from "../context.js";
import type { StepResult } from "../steps/step.js";
import { identitySteps } from "./steps.js";

/**
 * Read-only: inspects every step and reports it as done, missing or drifted. A step whose prerequisite is
 * missing (no user, no role) is itself missing, with the reason. With --detailed-exitcode it exits 10
 * when anything is missing or drifted.
 */
type State = "done" | "missing" | "drifted" | "failed";

export async function run(context: CommandContext) {
  const inspectOnly = { ...context, options: { ...context.options, dryRun: true } };
  const results: (StepResult & { details: { state: State } })[] = [];
  let error;
  for (const step of identitySteps(context)) {
    try {
      const plan = step.plan(await step.inspect(inspectOnly), inspectOnly);
      const state: State = plan.changes.length === 0 || plan.skipReason ? "done" : plan.drift ? "drifted" : "missing";
      if (state !== "done") context.facts.pending.add(step.id);
      results.push({
        id: step.id,
        status: state === "done" ? "unchanged" : "planned",
        summary: plan.summary,
        changes: plan.changes,
        details: { ...plan.details, state },
      });
    } catch (caught) {
      const failure = toCliError(caught);
      if (failure instanceof TenantNotReadyError) {
        results.push({ id: step.id, status: "planned", summary: failure.message, changes: [], details: { state: "missing" } });
        continue;
      }
      if (!belongsToCommand(failure))
        results.push({ id: step.id, status: "failed", summary: failure.message, changes: [], details: { state: "failed" } });
      error = failure;
      break;
    }
  }
  if (!context.io.json) {
    const { style } = context.io;
    const colour = { done: style.green, missing: style.yellow, drifted: style.yellow, failed: style.red } as const;
    context.io.out(style.bold(`${"STEP".padEnd(19)}${"STATE".padEnd(9)}DETAIL`));
    for (const result of results)
      context.io.out(`${result.id.padEnd(19)}${colour[result.details.state](result.details.state.padEnd(9))}${result.summary}`);
  }
  const changesPending = results.some((r) => r.details.state !== "done");
  // status only ever reads: it is not a dry run of anything, so it does not say "nothing was changed".
  return {
    command: context.command,
    dryRun: false,
    results: context.io.json ? results : [],
    partnerCenter: null,
    error,
    newSecrets: [],
    changesPending,
  };
}
