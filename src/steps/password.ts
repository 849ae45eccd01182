import { randomInt } from "node:crypto";
import type { Writes } from "./ports.js";

/**
 * Passwords for the service user (SPEC §4): cryptographically random, 28 ASCII characters, all four
 * character classes (Entra needs three of four), and nothing that breaks copy and paste into Partner
 * Center or a shell: no quotes, backslash, space, or look-alikes such as O/0 and l/1.
 */
const CLASSES = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!#%*+-=?@^_~"];
export const PASSWORD_LENGTH = 28;

export function generatePassword(length = PASSWORD_LENGTH): string {
  const all = CLASSES.join("");
  const characters = CLASSES.map((set) => set[randomInt(set.length)]!);
  while (characters.length < length) characters.push(all[randomInt(all.length)]!);
  for (let i = characters.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [characters[i], characters[j]] = [characters[j]!, characters[i]!];
  }
  return characters.join("");
}

/** Entra's password policy that Partner Center needs: a password that expires stops lead delivery. */
export const PASSWORD_NEVER_EXPIRES = "DisablePasswordExpiration";

export function policiesWith(current: string | null, add: string): string {
  const set = new Set(
    (current ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p && p !== "None"),
  );
  set.add(add);
  return [...set].join(", ");
}

/**
 * Sets a new generated password on the service user (reference: graph-and-msal §A.9: PATCH passwordProfile,
 * which needs Directory.AccessAsUser.All when delegated); the policy that it never expires is kept or set.
 * Recorded as not yet shown until the summary has shown it. Returns the password.
 */
export async function setNewPassword(
  writes: Writes,
  user: { id: string; userPrincipalName: string; passwordPolicies: string | null },
  keepPasswordExpiry: boolean,
): Promise<string> {
  const { directory, orgUrl } = await writes.tenant();
  const password = generatePassword();
  writes.secrets.keep(password);
  const keepPolicies = keepPasswordExpiry || (user.passwordPolicies ?? "").includes(PASSWORD_NEVER_EXPIRES);
  await directory.updateUser(user.id, {
    passwordProfile: { password, forceChangePasswordNextSignIn: false, forceChangePasswordNextSignInWithMfa: false },
    ...(keepPolicies ? {} : { passwordPolicies: policiesWith(user.passwordPolicies, PASSWORD_NEVER_EXPIRES) }),
  });
  await writes.ledger.recordPassword({ orgUrl, userPrincipalName: user.userPrincipalName, objectId: user.id }, false);
  return password;
}
