import { downloadSolutionStep } from "../steps/download-solution.js";
import { importSolutionStep } from "../steps/import-solution.js";
import { createUserStep } from "../steps/create-user.js";
import { createAppStep } from "../steps/create-app.js";
import { verifyStep } from "../steps/verify.js";
import { assignRoleStep } from "../steps/assign-role.js";
import { patchRoleStep } from "../steps/patch-role.js";
import type { Step } from "../steps/step.js";

import type { CommandContext } from "../context.js";

/** The steps of the Office 365 (user) identity, in the order the Partner Center page gives them. */
export const USER_IDENTITY_STEPS = [
  downloadSolutionStep,
  importSolutionStep,
  createUserStep,
  assignRoleStep,
  patchRoleStep,
] as Step<unknown>[];
/** The steps of the Azure Active Directory (app) identity that Partner Center recommends. */
export const APP_IDENTITY_STEPS = [
  downloadSolutionStep,
  importSolutionStep,
  createAppStep,
  assignRoleStep,
  patchRoleStep,
] as Step<unknown>[];

/** The steps init runs: the identity's steps, and verify last when --verify is given. */
export function identitySteps(context: CommandContext, withVerify = false): Step<unknown>[] {
  const steps = context.options.identity === "app" ? APP_IDENTITY_STEPS : USER_IDENTITY_STEPS;
  return withVerify ? [...steps, verifyStep as Step<unknown>] : steps;
}
