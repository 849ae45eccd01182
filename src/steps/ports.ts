import type { Clock } from "../clock.js";
import type { SolutionPackage } from "../solution/package.js";
import type { ApplicationsApi, DirectoryApi } from "../services/graph.js";
import type { EnvironmentApi, WhoAmI } from "../services/dataverse.js";
import type { PartnerCenterApi } from "../services/partner-center.js";
import type { PendingConfigureJob } from "../offers/pending-jobs.js";

/**
 * What a step may use, and nothing more: typed reads for inspect, typed writes for apply, and a progress
 * line. The runner builds them from the tenant session (`src/tenant-ports.ts`); a test builds them from a sandbox
 * connection. Nothing here reaches options, IO, prompts, the environment or stdin.
 */

/** The read-only calls of the signed-in tenant. */
export interface TenantReads {
  orgUrl: string;
  /** The tenant signed in to ("organizations" when the admin signed in without naming one). */
  tenant: string;
  directory: Pick<DirectoryApi, "organization" | "domains" | "subscribedSkus" | "findUser">;
  applications: Pick<ApplicationsApi, "byAppId" | "byDisplayName" | "servicePrincipal">;
  environment: Pick<
    EnvironmentApi,
    | "whoAmI"
    | "version"
    | "hasLeadTable"
    | "findSolution"
    | "solutionById"
    | "findRunningImport"
    | "asyncOperation"
    | "importJob"
    | "importJobData"
    | "formattedImportResults"
    | "roles"
    | "privileges"
    | "rolePrivileges"
    | "systemUserByObjectId"
    | "systemUserByApplicationId"
    | "rootBusinessUnitId"
  >;
}

/** The mutating calls of the signed-in tenant (they may read too: a write often needs to look first). */
export interface TenantWrites {
  orgUrl: string;
  tenant: string;
  directory: DirectoryApi;
  applications: ApplicationsApi;
  environment: EnvironmentApi;
}

/** What this tool recorded on this machine (reference: the ledger holds no secret). */
export interface LedgerReads {
  createdUser(orgUrl: string, userPrincipalName: string): Promise<boolean>;
  passwordNeverShown(orgUrl: string, userPrincipalName: string): Promise<boolean>;
  secretRecord(orgUrl: string, appId: string): Promise<{ keyId: string; passwordShown: boolean; pendingMarker?: string } | undefined>;
  recordedAppId(orgUrl: string, displayName: string): Promise<string | undefined>;
}

export interface LedgerWrites {
  recordPassword(entry: { orgUrl: string; userPrincipalName: string; objectId: string }, shown: boolean): Promise<void>;
  recordSecret(entry: { orgUrl: string; appId: string; keyId: string }, shown: boolean): Promise<void>;
  /** Before an addPassword goes out: the marker it carries, so that a run stopped before the answer is looked for. */
  recordSecretPending(entry: { orgUrl: string; appId: string; marker: string }): Promise<void>;
  recordApp(entry: { orgUrl: string; displayName: string; appId: string }): Promise<void>;
}

/** Solution packages on this machine: a file given by the admin, or a cached download. */
export interface SolutionReads {
  /** Reads and checks a package file; a missing or bad file is a UsageError naming `label`. */
  fromFile(path: string, label: string): Promise<SolutionPackage>;
  /** The cached copy of a download, or undefined when there is none (or it is damaged). */
  cached(url: string): Promise<{ path: string; solution: SolutionPackage } | undefined>;
  /** Fetches a package URL (a public file: no sign-in, capped at the package size limit); nothing is kept. */
  fetch(url: string): Promise<{ status: number; body: Buffer }>;
}

export interface SolutionWrites {
  /** Fetches one URL (capped at the package size limit); a network failure rejects. */
  download(url: string, onProgress: (received: number, total: number | undefined) => void): Promise<{ status: number; body: Buffer }>;
  /** Keeps a downloaded package for the next run; returns where. */
  cache(url: string, bytes: Buffer): Promise<string>;
}

/**
 * Partner Center's Product Ingestion API for the account's tenant (`--partner-center-tenant`, else the
 * sign-in's), with a Graph-audience token (reference: partner-center §1.2), and the configure jobs this
 * machine posted and has not seen end (pending-jobs.ts).
 */
export interface PartnerCenterReads {
  /** Names the Partner Center account (Graph root and tenant): jobs are kept per account. */
  account: string;
  api: Pick<PartnerCenterApi, "requireProducts" | "listProducts" | "customerLeads" | "jobStatus">;
  pendingJob(offerId: string): Promise<PendingConfigureJob | undefined>;
}

export interface PartnerCenterWrites {
  account: string;
  api: Pick<PartnerCenterApi, "configure" | "jobStatus">;
  recordPendingJob(job: Omit<PendingConfigureJob, "postedAt">): Promise<void>;
  clearPendingJob(jobId: string): Promise<void>;
}

export interface Reads {
  /** Signs in (once) and returns the tenant's read side. */
  tenant(): Promise<TenantReads>;
  /** Partner Center for the account's tenant (signs in for it once). */
  partnerCenter(): Promise<PartnerCenterReads>;
  ledger: LedgerReads;
  solutions: SolutionReads;
  /**
   * A read made once per run: the first call starts it, later calls (a prefetch and an inspect, or two
   * steps) share it; a read that failed is forgotten, so the next call tries again.
   */
  once<T>(key: string, read: () => Promise<T>): Promise<T>;
  /** The run's clock: what "now" is when a step compares an expiry (a test's virtual time, or real time). */
  clock: Clock;
}

/** A signed-in session as the service identity, the way Partner Center signs in (verify). */
export interface ServiceIdentitySession {
  whoAmI(): Promise<WhoAmI>;
  createLead(fields: Record<string, unknown>): Promise<string>;
}

export type ServiceCredentials =
  | { identity: "user"; userPrincipalName: string; password: string; name: string }
  | { identity: "app"; appId: string; clientSecret: string; directoryId: string; name: string };

/** The Power Platform admin API's one call we make (reference: dataverse §5.2). */
export interface PowerPlatformWrites {
  addUser(objectId: string): Promise<"added" | "unlicensed">;
}

export interface Writes {
  tenant(): Promise<TenantWrites>;
  partnerCenter(): Promise<PartnerCenterWrites>;
  ledger: LedgerWrites;
  solutions: SolutionWrites;
  /** Keeps a secret out of every log, trace and error from now on. */
  secrets: { keep(secret: string): void };
  /** Signs in as the service identity (verify); a refused sign-in is a SignInError. */
  signInAs(credentials: ServiceCredentials): Promise<ServiceIdentitySession>;
  /** The Power Platform admin API for this environment; TenantNotReadyError when the cloud has none. */
  powerPlatform(): Promise<PowerPlatformWrites>;
  /**
   * Asks the admin a yes/no question in the middle of applying (e.g. whether to force a sync that timed
   * out); undefined when nobody can be asked.
   */
  ask?: (question: string) => Promise<boolean>;
  clock: Clock;
  signal: AbortSignal;
}

/** A line that shows what a long piece of work is doing. */
export interface ActivityLine {
  update(label: string): void;
  end(): void;
}

export interface Progress {
  activity(label: string): ActivityLine;
  bytes(label: string): Promise<{ update(received: number, total: number | undefined): void; end(): void }>;
  info(text: string): void;
  trace(line: string): void;
}
