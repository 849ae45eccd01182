import type { CommandSpec } from "../command.js";
import { IDENTITY_COMMAND_OPTIONS } from "../options.js";
import type { TenantCommand } from "../tenant-command.js";

/**
 * Signs in as the service identity and writes (and deletes) one test lead. verify exists to do that:
 * running it is the consent, so nothing more is asked.
 */
export const command: CommandSpec = {
  name: "verify",
  summary: "prove Partner Center will succeed: sign in as the service identity and write a test lead",
  description:
    "Signs in as the service identity the way Partner Center does (the user's password, or the app's client secret), calls WhoAmI, writes an MSFT_TEST_<timestamp> lead with a lead source, and deletes it with your admin identity. The secret comes from CRM_LEAD_SETUP_SERVICE_PASSWORD (user) or CRM_LEAD_SETUP_SERVICE_SECRET (app), from standard input with --secret-stdin, or from a hidden question on a terminal. Exits 0 only when the lead was written.",
  examples: [
    "CRM_LEAD_SETUP_SERVICE_PASSWORD=… crm-lead-setup verify --org-url https://contoso.crm4.dynamics.com",
    'printf %s "$SECRET" | crm-lead-setup verify --identity app --secret-stdin --sandbox',
  ],
  options: [...IDENTITY_COMMAND_OPTIONS, "secretStdin"],
  async run(factory) {
    const [{ runTenantCommand, tenantCommandDeps }, { verifyFor }] = await Promise.all([
      import("../tenant-command.js"),
      import("./command-steps.js"),
    ]);
    const deps = await tenantCommandDeps(factory);
    return runTenantCommand(deps, flow, [verifyFor(deps)]);
  },
};

/** How the shared tenant flow confirms and ends this command. */
const flow: TenantCommand = { confirmDefault: true, confirmed: true };
