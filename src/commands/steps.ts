import { downloadSolutionStep } from "../steps/download-solution.js";
import { importSolutionStep } from "../steps/import-solution.js";
import { createUserStep } from "../steps/create-user.js";
import { assignRoleStep } from "../steps/assign-role.js";
import { patchRoleStep } from "../steps/patch-role.js";
import type { Step } from "../steps/step.js";

/** The steps of the Office 365 (user) identity, in the order the Partner Center page gives them. */
export const USER_IDENTITY_STEPS = [downloadSolutionStep, importSolutionStep, createUserStep, assignRoleStep, patchRoleStep] as Step<unknown>[];
