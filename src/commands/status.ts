import type { CommandContext } from "../context.js";
import { runSteps } from "../run.js";
import { identitySteps } from "./steps.js";

/**
 * Read-only: inspects every step and reports it as done, missing or drifted. With --detailed-exitcode it
 * exits 10 when anything is missing or drifted.
 */
export async function run(context: CommandContext) {
  const inspectOnly = { ...context, options: { ...context.options, dryRun: true } };
  const outcome = await runSteps(inspectOnly, identitySteps(context));
  const results = outcome.results.map((result) => {
    const state = result.status === "unchanged" || result.status === "skipped" ? "done" : result.status === "failed" ? "failed" : result.drift ? "drifted" : "missing";
    return { ...result, details: { ...result.details, state } };
  });
  if (!context.io.json && !outcome.error) {
    const { style } = context.io;
    const colour = { done: style.green, missing: style.yellow, drifted: style.yellow, failed: style.red } as const;
    context.io.out(style.bold(`${"STEP".padEnd(19)}${"STATE".padEnd(9)}DETAIL`));
    for (const result of results) {
      const state = result.details.state as keyof typeof colour;
      context.io.out(`${result.id.padEnd(19)}${colour[state](state.padEnd(9))}${result.summary}`);
    }
  }
  // status only ever reads: it is not a dry run of anything, so it does not say "nothing was changed".
  return { command: context.command, dryRun: false, results: context.io.json ? results : [], partnerCenter: null, error: outcome.error, newSecrets: [], changesPending: outcome.changesPending };
}
