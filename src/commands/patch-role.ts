import type { CommandSpec } from "../command.js";
import { CHANGE_OPTIONS, OUTPUT_OPTIONS, TENANT_OPTIONS } from "../options.js";
import type { TenantCommand } from "../tenant-command.js";

/**
 * Adds the privileges Partner Center asks for to the root business unit's Lead Writer role.
 */
export const command: CommandSpec = {
  name: "patch-role",
  summary: "widen the Lead Writer role's privileges as Partner Center asks",
  description:
    "On the root business unit's copy of the role: User Entity UI Settings Create/Read/Write at user level, System Job Read/Write/Append To at organization level, and member privilege inheritance. Adds only what is missing and reads the role back.",
  examples: ["crm-lead-setup patch-role --org-url https://contoso.crm4.dynamics.com", "crm-lead-setup patch-role --sandbox --dry-run"],
  options: [...TENANT_OPTIONS, ...CHANGE_OPTIONS, ...OUTPUT_OPTIONS],
  async run(factory) {
    const [{ runTenantCommand, tenantCommandDeps }, { patchRoleStep }] = await Promise.all([
      import("../tenant-command.js"),
      import("../steps/patch-role.js"),
    ]);
    return runTenantCommand(await tenantCommandDeps(factory), flow, [patchRoleStep()]);
  },
};

/** How the shared tenant flow confirms and ends this command. */
const flow: TenantCommand = { confirmDefault: true };
