import type { CommandContext } from "../context.js";
import { patchRoleStep } from "../steps/patch-role.js";
import type { Step } from "../steps/step.js";
import { applySteps } from "./apply.js";

export const run = (context: CommandContext) => applySteps(context, [patchRoleStep as Step<unknown>]);
