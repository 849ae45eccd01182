import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { removeFile, writePrivateFile } from "../auth/cache.js";
import type { CommandContext } from "../context.js";
import { removeConnectionFile, writeConnectionFile } from "../sandbox-link.js";
import type { FaultConfig } from "../sandbox/faults.js";
import type { SandboxScenario } from "../sandbox/state.js";
import type { SandboxCloud } from "../sandbox/server.js";
import { UsageError } from "../errors.js";
import { runnable } from "../invocation.js";

/**
 * Runs the emulated tenant in the foreground until Ctrl+C, and writes the connection file through which
 * `--sandbox` on any command in another shell uses it.
 */
export async function run(context: CommandContext) {
  const { io, paths } = context;
  const { startSandbox } = await import("../sandbox/server.js");
  const { cloud, ...scenario } = (context.options.scenario ?? {}) as Partial<SandboxScenario> & { cloud?: SandboxCloud };
  if (cloud !== undefined && !["public", "gcc", "gcchigh", "dod", "china"].includes(cloud)) {
    throw new UsageError({ code: "sandbox-cloud-unknown", message: `--scenario cloud "${String(cloud)}" is not a cloud the sandbox can pose as.`, hint: "Use public, gcc, gcchigh, dod or china." });
  }
  const sandbox = await startSandbox({ cloud, scenario, faults: context.options.faults as FaultConfig | undefined });
  const { connection } = sandbox;
  await removeStaleSandboxCaches(paths.configDir);
  const connectionPath = await writeConnectionFile(paths, connection);
  const caPath = join(paths.configDir, "sandbox-ca.pem");
  await writePrivateFile(caPath, connection.caPem);

  const { style } = io;
  const rows: [string, string][] = [
    ["Tenant", `Contoso (sandbox), ${connection.tenantId}, ${connection.tenantDomain}${connection.cloud ? `, posing as the ${connection.cloud} cloud's hosts` : ""}`],
    ["Dynamics URL", connection.orgUrl],
    ["Entra sign-in", `${connection.loginOrigin}/${connection.tenantId}`],
    ["Microsoft Graph", connection.graphOrigin],
    ["Power Platform", connection.bapOrigin],
    ["Solution package", connection.downloadUrl],
    ["Admin account", `${connection.adminUserName} (device-code sign-in is approved automatically)`],
    ["Automation app", `${connection.automationClientId} (client secret in the connection file)`],
    ["Connection file", `${connectionPath} (0600)`],
    ["Sandbox CA", caPath],
  ];
  io.out(style.bold("Sandbox tenant running.") + style.dim(" Every Microsoft service here is emulated on this machine; nothing reaches Microsoft."));
  for (const [label, value] of rows) io.out(`  ${label.padEnd(17)} ${value}`);
  io.out("");
  io.out(`In another shell: ${style.cyan(runnable("crm-lead-setup download-solution --sandbox"))}`);
  io.out(style.dim("Press Ctrl+C to stop."));

  await new Promise<void>((resolve) => {
    if (context.signal.aborted) return resolve();
    context.signal.addEventListener("abort", () => resolve(), { once: true });
    process.once("SIGTERM", () => resolve());
  });
  await removeConnectionFile(paths, connection.instanceId);
  await removeFile(caPath);
  await sandbox.close();
  io.out(`Sandbox stopped after ${sandbox.requests.length} requests.`);
  return {
    command: context.command,
    dryRun: false,
    results: [],
    partnerCenter: null,
    error: undefined,
    newSecrets: [],
  };
}

/** Token caches of earlier sandbox instances hold tokens no new sandbox accepts. */
async function removeStaleSandboxCaches(configDir: string): Promise<void> {
  let names: string[] = [];
  try {
    names = await readdir(configDir);
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.startsWith("msal-cache-sandbox-"))) await removeFile(join(configDir, name));
}
