import { StepFailedError, UsageError } from "./errors.js";
import { serviceSignIn, type CommandContext } from "./context.js";
import type { IO } from "./io.js";
import { inquirerPrompter, type Prompter } from "./prompter.js";
import { liveSteps, renderPlan, type CommandOutcome } from "./render.js";
import { runSteps, type RunOutcome } from "./runner.js";
import type { AnyStep, ServiceIdentityOutput, StepResult } from "./steps/step.js";
import type { Progress } from "./steps/ports.js";
import { partnerCenterSummary, setupComplete } from "./summary.js";
import { buildPorts, runMemo } from "./tenant-ports.js";
import { isInCommandSandbox, KEEP_A_SANDBOX_RUNNING } from "./sandbox-link.js";
import { offerOutcomes, offersSummary, type ConfigureJobEnd, type OfferOutcome } from "./offers/offer-outcomes.js";
import type { ConfigureJobError } from "./services/partner-center.js";

/**
 * How a tenant-changing command runs its steps: plan all, show the plan and ask to confirm (on a terminal,
 * unless --yes), apply, and hand the outcome to the renderer, with the Partner Center values when the
 * command ends with them. What differs between commands is declared by each command (`TenantCommand`),
 * never decided here by its name.
 */
export interface TenantCommand {
  /** The confirmation's default answer: No for commands that delete or replace something live (SPEC §3). */
  confirmDefault: boolean;
  /** Running the command is the consent (download-solution touches no tenant; verify exists to write a test lead). */
  confirmed?: boolean;
  /** Ends with the Partner Center values (init, create-user, create-app, reset-password). */
  partnerCenter?: boolean;
  /** Ends, once the setup is complete, by saying how to prove it with verify (init without --verify). */
  endsWithVerifyHint?: boolean;
}

/** The step's progress, drawn on the step's own line by the live display. */
export function ioProgress(io: IO): Progress {
  return {
    activity: (label) => io.activity(label),
    bytes: (label) => io.byteProgress(label),
    info: (text) => io.info(text),
    trace: (line) => io.trace(line),
  };
}

/** Asks a prompter once one is needed (the prompt library loads only then). */
function lazyPrompter(context: CommandContext, given: Prompter | undefined): () => Promise<Prompter> {
  let prompter: Promise<Prompter> | undefined = given && Promise.resolve(given);
  return () => (prompter ??= inquirerPrompter(context.io, context.signal));
}

async function confirmPlan(
  context: CommandContext,
  command: TenantCommand,
  preview: StepResult[],
  ask: () => Promise<Prompter>,
): Promise<void> {
  if (context.options.yes || command.confirmed) return;
  if (!context.io.canPrompt) {
    throw new UsageError({
      code: "confirmation-required",
      message: `${context.command} would change the tenant, and there is no terminal to confirm on.`,
      hint: "Review the plan with --dry-run, then pass --yes (or CRM_LEAD_SETUP_YES=1) to apply it.",
    });
  }
  renderPlan(context.io, preview);
  const changes = preview.reduce((sum, r) => sum + (r.status === "planned" ? r.changes.length : 0), 0);
  if (!(await (await ask()).confirm(`Apply ${changes} change${changes === 1 ? "" : "s"} to the tenant?`, command.confirmDefault))) {
    // A considered answer, not an interrupt: exit 1 (SPEC §3), and nothing to resume.
    throw new StepFailedError({
      code: "confirmation-declined",
      message: "Nothing was changed: the plan was declined.",
      hint: `Run ${context.command} again and answer yes to apply it; --dry-run shows the plan without asking.`,
    });
  }
}

/** Builds the ports from the context, runs the steps with the live display and the confirmation. */
async function runWithDisplay(context: CommandContext, command: TenantCommand, steps: AnyStep[], ask: () => Promise<Prompter>) {
  const { io } = context;
  // People see each step as it happens; --json waits for the one document at the end.
  const live = io.json ? undefined : liveSteps(io, steps);
  let shown = false;
  const ports = buildPorts({
    session: context.tenant,
    http: context.http,
    paths: context.paths,
    keepSecret: (secret) => io.redactor.add(secret),
    signal: context.signal,
    clock: context.clock,
    progress: ioProgress(io),
    serviceSignIn: serviceSignIn(context),
    ask: io.canPrompt ? async (question) => (await ask()).confirm(question, true) : undefined,
    once: runMemo(context),
    partnerCenterTenant: context.options.partnerCenterTenant,
  });
  const outcome = await runSteps(
    steps,
    ports,
    { dryRun: context.options.dryRun, signal: context.signal },
    {
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
        await confirmPlan(context, command, preview, ask);
      },
    },
  );
  live?.endPlanning();
  return { outcome, stepsShown: shown };
}

