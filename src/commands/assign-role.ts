import type { CommandContext } from "../context.js";
import { assignRoleStep } from "../steps/assign-role.js";
import type { Step } from "../steps/step.js";
import { applySteps } from "./apply.js";

export const run = (context: CommandContext) => applySteps(context, [assignRoleStep as Step<unknown>]);
