import type { CommandContext } from "../context.js";
import { resetPasswordStep } from "../steps/reset-password.js";
import type { Step } from "../steps/step.js";
import { applySteps } from "./apply.js";

export const run = (context: CommandContext) => applySteps(context, [resetPasswordStep as Step<unknown>], { partnerCenter: true });
