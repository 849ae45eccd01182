import type { CommandContext } from "../context.js";
import { downloadSolutionStep } from "../steps/download-solution.js";
import type { Step } from "../steps/step.js";
import { applySteps } from "./apply.js";

/** Downloading touches no tenant: nothing to confirm. */
export const run = (context: CommandContext) =>
  applySteps({ ...context, options: { ...context.options, yes: true } }, [downloadSolutionStep as Step<unknown>]);
