import type { CommandContext } from "../context.js";
import { teardownStep } from "../steps/teardown.js";
import type { Step } from "../steps/step.js";
import { applySteps } from "./apply.js";

export const run = (context: CommandContext) => applySteps(context, [teardownStep as Step<unknown>]);
