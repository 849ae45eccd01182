import type { CliError } from "./errors.js";
import type { IO } from "./io.js";
import { runnable } from "./invocation.js";
import type { StepResult, StepStatus } from "./steps/step.js";

/**
 * The two renderers of a command's outcome: lines for people, and the one JSON document of SPEC §3.
 * Renderers never call an API.
 */
export interface CommandOutcome {
  command: string;
  dryRun: boolean;
  results: StepResult[];
  partnerCenter: Record<string, string | null> | null;
  error: CliError | undefined;
  /** Secrets generated in this run that the summary may show. */
  newSecrets: string[];
  /** Things the admin should know, shown after the summary (human output). */
  notes?: string[];
  /** Runs once the outcome has been written (e.g. to record that a password was shown). */
  afterRender?: () => Promise<void>;
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
      steps: outcome.results.map((r) => ({ id: r.id, status: r.status, summary: r.summary, changes: r.changes, ...(r.details ? { details: r.details } : {}) })),
      partnerCenter: outcome.partnerCenter,
      ...outcome.report,
      error: outcome.error ? outcome.error.toJSON() : null,
    },
    outcome.newSecrets,
  );
}

/** The plan shown before asking to apply it. */
export function renderPlan(io: IO, preview: StepResult[]): void {
  const { style } = io;
  io.out(style.bold("Plan:"));
  for (const result of preview) {
    if (result.status === "planned") {
      io.out(`  ${style.yellow("+")} ${style.bold(result.id)}: ${result.summary}`);
      for (const change of result.changes) io.out(`      ${change.action} ${change.target}`);
    } else {
      io.out(`  ${style.green("=")} ${style.bold(result.id)}: ${result.summary}`);
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
    const plain = rows.flatMap(([label, value]) => (label.length + 2 + value.length < columns ? [`${label}: ${value}`] : [`${label}:`, value]));
    return [...(incomplete ? ["Setup incomplete"] : []), "Partner Center → Customer leads", "(Dynamics 365 Customer Engagement)", ...plain];
  }
  return [
    `┌${title}${"─".repeat(width - title.length)}┐`,
    ...lines.map((l) => `│ ${l.padEnd(width - 2)} │`),
    `└${"─".repeat(width)}┘`,
  ];
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
  io.out(`${resultMark(io, result.status)} ${style.bold(result.id)} ${style.dim(`(${result.status})`)} ${result.summary}`);
  if (result.status === "planned") {
    for (const change of result.changes) io.out(`    ${style.yellow("+")} ${change.action} ${change.target}`);
  }
}

/**
 * The live step list of a run that applies: one activity while the tenant is inspected, one per running
 * step while it applies (with elapsed time), and the steps' result lines in plan order. Steps that run at
 * the same time can end out of order: a step that ends before the ones above it stays in the live region,
 * with its result, until they have ended, so the list always reads in the order of the plan.
 */
export function liveSteps(io: IO, order: readonly string[]): { onStep: (step: { id: string; title: string }, phase: "inspect" | "apply") => void; onResult: (result: StepResult) => void; endPlanning: () => void } {
  let planning: ReturnType<IO["activity"]> | undefined;
  const running = new Map<string, ReturnType<IO["activity"]>>();
  const ended = new Map<string, StepResult>();
  const held = new Map<string, () => void>();
  let next = 0;
  return {
    onStep: (step, phase) => {
      if (phase === "inspect") {
        if (planning) planning.update(`Inspecting the tenant: ${step.id}…`);
        else planning = io.activity(`Inspecting the tenant: ${step.id}…`);
        return;
      }
      running.set(step.id, io.activity(`${step.id}: ${step.title.charAt(0).toLowerCase()}${step.title.slice(1)}…`));
    },
    onResult: (result) => {
      running.get(result.id)?.end();
      running.delete(result.id);
      ended.set(result.id, result);
      while (next < order.length && ended.has(order[next]!)) {
        const id = order[next++]!;
        held.get(id)?.();
        held.delete(id);
        renderResult(io, ended.get(id)!);
      }
      if (order.indexOf(result.id) >= next) {
        held.set(result.id, io.holdLine(resultMark(io, result.status), `${result.id} (${result.status}) ${result.summary}`));
      }
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
    if (values.nextStep) io.out(values.setup === "incomplete" ? style.yellow(values.nextStep) : style.dim(values.nextStep));
  }
  for (const note of outcome.notes ?? []) io.out(style.yellow(runnable(note)));
}

export function renderError(io: IO, error: CliError): void {
  io.err(`${io.style.red("Error:")} ${error.message}`);
  if (error.hint) io.err(`${io.style.dim("Hint:")} ${runnable(error.hint)}`);
}
