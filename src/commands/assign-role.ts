import type { CommandContext } from "../context.js";
import { runTenantCommand } from "../tenant-command.js";
import { assignRoleFor } from "./command-steps.js";

export const run = (context: CommandContext) => runTenantCommand(context, { confirmDefault: true }, [assignRoleFor(context.options)]);
