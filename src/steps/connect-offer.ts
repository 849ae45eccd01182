import { CliError, TenantNotReadyError } from "../errors.js";
import { awaitConfigureJob } from "../offers/configure-job.js";
import {
  configureBodyFor,
  decideOffer,
  describeOfferChange,
  destinationFingerprint,
  type DesiredLeadDestination,
  type LeadWriterIdentity,
  type OfferDecision,
} from "../offers/lead-destination.js";
import type { ConfigureJobEnd } from "../offers/offer-outcomes.js";
import type { PendingConfigureJob } from "../offers/pending-jobs.js";
import type { ConfigureJobStatus } from "../services/partner-center.js";
import { serviceApp } from "./create-app.js";
import { currentServiceUser } from "./service-user.js";
import type { PartnerCenterReads, PartnerCenterWrites, Progress, Reads, Writes } from "./ports.js";
import type { ConnectOfferOutput, Step, StepId, Upstream } from "./step.js";

/**
 * connect-offer (SPEC §7): writes the lead destination into each offer's draft `customer-leads` resource
 * through Partner Center's Product Ingestion API (reference: partner-center §1.2–1.4), instead of the
 * admin pasting the values. Inspect reads each offer (product, resource tree) and any configure job an
 * earlier run left running; the plan is one `configure` for every offer that changes, or the resumption
 * of that job; apply posts, records the job at once (a kill while it runs loses nothing), and waits for it.
 */

export interface ConnectOfferInputs {
  offerIds: string[];
  identity: "user" | "app";
  userName?: string;
  appName: string;
  /** `--contact-email`; undefined keeps the offer's own. */
  contactEmail?: string[];
  syncTimeoutSeconds: number;
  /** The service identity's secret when this run did not generate it (verify's sources); a UsageError when none. */
  serviceSecret: (identity: "user" | "app", label: string) => Promise<string>;
  /** status: nothing is applied, so no secret is read. */
  inspectOnly?: boolean;
}

/** The service identity as Partner Center will sign in with it. */
interface LeadWriter {
  identity: LeadWriterIdentity;
  label: string;
  /** The secret an earlier step of this run generated. */
  generated?: string;
  /** The earlier step of this run still to create the identity or its secret. */
  waitingFor?: StepId;
}

export interface ConnectOfferState {
  offers: OfferDecision[];
  desired: DesiredLeadDestination;
  writer: LeadWriter;
  /** A configure job an earlier run posted that is still running and sets the same: waited for, not posted again. */
  resumable?: PendingConfigureJob;
  /**
   * A rotation's job that an interrupted run left running with a secret this run replaces: it must end
   * before this run posts, or it could land after this run's job and put back a secret retire-secrets removes.
   * In what order Partner Center runs two jobs for one offer is not documented (UNCONFIRMED).
   */
  earlier?: PendingConfigureJob;
}

export type ConnectOfferOp =
  | {
      kind: "configure";
      offers: OfferDecision[];
      desired: DesiredLeadDestination;
      writer: LeadWriter;
      fingerprint: string;
    }
  | { kind: "resume-job"; jobId: string; offers: OfferDecision[]; settleOnly?: boolean };

export interface ConnectOfferDone {
  jobId: string;
  end: ConfigureJobEnd;
}

/** A value known only once an earlier step of this run has applied (Terraform's "known after apply"). */
const knownAfter = (step: StepId) => `(known after ${step})`;

