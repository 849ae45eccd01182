import type { CommandContext } from "../context.js";
import { runTenantCommand } from "../tenant-command.js";
import { teardownStep } from "../steps/teardown.js";
import { DEFAULT_APP_NAME } from "../steps/create-app.js";
import { downloadInputs, identityOf } from "./command-steps.js";

/** Deletes live things: its confirmation defaults to No (SPEC §3). */
export const run = (context: CommandContext) =>
  runTenantCommand(context, { confirmDefault: false }, [
    teardownStep({
      identity: identityOf(context.options),
      userName: context.options.userName,
      appName: context.options.appName ?? DEFAULT_APP_NAME,
      includeSolution: context.options.includeSolution,
      solution: downloadInputs(context),
    }),
  ]);
