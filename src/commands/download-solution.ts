import type { CommandSpec } from "../command.js";
import { OUTPUT_OPTIONS } from "../options.js";
import type { TenantCommand } from "../tenant-command.js";

/**
 * Downloads (or checks) the Lead Writer package. Downloading touches no tenant: nothing to confirm; the
 * sandbox only supplies the package URL.
 */
export const command: CommandSpec = {
  name: "download-solution",
  summary: "download and check Microsoft's Lead Writer solution",
  description:
    'Downloads Microsoft\'s "Microsoft Marketplace Lead Writer" managed solution into the user cache (current URL first, then the two older ones), or checks the file given with --solution-file. Reads solution.xml and refuses anything that is not a managed Dynamics solution package. Prints the SHA-256.',
  examples: [
    "crm-lead-setup download-solution",
    "crm-lead-setup download-solution --solution-file ./MicrosoftMarketplacesLeadIntegrationSolution_1_0_0_0_target_CRM_6.1_managed.zip",
    "crm-lead-setup download-solution --sandbox --json",
  ],
  options: ["sandbox", "dryRun", "detailedExitcode", ...OUTPUT_OPTIONS, "solutionFile", "solutionUrl"],
  async run(factory) {
    const [{ runTenantCommand, tenantCommandDeps }, { downloadSolutionStep }, { downloadInputs }] = await Promise.all([
      import("../tenant-command.js"),
      import("../steps/download-solution.js"),
      import("./command-steps.js"),
    ]);
    const deps = await tenantCommandDeps(factory);
    return runTenantCommand(deps, flow, [downloadSolutionStep(downloadInputs(deps.options, deps.link.sandbox))]);
  },
};

/** How the shared tenant flow confirms and ends this command. */
const flow: TenantCommand = { confirmDefault: true, confirmed: true };
