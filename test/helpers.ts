import { afterEach } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSandbox, type Sandbox, type SandboxOptions } from "../src/sandbox/server.js";
import { writeConnectionFile } from "../src/sandbox-link.js";
import { appPaths } from "../src/paths.js";
import { HttpClient } from "../src/services/http.js";
import { Redactor } from "../src/redact.js";
import type { Clock } from "../src/clock.js";

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

/** Starts the built CLI as a user would (a child process, no terminal, its own environment). */
export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { input?: string; timeoutMs?: number } = {},
): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  const done = new Promise<CliRun>((resolvePromise, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, signal });
    });
  });
  child.stdin!.end(options.input ?? "");
  return { child, done };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, options: { input?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return startCli(args, env, options).done;
}

/** Runs the same command until it succeeds (re-running converges), at most `times`; returns every run. */
export async function runUntilSuccess(args: string[], env: NodeJS.ProcessEnv, times: number): Promise<CliRun[]> {
  const runs: CliRun[] = [];
  while (runs.length < times) {
    const run = await runCli(args, env, { timeoutMs: 120_000 });
    runs.push(run);
    if (run.code === 0) break;
  }
  return runs;
}

/** A sandbox in the test process, published through the connection file of `home` so `--sandbox` finds it. */
export async function sandboxFor(env: NodeJS.ProcessEnv, options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox(options);
  await writeConnectionFile(appPaths(env), sandbox.connection);
  return sandbox;
}

/** An HTTP client that trusts the sandbox; its waits run on `clock` when given (else real time). */
export function sandboxHttp(sandbox: Sandbox, policy = {}, clock?: Clock): HttpClient {
  return new HttpClient({
    onlyCaPem: sandbox.connection.caPem,
    connectTo: sandbox.connection.connectTo,
    redactor: new Redactor(),
    policy,
    clock,
  });
}

/** Graph and Dataverse clients signed in as the sandbox's automation app (client credentials: no prompt). */
export async function adminClients(sandbox: Sandbox, policy = {}, clock?: Clock) {
  const { MsalTokenProvider } = await import("../src/auth/msal.js");
  const { GraphApi } = await import("../src/services/graph.js");
  const { DataverseApi } = await import("../src/services/dataverse.js");
  const http = sandboxHttp(sandbox, policy, clock);
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
  return {
    http,
    tokens,
    graph: new GraphApi(http, sandbox.connection.graphOrigin, tokens),
    dataverse: new DataverseApi(http, sandbox.connection.orgUrl, tokens),
  };
}

export const SALES_SKU = "1e1a282c-9c54-43a2-9310-98ef728faace";
export const LEAD_WRITER = "Microsoft Marketplace Lead Writer";

/** The password printed in the Partner Center box. */
export function printedPassword(output: string): string | undefined {
  return /│ Password\s+(\S+)\s+│/.exec(output)?.[1];
}

/** A token request for the org to the sandbox's Entra: the answer's status (what Partner Center's sign-in would get). */
async function tokenStatus(sandbox: Sandbox, grant: Record<string, string>): Promise<number> {
  const http = sandboxHttp(sandbox);
  try {
    const response = await http.send({
      service: "entra",
      method: "POST",
      url: `${sandbox.connection.loginOrigin}/${sandbox.connection.tenantId}/oauth2/v2.0/token`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...grant, scope: `${sandbox.connection.orgUrl}/.default` }).toString(),
    });
    return response.status;
  } finally {
    await http.close();
  }
}

/** Signs in as the service user with its password (Partner Center's own kind of sign-in) against the sandbox. */
export const passwordSignIn = (sandbox: Sandbox, userName: string, password: string): Promise<number> =>
  tokenStatus(sandbox, { grant_type: "password", client_id: sandbox.connection.publicClientId, username: userName, password });

/** A client-credentials token request for the org with the app's id and secret (what Partner Center does): the status. */
export const appToken = (sandbox: Sandbox, appId: string, secret: string): Promise<number> =>
  tokenStatus(sandbox, { grant_type: "client_credentials", client_id: appId, client_secret: secret });

/**
 * Asserts the sandbox's final state after a successful setup, from the tenant's own records: one user,
 * enabled, with a usage location, no forced change, a password that never expires, the licence and no
 * directory role; the solution once, managed; the role copy of the user's business unit on the user; the
 * privileges at their depths and member privilege inheritance.
 */
