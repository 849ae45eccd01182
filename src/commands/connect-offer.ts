import type { CommandSpec } from "../command.js";
import { UsageError } from "../errors.js";
import { IDENTITY_COMMAND_OPTIONS, OFFER_OPTIONS } from "../options.js";
import type { TenantCommand } from "../tenant-command.js";

/** connect-offer: the lead destination of the offers, written through Partner Center's API (SPEC §7). */
export const command: CommandSpec = {
  name: "connect-offer",
  summary: "write the lead destination into Partner Center offers (no paste)",
  description:
    "Sets each offer's Customer leads destination to this Dynamics through Partner Center's Product Ingestion API (preview): one configure job for all offers, waited for up to --sync-timeout; a re-run resumes a job still running. Only the offer's draft changes: publish the offer in Partner Center for it to take effect. The signed-in identity needs the Manager role in Partner Center. The secret comes from this run, CRM_LEAD_SETUP_SERVICE_PASSWORD / CRM_LEAD_SETUP_SERVICE_SECRET, --secret-stdin, or a hidden question.",
  examples: [
    "CRM_LEAD_SETUP_SERVICE_SECRET=… crm-lead-setup connect-offer --org-url https://contoso.crm4.dynamics.com --identity app --offer contoso-lead-saas",
    "crm-lead-setup connect-offer --sandbox --identity app --offer contoso-lead-saas --dry-run",
  ],
  options: [...IDENTITY_COMMAND_OPTIONS, ...OFFER_OPTIONS, "syncTimeout", "secretStdin"],
  async run(factory) {
    if (!factory.options.offer?.length)
      throw new UsageError({
        code: "offer-missing",
        message: "connect-offer needs the offers to connect: --offer <id> (or CRM_LEAD_SETUP_OFFER).",
        hint: "Pass the Offer ID from the offer's Offer setup page in Partner Center, e.g. --offer contoso-lead-saas (comma-separated or repeated for several).",
      });
    const [{ runTenantCommand, tenantCommandDeps }, { connectOfferFor, requireOffersCloud }] = await Promise.all([
      import("../tenant-command.js"),
      import("./command-steps.js"),
    ]);
    requireOffersCloud(factory.options);
    const deps = await tenantCommandDeps(factory);
    return runTenantCommand(deps, flow, [connectOfferFor(deps)]);
  },
};

/** How the shared tenant flow confirms and ends this command. */
const flow: TenantCommand = { confirmDefault: true };
