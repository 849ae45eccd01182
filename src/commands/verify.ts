import type { CommandContext } from "../context.js";
import { inquirerPrompter, type Prompter } from "../prompter.js";
import { runTenantCommand } from "../tenant-command.js";
import { verifyFor } from "./command-steps.js";

/** verify exists to write (and delete) one test lead: running it is the consent, so nothing more is asked. */
export function run(context: CommandContext) {
  let prompter: Promise<Prompter> | undefined;
  const ask = () => (prompter ??= inquirerPrompter(context.io, context.signal));
  return runTenantCommand(context, { confirmDefault: true, confirmed: true }, [verifyFor(context, ask)]);
}
