import type { CommandSpec } from "../command.js";
import { IDENTITY_COMMAND_OPTIONS, OFFER_OPTIONS } from "../options.js";
import type { TenantCommand } from "../tenant-command.js";

/**
 * The user identity gets a new password; the app identity a new client secret. It replaces a live secret,
 * so its confirmation defaults to No (SPEC §3). With --offer the new value is written into the offers in the
 * same run (SPEC §1, §7); for the app, the secrets this tool created before are removed only once every offer
 * accepted the new one.
 */
export const command: CommandSpec = {
  name: "reset-password",
  summary: "set a new password for the service user, or a new client secret for the app, shown once",
  description:
    "Sets a new generated password on the service user (no forced change, never expires), or with --identity app adds a new client secret to the app, and prints it once in the Partner Center summary. The old password stops working at once: paste the new one into Partner Center. With --offer the new value is written into those offers in the same run; for the app, the secrets this tool created before are removed only after every offer accepted the new one.",
  examples: [
    "crm-lead-setup reset-password --org-url https://contoso.crm4.dynamics.com",
    "crm-lead-setup reset-password --sandbox --user-name leads@contoso.com --yes --json",
    "crm-lead-setup reset-password --org-url https://contoso.crm4.dynamics.com --identity app --offer contoso-lead-saas",
  ],
  options: [...IDENTITY_COMMAND_OPTIONS, "secretExpiryMonths", "keepPasswordExpiry", ...OFFER_OPTIONS, "syncTimeout"],
  async run(factory) {
    const [
      { runTenantCommand, tenantCommandDeps },
      { newSecretStep, resetPasswordStep },
      { retireSecretsStep },
      { connectOfferFor, requireOffersCloud },
    ] = await Promise.all([
      import("../tenant-command.js"),
      import("../steps/reset-password.js"),
      import("../steps/retire-secrets.js"),
      import("./command-steps.js"),
    ]);
    const toOffers = Boolean(factory.options.offer?.length);
    if (toOffers) requireOffersCloud(factory.options);
    const deps = await tenantCommandDeps(factory);
    const { options } = deps;
    const app = options.identity === "app";
    const rotation = app
      ? newSecretStep({ appName: options.appName, secretExpiryMonths: options.secretExpiryMonths, toOffers })
      : resetPasswordStep({ userName: options.userName, keepPasswordExpiry: options.keepPasswordExpiry, toOffers });
    const push = toOffers ? [connectOfferFor(deps), ...(app ? [retireSecretsStep({ appName: options.appName })] : [])] : [];
    return runTenantCommand(deps, flow, [rotation, ...push]);
  },
};

/** How the shared tenant flow confirms and ends this command. */
const flow: TenantCommand = { confirmDefault: false, partnerCenter: true };
