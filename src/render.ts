import type { CliError } from "./errors.js";
import { formatDuration, visibleLength, type IO, type StepLine } from "./io.js";
import { runnable } from "./invocation.js";
import type { StepResult, StepStatus } from "./steps/step.js";
import type { ShownSecret } from "./summary.js";
import type { OfferOutcome } from "./offers/offer-outcomes.js";

/**
 * The two renderers of a command's outcome: lines for people, and the one JSON document of SPEC §3.
 * Renderers never call an API.
 */
export interface CommandOutcome {
  command: string;
  dryRun: boolean;
  results: StepResult[];
  partnerCenter: Record<string, string | null> | null;
  /** `partnerCenter.offers` (SPEC §3), when the run connected offers. */
  offers?: OfferOutcome[];
  error: CliError | undefined;
  /** Secrets generated in this run that the summary may show. */
  newSecrets: string[];
  /** Things the admin should know, shown after the summary (human output). */
  notes?: string[];
  /** A generated secret the outcome shows: recorded as shown once the outcome has been written. */
  secretShown?: ShownSecret;
  /** The step lines were already shown live, as each step ended. */
  stepsShown?: boolean;
  /** The --json document was already written (the sandbox writes it when it is ready, not when it stops). */
  jsonWritten?: boolean;
  /** What a command that runs no steps reports in --json, as top-level keys (e.g. login's account and cache file). */
  report?: Record<string, unknown>;
}

export function renderJson(io: IO, outcome: CommandOutcome): void {
  io.writeJson(
    {
      ok: outcome.error === undefined,
      command: outcome.command,
      dryRun: outcome.dryRun,
      steps: outcome.results.map((r) => ({
        id: r.id,
        status: r.status,
        summary: r.summary,
        changes: r.changes,
        ...(r.details ? { details: r.details } : {}),
      })),
      partnerCenter: outcome.offers ? { ...outcome.partnerCenter, offers: outcome.offers } : outcome.partnerCenter,
      ...outcome.report,
      error: outcome.error ? outcome.error.toJSON() : null,
    },
    outcome.newSecrets,
  );
}

/**
 * Breaks a line at spaces to fit a terminal of `columns`, continuing with `indent` spaces (a hanging
 * indent); a single word longer than a line is cut. Without a width (not a terminal) the line is kept.
 */
/**
 * The words of a line; a command in backticks is one word, so that it is never broken across lines
 * (a person copies it whole), unless it is longer than a line itself.
 */
