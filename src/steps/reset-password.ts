import { TenantNotReadyError } from "../errors.js";
import { recordPassword } from "../ledger.js";
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
      throw new TenantNotReadyError({ code: "user-missing", message: `The service user ${found.userPrincipalName} does not exist.`, hint: "Run crm-lead-setup create-user (or init) first, or pass the right --user-name." });
    }
    return found;
  },

  plan(state) {
    return {
      changes: [{ action: "set", target: `a new generated password for ${state.userPrincipalName} (the old one stops working: paste the new one into Partner Center)` }],
      summary: `Will set a new password for ${state.userPrincipalName}`,
    };
  },

  async apply(context, state) {
    await setNewPassword(context, state.current!);
    return { summary: `Set a new password for ${state.userPrincipalName}; it never expires and need not be changed at sign-in` };
  },
};
