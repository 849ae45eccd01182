import { TenantNotReadyError } from "../errors.js";
import { recordPassword, recordSecret } from "../ledger.js";
import { DEFAULT_SECRET_EXPIRY_MONTHS, secretExpiry, serviceApp } from "./create-app.js";
import type { CommandContext } from "../context.js";
import type { GraphUser } from "../services/graph.js";
import { PASSWORD_NEVER_EXPIRES, policiesWith } from "./create-user.js";
import { generatePassword } from "./password.js";
import { serviceUser } from "./service-user.js";
import type { Step } from "./step.js";

/**
 * A new generated password for the service user (reference: graph-and-msal §A.9: PATCH passwordProfile,
 * which needs Directory.AccessAsUser.All when delegated). Printed once; the old one stops working.
 */
export async function setNewPassword(context: CommandContext, user: GraphUser): Promise<void> {
  const { directory, orgUrl } = await context.tenant();
  const password = generatePassword();
  context.io.redactor.add(password);
  const keepExpiry = context.options.keepPasswordExpiry || (user.passwordPolicies ?? "").includes(PASSWORD_NEVER_EXPIRES);
  await directory.updateUser(user.id, {
    passwordProfile: { password, forceChangePasswordNextSignIn: false, forceChangePasswordNextSignInWithMfa: false },
    ...(keepExpiry ? {} : { passwordPolicies: policiesWith(user.passwordPolicies, PASSWORD_NEVER_EXPIRES) }),
  });
  context.facts.generatedPassword = password;
  await recordPassword(context.paths, { orgUrl, userPrincipalName: user.userPrincipalName, objectId: user.id }, false);
}

export const resetPasswordStep: Step<{ userPrincipalName: string; current: GraphUser | undefined }> = {
  id: "reset-password",
  title: "Set a new password for the service user",

  async inspect(context) {
    const found = await serviceUser(context);
    if (!found.current) {
      throw new TenantNotReadyError({
        code: "user-missing",
        message: `The service user ${found.userPrincipalName} does not exist.`,
        hint: "Run crm-lead-setup create-user (or init) first, or pass the right --user-name.",
      });
    }
    return found;
  },

  plan(state) {
    return {
      changes: [
        {
          action: "set",
          target: `a new generated password for ${state.userPrincipalName} (the old one stops working: paste the new one into Partner Center)`,
        },
      ],
      summary: `Will set a new password for ${state.userPrincipalName}`,
    };
  },

  async apply(context, state) {
    await setNewPassword(context, state.current!);
    return { summary: `Set a new password for ${state.userPrincipalName}; it never expires and need not be changed at sign-in` };
  },
};

/** The app identity's rotation: a new client secret (the old ones keep working until they expire or are removed). */
export const newSecretStep: Step<{ displayName: string; orgUrl: string; applicationObjectId: string; appId: string; months: number }> = {
  id: "reset-password",
  title: "Add a new client secret to the app",

  async inspect(context) {
    const app = await serviceApp(context);
    if (!app.application) {
      throw new TenantNotReadyError({
        code: "app-missing",
        message: `No app registration is named "${app.displayName}".`,
        hint: "Run crm-lead-setup create-app (or init --identity app) first, or pass the right --app-name.",
      });
    }
    return {
      displayName: app.displayName,
      orgUrl: (await context.tenant()).orgUrl,
      applicationObjectId: app.application.id,
      appId: app.application.appId,
      months: context.options.secretExpiryMonths ?? DEFAULT_SECRET_EXPIRY_MONTHS,
    };
  },

  plan(state) {
    return {
      changes: [
        {
          action: "add",
          target: `a new client secret to "${state.displayName}", expiring ${secretExpiry(state.months).toISOString().slice(0, 10)}`,
        },
      ],
      summary: `Will add a new client secret to "${state.displayName}"`,
    };
  },

  async apply(context, state) {
    const { applications } = await context.tenant();
    const secret = await applications.addPassword(
      state.applicationObjectId,
      "Partner Center lead delivery (crm-lead-setup)",
      secretExpiry(state.months),
    );
    context.io.redactor.add(secret.secretText);
    context.facts.generatedSecret = { keyId: secret.keyId, secretText: secret.secretText, endDateTime: secret.endDateTime };
    await recordSecret(context.paths, { orgUrl: state.orgUrl, appId: state.appId, keyId: secret.keyId }, false);
    return {
      summary: `Added a new client secret to "${state.displayName}", expiring ${secret.endDateTime.slice(0, 10)}; older secrets keep working until they expire or you remove them in Entra`,
    };
  },
};
