import type { CommandFactory, CommandSpec } from "../command.js";
import { belongsToCommand, TenantNotReadyError, toCliError } from "../errors.js";
import { OFFER_OPTIONS, OUTPUT_OPTIONS, TENANT_OPTIONS } from "../options.js";
import type { ConnectOfferState } from "../steps/connect-offer.js";
import type { StepResult } from "../steps/step.js";

/**
 * Read-only: inspects every step and reports it as done, missing or drifted. A step whose prerequisite is
 * missing (no user, no role) is itself missing, with the reason. With --detailed-exitcode it exits 10
 * when anything is missing or drifted. It changes nothing, so it refuses --dry-run.
 */
export const command: CommandSpec = {
  name: "status",
  summary: "show every step as done, missing or drifted (changes nothing)",
  description:
    "Inspects the tenant for every step and reports it as done, missing or drifted: for the app identity, a client secret that has expired or expires within --warn-days counts as drifted; with --offer, each offer's lead destination in Partner Center (connected, missing, or drifted naming the field). Read-only; with --detailed-exitcode it exits 10 when anything is missing or drifted, for a scheduled check.",
  examples: [
    "crm-lead-setup status --org-url https://contoso.crm4.dynamics.com",
    "crm-lead-setup status --sandbox --json --detailed-exitcode",
    "crm-lead-setup status --org-url https://contoso.crm4.dynamics.com --identity app --offer contoso-lead-saas --warn-days 45 --detailed-exitcode",
  ],
  options: [
    ...TENANT_OPTIONS,
    "identity",
    "detailedExitcode",
    ...OUTPUT_OPTIONS,
    "solutionFile",
    "solutionUrl",
    "userName",
    "appName",
    "warnDays",
    ...OFFER_OPTIONS,
  ],
  inspectsOnly: true,
  run,
};

export type State = "done" | "missing" | "drifted" | "failed";

/** What status uses: the tenant link to read through; never the prompter or the writes. */
type StatusDeps = Pick<CommandFactory, "name" | "io" | "options" | "link">;

async function run({ name, io, options: given, link: connect }: StatusDeps) {
  const [
    { inspectStep, previewOf, RunUpstream },
    { commandReads },
    { connectOfferFor, identitySteps, requireOffersCloud },
    { DEFAULT_WARN_DAYS },
  ] = await Promise.all([
    import("../runner.js"),
    import("../tenant-ports.js"),
    import("./command-steps.js"),
    import("../steps/create-app.js"),
  ]);
  // The app secret's expiry is watched from --warn-days before it (SPEC §1); only status reads it.
  const options = { ...given, warnDays: given.warnDays ?? DEFAULT_WARN_DAYS };
  if (options.offer?.length) requireOffersCloud(options);
  const link = await connect();
  const noPrompter = () => Promise.reject(new Error("status asks nothing"));
  const offers = options.offer?.length ? [connectOfferFor({ io, options, prompter: noPrompter }, options, true)] : [];
  const results: (StepResult & { details: { state: State } })[] = [];
  let error;
  const reads = commandReads(link, options);
  const upstream = new RunUpstream();
  for (const step of [...identitySteps(link.sandbox, options, false), ...offers]) {
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
  if (!io.json) {
    const { wrapWords } = await import("../render.js");
    for (const line of statusTable(results, io.style, io.outputColumns, wrapWords)) io.out(line);
  }
  const changesPending = results.some((r) => r.details.state !== "done");
  // status only ever reads: it is not a dry run of anything, so it does not say "nothing was changed".
  return {
    command: name,
    dryRun: false,
    results: io.json ? results : [],
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

/** Where the DETAIL column starts: after the step id (19) and the state (9). */
const DETAIL_AT = 28;
/** Narrower than this, the detail gets whole lines of its own under the step instead of a column. */
const NARROWEST_DETAIL = 30;

/**
 * The table people read. Off a terminal (`columns` undefined) each step is one line, as scripts read it. On
 * a terminal the detail wraps at words inside its column, so that a window never cuts a name or a path in
 * half; in a window too narrow for the column, the detail goes on lines of its own under the step.
 */
export function statusTable(
  results: readonly (StepResult & { details: { state: State } })[],
  style: Record<"bold" | "green" | "yellow" | "red", (text: string) => string>,
  columns: number | undefined,
  wrap: (line: string, columns: number | undefined, indent: number) => string,
): string[] {
  const colour = { done: style.green, missing: style.yellow, drifted: style.yellow, failed: style.red } as const;
  const narrow = columns !== undefined && columns - DETAIL_AT < NARROWEST_DETAIL;
  const lines = [style.bold(narrow ? `${"STEP".padEnd(19)}STATE` : `${"STEP".padEnd(19)}${"STATE".padEnd(9)}DETAIL`)];
  for (const result of results) {
    const head = `${result.id.padEnd(19)}${colour[result.details.state](result.details.state.padEnd(narrow ? 0 : 9))}`;
    if (narrow) {
      lines.push(head, ...wrap(`  ${result.summary}`, columns, 2).split("\n"));
      continue;
    }
    const [first, ...rest] = wrap(result.summary, columns && columns - DETAIL_AT, 0).split("\n");
    lines.push(`${head}${first}`);
    for (const row of rest) lines.push(`${" ".repeat(DETAIL_AT)}${row.trimStart()}`);
  }
  return lines;
}
