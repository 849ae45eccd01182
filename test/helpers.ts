import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSandbox, type Sandbox, type SandboxOptions } from "../src/sandbox/server.js";
import { writeConnectionFile } from "../src/sandbox-link.js";
import { appPaths } from "../src/paths.js";
import { HttpClient } from "../src/services/http.js";
import { Redactor } from "../src/redact.js";

export const ROOT = resolve(import.meta.dirname, "..");
export const BIN = join(ROOT, "bin", "crm-lead-setup.js");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

/** A fresh HOME with XDG folders inside, so each test has its own config and cache directories. */
export function tempHome(): { home: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(join(tmpdir(), "cls-home-"));
  mkdirSync(join(home, ".config"), { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_CACHE_HOME: join(home, ".cache"),
    LANG: "C.UTF-8",
  };
  return { home, env };
}

/** Runs the built CLI as a user would: a child process, no terminal, its own environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, options: { input?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 25_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, signal });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** A sandbox in the test process, published through the connection file of `home` so `--sandbox` finds it. */
export async function sandboxFor(env: NodeJS.ProcessEnv, options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox(options);
  await writeConnectionFile(appPaths(env), sandbox.connection);
  return sandbox;
}

export function sandboxHttp(sandbox: Sandbox, policy = {}): HttpClient {
  return new HttpClient({ extraCaPem: sandbox.connection.caPem, redactor: new Redactor(), policy });
}

/** Graph and Dataverse clients signed in as the sandbox's automation app (client credentials: no prompt). */
export async function adminClients(sandbox: Sandbox, policy = {}) {
  const { MsalTokenProvider } = await import("../src/auth/msal.js");
  const { GraphApi } = await import("../src/services/graph.js");
  const { DataverseApi } = await import("../src/services/dataverse.js");
  const http = sandboxHttp(sandbox, policy);
  const tokens = new MsalTokenProvider(
    {
      method: "client-secret",
      clientId: sandbox.connection.automationClientId,
      clientSecret: sandbox.connection.automationClientSecret,
      authorityHost: sandbox.connection.loginOrigin,
      tenant: sandbox.connection.tenantId,
      customAuthority: true,
      openBrowser: async () => undefined,
      onDeviceCode: () => undefined,
    },
    http,
  );
  return { http, tokens, graph: new GraphApi(http, sandbox.connection.graphOrigin, tokens), dataverse: new DataverseApi(http, sandbox.connection.orgUrl, tokens) };
}
