import type { CommandSpec } from "../command.js";
import { CHANGE_OPTIONS, OUTPUT_OPTIONS, TENANT_OPTIONS } from "../options.js";
import type { TenantCommand } from "../tenant-command.js";

/**
 * The user identity gets a new password; the app identity a new client secret. It replaces a live secret,
 * so its confirmation defaults to No (SPEC §3).
 */
export const command: CommandSpec = {
  name: "reset-password",
  summary: "set a new generated password for the service user, shown once",
  description:
    "Sets a new generated password on the service user (no forced change, never expires) and prints it once in the Partner Center summary. The old password stops working: paste the new one into Partner Center.",
  examples: [
    "crm-lead-setup reset-password --org-url https://contoso.crm4.dynamics.com",
    "crm-lead-setup reset-password --sandbox --user-name leads@contoso.com --yes --json",
  ],
  options: [
    ...TENANT_OPTIONS,
    "identity",
    ...CHANGE_OPTIONS,
    ...OUTPUT_OPTIONS,
    "userName",
    "appName",
    "secretExpiryMonths",
    "keepPasswordExpiry",
  ],
  async run(factory) {
    const [{ runTenantCommand, tenantCommandDeps }, { newSecretStep, resetPasswordStep }] = await Promise.all([
      import("../tenant-command.js"),
      import("../steps/reset-password.js"),
    ]);
    const deps = await tenantCommandDeps(factory);
    const { options } = deps;
    const step =
      options.identity === "app"
        ? newSecretStep({ appName: options.appName, secretExpiryMonths: options.secretExpiryMonths })
        : resetPasswordStep({ userName: options.userName, keepPasswordExpiry: options.keepPasswordExpiry });
    return runTenantCommand(deps, flow, [step]);
  },
};

/** How the shared tenant flow confirms and ends this command. */
const flow: TenantCommand = { confirmDefault: false, partnerCenter: true };
