import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { removeFile, writePrivateFile } from "./auth/cache.js";
import type { AppPaths } from "./paths.js";
import type { SandboxConnection } from "./sandbox/server.js";
import { HttpClient } from "./services/http.js";
import { Redactor } from "./redact.js";

/**
 * How a CLI process finds the sandbox tenant: `crm-lead-setup sandbox` writes a connection file (0600) in
 * the config directory; `--sandbox` uses it when that process is still alive and answering, and otherwise
 * starts a sandbox inside the command's own process for the length of the command.
 */

/** Sandboxes that a command started for itself (not one found through the connection file). */
const commandSandboxes = new Set<string>();

export function markCommandSandbox(connection: SandboxConnection): void {
  commandSandboxes.add(connection.instanceId);
}

/**
 * True when the sandbox runs inside this very command: its tenant is new and empty, and ends with the
 * command. Asked by instance, not by process id: a test runs the CLI in its own process beside a sandbox
 * that the command found through the connection file, as a separate `crm-lead-setup sandbox` would be.
 */
export function isInCommandSandbox(connection: SandboxConnection | undefined): boolean {
  return connection !== undefined && commandSandboxes.has(connection.instanceId);
}

/**
 * What to do next when the sandbox lived only for this command: the next command would meet a new, empty
 * tenant, so keep one running first (its state lives as long as that process).
 */
export const KEEP_A_SANDBOX_RUNNING =
  "run `crm-lead-setup sandbox` in another shell and leave it running; then run `crm-lead-setup init --sandbox --yes` here again (every --sandbox command then uses that tenant)";

export function connectionFilePath(paths: AppPaths): string {
  return join(paths.configDir, "sandbox.json");
}

export async function writeConnectionFile(paths: AppPaths, connection: SandboxConnection): Promise<string> {
  const path = connectionFilePath(paths);
  await writePrivateFile(path, JSON.stringify(connection, null, 2));
  return path;
}

/** Removes the connection file if it still describes this sandbox instance. */
export async function removeConnectionFile(paths: AppPaths, instanceId: string): Promise<void> {
  const current = await readConnectionFile(paths);
  if (current?.instanceId === instanceId) await removeFile(connectionFilePath(paths));
}

export async function readConnectionFile(paths: AppPaths): Promise<SandboxConnection | undefined> {
  try {
    return JSON.parse(await readFile(connectionFilePath(paths), "utf8")) as SandboxConnection;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The running sandbox described by the connection file, if it is alive and is the instance the file names. */
export async function findRunningSandbox(paths: AppPaths): Promise<SandboxConnection | undefined> {
  const connection = await readConnectionFile(paths);
  if (!connection || !processAlive(connection.pid)) return undefined;
  const probe = new HttpClient({
    onlyCaPem: connection.caPem,
    connectTo: connection.connectTo,
    redactor: new Redactor(),
    policy: { maxAttempts: 1, requestTimeoutMs: 2000 },
  });
  try {
    const response = await probe.send({ service: "entra", method: "GET", url: `${connection.loginOrigin}/_sandbox/health` });
    return response.status === 200 && response.json<{ instanceId: string }>().instanceId === connection.instanceId ? connection : undefined;
  } catch {
    return undefined;
  } finally {
    await probe.close();
  }
}

/**
 * What a browser does with the sandbox's authorize page: follow the redirect to the loopback address MSAL
 * listens on, or submit the form_post form there. Used only for `--auth browser` against the sandbox.
 */
export async function sandboxBrowser(http: HttpClient, authorizeUrl: string): Promise<void> {
  const page = await http.send({ service: "entra", method: "GET", url: authorizeUrl, followRedirects: false });
  const location = page.headers.location;
  if (page.status >= 300 && page.status < 400 && location) {
    await fetch(location);
    return;
  }
  const html = page.text();
  const action = /<form[^>]*action="([^"]+)"/i.exec(html)?.[1];
  if (page.status !== 200 || !action) throw new Error(`The sandbox's sign-in page answered ${page.status} without a form.`);
  const fields = new URLSearchParams();
  for (const match of html.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi))
    fields.set(match[1]!, match[2]!.replace(/&quot;/g, '"'));
  await fetch(action, { method: "POST", body: fields, headers: { "content-type": "application/x-www-form-urlencoded" } });
}
