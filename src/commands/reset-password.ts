import type { CommandContext } from "../context.js";
import { newSecretStep, resetPasswordStep } from "../steps/reset-password.js";
import type { Step } from "../steps/step.js";
import { applySteps } from "./apply.js";

/** The user identity gets a new password; the app identity a new client secret. */
export const run = (context: CommandContext) =>
  applySteps(context, [(context.options.identity === "app" ? newSecretStep : resetPasswordStep) as Step<unknown>], { partnerCenter: true });
