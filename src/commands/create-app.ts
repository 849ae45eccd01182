import type { CommandContext } from "../context.js";
import { runTenantCommand } from "../tenant-command.js";
import { createAppFor } from "./command-steps.js";

export const run = (context: CommandContext) =>
  runTenantCommand(context, { confirmDefault: true, partnerCenter: true }, [createAppFor(context.options)]);
