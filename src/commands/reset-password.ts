import type { CommandContext } from "../context.js";
import { inquirerPrompter, type Prompter } from "../prompter.js";
import { runTenantCommand } from "../tenant-command.js";
import { newSecretStep, resetPasswordStep } from "../steps/reset-password.js";
import { retireSecretsStep } from "../steps/retire-secrets.js";
import { connectOfferFor, requireOffersCloud } from "./command-steps.js";

/**
 * The user identity gets a new password; the app identity a new client secret. It replaces a live secret: No
 * by default. With --offer the new value is written into the offers in the same run (SPEC §1, §7); for the
 * app, the secrets this tool created before are removed only once every offer accepted the new one.
 */
export function run(context: CommandContext) {
  const { options } = context;
  const toOffers = Boolean(options.offer?.length);
  if (toOffers) requireOffersCloud(options);
  const app = options.identity === "app";
  const rotation = app
    ? newSecretStep({ appName: options.appName, secretExpiryMonths: options.secretExpiryMonths, toOffers })
    : resetPasswordStep({ userName: options.userName, keepPasswordExpiry: options.keepPasswordExpiry, toOffers });
  let prompter: Promise<Prompter> | undefined;
  const ask = () => (prompter ??= inquirerPrompter(context.io, context.signal));
  const push = toOffers ? [connectOfferFor(context, ask), ...(app ? [retireSecretsStep({ appName: options.appName })] : [])] : [];
  return runTenantCommand(context, { confirmDefault: false, partnerCenter: true }, [rotation, ...push]);
}
