import type { CommandContext } from "../context.js";
import { downloadSolutionStep } from "../steps/download-solution.js";
import { importSolutionStep } from "../steps/import-solution.js";
import type { Step } from "../steps/step.js";
import { applySteps } from "./apply.js";

/** The package comes first: a cached or local one is used as is, otherwise it is downloaded. */
export const run = (context: CommandContext) => applySteps(context, [downloadSolutionStep, importSolutionStep] as Step<unknown>[]);
