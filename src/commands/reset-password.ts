import type { CommandContext } from "../context.js";
import { runTenantCommand } from "../tenant-command.js";
import { newSecretStep, resetPasswordStep } from "../steps/reset-password.js";

/** The user identity gets a new password; the app identity a new client secret. It replaces a live secret: No by default. */
export function run(context: CommandContext) {
  const { options } = context;
  const step =
    options.identity === "app"
      ? newSecretStep({ appName: options.appName, secretExpiryMonths: options.secretExpiryMonths })
      : resetPasswordStep({ userName: options.userName, keepPasswordExpiry: options.keepPasswordExpiry });
  return runTenantCommand(context, { confirmDefault: false, partnerCenter: true }, [step]);
}
