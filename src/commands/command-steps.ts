import type { CliOptions } from "../options.js";
import type { CommandContext } from "../context.js";
import type { Prompter } from "../prompter.js";
import { UsageError } from "../errors.js";
import { candidateUrls, downloadSolutionStep, type DownloadInputs } from "../steps/download-solution.js";
import { importSolutionStep } from "../steps/import-solution.js";
import { createUserStep, type CreateUserInputs } from "../steps/create-user.js";
import { createAppStep, DEFAULT_APP_NAME } from "../steps/create-app.js";
import { verifyStep } from "../steps/verify.js";
import { assignRoleStep } from "../steps/assign-role.js";
import { patchRoleStep } from "../steps/patch-role.js";
import { DEFAULT_SYNC_TIMEOUT_SECONDS } from "../steps/wait.js";
import type { AnyStep } from "../steps/step.js";
import { isInCommandSandbox, KEEP_A_SANDBOX_RUNNING } from "../sandbox-link.js";

/**
 * The steps the commands run, built from their inputs: the options (and for init, the wizard's answers)
 * decide the inputs here, once; a step never reads an option.
 */

export type Identity = "user" | "app";

export const identityOf = (options: CliOptions): Identity => (options.identity === "app" ? "app" : "user");
const syncTimeout = (options: CliOptions) => options.syncTimeout ?? DEFAULT_SYNC_TIMEOUT_SECONDS;

export function downloadInputs(context: Pick<CommandContext, "options" | "sandbox">): DownloadInputs {
  return { solutionFile: context.options.solutionFile, urls: candidateUrls(context.options.solutionUrl, context.sandbox?.downloadUrl) };
}

export function createUserInputs(options: CliOptions, offerNeverShownReset: boolean): CreateUserInputs {
  return {
    userName: options.userName,
    usageLocation: options.usageLocation,
    license: options.license,
    keepPasswordExpiry: options.keepPasswordExpiry,
    displayName: options.displayName,
    offerNeverShownReset,
  };
}

/**
 * An earlier run created the user and was stopped before it showed the password: a new one is planned,
 * and confirmed with the rest, when a person confirms the plan (unattended, the summary says how).
 */
export const canOfferPasswordReset = (context: CommandContext) => context.io.canPrompt && !context.options.yes;

export const createAppFor = (options: CliOptions) =>
  createAppStep({ appName: options.appName, secretExpiryMonths: options.secretExpiryMonths, warnDays: options.warnDays });

export const importFor = (options: CliOptions) => importSolutionStep({ syncTimeoutSeconds: syncTimeout(options) });

export function assignRoleFor(options: CliOptions): AnyStep {
  return assignRoleStep({
    identity: identityOf(options),
    userName: options.userName,
    appName: options.appName ?? DEFAULT_APP_NAME,
    forceSync: options.forceSync,
    syncTimeoutSeconds: syncTimeout(options),
  });
}

/** Where verify reads the service identity's secret when this run did not generate it (never a flag). */
export const SERVICE_PASSWORD_ENV = "CRM_LEAD_SETUP_SERVICE_PASSWORD";
export const SERVICE_SECRET_ENV = "CRM_LEAD_SETUP_SERVICE_SECRET";

/** The service identity's secret when this run did not generate it: the environment, standard input, or a hidden question. */
function serviceSecretFrom(context: CommandContext, prompter: () => Promise<Prompter>) {
  return async (identity: Identity, label: string): Promise<string> => {
    const { io, options } = context;
    const envName = identity === "app" ? SERVICE_SECRET_ENV : SERVICE_PASSWORD_ENV;
    const fromEnv = io.streams.env[envName];
    if (fromEnv) return fromEnv;
    if (options.secretStdin) {
      const chunks: Buffer[] = [];
      for await (const chunk of io.streams.stdin) chunks.push(Buffer.from(chunk as Buffer));
      const value = Buffer.concat(chunks)
        .toString("utf8")
        .replace(/\r?\n$/, "");
      if (!value)
        throw new UsageError({
          code: "secret-stdin-empty",
          message: "--secret-stdin was given, but standard input was empty.",
          hint: `Pipe the ${identity === "app" ? "client secret" : "password"} in, e.g. printf %s "$SECRET" | crm-lead-setup verify --secret-stdin`,
        });
      return value;
    }
    if (io.canPrompt) return (await prompter()).secret(`${identity === "app" ? "Client secret" : "Password"} of ${label}:`);
    throw new UsageError({
      code: "service-secret-missing",
      message: `verify signs in as ${label} and needs its ${identity === "app" ? "client secret" : "password"}, which this run did not generate.`,
      hint: `Set ${envName}, or pass --secret-stdin and pipe it in, or run in a terminal to be asked. Secrets are never taken as option values.`,
    });
  };
}

export function verifyFor(context: CommandContext, prompter: () => Promise<Prompter>): AnyStep {
  // A sandbox started inside this command is new and empty: what an earlier command set up is not there.
  const missingIdentityHint = isInCommandSandbox(context.sandbox)
    ? `No \`crm-lead-setup sandbox\` is running, so this command started a new, empty sandbox tenant: what an earlier --sandbox command set up ended with it. To keep one, ${KEEP_A_SANDBOX_RUNNING}.`
    : undefined;
  return verifyStep({
    identity: identityOf(context.options),
    userName: context.options.userName,
    appName: context.options.appName ?? DEFAULT_APP_NAME,
    serviceSecret: serviceSecretFrom(context, prompter),
    missingIdentityHint,
  });
}

/**
 * The steps of one identity, in the order the Partner Center page gives them: the Office 365 (user)
 * identity, or the Azure Active Directory (app) identity that Partner Center recommends.
 */
export function identitySteps(context: CommandContext, options: CliOptions, offerNeverShownReset: boolean): AnyStep[] {
  return [
    downloadSolutionStep(downloadInputs(context)),
    importFor(options),
    identityOf(options) === "app" ? createAppFor(options) : createUserStep(createUserInputs(options, offerNeverShownReset)),
    assignRoleFor(options),
    patchRoleStep(),
  ];
}
