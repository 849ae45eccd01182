import type { CommandContext } from "../context.js";
import { runTenantCommand } from "../tenant-command.js";
import { downloadSolutionStep } from "../steps/download-solution.js";
import { downloadInputs, importFor } from "./command-steps.js";

/** The package comes first: a cached or local one is used as is, otherwise it is downloaded. */
export const run = (context: CommandContext) =>
  runTenantCommand(context, { confirmDefault: true }, [downloadSolutionStep(downloadInputs(context)), importFor(context.options)]);
