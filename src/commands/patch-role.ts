import type { CommandContext } from "../context.js";
import { runTenantCommand } from "../tenant-command.js";
import { patchRoleStep } from "../steps/patch-role.js";

export const run = (context: CommandContext) => runTenantCommand(context, { confirmDefault: true }, [patchRoleStep()]);
