import { StepFailedError, UsageError } from "../errors.js";
import type { CommandContext } from "../context.js";
import { inquirerPrompter, type Prompter } from "../prompter.js";
import { liveSteps, renderPlan, type CommandOutcome } from "../render.js";
import { runSteps } from "../run.js";
import type { Step, StepResult } from "../steps/step.js";
import { passwordNeverShown, recordPassword, recordSecret, secretRecord } from "../ledger.js";
import { setNewPassword } from "../steps/reset-password.js";
import { followUpCommand, nextStep, secretHint, setupComplete } from "../summary.js";
import { isInCommandSandbox, KEEP_A_SANDBOX_RUNNING } from "../sandbox-link.js";

/**
 * The shared flow of every tenant-changing command: plan all steps, show the plan and ask to confirm (on
 * a terminal, unless --yes), apply, and hand the outcome to the renderer, with the Partner Center values
 * when the command ends with them.
 */
export interface ApplyOptions {
  /** The command ends with the Partner Center summary (init, create-user, create-app, reset-password). */
  partnerCenter?: boolean;
  prompter?: Prompter;
}

/** Commands that delete or replace something live: their confirmation defaults to No (SPEC §3). */
const DEFAULT_NO: readonly string[] = ["teardown", "reset-password"];

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
  if (!(await ask.confirm(`Apply ${changes} change${changes === 1 ? "" : "s"} to the tenant?`, !DEFAULT_NO.includes(context.command)))) {
    // A considered answer, not an interrupt: exit 1 (SPEC §3), and nothing to resume.
    throw new StepFailedError({
      code: "confirmation-declined",
      message: "Nothing was changed: the plan was declined.",
      hint: `Run ${context.command} again and answer yes to apply it; --dry-run shows the plan without asking.`,
    });
  }
}

export async function applySteps(
  context: CommandContext,
  steps: Step<unknown>[],
  options: ApplyOptions = {},
): Promise<CommandOutcome & { changesPending: boolean }> {
  // People see each step as it happens; --json waits for the one document at the end.
  const live = context.io.json ? undefined : liveSteps(context.io, steps);
  let shown = false;
  const outcome = await runSteps(context, steps, {
    onStep: live?.onStep,
    within: live?.within,
    onResult: live
      ? (result) => {
          live.endPlanning();
          shown = true;
          live.onResult(result);
        }
      : undefined,
    confirm: async (preview) => {
      live?.endPlanning();
      await confirmPlan(context, preview, options.prompter);
    },
  });
  live?.endPlanning();
  // A secret generated in this run is shown even when a later step failed: otherwise it would be lost.
  const generatedNow = context.facts.generatedPassword !== undefined || context.facts.generatedSecret !== undefined;
  const summary =
    options.partnerCenter && !context.options.dryRun && (!outcome.error || generatedNow)
      ? await partnerCenterSummary(context, options, setupComplete(outcome.results, outcome.error))
      : undefined;
  const secrets = [context.facts.generatedPassword, context.facts.generatedSecret?.secretText].filter((s): s is string => s !== undefined);
  return {
    command: context.command,
    dryRun: context.options.dryRun,
    results: outcome.results,
    partnerCenter: summary?.values ?? null,
    notes: summary?.notes ?? [],
    afterRender: summary?.afterRender,
    error: outcome.error,
    stepsShown: shown,
    newSecrets: secrets,
    changesPending: outcome.changesPending,
  };
}

interface Summary {
  values: NonNullable<CommandOutcome["partnerCenter"]>;
  notes: string[];
  /** Marks the generated secret as shown, once the summary has been written. */
  afterRender?: () => Promise<void>;
}

/** The Partner Center dialog's values for the identity that was set up (reference: dataverse §1.4). */
async function partnerCenterSummary(context: CommandContext, options: ApplyOptions, complete: boolean): Promise<Summary | undefined> {
  const session = await context.tenant();
  const app = context.facts.app;
  const user = context.facts.user;
  const identity = context.options.identity === "app" ? "app" : "user";
  const name = identity === "app" ? app?.application && app.displayName : user?.current && user.userPrincipalName;
  if (!name) return undefined;
  const notes: string[] = [];
  const sameTarget = { ...context.options, orgUrl: session.orgUrl };
  const rerun = followUpCommand(context.command, sameTarget, name);
  const rotate = followUpCommand("reset-password", sameTarget, name);
  // SPEC §1: init writes no test lead unless asked; it says how to prove the setup instead, once it is complete.
  if (complete && context.command === "init" && !context.options.verify) {
    const verify = followUpCommand("verify", sameTarget, name);
    notes.push(
      isInCommandSandbox(context.sandbox)
        ? `This sandbox tenant lived only for this command, so \`${verify}\` would meet a new, empty one. To prove Partner Center can write leads: ${KEEP_A_SANDBOX_RUNNING}, and \`${verify}\`.`
        : `To prove Partner Center can write leads, run \`${verify}\`: it signs in as the service identity and writes, then deletes, a test lead.`,
    );
  }
  if (identity === "app") {
    const application = app!.application!;
    const secret = context.facts.generatedSecret;
    if (secret)
      notes.push(
        `The client secret expires on ${secret.endDateTime.slice(0, 10)}. Before then, run \`${rotate}\` and paste the new one into Partner Center.`,
      );
    const record = secret ? undefined : await secretRecord(context.paths, session.orgUrl, application.appId);
    const hint = secret ? undefined : secretHint({ identity, name, neverShown: record?.passwordShown === false, command: rotate });
    return {
      values: {
        url: session.orgUrl,
        authentication: "Azure Active Directory",
        applicationId: application.appId,
        directoryId: app!.directoryId,
        clientSecret: secret?.secretText ?? null,
        ...(hint ? { hint } : {}),
        setup: complete ? "complete" : "incomplete",
        nextStep: nextStep({ complete, secretShown: secret ? "client secret" : undefined, rerun }),
      },
      notes: hint ? [...notes, hint] : notes,
      afterRender: secret
        ? () => recordSecret(context.paths, { orgUrl: session.orgUrl, appId: application.appId, keyId: secret.keyId }, true)
        : undefined,
    };
  }
  const current = user!.current!;
  let neverShown = !context.facts.generatedPassword && (await passwordNeverShown(context.paths, session.orgUrl, name));
  if (neverShown && context.io.canPrompt) {
    // An earlier run created the user and was stopped before it could show the password.
    const ask = options.prompter ?? (await inquirerPrompter(context.io, context.signal));
    if (
      await ask.confirm(
        `The password generated when ${name} was created was never shown: the run that created it was interrupted. Set a new password now?`,
        true,
      )
    ) {
      await setNewPassword(context, current);
      neverShown = false;
    }
  }
  const password = context.facts.generatedPassword;
  const hint = password ? undefined : secretHint({ identity, name, neverShown, command: rotate });
  return {
    values: {
      url: session.orgUrl,
      authentication: "Office 365",
      userName: name,
      password: password ?? null,
      ...(hint ? { hint } : {}),
      setup: complete ? "complete" : "incomplete",
      nextStep: nextStep({ complete, secretShown: password ? "password" : undefined, rerun }),
    },
    notes: hint ? [...notes, hint] : notes,
    afterRender: password
      ? () => recordPassword(context.paths, { orgUrl: session.orgUrl, userPrincipalName: name, objectId: current.id }, true)
      : undefined,
  };
}
