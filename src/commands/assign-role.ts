import type { CommandSpec } from "../command.js";
import { IDENTITY_COMMAND_OPTIONS } from "../options.js";
import type { TenantCommand } from "../tenant-command.js";

/**
 * Waits for the service identity to reach Dynamics, then gives it the Lead Writer role of its business unit.
 */
export const command: CommandSpec = {
  name: "assign-role",
  summary: "give the service user the Microsoft Marketplace Lead Writer role",
  description:
    "Waits (up to --sync-timeout) until the service user has synchronised from Entra ID into Dynamics, then assigns the copy of the Lead Writer role that belongs to the user's business unit.",
  examples: [
    "crm-lead-setup assign-role --org-url https://contoso.crm4.dynamics.com",
    "crm-lead-setup assign-role --sandbox --sync-timeout 1200 --yes",
  ],
  options: [...IDENTITY_COMMAND_OPTIONS, "syncTimeout", "forceSync", "powerPlatformAudience"],
  async run(factory) {
    const [{ runTenantCommand, tenantCommandDeps }, { assignRoleFor }] = await Promise.all([
      import("../tenant-command.js"),
      import("./command-steps.js"),
    ]);
    const deps = await tenantCommandDeps(factory);
    return runTenantCommand(deps, flow, [assignRoleFor(deps.options)]);
  },
};

/** How the shared tenant flow confirms and ends this command. */
const flow: TenantCommand = { confirmDefault: true };
