import type { CommandContext } from "../context.js";
import { createUserStep } from "../steps/create-user.js";
import type { Step } from "../steps/step.js";
import { applySteps } from "./apply.js";

export const run = (context: CommandContext) => applySteps(context, [createUserStep as Step<unknown>], { partnerCenter: true });
