import type { ConfigureJobError } from "../services/partner-center.js";
import type { OfferDecision } from "./lead-destination.js";

/**
 * What `--json` reports under `partnerCenter.offers` (SPEC §3) and what the summary says about the
 * offers. Pure: built from the plan's decisions and how the configure job ended.
 */
export type OfferStatus = "done" | "unchanged" | "planned" | "skipped" | "failed";

export interface OfferOutcome {
  offerId: string;
  productId: string;
  status: OfferStatus;
  /** `configure` changes only the draft (reference: partner-center §1.2 "Draft vs publish"). */
  target: "draft";
}

/** How the run's configure job ended; `undefined` when none was posted (a dry-run, or nothing to change). */
export type ConfigureJobEnd =
  | { jobResult: "succeeded" }
  | { jobResult: "failed"; errors: readonly ConfigureJobError[] }
  /** Cancelled, still running past the timeout, interrupted, or the post itself failed. */
  | { jobResult: "unfinished" };

/**
 * One outcome per offer. When the job failed, an offer named by an error failed; the others were saved
 * only if every error names its offer (the sandbox applies each resource on its own; whether Partner
 * Center does is UNCONFIRMED, reference: partner-center §1.2 "Cancel"), else every changing offer counts
 * as failed. A re-run reads the offers again either way.
 */
export function offerOutcomes(decisions: readonly OfferDecision[], dryRun: boolean, job: ConfigureJobEnd | undefined): OfferOutcome[] {
  const named = new Set(job?.jobResult === "failed" ? job.errors.map((error) => error.resourceId?.toLowerCase()) : []);
  const pinpointed = job?.jobResult === "failed" && !named.has(undefined);
  const statusOf = (decision: OfferDecision): OfferStatus => {
    if (decision.changes.length === 0) return "unchanged";
    if (dryRun) return "planned";
    if (job?.jobResult === "succeeded") return "done";
    if (job?.jobResult === "failed" && pinpointed && !named.has(`customer-leads/${decision.productGuid}`.toLowerCase())) return "done";
    return "failed";
  };
  return decisions.map((decision) => ({
    offerId: decision.offerId,
    productId: `product/${decision.productGuid}`,
    status: statusOf(decision),
    target: "draft",
  }));
}

/**
 * The summary's lines about the offers: which now send leads to Dynamics (in their draft), and that
 * nothing reaches customers before the offer is published (the tool never publishes, SPEC §7).
 */
export function offersSummary(outcomes: readonly OfferOutcome[]): string[] {
  const saved = outcomes.filter((o) => o.status === "done").map((o) => o.offerId);
  const already = outcomes.filter((o) => o.status === "unchanged").map((o) => o.offerId);
  const failed = outcomes.filter((o) => o.status === "failed").map((o) => o.offerId);
  const lines: string[] = [];
  if (saved.length > 0) lines.push(`Lead destination saved in the draft of ${list(saved)}.`);
  if (already.length > 0) lines.push(`Already sending leads to this Dynamics: ${list(already)}.`);
  if (failed.length > 0) lines.push(`Not connected: ${list(failed)}. Paste the values above into its Customer leads dialog, or re-run.`);
  if (saved.length > 0) lines.push("Publish the offer in Partner Center (Review and publish) for the new lead destination to take effect.");
  return lines;
}

const list = (offerIds: string[]) => `${offerIds.length === 1 ? "offer" : "offers"} ${offerIds.join(", ")}`;
