import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { CommandSpec } from "../command.js";
import type { IO } from "../io.js";
import type { CliOptions, CommandName } from "../options.js";
import type { AppPaths } from "../paths.js";
import type { FaultConfig } from "../sandbox/faults.js";
import type { SandboxScenario } from "../sandbox/state.js";
import type { SandboxWideSwitches } from "../sandbox/switches.js";
import type { SandboxConnection } from "../sandbox/server.js";
import { UsageError } from "../errors.js";
import type { CommandOutcome } from "../render.js";

/**
 * Runs the emulated tenant in the foreground until Ctrl+C, and writes the connection file through which
 * `--sandbox` on any command in another shell uses it. There is one connection file per config directory,
 * so a second sandbox is refused while the first answers: taking the file over would orphan the first.
 */
export const command: CommandSpec = {
  name: "sandbox",
  summary: "run the emulated tenant for step-by-step use",
  description:
    "Starts an emulated tenant (Entra ID, Microsoft Graph, Dataverse, Power Platform admin) on this machine over HTTPS with its own certificate authority, and keeps it running until Ctrl+C. Other commands use it with --sandbox.",
  examples: [
    "crm-lead-setup sandbox",
    `crm-lead-setup sandbox --scenario '{"userBusinessUnit":"child"}'`,
    `crm-lead-setup sandbox --faults '{"throttleFirstCall":{"retryAfterSeconds":1}}'`,
  ],
  options: ["json", "color", "scenario", "faults"],
  run,
};

/** What the sandbox command uses: no tenant link, no prompter. */
export interface SandboxCommandDeps {
  name: CommandName;
  io: IO;
  paths: AppPaths;
  signal: AbortSignal;
  options: Pick<CliOptions, "scenario" | "faults">;
}

async function run({ name, io, paths, signal, options }: SandboxCommandDeps): Promise<CommandOutcome> {
  const [
    { writePrivateFile, removeFile },
    { findRunningSandbox, removeConnectionFile, writeConnectionFile },
    { renderJson },
    { runnable },
  ] = await Promise.all([import("../auth/cache.js"), import("../sandbox-link.js"), import("../render.js"), import("../invocation.js")]);
  const { cloud, latencyMs, ...scenario } = (options.scenario ?? {}) as Partial<SandboxScenario> & SandboxWideSwitches;
  refuseSecondSandbox(await findRunningSandbox(paths));
  const { startSandbox } = await import("../sandbox/server.js");
  const sandbox = await startSandbox({ cloud, latencyMs, scenario, faults: options.faults as FaultConfig | undefined });
  const { connection } = sandbox;
  await removeStaleSandboxCaches(paths.configDir, removeFile);
  const connectionPath = await writeConnectionFile(paths, connection);
  const caPath = join(paths.configDir, "sandbox-ca.pem");
  await writePrivateFile(caPath, connection.caPem);

  const outcome: CommandOutcome = {
    command: name,
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
    printEndpoints(io, connection, connectionPath, caPath, runnable("crm-lead-setup init --sandbox"));
  }

  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
    process.once("SIGTERM", () => resolve());
  });
  // Only this instance's files: another sandbox may have written its own since.
  await removeConnectionFile(paths, connection.instanceId);
  if ((await readFile(caPath, "utf8").catch(() => undefined)) === connection.caPem) await removeFile(caPath);
  await sandbox.close();
  io.out(`Sandbox stopped after ${sandbox.requests.length} requests.`);
  return outcome;
}

function refuseSecondSandbox(running: SandboxConnection | undefined): void {
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

function printEndpoints(io: IO, connection: SandboxConnection, connectionPath: string, caPath: string, initCommand: string): void {
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
  io.out(`In another shell: ${style.cyan(initCommand)}`);
  io.out(style.dim("Press Ctrl+C to stop."));
}

/** Token caches of earlier sandbox instances hold tokens no new sandbox accepts. */
async function removeStaleSandboxCaches(configDir: string, removeFile: (path: string) => Promise<unknown>): Promise<void> {
  let names: string[] = [];
  try {
    names = await readdir(configDir);
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.startsWith("msal-cache-sandbox-"))) await removeFile(join(configDir, name));
}
