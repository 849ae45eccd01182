import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writePrivateFile } from "../auth/cache.js";
import type { AppPaths } from "../paths.js";

/**
 * Configure jobs posted and not yet seen to end, per Partner Center account and offer. The Product
 * Ingestion API has no documented way to list jobs (reference: partner-center §1.2 names only
 * `configure/<id>/status`, `configure/<id>` and `…/cancel`), so a run that stops while a job runs (timeout,
 * Ctrl+C, a lost connection) finds it here, and the next run waits for that job instead of posting
 * another (SPEC §7). Holds job ids only, never a secret: the secret travels only in the configure body.
 */
export interface PendingConfigureJob {
  jobId: string;
  /** The offer IDs the job configures. */
  offerIds: string[];
  /** What the job sets, as the caller fingerprints it (no secret in it): a different wish is not resumed. */
  fingerprint: string;
  postedAt: string;
}

type PendingJobs = Record<string, PendingConfigureJob>;

const fileOf = (paths: AppPaths) => join(paths.configDir, "partner-center-jobs.json");
/** `account` is the Partner Center tenant (or the graph root and tenant) the offer IDs belong to. */
const keyOf = (account: string, offerId: string) => `${account.toLowerCase()}|${offerId}`;

async function read(paths: AppPaths): Promise<PendingJobs> {
  try {
    return JSON.parse(await readFile(fileOf(paths), "utf8")) as PendingJobs;
  } catch {
    return {};
  }
}

/** Records a job right after Partner Center accepted it, under each of its offers. */
export async function recordPendingJob(paths: AppPaths, account: string, job: Omit<PendingConfigureJob, "postedAt">): Promise<void> {
  const jobs = await read(paths);
  const entry: PendingConfigureJob = { ...job, postedAt: new Date().toISOString() };
  for (const offerId of job.offerIds) jobs[keyOf(account, offerId)] = entry;
  await writePrivateFile(fileOf(paths), JSON.stringify(jobs, null, 2));
}

/** The job a previous run left running for this offer, if any. */
export async function pendingJobFor(paths: AppPaths, account: string, offerId: string): Promise<PendingConfigureJob | undefined> {
  return (await read(paths))[keyOf(account, offerId)];
}

/** Forgets a job once it has ended (succeeded, failed or cancelled) or is unknown to Partner Center. */
export async function clearPendingJob(paths: AppPaths, account: string, jobId: string): Promise<void> {
  const jobs = await read(paths);
  const kept = Object.fromEntries(
    Object.entries(jobs).filter(([key, job]) => !key.startsWith(`${account.toLowerCase()}|`) || job.jobId !== jobId),
  );
  if (Object.keys(kept).length !== Object.keys(jobs).length) await writePrivateFile(fileOf(paths), JSON.stringify(kept, null, 2));
}
