import type { CommandSpec } from "../command.js";
import { CHANGE_OPTIONS, OUTPUT_OPTIONS, TENANT_OPTIONS } from "../options.js";
import type { TenantCommand } from "../tenant-command.js";

/**
 * Imports the Lead Writer solution. The package comes first: a cached or local one is used as is,
 * otherwise it is downloaded.
 */
export const command: CommandSpec = {
  name: "import-solution",
  summary: "import the Lead Writer solution into Dynamics",
  description:
    "Imports the managed Lead Writer solution with ImportSolutionAsync and watches it to the end, showing the import job's progress. Skips it when the same or a higher version is installed; watches an import already running instead of starting another; on failure shows the failing component.",
  examples: [
    "crm-lead-setup import-solution --org-url https://contoso.crm4.dynamics.com",
    "crm-lead-setup import-solution --sandbox --solution-file ./lead-writer.zip --yes",
  ],
  options: [...TENANT_OPTIONS, ...CHANGE_OPTIONS, ...OUTPUT_OPTIONS, "solutionFile", "solutionUrl", "syncTimeout"],
  async run(factory) {
    const [{ runTenantCommand, tenantCommandDeps }, { downloadSolutionStep }, { downloadInputs, importFor }] = await Promise.all([
      import("../tenant-command.js"),
      import("../steps/download-solution.js"),
      import("./command-steps.js"),
    ]);
    const deps = await tenantCommandDeps(factory);
    return runTenantCommand(deps, flow, [downloadSolutionStep(downloadInputs(deps.options, deps.link.sandbox)), importFor(deps.options)]);
  },
};

/** How the shared tenant flow confirms and ends this command. */
const flow: TenantCommand = { confirmDefault: true };