export function connectOfferStep(
  inputs: ConnectOfferInputs,
): Step<ConnectOfferState, ConnectOfferOp, ConnectOfferOutput, ConnectOfferDone> {
  return {
    id: "connect-offer",
    title: "Write the lead destination into the Partner Center offers",
    prefetch: (reads) => void offersOf(reads, inputs.offerIds).catch(() => undefined),
    inspect: (reads, upstream) => inspectOffers(reads, upstream, inputs),
    plan(state) {
      const changing = state.offers.filter((offer) => offer.changes.length > 0);
      const names = state.offers.map((offer) => offer.offerId).join(", ");
      if (changing.length === 0) return { ops: [], summary: `The lead destination of ${names} is already this Dynamics` };
      const dependsOn = state.writer.waitingFor ? [state.writer.waitingFor] : undefined;
      if (state.resumable)
        return {
          ops: [{ kind: "resume-job", jobId: state.resumable.jobId, offers: changing }],
          summary: `Will wait for Partner Center's configure job ${state.resumable.jobId}, posted by an earlier run`,
          dependsOn,
        };
      const fingerprint = destinationFingerprint(state.desired, "");
      const settle = state.earlier ? [{ kind: "resume-job" as const, jobId: state.earlier.jobId, offers: changing, settleOnly: true }] : [];
      return {
        ops: [...settle, { kind: "configure", offers: changing, desired: state.desired, writer: state.writer, fingerprint }],
        summary: `Will set the lead destination of ${changing.map((o) => o.offerId).join(", ")} in Partner Center (the offer's draft)`,
        dependsOn,
        drift: changing.some((offer) => offer.state.status === "drifted"),
      };
    },
    describe(op) {
      if (op.kind === "resume-job" && op.settleOnly)
        return {
          action: "wait",
          target: `for configure job ${op.jobId}, left running by an interrupted run, to end before posting a new one`,
        };
      if (op.kind === "resume-job")
        return { action: "wait", target: `configure job ${op.jobId} (lead destination of ${op.offers.map((o) => o.offerId).join(", ")})` };
      return { action: "configure", target: op.offers.map((offer) => describeOfferChange(offer).target).join("; ") };
    },
    async apply(op, { writes, progress }) {
      const partnerCenter = await writes.partnerCenter();
      if (op.kind === "resume-job" && op.settleOnly) return settleEarlierJob(partnerCenter, op, { writes, progress, inputs });
      if (op.kind === "resume-job") return waitForJob(partnerCenter, { jobId: op.jobId }, op.offers, { writes, progress, inputs });
      const given = op.writer.generated === undefined;
      const secret = op.writer.generated ?? (await inputs.serviceSecret(op.desired.identity.kind, op.writer.label));
      writes.secrets.keep(secret);
      // A secret this run did not generate is proved by signing in with it first, as Partner Center will: a
      // mistyped one must not reach the offer (leads would stop while the offer looks connected).
      if (given) await signInWith(writes, op.desired.identity, secret, op.writer.label);
      const body = configureBodyFor(op.offers, op.desired, secret)!;
      const started = await partnerCenter.api.configure(body);
      // Recorded before waiting: a timeout, a Ctrl+C or a kill from here on is resumed, never posted again.
      await partnerCenter.recordPendingJob({
        jobId: started.jobId,
        offerIds: op.offers.map((o) => o.offerId),
        fingerprint: op.fingerprint,
      });
      return waitForJob(partnerCenter, started, op.offers, { writes, progress, inputs });
    },
    summarize(state, applied) {
      const changed = state.offers.filter((offer) => offer.changes.length > 0).map((offer) => offer.offerId);
      return {
        summary: `Saved the lead destination of ${changed.join(", ")} in the draft of ${changed.length === 1 ? "the offer" : "each offer"} (configure job ${applied.at(-1)?.jobId ?? "?"})`,
      };
    },
    output: (state, applied) => ({ offers: state.offers, job: applied.at(-1)?.end }),
  };
}

/** The products of the offer IDs: an unknown one is exit 2 (found while planning), a refusal exit 4. */
function offersOf(reads: Reads, offerIds: readonly string[]) {
  return reads.once(`partner-center:products:${offerIds.join(",")}`, async () =>
    (await reads.partnerCenter()).api.requireProducts(offerIds),
  );
}

async function inspectOffers(reads: Reads, upstream: Upstream, inputs: ConnectOfferInputs): Promise<ConnectOfferState> {
  const partnerCenter = await reads.partnerCenter();
  const products = await offersOf(reads, inputs.offerIds);
  const writer = await leadWriter(reads, upstream, inputs);
  const { orgUrl } = await reads.tenant();
  const desired: DesiredLeadDestination = { instanceUrl: orgUrl, identity: writer.identity, contactEmail: inputs.contactEmail };
  // A job is looked at before the offers are read, so that what it set by now is what the offers show.
  const newSecret = writer.generated !== undefined || writer.waitingFor !== undefined;
  const running = await runningJob(partnerCenter, inputs.offerIds, destinationFingerprint(desired, ""));
  const resumable = newSecret ? undefined : running;
  // Read once per run: a re-inspection once the identity exists (dependsOn) finds the offers as they were.
  const current = await Promise.all(
    products.map((product) =>
      reads.once(`partner-center:customer-leads:${product.productGuid}`, () => partnerCenter.api.customerLeads(product.productGuid)),
    ),
  );
  const offers = products.map((product, index) =>
    decideOffer({ offerId: product.offerId, productGuid: product.productGuid, current: current[index] }, desired, newSecret),
  );
  const posts = offers.some((offer) => offer.changes.length > 0) && !resumable && !newSecret;
  // Asked for (or read) while planning, so that the question comes before the plan is confirmed and a missing
  // secret is bad input (exit 2) before any step changes anything. The read is kept for apply.
  if (posts && !inputs.inspectOnly) await inputs.serviceSecret(writer.identity.kind, writer.label);
  return { offers, desired, writer, resumable, earlier: newSecret ? running : undefined };
}

/**
 * The job an earlier run left running for these offers that sets the same destination (pending-jobs.ts).
 * One that ended, or that Partner Center no longer knows, is not resumed: the offers show what it did.
 */
