import type { CliError } from "./errors.js";
import type { IO } from "./io.js";
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
}

export function renderJson(io: IO, outcome: CommandOutcome): void {
  io.writeJson(
    {
      ok: outcome.error === undefined,
      command: outcome.command,
      dryRun: outcome.dryRun,
      steps: outcome.results.map((r) => ({ id: r.id, status: r.status, summary: r.summary, changes: r.changes, ...(r.details ? { details: r.details } : {}) })),
      partnerCenter: outcome.partnerCenter,
      error: outcome.error ? outcome.error.toJSON() : null,
    },
    outcome.newSecrets,
  );
}

export function renderHuman(io: IO, outcome: CommandOutcome): void {
  const { style } = io;
  const marks: Record<StepStatus, string> = {
    done: style.green("✔"),
    unchanged: style.green("="),
    planned: style.yellow("+"),
    skipped: style.dim("↓"),
    failed: style.red("✖"),
  };
  for (const result of outcome.results) {
    const label = result.status === "unchanged" ? "unchanged" : result.status;
    io.out(`${marks[result.status]} ${style.bold(result.id)} ${style.dim(`(${label})`)} ${result.summary}`);
    if (result.status === "planned") {
      for (const change of result.changes) io.out(`    ${style.yellow("+")} ${change.action} ${change.target}`);
    }
  }
  if (outcome.dryRun && outcome.error === undefined) io.out(style.dim("Dry run: nothing was changed."));
}

export function renderError(io: IO, error: CliError): void {
  io.err(`${io.style.red("Error:")} ${error.message}`);
  if (error.hint) io.err(`${io.style.dim("Hint:")} ${error.hint}`);
}
