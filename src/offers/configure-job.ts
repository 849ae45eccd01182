import type { Clock } from "../clock.js";
import { StepFailedError, StillRunningError, type CliError } from "../errors.js";
import type { ConfigureJobError, ConfigureJobStatus, PartnerCenterApi } from "../services/partner-center.js";

/**
 * Waits for a Partner Center configure job (reference: partner-center §1.2 "Polling"): polls
 * `configure/<id>/status` until `jobStatus` is `completed`, each poll after the Retry-After of the previous
 * answer. Without Retry-After it backs off from 10 s to once a minute: the private-offers doc asks not to
 * poll a job more than once per minute. SPEC §7 outcomes: `succeeded` is returned; `failed` names each
 * error (only `productLocked`: exit 5, re-run later; otherwise exit 1); a wait past the timeout is exit 5
 * and names the job, so that a re-run resumes it instead of posting another.
 */
export interface ConfigureJobWait {
  clock: Clock;
  signal?: AbortSignal;
  /** `--sync-timeout`, in milliseconds. */
  timeoutMs: number;
  /** The offer ID of a resource id (`customer-leads/<guid>`), to name offers in errors. */
  offerOf?: (resourceId: string) => string | undefined;
  /** Each status read, for a spinner. */
  onStatus?: (status: ConfigureJobStatus) => void;
}

const FIRST_POLL_MS = 10_000;
const MAX_POLL_MS = 60_000;

/** Delay before the next poll: the answer's Retry-After, else 10 s doubling up to 60 s. */
export function nextPollDelay(status: Pick<ConfigureJobStatus, "retryAfterMs">, pollsSoFar: number): number {
  return status.retryAfterMs ?? Math.min(MAX_POLL_MS, FIRST_POLL_MS * 2 ** pollsSoFar);
}

/**
 * Polls the job until it completes; resolves with its status when it succeeded, rejects with a typed
 * error otherwise. `started` is the answer of `configure` (its Retry-After is honoured), or a job id kept
 * from an earlier run (polled at once).
 */
export async function awaitConfigureJob(
  api: Pick<PartnerCenterApi, "jobStatus">,
  started: ConfigureJobStatus | { jobId: string },
  wait: ConfigureJobWait,
): Promise<ConfigureJobStatus> {
  const deadline = wait.clock.now() + wait.timeoutMs;
  let status: ConfigureJobStatus | undefined = "jobStatus" in started ? started : undefined;
  for (let polls = 0; status?.jobStatus !== "completed"; polls++) {
    const delay = status ? nextPollDelay(status, polls) : 0;
    if (wait.clock.now() + delay > deadline) throw stillRunning(started.jobId, wait.timeoutMs);
    if (delay > 0) await wait.clock.sleep(delay, wait.signal);
    if (wait.signal?.aborted) throw wait.signal.reason;
    status = await api.jobStatus(started.jobId);
    wait.onStatus?.(status);
  }
  if (status.jobResult === "succeeded") return status;
  throw jobFailure(status, wait.offerOf ?? (() => undefined));
}

function stillRunning(jobId: string, timeoutMs: number): CliError {
  return new StillRunningError({
    code: "partner-center-job-running",
    message: `Partner Center is still applying the lead destination (configure job ${jobId}) after ${Math.round(timeoutMs / 1000)} s.`,
    hint: "Re-run the same command: it waits for this job instead of posting another. Pass a larger --sync-timeout to wait longer.",
    details: { jobId },
  });
}

/** What each documented error code (the preview2 `inner-error` enum, §1.2) means for the admin. */
const MEANINGS: Record<string, string> = {
  productLocked: "the offer is being published, and Partner Center accepts no change to it until that ends",
  notSupported: "Partner Center does not let its API set the lead destination of this offer type",
  schemaValidationError: "Partner Center refused the lead configuration as invalid",
  businessValidationError: "Partner Center refused the lead configuration",
  invalidRequest: "Partner Center refused the request",
  invalidResource: "Partner Center refused the lead configuration",
  resourceNotFound: "the offer no longer exists in the Partner Center account",
  invalidId: "the offer's id did not match its lead configuration",
  invalidState: "the offer is in a state that accepts no change",
  invalidEntityStatus: "the offer is in a state that accepts no change",
  operationCanceled: "the job was cancelled",
};

function describe(error: ConfigureJobError, offerOf: (resourceId: string) => string | undefined): string {
  const offer = error.resourceId ? (offerOf(error.resourceId) ?? error.resourceId) : undefined;
  const meaning = MEANINGS[error.code];
  return `${offer ? `offer ${offer}: ` : ""}${error.code}${meaning ? ` (${meaning})` : ""}: ${error.message}`;
}

function jobFailure(status: ConfigureJobStatus, offerOf: (resourceId: string) => string | undefined): CliError {
  const details = { jobId: status.jobId, errors: status.errors };
  if (status.jobResult === "cancelled")
    return new StepFailedError({
      code: "partner-center-job-cancelled",
      message: `Partner Center's configure job ${status.jobId} was cancelled before it finished.`,
      hint: "Re-run the same command to post the lead destination again.",
      details,
    });
  const lines = status.errors.map((error) => describe(error, offerOf));
  const message = `Partner Center did not save the lead destination (configure job ${status.jobId}): ${
    lines.length > 0 ? lines.join("; ") : "it failed without naming an error"
  }.`;
  // A locked offer is a wait, not a fault: re-running once the publication has ended succeeds.
  if (status.errors.length > 0 && status.errors.every((error) => error.code === "productLocked"))
    return new StillRunningError({
      code: "partner-center-offer-locked",
      message,
      hint: "Wait until the offer's publication in Partner Center has finished, then re-run the same command.",
      details,
    });
  return new StepFailedError({
    code: status.errors.some((error) => error.code === "notSupported") ? "partner-center-not-supported" : "partner-center-job-failed",
    message,
    hint: status.errors.some((error) => error.code === "productLocked")
      ? "Fix the other errors, wait until the locked offer's publication has finished, and re-run; or paste the printed values into the offer's Customer leads dialog by hand."
      : "Paste the printed values into the offer's Customer leads dialog in Partner Center by hand, or re-run with --verbose for the full exchange.",
    details,
  });
}
