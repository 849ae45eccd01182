import { readFile } from "node:fs/promises";
import { TenantNotReadyError } from "./errors.js";
import { writePrivateFile } from "./auth/cache.js";
import { createdUser, passwordNeverShown, recordApp, recordedAppId, recordPassword, recordSecret, secretRecord } from "./ledger.js";
import { PACKAGE_LIMITS, readSolutionPackage } from "./solution/package.js";
import { systemClock, type Clock } from "./clock.js";
import type { AppPaths } from "./paths.js";
import type { HttpClient } from "./services/http.js";
import { Readable, PassThrough } from "node:stream";
import { createContext, serviceSignIn, type CommandContext, type TenantSession } from "./context.js";
import { IO } from "./io.js";
import { resolveOptions, type CliOptions } from "./options.js";
import { cachePathFor, readSolutionFile } from "./steps/download-solution.js";
import type { Progress, Reads, ServiceCredentials, ServiceIdentitySession, Writes } from "./steps/ports.js";
import type { RunPorts } from "./runner.js";

/**
 * Builds the steps' Reads and Writes from a tenant session: the one place that knows which client, file or
 * ledger serves each port. The CLI builds them from its context; a test builds them the same way from a
 * sandbox session, with its own clock and a silent progress.
 */
export interface PortSources {
  /** Signs in (once) and returns the tenant session. */
  session: () => Promise<TenantSession>;
  http: HttpClient;
  paths: AppPaths;
  /** Keeps a secret out of every output. */
  keepSecret: (secret: string) => void;
  signal: AbortSignal;
  clock?: Clock;
  progress?: Progress;
  /** How the service identity signs in for verify (the admin's sign-in decides its client and tenant). */
  serviceSignIn?: (credentials: ServiceCredentials, session: TenantSession) => Promise<ServiceIdentitySession>;
  ask?: (question: string) => Promise<boolean>;
  /** The run's once-per-run reads, when something read before the steps (the wizard) shares them. */
  once?: Reads["once"];
}

/** A progress that shows nothing (tests, --json). */
export const silentProgress: Progress = {
  activity: () => ({ update: () => undefined, end: () => undefined }),
  bytes: async () => ({ update: () => undefined, end: () => undefined }),
  info: () => undefined,
  trace: () => undefined,
};

/** A read made once per run and shared; a failed read is forgotten, so the next call tries again. */
export function onceMemo(): Reads["once"] {
  const reads = new Map<string, Promise<unknown>>();
  return <T>(key: string, read: () => Promise<T>): Promise<T> => {
    let request = reads.get(key) as Promise<T> | undefined;
    if (!request) {
      request = read();
      reads.set(key, request);
      request.catch(() => reads.delete(key));
    }
    return request;
  };
}

export function buildPorts(sources: PortSources): RunPorts {
  const { session, http, paths } = sources;
  const reads: Reads = {
    tenant: session,
    once: sources.once ?? onceMemo(),
    ledger: {
      createdUser: (orgUrl, upn) => createdUser(paths, orgUrl, upn),
      passwordNeverShown: (orgUrl, upn) => passwordNeverShown(paths, orgUrl, upn),
      secretRecord: (orgUrl, appId) => secretRecord(paths, orgUrl, appId),
      recordedAppId: (orgUrl, name) => recordedAppId(paths, orgUrl, name),
    },
    solutions: {
      fromFile: readSolutionFile,
      fetch: (url) => http.send({ service: "download", method: "GET", url, maxResponseBytes: PACKAGE_LIMITS.maxPackageBytes }),
      async cached(url) {
        const path = cachePathFor(paths.cacheDir, url);
        try {
          return { path, solution: readSolutionPackage(await readFile(path), path) };
        } catch {
          // Not cached, or the cached copy is damaged: it will be downloaded again.
          return undefined;
        }
      },
    },
  };
  const writes: Writes = {
    tenant: session,
    ledger: {
      recordPassword: (entry, shown) => recordPassword(paths, entry, shown),
      recordSecret: (entry, shown) => recordSecret(paths, entry, shown),
      recordApp: (entry) => recordApp(paths, entry),
    },
    solutions: {
      download: (url, onProgress) =>
        http.send({ service: "download", method: "GET", url, maxResponseBytes: PACKAGE_LIMITS.maxPackageBytes, onProgress }),
      async cache(url, bytes) {
        const path = cachePathFor(paths.cacheDir, url);
        await writePrivateFile(path, bytes);
        return path;
      },
    },
    secrets: { keep: sources.keepSecret },
    async signInAs(credentials) {
      if (!sources.serviceSignIn) throw new Error("This run cannot sign in as the service identity.");
      return sources.serviceSignIn(credentials, await session());
    },
    powerPlatform: async () => powerPlatform(await session(), http),
    ask: sources.ask,
    clock: sources.clock ?? systemClock,
    signal: sources.signal,
  };
  return { reads, writes, progress: sources.progress ?? silentProgress };
}

