import type { CommandSpec } from "../command.js";
import { IDENTITY_COMMAND_OPTIONS } from "../options.js";
import type { TenantCommand } from "../tenant-command.js";

/**
 * Removes what was set up. It deletes live things: its confirmation defaults to No (SPEC §3).
 */
export const command: CommandSpec = {
  name: "teardown",
  summary: "remove what crm-lead-setup set up (the solution only with --include-solution)",
  description:
    "Removes the Lead Writer role from the service identity, then deletes the service user (user identity) or the app registration, its service principal and disables its Dynamics application user (app identity). With --include-solution it also deletes the Lead Writer solution and with it the role. Plans, asks to confirm, and does nothing twice.",
  examples: [
    "crm-lead-setup teardown --org-url https://contoso.crm4.dynamics.com --dry-run",
    "crm-lead-setup teardown --sandbox --identity app --include-solution --yes",
  ],
  options: [...IDENTITY_COMMAND_OPTIONS, "includeSolution", "solutionFile", "solutionUrl"],
  async run(factory) {
    const [{ runTenantCommand, tenantCommandDeps }, { teardownStep }, { DEFAULT_APP_NAME }, { downloadInputs, identityOf }] =
      await Promise.all([
        import("../tenant-command.js"),
        import("../steps/teardown.js"),
        import("../steps/create-app.js"),
        import("./command-steps.js"),
      ]);
    const deps = await tenantCommandDeps(factory);
    const { options } = deps;
    return runTenantCommand(deps, flow, [
      teardownStep({
        identity: identityOf(options),
        userName: options.userName,
        appName: options.appName ?? DEFAULT_APP_NAME,
        includeSolution: options.includeSolution,
        solution: downloadInputs(options, deps.link.sandbox),
      }),
    ]);
  },
};

/** How the shared tenant flow confirms and ends this command. */
const flow: TenantCommand = { confirmDefault: false };
