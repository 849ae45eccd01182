import type { CommandSpec } from "../command.js";
import { CHANGE_OPTIONS, OUTPUT_OPTIONS, TENANT_OPTIONS } from "../options.js";
import type { TenantCommand } from "../tenant-command.js";

/**
 * The app identity Partner Center recommends: the app registration, its secret and its Dynamics application user.
 */
export const command: CommandSpec = {
  name: "create-app",
  summary: "create the Entra app (the identity Partner Center recommends) and its Dynamics application user",
  description:
    "Creates an Entra app registration (accounts in any organizational directory, Dynamics CRM user_impersonation), its service principal, a client secret with an expiry (--secret-expiry-months, default 24), and the Dataverse application user in the root business unit. An app of that name is reused; a new secret is added only when none was delivered.",
  examples: [
    "crm-lead-setup create-app --org-url https://contoso.crm4.dynamics.com",
    'crm-lead-setup create-app --sandbox --app-name "Contoso lead writer" --secret-expiry-months 12 --yes',
  ],
  options: [...TENANT_OPTIONS, ...CHANGE_OPTIONS, ...OUTPUT_OPTIONS, "appName", "secretExpiryMonths"],
  async run(factory) {
    const [{ runTenantCommand, tenantCommandDeps }, { createAppFor }] = await Promise.all([
      import("../tenant-command.js"),
      import("./command-steps.js"),
    ]);
    const deps = await tenantCommandDeps(factory);
    return runTenantCommand(deps, flow, [createAppFor(deps.options)]);
  },
};

/** How the shared tenant flow confirms and ends this command. */
const flow: TenantCommand = { confirmDefault: true, partnerCenter: true };
