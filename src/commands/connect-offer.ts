import type { CommandContext } from "../context.js";
import { inquirerPrompter, type Prompter } from "../prompter.js";
import { runTenantCommand } from "../tenant-command.js";
import { connectOfferFor, requireOffersCloud } from "./command-steps.js";
import { UsageError } from "../errors.js";

/** connect-offer: the lead destination of the offers, written through Partner Center's API (SPEC §7). */
export async function run(context: CommandContext) {
  if (!context.options.offer?.length)
    throw new UsageError({
      code: "offer-missing",
      message: "connect-offer needs the offers to connect: --offer <id> (or CRM_LEAD_SETUP_OFFER).",
      hint: "Pass the Offer ID from the offer's Offer setup page in Partner Center, e.g. --offer contoso-lead-saas (comma-separated or repeated for several).",
    });
  requireOffersCloud(context.options);
  let prompter: Promise<Prompter> | undefined;
  const ask = () => (prompter ??= inquirerPrompter(context.io, context.signal));
  return runTenantCommand(context, { confirmDefault: true }, [connectOfferFor(context, ask)]);
}
