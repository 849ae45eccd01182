import { StepFailedError, UsageError } from "./errors.js";
import type { TenantLink } from "./context.js";
import type { IO } from "./io.js";
import type { Prompter } from "./prompter.js";
import type { CliOptions, CommandName } from "./options.js";
import type { CommandFactory } from "./command.js";
import { liveSteps, renderPlan, type CommandOutcome } from "./render.js";
import { runSteps, type RunOutcome } from "./runner.js";
import type { AnyStep, ServiceIdentityOutput, StepResult } from "./steps/step.js";
import type { Progress } from "./steps/ports.js";
import { partnerCenterSummary, setupComplete } from "./summary.js";
import { linkPorts } from "./tenant-ports.js";
import { offerOutcomes, offersSummary, type ConfigureJobEnd, type OfferOutcome } from "./offers/offer-outcomes.js";
import type { ConfigureJobError } from "./services/partner-center.js";
import { isInCommandSandbox, KEEP_A_SANDBOX_RUNNING } from "./sandbox-link.js";

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

/** What a tenant-changing command hands the shared flow, and nothing more. */
export interface TenantCommandDeps {
  name: CommandName;
  io: IO;
  /** The command's final options: --yes, --dry-run, and the target the follow-up commands name. */
  options: CliOptions;
  link: TenantLink;
  /** Loads the prompt library on first use (init's wizard and the confirmation share it). */
  prompter: () => Promise<Prompter>;
}

/** Connects (validating every input first) and picks the flow's dependencies from the factory. */
export async function tenantCommandDeps(factory: CommandFactory): Promise<TenantCommandDeps> {
  return { name: factory.name, io: factory.io, options: factory.options, link: await factory.link(), prompter: factory.prompter };
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

async function confirmPlan(deps: TenantCommandDeps, command: TenantCommand, preview: StepResult[]): Promise<void> {
  if (deps.options.yes || command.confirmed) return;
  if (!deps.io.canPrompt) {
    throw new UsageError({
      code: "confirmation-required",
      message: `${deps.name} would change the tenant, and there is no terminal to confirm on.`,
      hint: "Review the plan with --dry-run, then pass --yes (or CRM_LEAD_SETUP_YES=1) to apply it.",
    });
  }
  renderPlan(deps.io, preview);
  const changes = preview.reduce((sum, r) => sum + (r.status === "planned" ? r.changes.length : 0), 0);
  if (
    !(await (await deps.prompter()).confirm(`Apply ${changes} change${changes === 1 ? "" : "s"} to the tenant?`, command.confirmDefault))
  ) {
    // A considered answer, not an interrupt: exit 1 (SPEC §3), and nothing to resume.
    throw new StepFailedError({
      code: "confirmation-declined",
      message: "Nothing was changed: the plan was declined.",
      hint: `Run ${deps.name} again and answer yes to apply it; --dry-run shows the plan without asking.`,
    });
  }
}

/** Builds the ports from the tenant link, runs the steps with the live display and the confirmation. */
async function runWithDisplay(deps: TenantCommandDeps, command: TenantCommand, steps: AnyStep[]) {
  const { io, link } = deps;
  // People see each step as it happens; --json waits for the one document at the end.
  const live = io.json ? undefined : liveSteps(io, steps);
  let shown = false;
  const ports = linkPorts(link, {
    progress: ioProgress(io),
    ask: io.canPrompt ? async (question) => (await deps.prompter()).confirm(question, true) : undefined,
    partnerCenterTenant: deps.options.partnerCenterTenant,
  });
  const outcome = await runSteps(
    steps,
    ports,
    { dryRun: deps.options.dryRun, signal: link.signal },
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
        await confirmPlan(deps, command, preview);
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
  deps: TenantCommandDeps,
  command: TenantCommand,
  steps: AnyStep[],
): Promise<CommandOutcome & { changesPending: boolean }> {
  const { options } = deps;
  const { outcome, stepsShown } = await runWithDisplay(deps, command, steps);
  const identity = identityOf(outcome.outputs);
  const generated = identity?.identity === "app" ? identity.generatedSecret?.secretText : identity?.generatedPassword;
  // A secret generated in this run is shown even when a later step failed: otherwise it would be lost.
  const summary =
    command.partnerCenter && !options.dryRun && (!outcome.error || generated)
      ? partnerCenterSummary({
          command: deps.name,
          // The follow-up commands name the identity this run set up (create-app's is the app).
          options: { ...options, identity: identity?.identity },
          orgUrl: (await deps.link.tenant()).orgUrl,
          identity,
          complete: setupComplete(outcome.results, outcome.error),
          endsWithVerifyHint: command.endsWithVerifyHint ?? false,
          inCommandSandboxNote: isInCommandSandbox(deps.link.sandbox)
            ? (verify) =>
                `This sandbox tenant lived only for this command, so \`${verify}\` would meet a new, empty one. To prove Partner Center can write leads: ${KEEP_A_SANDBOX_RUNNING}, and \`${verify}\`.`
            : undefined,
        })
      : undefined;
  const offers = connectedOffers(outcome, options.dryRun);
  // Every offer now holds the values: there is nothing to paste, and the box is kept for the admin's records.
  if (summary && offers?.length && offers.every((o) => o.status === "done" || o.status === "unchanged"))
    summary.values.nextStep = `Partner Center holds these values now: nothing to paste.${generated ? " Keep the secret: it is shown this once." : ""}`;
  return {
    command: deps.name,
    dryRun: options.dryRun,
    results: outcome.results,
    partnerCenter: summary?.values ?? null,
    offers,
    notes: [...(summary?.notes ?? []), ...(offers && !options.dryRun ? offersSummary(offers) : [])],
    secretShown: summary?.shown,
    error: outcome.error,
    stepsShown,
    newSecrets: generated ? [generated] : [],
    changesPending: outcome.changesPending,
  };
}