async function powerPlatform(
  session: TenantSession,
  http: HttpClient,
): Promise<{ addUser(objectId: string): Promise<"added" | "unlicensed"> }> {
  if (!session.cloud.bapEndpoint || !session.cloud.bapScope) {
    throw new TenantNotReadyError({
      code: "power-platform-unknown",
      message: "This cloud has no known Power Platform admin endpoint.",
      hint: "Leave out --force-sync and let the background sync run.",
    });
  }
  const { PowerPlatformAdminApi } = await import("./services/power-platform.js");
  const admin = new PowerPlatformAdminApi(http, session.cloud.bapEndpoint, session.cloud.bapScope, session.tokens);
  const environmentName = await admin.environmentName(session.orgUrl);
  return { addUser: (objectId) => admin.addUser(environmentName, objectId) };
}

/** One memo per run (keyed by the run's HTTP client): the wizard's reads are the steps' reads. */
const runMemos = new WeakMap<object, Reads["once"]>();
export function runMemo(context: Pick<CommandContext, "http">): Reads["once"] {
  let memo = runMemos.get(context.http);
  if (!memo) runMemos.set(context.http, (memo = onceMemo()));
  return memo;
}

/** A command's reads outside the runner (the wizard's questions, status): the same session and memo the steps use. */
export function commandReads(context: CommandContext): Reads {
  return buildPorts({
    session: context.tenant,
    http: context.http,
    paths: context.paths,
    keepSecret: (secret) => context.io.redactor.add(secret),
    signal: context.signal,
    clock: context.clock,
    once: runMemo(context),
  }).reads;
}

/**
 * The ports of a run as the CLI builds them, in the caller's process: options as `--sandbox --auth
 * client-secret` (plus `parsed`) resolve against `env`, whose HOME holds a sandbox's connection file, and
 * the same context the CLI builds signs in. For tests: a step's inspect, plan and apply against the
 * sandbox, with an injected clock, without a child process.
 */
export async function inProcessPorts(
  env: NodeJS.ProcessEnv,
  extra: { clock?: Clock; signal?: AbortSignal; parsed?: Record<string, unknown> } = {},
): Promise<RunPorts & { options: CliOptions; close(): Promise<void> }> {
  const streams = { stdin: Readable.from([]), stdout: new PassThrough(), stderr: new PassThrough(), env };
  const io = new IO(streams, { json: true, verbose: false, colorFlag: false, yes: true });
  const signal = extra.signal ?? new AbortController().signal;
  const parsed = { sandbox: true, auth: "client-secret", yes: true, ...extra.parsed };
  const options = resolveOptions("init", parsed, (key) => (key in parsed ? "cli" : undefined), env);
  const context = await createContext("init", options, io, signal, extra.clock);
  const ports = buildPorts({
    session: context.tenant,
    http: context.http,
    paths: context.paths,
    keepSecret: (secret) => io.redactor.add(secret),
    signal,
    clock: context.clock,
    serviceSignIn: serviceSignIn(context),
  });
  return { ...ports, options, close: context.close };
}