export function expectConfigured(sandbox: Sandbox, expected: { userName: string; skuId?: string; usageLocation?: string }): void {
  const { state } = sandbox;
  const users = [...state.users.values()].filter((u) => u.userPrincipalName === expected.userName);
  if (users.length !== 1) throw new Error(`expected one user ${expected.userName}, found ${users.length}`);
  const user = users[0]!;
  const facts = {
    accountEnabled: user.accountEnabled,
    usageLocation: user.usageLocation,
    forceChange: user.forceChangePasswordNextSignIn,
    neverExpires: (user.passwordPolicies ?? "").includes("DisablePasswordExpiration"),
    licences: user.assignedLicenses.map((l) => l.skuId),
    directoryRoles: user.directoryRoles,
  };
  const want = {
    accountEnabled: true,
    usageLocation: expected.usageLocation ?? "US",
    forceChange: false,
    neverExpires: true,
    licences: [expected.skuId ?? SALES_SKU],
    directoryRoles: [],
  };
  if (JSON.stringify(facts) !== JSON.stringify(want)) throw new Error(`user state ${JSON.stringify(facts)} != ${JSON.stringify(want)}`);

  const solutions = [...state.solutions.values()].filter((s) => s.uniquename === "CrmLeadSetupSandboxLeadWriter");
  if (solutions.length !== 1 || !solutions[0]!.ismanaged)
    throw new Error(`expected the solution once, managed: ${JSON.stringify(solutions)}`);

  const systemUsers = [...state.systemUsers.values()].filter((s) => s.azureactivedirectoryobjectid === user.id);
  if (systemUsers.length !== 1) throw new Error(`expected one system user, found ${systemUsers.length}`);
  const systemUser = systemUsers[0]!;
  const roles = [...systemUser.roles].map((id) => state.roles.get(id)!);
  if (roles.length !== 1 || roles[0]!.name !== LEAD_WRITER || roles[0]!.businessunitid !== systemUser.businessunitid) {
    throw new Error(
      `expected the Lead Writer copy of business unit ${systemUser.businessunitid}: ${JSON.stringify(roles.map((r) => [r.name, r.businessunitid]))}`,
    );
  }
  const root = state.rootRoleOf(roles[0]!);
  const depths = Object.fromEntries(
    [
      "prvCreateUserEntityUISettings",
      "prvReadUserEntityUISettings",
      "prvWriteUserEntityUISettings",
      "prvReadAsyncOperation",
      "prvWriteAsyncOperation",
      "prvAppendToAsyncOperation",
    ].map((name) => [name, root.privileges.get(state.privilegeByName(name)!.privilegeid)]),
  );
  const wantDepths = {
    prvCreateUserEntityUISettings: "Basic",
    prvReadUserEntityUISettings: "Basic",
    prvWriteUserEntityUISettings: "Basic",
    prvReadAsyncOperation: "Global",
    prvWriteAsyncOperation: "Global",
    prvAppendToAsyncOperation: "Global",
  };
  if (JSON.stringify(depths) !== JSON.stringify(wantDepths) || root.isinherited !== 1)
    throw new Error(`role privileges ${JSON.stringify(depths)}, isinherited ${root.isinherited}`);
}

/**
 * For a test file whose tests each want a fresh HOME with a sandbox tenant of its own: call once at the top
 * level; every sandbox it starts is closed after its test.
 */
export function freshTenants(): (options?: SandboxOptions) => Promise<{ home: string; env: NodeJS.ProcessEnv; sandbox: Sandbox }> {
  const started: Sandbox[] = [];
  afterEach(async () => {
    for (const sandbox of started.splice(0)) await sandbox.close();
  });
  return async (options = {}) => {
    const { home, env } = tempHome();
    const sandbox = await sandboxFor(env, options);
    started.push(sandbox);
    return { home, env, sandbox };
  };
}

/** Never Microsoft's download host, whatever the planning order. */
export const NO_DOWNLOAD = ["--solution-url", "https://solution.nowhere.invalid/lead-writer.zip"];

/**
 * Custom-cloud flags that send sign-in and Graph to one origin (a local port). The org URL must be a bare
 * host (no port), so it is one that never resolves: the sign-in, which comes first, meets the origin.
 */
export function customCloud(origin: string): string[] {
  return [
    "--cloud",
    "custom",
    "--authority-host",
    origin,
    "--graph-endpoint",
    origin,
    "--org-url",
    "https://org.nowhere.invalid",
    "--auth",
    "device-code",
    ...NO_DOWNLOAD,
  ];
}