/** The service identity as the run left it. */
export function identityOf(outputs: RunOutcome["outputs"]): ServiceIdentityOutput | undefined {
  return outputs["reset-password"] ?? outputs["create-user"] ?? outputs["create-app"];
}

/**
 * `partnerCenter.offers` (SPEC §3): one outcome per offer of connect-offer, when the run had that step. A
 * failed job names its offers; a step that never ran leaves the offers it would have changed skipped.
 */
function connectedOffers(outcome: RunOutcome, dryRun: boolean): OfferOutcome[] | undefined {
  const connect = outcome.outputs["connect-offer"];
  const result = outcome.results.find((r) => r.id === "connect-offer");
  if (!connect || !result) return undefined;
  const failedJob = outcome.error?.code === "partner-center-job-failed" || outcome.error?.code === "partner-center-not-supported";
  const errors = (outcome.error?.details?.errors ?? []) as ConfigureJobError[];
  const job: ConfigureJobEnd | undefined =
    connect.job ?? (result.status === "failed" ? (failedJob ? { jobResult: "failed", errors } : { jobResult: "unfinished" }) : undefined);
  const outcomes = offerOutcomes(connect.offers, dryRun, job);
  if (result.status !== "skipped") return outcomes;
  return outcomes.map((offer) => (offer.status === "unchanged" ? offer : { ...offer, status: "skipped" }));
}

export async function runTenantCommand(
  context: CommandContext,
  command: TenantCommand,
  steps: AnyStep[],
  prompter?: Prompter,
): Promise<CommandOutcome & { changesPending: boolean }> {
  const { outcome, stepsShown } = await runWithDisplay(context, command, steps, lazyPrompter(context, prompter));
  const identity = identityOf(outcome.outputs);
  const generated = identity?.identity === "app" ? identity.generatedSecret?.secretText : identity?.generatedPassword;
  // A secret generated in this run is shown even when a later step failed: otherwise it would be lost.
  const summary =
    command.partnerCenter && !context.options.dryRun && (!outcome.error || generated)
      ? partnerCenterSummary({
          command: context.command,
          // The follow-up commands name the identity this run set up (create-app's is the app).
          options: { ...context.options, identity: identity?.identity },
          orgUrl: (await context.tenant()).orgUrl,
          identity,
          complete: setupComplete(outcome.results, outcome.error),
          endsWithVerifyHint: command.endsWithVerifyHint ?? false,
          inCommandSandboxNote: isInCommandSandbox(context.sandbox)
            ? (verify) =>
                `This sandbox tenant lived only for this command, so \`${verify}\` would meet a new, empty one. To prove Partner Center can write leads: ${KEEP_A_SANDBOX_RUNNING}, and \`${verify}\`.`
            : undefined,
        })
      : undefined;
  const offers = connectedOffers(outcome, context.options.dryRun);
  // Every offer now holds the values: there is nothing to paste, and the box is kept for the admin's records.
  if (summary && offers?.length && offers.every((o) => o.status === "done" || o.status === "unchanged"))
    summary.values.nextStep = `Partner Center holds these values now: nothing to paste.${generated ? " Keep the secret: it is shown this once." : ""}`;
  return {
    command: context.command,
    dryRun: context.options.dryRun,
    results: outcome.results,
    partnerCenter: summary?.values ?? null,
    offers,
    notes: [...(summary?.notes ?? []), ...(offers && !context.options.dryRun ? offersSummary(offers) : [])],
    secretShown: summary?.shown,
    error: outcome.error,
    stepsShown,
    newSecrets: generated ? [generated] : [],
    changesPending: outcome.changesPending,
  };
}
