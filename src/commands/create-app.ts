import type { CommandContext } from "../context.js";
import { runTenantCommand } from "../tenant-command.js";
import { createAppFor } from "./command-steps.js";

/** create-app is the app identity's command: the summary and follow-up commands speak of the app. */
export const run = (context: CommandContext) =>
  runTenantCommand({ ...context, options: { ...context.options, identity: "app" } }, { confirmDefault: true, partnerCenter: true }, [
    createAppFor(context.options),
  ]);
