import type { CommandSpec } from "../command.js";
import { CHANGE_OPTIONS, OUTPUT_OPTIONS, TENANT_OPTIONS } from "../options.js";
import type { TenantCommand } from "../tenant-command.js";

/**
 * The licensed service user Partner Center signs in as; ends with the Partner Center values.
 */
export const command: CommandSpec = {
  name: "create-user",
  summary: "create the licensed service user Partner Center signs in as",
  description:
    "Creates the service user in Entra ID (default mp-leadwriter@<default domain>) with a usage location, no forced password change, a password that never expires and a generated password, and assigns a Dynamics licence with a free seat. An existing user of that name is adopted and brought into line. Never assigns an admin role.",
  examples: [
    "crm-lead-setup create-user --org-url https://contoso.crm4.dynamics.com --license DYN365_ENTERPRISE_SALES",
    "crm-lead-setup create-user --sandbox --user-name leads@contoso.com --usage-location GB --yes",
  ],
  options: [
    ...TENANT_OPTIONS,
    ...CHANGE_OPTIONS,
    ...OUTPUT_OPTIONS,
    "userName",
    "displayName",
    "usageLocation",
    "license",
    "keepPasswordExpiry",
  ],
  async run(factory) {
    const [{ runTenantCommand, tenantCommandDeps }, { createUserStep }, { canOfferPasswordReset, createUserInputs }] = await Promise.all([
      import("../tenant-command.js"),
      import("../steps/create-user.js"),
      import("./command-steps.js"),
    ]);
    const deps = await tenantCommandDeps(factory);
    return runTenantCommand(deps, flow, [createUserStep(createUserInputs(deps.options, canOfferPasswordReset(deps)))]);
  },
};

/** How the shared tenant flow confirms and ends this command. */
const flow: TenantCommand = { confirmDefault: true, partnerCenter: true };