async function runningJob(partnerCenter: PartnerCenterReads, offerIds: readonly string[], fingerprint: string) {
  const kept = await Promise.all(offerIds.map((offerId) => partnerCenter.pendingJob(offerId)));
  const candidates = [...new Map(kept.filter((job) => job?.fingerprint === fingerprint).map((job) => [job!.jobId, job!])).values()];
  for (const job of candidates) {
    const status = await partnerCenter.api.jobStatus(job.jobId).catch((error: unknown) => {
      if (error instanceof CliError && error.code === "partner-center-job-unknown") return undefined;
      throw error;
    });
    if (status && status.jobStatus !== "completed") return job;
  }
  return undefined;
}

async function leadWriter(reads: Reads, upstream: Upstream, inputs: ConnectOfferInputs): Promise<LeadWriter> {
  const rotated = upstream.get("reset-password");
  if (inputs.identity === "app") {
    const created = upstream.get("create-app");
    const app =
      (rotated?.output.identity === "app" ? rotated.output : undefined) ?? created?.output ?? (await serviceApp(reads, inputs.appName));
    const waitingFor = created?.pending ? "create-app" : rotated?.pending ? "reset-password" : undefined;
    if (!app.application && !waitingFor)
      throw new TenantNotReadyError({
        code: "app-missing",
        message: `No app registration is named "${app.displayName}".`,
        hint: "Run crm-lead-setup create-app (or init --identity app) first, or pass the right --app-name.",
      });
    return {
      identity: { kind: "app", applicationId: app.application?.appId ?? knownAfter("create-app"), directoryId: app.directoryId },
      label: `the app "${app.displayName}"`,
      generated: app.generatedSecret?.secretText,
      waitingFor,
    };
  }
  const user = await currentServiceUser(reads, upstream, inputs.userName);
  const waitingFor = user.pending ? "create-user" : rotated?.pending ? "reset-password" : undefined;
  if (!user.current && !waitingFor)
    throw new TenantNotReadyError({
      code: "user-missing",
      message: `The service user ${user.userPrincipalName} does not exist.`,
      hint: "Run crm-lead-setup create-user (or init) first, or pass the right --user-name.",
    });
  const generated =
    (rotated?.output.identity === "user" ? rotated.output.generatedPassword : undefined) ??
    upstream.get("create-user")?.output.generatedPassword;
  return { identity: { kind: "user", username: user.userPrincipalName }, label: user.userPrincipalName, generated, waitingFor };
}

/** Error codes of a job that has ended (configure-job.ts) or is unknown: nothing is left to resume. */
const JOB_ENDED = new Set([
  "partner-center-job-failed",
  "partner-center-job-cancelled",
  "partner-center-not-supported",
  "partner-center-offer-locked",
  "partner-center-job-unknown",
]);

async function waitForJob(
  partnerCenter: PartnerCenterWrites,
  started: ConfigureJobStatus | { jobId: string },
  offers: readonly OfferDecision[],
  run: { writes: Writes; progress: Progress; inputs: ConnectOfferInputs },
): Promise<ConnectOfferDone> {
  const offerOf = (resourceId: string) =>
    offers.find((offer) => `customer-leads/${offer.productGuid}`.toLowerCase() === resourceId.toLowerCase())?.offerId;
  const activity = run.progress.activity(`Partner Center configure job ${started.jobId}`);
  try {
    await awaitConfigureJob(partnerCenter.api, started, {
      clock: run.writes.clock,
      signal: run.writes.signal,
      timeoutMs: run.inputs.syncTimeoutSeconds * 1000,
      offerOf,
      onStatus: (status) => activity.update(`Partner Center configure job ${status.jobId}: ${status.jobStatus}`),
    });
    await partnerCenter.clearPendingJob(started.jobId);
    return { jobId: started.jobId, end: { jobResult: "succeeded" } };
  } catch (error) {
    if (error instanceof CliError && JOB_ENDED.has(error.code)) await partnerCenter.clearPendingJob(started.jobId);
    throw error;
  } finally {
    activity.end();
  }
}

/** Waits for an interrupted rotation's job to end, however it ends: this run's own job follows with the newer secret. */
async function settleEarlierJob(
  partnerCenter: PartnerCenterWrites,
  op: { jobId: string; offers: OfferDecision[] },
  run: { writes: Writes; progress: Progress; inputs: ConnectOfferInputs },
): Promise<ConnectOfferDone> {
  try {
    return await waitForJob(partnerCenter, { jobId: op.jobId }, op.offers, run);
  } catch (error) {
    if (error instanceof CliError && JOB_ENDED.has(error.code)) return { jobId: op.jobId, end: { jobResult: "unfinished" } };
    throw error;
  }
}

/** Signs in as the service identity with the secret; a refused sign-in is the sign-in's own error (exit 3). */
async function signInWith(writes: Writes, identity: LeadWriterIdentity, secret: string, name: string): Promise<void> {
  await writes.signInAs(
    identity.kind === "app"
      ? { identity: "app", appId: identity.applicationId, clientSecret: secret, directoryId: identity.directoryId, name }
      : { identity: "user", userPrincipalName: identity.username, password: secret, name },
  );
}
