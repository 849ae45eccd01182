import { randomInt } from "node:crypto";

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
