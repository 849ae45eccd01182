import type { CommandContext } from "../context.js";
import { verifyStep } from "../steps/verify.js";
import type { Step } from "../steps/step.js";
import { applySteps } from "./apply.js";

/** verify exists to write (and delete) one test lead: running it is the consent, so nothing more is asked. */
export const run = (context: CommandContext) =>
  applySteps({ ...context, options: { ...context.options, yes: true } }, [verifyStep as Step<unknown>]);
