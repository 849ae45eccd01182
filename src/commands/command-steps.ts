import type { CliOptions } from "../options.js";
import type { IO } from "../io.js";
import type { SandboxConnection } from "../sandbox/server.js";
import type { TenantCommandDeps } from "../tenant-command.js";
import { UsageError } from "../errors.js";
import { candidateUrls, downloadSolutionStep, type DownloadInputs } from "../steps/download-solution.js";
import { importSolutionStep } from "../steps/import-solution.js";
import { createUserStep, type CreateUserInputs } from "../steps/create-user.js";
import { createAppStep, DEFAULT_APP_NAME } from "../steps/create-app.js";
import { verifyStep } from "../steps/verify.js";
import { connectOfferStep } from "../steps/connect-offer.js";
import { requirePartnerCenterCloud } from "../offer-options.js";
import { validateOrgUrl } from "../clouds.js";
import { followUpCommand } from "../summary.js";
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

export function downloadInputs(options: CliOptions, sandbox: SandboxConnection | undefined): DownloadInputs {
  return { solutionFile: options.solutionFile, urls: candidateUrls(options.solutionUrl, sandbox?.downloadUrl) };
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
export const canOfferPasswordReset = ({ io, options }: { io: IO; options: CliOptions }) => io.canPrompt && !options.yes;

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

const secretEnvOf = (identity: Identity) => (identity === "app" ? SERVICE_SECRET_ENV : SERVICE_PASSWORD_ENV);
const secretWord = (identity: Identity) => (identity === "app" ? "client secret" : "password");

type SecretDeps = Pick<TenantCommandDeps, "io" | "options" | "prompter">;

/** verify's words for a missing secret; connect-offer has its own. */
function verifyNeedsSecret(identity: Identity, label: string): UsageError {
  return new UsageError({
    code: "service-secret-missing",
    message: `verify signs in as ${label} and needs its ${secretWord(identity)}, which this run did not generate.`,
    hint: `Set ${secretEnvOf(identity)}, or pass --secret-stdin and pipe it in, or run in a terminal to be asked. Secrets are never taken as option values.`,
  });
}

/**
 * The secrets read in this run, per identity: verify and connect-offer may both need one, and standard input
 * can be read only once (a person should not be asked twice either). A failed read is not kept.
 */
const secretsRead = new WeakMap<SecretDeps["io"], Map<Identity, Promise<string>>>();

/** The service identity's secret when this run did not generate it: the environment, standard input, or a hidden question. */
function serviceSecretFrom(deps: SecretDeps, missing: (identity: Identity, label: string) => UsageError = verifyNeedsSecret) {
  return (identity: Identity, label: string): Promise<string> => {
    const read = secretsRead.get(deps.io) ?? new Map<Identity, Promise<string>>();
    secretsRead.set(deps.io, read);
    let secret = read.get(identity);
    if (!secret) {
      secret = readServiceSecret(deps, missing, identity, label);
      read.set(identity, secret);
      secret.catch(() => read.delete(identity));
    }
    return secret;
  };
}

async function readServiceSecret(
  { io, options, prompter }: SecretDeps,
  missing: (identity: Identity, label: string) => UsageError,
  identity: Identity,
  label: string,
): Promise<string> {
  const fromEnv = io.streams.env[secretEnvOf(identity)];
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
  throw missing(identity, label);
}

export function verifyFor(deps: TenantCommandDeps): AnyStep {
  const { options } = deps;
  // A sandbox started inside this command is new and empty: what an earlier command set up is not there.
  const missingIdentityHint = isInCommandSandbox(deps.link.sandbox)
    ? `No \`crm-lead-setup sandbox\` is running, so this command started a new, empty sandbox tenant: what an earlier --sandbox command set up ended with it. To keep one, ${KEEP_A_SANDBOX_RUNNING}.`
    : undefined;
  return verifyStep({
    identity: identityOf(options),
    userName: options.userName,
    appName: options.appName ?? DEFAULT_APP_NAME,
    serviceSecret: serviceSecretFrom(deps),
    missingIdentityHint,
  });
}

/**
 * The steps of one identity, in the order the Partner Center page gives them: the Office 365 (user)
 * identity, or the Azure Active Directory (app) identity that Partner Center recommends.
 */
export function identitySteps(sandbox: SandboxConnection | undefined, options: CliOptions, offerNeverShownReset: boolean): AnyStep[] {
  return [
    downloadSolutionStep(downloadInputs(options, sandbox)),
    importFor(options),
    identityOf(options) === "app" ? createAppFor(options) : createUserStep(createUserInputs(options, offerNeverShownReset)),
    assignRoleFor(options),
    patchRoleStep(),
  ];
}

/**
 * connect-offer: when the offers change and this run generated no secret, Partner Center needs the one
 * Partner Center should sign in with (SPEC §7); none is exit 2 naming its sources and the rotation.
 */
export function connectOfferFor(
  deps: SecretDeps,
  options = deps.options,
  /** status only inspects: it compares no secret, so it needs none. */
  inspectOnly = false,
): AnyStep {
  const offerIds = options.offer ?? [];
  const appName = options.appName ?? DEFAULT_APP_NAME;
  // The exact command that reaches the same tenant and identity, generates a new secret and pushes it.
  const rotate = (label: string) =>
    `${followUpCommand("reset-password", { ...options, identity: identityOf(options) }, identityOf(options) === "app" ? appName : label)} --offer ${offerIds.join(",")}`;
  return connectOfferStep({
    offerIds,
    identity: identityOf(options),
    userName: options.userName,
    appName,
    contactEmail: options.contactEmail,
    syncTimeoutSeconds: syncTimeout(options),
    inspectOnly,
    serviceSecret: serviceSecretFrom(
      deps,
      (identity, label) =>
        new UsageError({
          code: "service-secret-missing",
          message: `connect-offer writes the ${secretWord(identity)} of ${label} into the offers, and this run did not generate one.`,
          hint: `Set ${secretEnvOf(identity)}, or pass --secret-stdin and pipe it in, or run in a terminal to be asked; or generate a new one and push it in the same run with \`${rotate(label)}\`. Secrets are never taken as option values.`,
        }),
    ),
  });
}

/** Partner Center is commercial-cloud only (SPEC §7): --offer with gcchigh, dod or china is exit 2, before signing in. */
export function requireOffersCloud(options: CliOptions): void {
  if (!options.offer?.length || options.sandbox) return;
  requirePartnerCenterCloud(
    (options.orgUrl ? validateOrgUrl(options.orgUrl, options.cloud).cloud : undefined) ?? options.cloud ?? "public",
  );
}
