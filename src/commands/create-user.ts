import type { CommandContext } from "../context.js";
import { runTenantCommand } from "../tenant-command.js";
import { createUserStep } from "../steps/create-user.js";
import { canOfferPasswordReset, createUserInputs } from "./command-steps.js";

export const run = (context: CommandContext) =>
  runTenantCommand(context, { confirmDefault: true, partnerCenter: true }, [
    createUserStep(createUserInputs(context.options, canOfferPasswordReset(context))),
  ]);
