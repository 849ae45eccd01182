import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { removeFile, writePrivateFile } from "../auth/cache.js";
import type { CommandContext } from "../context.js";
import { findRunningSandbox, removeConnectionFile, writeConnectionFile } from "../sandbox-link.js";
import type { FaultConfig } from "../sandbox/faults.js";
import type { SandboxScenario } from "../sandbox/state.js";
import type { SandboxWideSwitches } from "../sandbox/switches.js";
import type { SandboxConnection } from "../sandbox/server.js";
import { UsageError } from "../errors.js";
import { renderJson, type CommandOutcome } from "../render.js";
import { runnable } from "../invocation.js";

/**
 * Runs the emulated tenant in the foreground until Ctrl+C, and writes the connection file through which
 * `--sandbox` on any command in another shell uses it. There is one connection file per config directory,
 * so a second sandbox is refused while the first answers: taking the file over would orphan the first.
 */
export async function run(context: CommandContext): Promise<CommandOutcome> {
  const { io, paths } = context;
  const { cloud, latencyMs, ...scenario } = (context.options.scenario ?? {}) as Partial<SandboxScenario> & SandboxWideSwitches;
  if (cloud !== undefined && !["public", "gcc", "gcchigh", "dod", "china"].includes(cloud)) {
    throw new UsageError({
      code: "sandbox-cloud-unknown",
      message: `--scenario cloud "${String(cloud)}" is not a cloud the sandbox can pose as.`,
      hint: "Use public, gcc, gcchigh, dod or china.",
    });
  }
  await refuseSecondSandbox(context);
  const { startSandbox } = await import("../sandbox/server.js");
  const sandbox = await startSandbox({ cloud, latencyMs, scenario, faults: context.options.faults as FaultConfig | undefined });
  const { connection } = sandbox;
  await removeStaleSandboxCaches(paths.configDir);
  const connectionPath = await writeConnectionFile(paths, connection);
  const caPath = join(paths.configDir, "sandbox-ca.pem");
  await writePrivateFile(caPath, connection.caPem);

  const outcome: CommandOutcome = {
    command: context.command,
    dryRun: false,
    results: [],
    partnerCenter: null,
    error: undefined,
    newSecrets: [],
  };
  if (io.json) {
    // A script waits for this document to know where the sandbox is; it is the command's one document.
    renderJson(io, { ...outcome, report: { sandbox: endpointsDocument(connection, connectionPath, caPath) } });
    outcome.jsonWritten = true;
  } else {
    printEndpoints(context, connection, connectionPath, caPath);
  }

  await new Promise<void>((resolve) => {
    if (context.signal.aborted) return resolve();
    context.signal.addEventListener("abort", () => resolve(), { once: true });
    process.once("SIGTERM", () => resolve());
  });
  // Only this instance's files: another sandbox may have written its own since.
  await removeConnectionFile(paths, connection.instanceId);
  if ((await readFile(caPath, "utf8").catch(() => undefined)) === connection.caPem) await removeFile(caPath);
  await sandbox.close();
  io.out(`Sandbox stopped after ${sandbox.requests.length} requests.`);
  return outcome;
}

async function refuseSecondSandbox(context: CommandContext): Promise<void> {
  const running = await findRunningSandbox(context.paths);
  if (!running) return;
  throw new UsageError({
    code: "sandbox-already-running",
    message: `A sandbox is already running (pid ${running.pid}): Dynamics ${running.orgUrl}, sign-in ${running.loginOrigin}, Graph ${running.graphOrigin}.`,
    hint: `Use it with --sandbox from any shell, or stop it first (Ctrl+C where it runs, or kill ${running.pid}). For a second, separate sandbox, set CRM_LEAD_SETUP_CONFIG_DIR to another folder.`,
  });
}

/** Where everything is, without any secret (the automation app's secret stays in the 0600 connection file). */
function endpointsDocument(connection: SandboxConnection, connectionFile: string, caFile: string) {
  return {
    pid: connection.pid,
    instanceId: connection.instanceId,
    tenantId: connection.tenantId,
    tenantDomain: connection.tenantDomain,
    cloud: connection.cloud ?? null,
    orgUrl: connection.orgUrl,
    loginOrigin: connection.loginOrigin,
    graphOrigin: connection.graphOrigin,
    bapOrigin: connection.bapOrigin,
    downloadUrl: connection.downloadUrl,
    adminUserName: connection.adminUserName,
    automationClientId: connection.automationClientId,
    connectionFile,
    caFile,
  };
}

function printEndpoints(context: CommandContext, connection: SandboxConnection, connectionPath: string, caPath: string): void {
  const { io } = context;
  const { style } = io;
  const rows: [string, string][] = [
    [
      "Tenant",
      `Contoso (sandbox), ${connection.tenantId}, ${connection.tenantDomain}${connection.cloud ? `, posing as the ${connection.cloud} cloud's hosts` : ""}`,
    ],
    ["Dynamics URL", connection.orgUrl],
    ["Entra sign-in", `${connection.loginOrigin}/${connection.tenantId}`],
    ["Microsoft Graph", connection.graphOrigin],
    ["Power Platform", connection.bapOrigin],
    ["Solution package", connection.downloadUrl],
    ["Admin account", `${connection.adminUserName} (device-code sign-in is approved automatically)`],
    ["Automation app", `${connection.automationClientId} (client secret in the connection file)`],
    ["Partner Center", `offers ${(connection.partnerCenterOffers ?? []).join(", ")} at ${connection.graphOrigin}/rp/product-ingestion`],
    ["Connection file", `${connectionPath} (0600)`],
    ["Sandbox CA", caPath],
    ["Process", `pid ${connection.pid}`],
  ];
  io.out(
    style.bold("Sandbox tenant running.") +
      style.dim(" Every Microsoft service here is emulated on this machine; nothing reaches Microsoft."),
  );
  for (const [label, value] of rows) io.out(`  ${label.padEnd(17)} ${value}`);
  io.out("");
  io.out(`In another shell: ${style.cyan(runnable("crm-lead-setup init --sandbox"))}`);
  io.out(style.dim("Press Ctrl+C to stop."));
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
