import { readFile } from "node:fs/promises";
import { TenantNotReadyError } from "./errors.js";
import { writePrivateFile } from "./auth/cache.js";
import {
  createdUser,
  passwordNeverShown,
  recordApp,
  recordedAppId,
  recordPassword,
  recordSecret,
  recordSecretPending,
  secretRecord,
} from "./ledger.js";
import { PACKAGE_LIMITS, readSolutionPackage } from "./solution/package.js";
import { systemClock, type Clock } from "./clock.js";
import type { AppPaths } from "./paths.js";
import type { HttpClient } from "./services/http.js";
import { Readable, PassThrough } from "node:stream";
import { connectTenant, type TenantLink, type TenantSession } from "./context.js";
import { IO } from "./io.js";
import { OPTION_SPECS, resolveOptions, type CliOptions } from "./options.js";
import { cachePathFor, readSolutionFile } from "./steps/download-solution.js";
import type { Progress, Reads, ServiceCredentials, ServiceIdentitySession, Writes } from "./steps/ports.js";
import type { RunPorts } from "./runner.js";
import type { PartnerCenterApi } from "./services/partner-center.js";
import { clearPendingJob, pendingJobFor, recordPendingJob } from "./offers/pending-jobs.js";

/**
 * Builds the steps' Reads and Writes from a tenant session: the one place that knows which client, file or
 * ledger serves each port. The CLI builds them from its tenant link; a test builds them the same way from a
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
  /** `--partner-center-tenant`: the tenant of the Partner Center account, when it is not the sign-in's. */
  partnerCenterTenant?: string;
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
  let connection: Promise<{ account: string; api: PartnerCenterApi }> | undefined;
  const partnerCenter = () => (connection ??= connectPartnerCenter(session, http, sources.partnerCenterTenant));
  const reads: Reads = {
    tenant: session,
    partnerCenter: async () => {
      const { account, api } = await partnerCenter();
      return { account, api, pendingJob: (offerId) => pendingJobFor(paths, account, offerId) };
    },
    once: sources.once ?? onceMemo(),
    clock: sources.clock ?? systemClock,
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
    partnerCenter: async () => {
      const { account, api } = await partnerCenter();
      return {
        account,
        api,
        recordPendingJob: (job) => recordPendingJob(paths, account, job),
        clearPendingJob: (jobId) => clearPendingJob(paths, account, jobId),
      };
    },
    ledger: {
      recordPassword: (entry, shown) => recordPassword(paths, entry, shown),
      recordSecret: (entry, shown) => recordSecret(paths, entry, shown),
      recordSecretPending: (entry) => recordSecretPending(paths, entry),
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
export function runMemo(link: Pick<TenantLink, "http">): Reads["once"] {
  let memo = runMemos.get(link.http);
  if (!memo) runMemos.set(link.http, (memo = onceMemo()));
  return memo;
}

/** The ports of a run over a tenant link: the session, files and memo its steps (and its wizard) share. */
export function linkPorts(link: TenantLink, shown: Pick<PortSources, "progress" | "ask" | "partnerCenterTenant"> = {}): RunPorts {
  return buildPorts({
    session: link.tenant,
    http: link.http,
    paths: link.paths,
    keepSecret: link.keepSecret,
    signal: link.signal,
    clock: link.clock,
    serviceSignIn: link.serviceSignIn,
    once: runMemo(link),
    ...shown,
  });
}

/** A command's reads outside the runner (the wizard's questions, status): the same session and memo the steps use. */
export const commandReads = (link: TenantLink, options?: Pick<CliOptions, "partnerCenterTenant">): Reads =>
  linkPorts(link, { partnerCenterTenant: options?.partnerCenterTenant }).reads;

/**
 * The ports of a run as the CLI builds them, in the caller's process: options as `--sandbox --auth
 * client-secret` (plus `parsed`) resolve against `env`, whose HOME holds a sandbox's connection file, and
 * the same tenant link the CLI builds signs in. For tests: a step's inspect, plan and apply against the
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
  const everyOption = OPTION_SPECS.map((spec) => spec.key);
  const options = resolveOptions(everyOption, parsed, (key) => (key in parsed ? "cli" : undefined), env);
  const link = await connectTenant("init", options, io, signal, extra.clock);
  return { ...linkPorts(link), options, close: link.close };
}

/**
 * The Product Ingestion API under the cloud's Graph root, with a Graph-audience token for the Partner
 * Center account's tenant (SPEC §7: `--partner-center-tenant`, by default the tenant of the sign-in).
 */
async function connectPartnerCenter(
  session: () => Promise<TenantSession>,
  http: HttpClient,
  partnerCenterTenant: string | undefined,
): Promise<{ account: string; api: PartnerCenterApi }> {
  const signedIn = await session();
  const { PartnerCenterApi } = await import("./services/partner-center.js");
  const graphRoot = signedIn.cloud.graphEndpoint;
  const otherTenant = partnerCenterTenant !== undefined && partnerCenterTenant.toLowerCase() !== signedIn.tenant.toLowerCase();
  const tokens = otherTenant ? signedIn.tokens.forTenant(partnerCenterTenant) : signedIn.tokens;
  const tenant = otherTenant ? partnerCenterTenant : signedIn.tenant;
  return { account: `${graphRoot}|${tenant}`, api: new PartnerCenterApi(http, graphRoot, () => tokens.getAccessToken(graphRoot)) };
}
