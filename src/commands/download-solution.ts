import type { CommandContext } from "../context.js";
import { runSteps } from "../run.js";
import { downloadSolutionStep } from "../steps/download-solution.js";
import type { Step } from "../steps/step.js";

export async function run(context: CommandContext) {
  const outcome = await runSteps(context, [downloadSolutionStep as Step<unknown>]);
  return { command: context.command, dryRun: context.options.dryRun, results: outcome.results, partnerCenter: null, error: outcome.error, newSecrets: [], changesPending: outcome.changesPending };
}
