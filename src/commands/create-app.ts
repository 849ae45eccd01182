import type { CommandContext } from "../context.js";
import { createAppStep } from "../steps/create-app.js";
import type { Step } from "../steps/step.js";
import { applySteps } from "./apply.js";

export const run = (context: CommandContext) =>
  applySteps({ ...context, options: { ...context.options, identity: "app" } }, [createAppStep as Step<unknown>], { partnerCenter: true });
