import { belongsToCommand, TenantNotReadyError, toCliError } from "../errors.js";
import type { CommandContext } from "../context.js";
import type { StepResult } from "../steps/step.js";
import { inspectStep, previewOf, RunUpstream } from "../runner.js";
import { commandReads } from "../tenant-ports.js";
import { connectOfferFor, identitySteps, requireOffersCloud } from "./command-steps.js";
import type { ConnectOfferState } from "../steps/connect-offer.js";
import { DEFAULT_WARN_DAYS } from "../steps/create-app.js";

/**
 * Read-only: inspects every step and reports it as done, missing or drifted. A step whose prerequisite is
 * missing (no user, no role) is itself missing, with the reason. With --detailed-exitcode it exits 10
 * when anything is missing or drifted.
 */
type State = "done" | "missing" | "drifted" | "failed";

/** status only ever inspects: --detailed-exitcode speaks for it as for a dry run. */
export const inspectsOnly = true;

export async function run(context: CommandContext) {
  const results: (StepResult & { details: { state: State } })[] = [];
  let error;
  const reads = commandReads(context);
  const upstream = new RunUpstream();
  // The app secret's expiry is watched from --warn-days before it (SPEC §1); only status reads it.
  const options = { ...context.options, warnDays: context.options.warnDays ?? DEFAULT_WARN_DAYS };
  if (options.offer?.length) requireOffersCloud(options);
  const noPrompter = () => Promise.reject(new Error("status asks nothing"));
  const offers = options.offer?.length ? [connectOfferFor(context, noPrompter, options, true)] : [];
  for (const step of [...identitySteps(context, options, false), ...offers]) {
    try {
      const planned = await inspectStep(step, reads, upstream);
      const { plan } = planned;
      const state: State = plan.ops.length === 0 || plan.skipReason ? "done" : plan.drift ? "drifted" : "missing";
      const offerStates = step.id === "connect-offer" ? destinations(planned.state as ConnectOfferState) : undefined;
      results.push({
        ...previewOf(planned),
        status: state === "done" ? "unchanged" : "planned",
        summary: offerStates?.summary ?? plan.summary,
        details: { ...plan.details, state, ...(offerStates ? { offers: offerStates.offers } : {}) },
      });
    } catch (caught) {
      const failure = toCliError(caught);
      if (failure instanceof TenantNotReadyError) {
        results.push({ id: step.id, status: "planned", summary: failure.message, changes: [], details: { state: "missing" } });
        continue;
      }
      if (!belongsToCommand(failure))
        results.push({ id: step.id, status: "failed", summary: failure.message, changes: [], details: { state: "failed" } });
      error = failure;
      break;
    }
  }
  if (!context.io.json) {
    const { style } = context.io;
    const colour = { done: style.green, missing: style.yellow, drifted: style.yellow, failed: style.red } as const;
    context.io.out(style.bold(`${"STEP".padEnd(19)}${"STATE".padEnd(9)}DETAIL`));
    for (const result of results)
      context.io.out(`${result.id.padEnd(19)}${colour[result.details.state](result.details.state.padEnd(9))}${result.summary}`);
  }
  const changesPending = results.some((r) => r.details.state !== "done");
  // status only ever reads: it is not a dry run of anything, so it does not say "nothing was changed".
  return {
    command: context.command,
    dryRun: false,
    results: context.io.json ? results : [],
    partnerCenter: null,
    error,
    newSecrets: [],
    changesPending,
  };
}

/** Each offer's lead destination as status reports it: connected, missing (with what it is instead), or drifted naming the fields. */
function destinations(state: ConnectOfferState) {
  const offers = state.offers.map(({ offerId, state: destination }) => ({ offerId, ...destination }));
  const words = offers.map((offer) =>
    offer.status === "drifted"
      ? `${offer.offerId}: drifted (${offer.fields.join(", ")})`
      : offer.status === "missing"
        ? `${offer.offerId}: missing (lead destination ${offer.leadDestination ?? "not set"})`
        : `${offer.offerId}: connected`,
  );
  return { offers, summary: `Lead destination in Partner Center: ${words.join("; ")}` };
}