function wordsOf(text: string, width: number): string[] {
  return (text.match(/(?:[^\s`]*`[^`]*`)+[^\s`]*|[^\s`]+`?/g) ?? []).flatMap((word) =>
    visibleLength(word) > width ? word.split(" ") : [word],
  );
}

export function wrapWords(line: string, columns: number | undefined, indent: number): string {
  if (!columns) return line;
  const width = Math.max(indent + 20, columns - 1);
  const rows: string[] = [];
  const lead = /^ */.exec(line)![0];
  let row = lead;
  let rowHasWord = false;
  for (const word of wordsOf(line.slice(lead.length), width - indent)) {
    const candidate = rowHasWord ? `${row} ${word}` : `${row}${word}`;
    if (!rowHasWord || visibleLength(candidate) <= width) {
      row = candidate;
      rowHasWord = true;
    } else {
      rows.push(row);
      row = `${" ".repeat(indent)}${word}`;
    }
    while (visibleLength(row) > width) {
      rows.push(row.slice(0, width));
      row = `${" ".repeat(indent)}${row.slice(width)}`;
    }
  }
  rows.push(row);
  return rows.join("\n");
}

/** The plan shown before asking to apply it. */
export function renderPlan(io: IO, preview: StepResult[]): void {
  const { style } = io;
  const out = (line: string, indent: number) => io.out(wrapWords(line, io.outputColumns, indent));
  io.out(style.bold("Plan:"));
  for (const result of preview) {
    if (result.status === "planned") {
      out(`  ${style.yellow("+")} ${style.bold(result.id)}: ${result.summary}`, 6);
      for (const change of result.changes) out(`      ${change.action} ${change.target}`, 8);
    } else {
      out(`  ${style.green("=")} ${style.bold(result.id)}: ${result.summary}`, 6);
    }
  }
}

/**
 * The values to paste into Partner Center → Offer setup → Customer leads → Connect → Dynamics 365 Customer
 * Engagement, with the dialog's own labels (reference: dataverse §1.4). The password appears only when it
 * was generated in this run. A box when it fits the terminal (or the width is unknown, e.g. a pipe);
 * otherwise one "Label: value" per line, and a value that does not fit beside its label gets a line of its
 * own: a terminal that wraps a line would split the secret in it, and a split secret is pasted wrong.
 */
export function partnerCenterLines(values: Record<string, string | null>, columns: number | undefined): string[] {
  const rows: [string, string][] =
    values.authentication === "Office 365"
      ? [
          ["URL", values.url ?? ""],
          ["Authentication", "Office 365"],
          ["User name", values.userName ?? ""],
          ["Password", values.password ?? "(not shown: it was set in an earlier run)"],
        ]
      : [
          ["URL", values.url ?? ""],
          ["Authentication", values.authentication ?? ""],
          ["Application (client) ID", values.applicationId ?? ""],
          ["Directory ID", values.directoryId ?? ""],
          ["Client secret", values.clientSecret ?? "(not shown: it was created in an earlier run)"],
        ];
  const heading = "Partner Center → Customer leads → Dynamics 365 Customer Engagement";
  const incomplete = values.setup === "incomplete";
  const title = ` ${incomplete ? `Setup incomplete · ${heading}` : heading} `;
  const labelWidth = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `${label.padEnd(labelWidth)}  ${value}`);
  const width = Math.max(title.length + 2, ...lines.map((l) => l.length + 2));
  // A line as wide as the terminal makes some terminals wrap: keep one column free.
  if (columns !== undefined && width + 2 >= columns) {
    const plain = rows.flatMap(([label, value]) =>
      label.length + 2 + value.length < columns ? [`${label}: ${value}`] : [`${label}:`, value],
    );
    return [...(incomplete ? ["Setup incomplete"] : []), "Partner Center → Customer leads", "(Dynamics 365 Customer Engagement)", ...plain];
  }
  return [`┌${title}${"─".repeat(width - title.length)}┐`, ...lines.map((l) => `│ ${l.padEnd(width - 2)} │`), `└${"─".repeat(width)}┘`];
}

function resultMark(io: IO, status: StepStatus): string {
  const { style } = io;
  const marks: Record<StepStatus, string> = {
    done: style.green("✔"),
    unchanged: style.green("="),
    planned: style.yellow("+"),
    skipped: style.dim("↓"),
    failed: style.red("✖"),
  };
  return marks[status];
}

/** One line per step result; planned steps list their changes under it. */
export function renderResult(io: IO, result: StepResult): void {
  const { style } = io;
  io.out(
    wrapWords(
      `${resultMark(io, result.status)} ${style.bold(result.id)} ${style.dim(`(${result.status})`)} ${result.summary}`,
      io.outputColumns,
      4,
    ),
  );
  if (result.status === "planned") {
    for (const change of result.changes)
      io.out(wrapWords(`    ${style.yellow("+")} ${change.action} ${change.target}`, io.outputColumns, 8));
  }
}

/** A step as the live list needs it: its id, its title, and the earlier steps it waits for (`Step.after`). */
export interface LiveStep {
  id: string;
  title: string;
  after?: readonly string[];
}

type LiveState = { phase: "waiting" } | { phase: "running"; started: number; line: StepLine } | { phase: "ended"; result: StepResult };

/**
 * The live step list of a run that applies: one activity while the tenant is inspected, then one line per
 * step in plan order: waiting (and for which steps), running (with its one timer, showing what the step's
 * code reports), or ended. Steps that run at the same time can end out of order: a step that ends before
 * the ones above it keeps its line, with its result, until they have ended; then the result lines are
 * printed in the order of the plan.
 */
export function liveSteps(io: IO, steps: readonly LiveStep[]) {
  let planning: ReturnType<IO["activity"]> | undefined;
  const states = new Map<string, LiveState>();
  const removers = new Map<string, () => void>();
  let next = 0;
  const ids = steps.map((step) => step.id);

  const parts = (step: LiveStep, frame: string) => {
    const state = states.get(step.id) ?? { phase: "waiting" };
    if (state.phase === "ended")
      return {
        prefix: resultMark(io, state.result.status),
        label: `${step.id} (${state.result.status}) ${state.result.summary}`,
        suffix: "",
      };
    if (state.phase === "running") {
      const doing = state.line.detail ?? `${step.title.charAt(0).toLowerCase()}${step.title.slice(1)}…`;
      return {
        prefix: frame,
        label: `${step.id}: ${doing}`,
        suffix: [state.line.gauge?.(), io.style.dim(formatDuration(Date.now() - state.started))].filter(Boolean).join(" "),
      };
    }
    // Only earlier steps count as prerequisites (see run.ts), by default all of them.
    const index = ids.indexOf(step.id);
    const needs = (step.after ?? ids.slice(0, index)).filter(
      (id) => ids.indexOf(id) >= 0 && ids.indexOf(id) < index && states.get(id)?.phase !== "ended",
    );
    return { prefix: io.style.dim("◦"), label: `${step.id}: waiting${needs.length ? ` for ${needs.join(", ")}` : ""}`, suffix: "" };
  };
  /** The first event of the apply phase draws every step's line, so the steps still waiting are seen too. */
  const startApplying = () => {
    if (removers.size > 0 || next > 0) return;
    for (const step of steps) removers.set(step.id, io.liveLine({ parts: (frame) => parts(step, frame) }));
  };

  return {
    onStep: (step: { id: string; title: string }, phase: "inspect" | "apply") => {
      if (phase === "inspect") {
        if (planning) planning.update(`Inspecting the tenant: ${step.id}…`);
        else planning = io.activity(`Inspecting the tenant: ${step.id}…`);
        return;
      }
      startApplying();
      states.set(step.id, { phase: "running", started: Date.now(), line: {} });
      io.redrawLive();
    },
    /** Runs a step's apply with its line as the place its progress is shown. */
    within: <T>(step: { id: string }, work: () => Promise<T>): Promise<T> => {
      const state = states.get(step.id);
      return state?.phase === "running" ? io.withinStep(state.line, work) : work();
    },
    onResult: (result: StepResult) => {
      startApplying();
      states.set(result.id, { phase: "ended", result });
      while (next < ids.length && states.get(ids[next]!)?.phase === "ended") {
        const id = ids[next++]!;
        removers.get(id)?.();
        removers.delete(id);
        renderResult(io, (states.get(id) as { result: StepResult }).result);
      }
      io.redrawLive();
    },
    endPlanning: () => {
      planning?.end();
      planning = undefined;
    },
  };
}

export function renderHuman(io: IO, outcome: CommandOutcome): void {
  const { style } = io;
  if (!outcome.stepsShown) for (const result of outcome.results) renderResult(io, result);
  if (outcome.dryRun && outcome.error === undefined) io.out(style.dim("Dry run: nothing was changed."));
  const values = outcome.partnerCenter;
  if (values) {
    io.out("");
    const columns = io.streams.stdout.isTTY ? io.streams.stdout.columns : undefined;
    io.outWithSecrets(partnerCenterLines(values, columns).join("\n"), outcome.newSecrets);
    if (values.nextStep)
      io.out(
        wrapWords(
          values.setup === "incomplete" ? style.yellow(runnable(values.nextStep)) : style.dim(values.nextStep),
          io.outputColumns,
          0,
        ),
      );
  }
  for (const note of outcome.notes ?? []) io.out(wrapWords(style.yellow(runnable(note)), io.outputColumns, 0));
}

export function renderError(io: IO, error: CliError): void {
  io.err(wrapWords(`${io.style.red("Error:")} ${error.message}`, io.errorColumns, 0));
  if (error.hint) io.err(wrapWords(`${io.style.dim("Hint:")} ${runnable(error.hint)}`, io.errorColumns, 0));
}
