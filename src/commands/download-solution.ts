import type { CommandContext } from "../context.js";
import { runTenantCommand } from "../tenant-command.js";
import { downloadSolutionStep } from "../steps/download-solution.js";
import { downloadInputs } from "./command-steps.js";

/** Downloading touches no tenant: nothing to confirm. */
export const run = (context: CommandContext) =>
  runTenantCommand(context, { confirmDefault: true, confirmed: true }, [downloadSolutionStep(downloadInputs(context))]);
