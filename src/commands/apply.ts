import { InterruptedError, UsageError } from "../errors.js";
import type { CommandContext } from "../context.js";
import { inquirerPrompter, type Prompter } from "../prompter.js";
import { renderPlan, type CommandOutcome } from "../render.js";
import { runSteps } from "../run.js";
import type { Step, StepResult } from "../steps/step.js";

/**
 * The shared flow of every tenant-changing command: plan all steps, show the plan and ask to confirm (on
 * a terminal, unless --yes), apply, and hand the outcome to the renderer, with the Partner Center values
 * when the command ends with them.
 */
export interface ApplyOptions {
  /** The command ends with the Partner Center summary (init, create-user). */
  partnerCenter?: boolean;
  prompter?: Prompter;
}

export async function confirmPlan(context: CommandContext, preview: StepResult[], prompter: Prompter | undefined): Promise<void> {
  if (context.options.yes) return;
  if (!context.io.canPrompt) {
    throw new UsageError({
      code: "confirmation-required",
      message: `${context.command} would change the tenant, and there is no terminal to confirm on.`,
      hint: "Review the plan with --dry-run, then pass --yes (or CRM_LEAD_SETUP_YES=1) to apply it.",
    });
  }
  renderPlan(context.io, preview);
  const changes = preview.reduce((sum, r) => sum + (r.status === "planned" ? r.changes.length : 0), 0);
  const ask = prompter ?? (await inquirerPrompter(context.io, context.signal));
  if (!(await ask.confirm(`Apply ${changes} change${changes === 1 ? "" : "s"} to the tenant?`, true))) {
    throw new InterruptedError("Cancelled: nothing was changed.");
  }
}

export async function applySteps(context: CommandContext, steps: Step<unknown>[], options: ApplyOptions = {}): Promise<CommandOutcome & { changesPending: boolean }> {
  const outcome = await runSteps(context, steps, { confirm: (preview) => confirmPlan(context, preview, options.prompter) });
  const password = context.facts.generatedPassword;
  let partnerCenter: CommandOutcome["partnerCenter"] = null;
  if (options.partnerCenter && !outcome.error && !context.options.dryRun && context.facts.user) {
    const session = await context.tenant();
    partnerCenter = { url: session.orgUrl, authentication: "Office 365", userName: context.facts.user.userPrincipalName, password: password ?? null };
  }
  return {
    command: context.command,
    dryRun: context.options.dryRun,
    results: outcome.results,
    partnerCenter,
    error: outcome.error,
    newSecrets: password ? [password] : [],
    changesPending: outcome.changesPending,
  };
}
