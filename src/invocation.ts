import { existsSync, realpathSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import type { CommandName } from "./options.js";

/** Every command, so that a hint's "crm-lead-setup <command>" is told apart from prose naming the tool. */
const COMMANDS: Record<CommandName, true> = {
  init: true,
  "download-solution": true,
  "import-solution": true,
  "create-user": true,
  "create-app": true,
  "assign-role": true,
  "connect-offer": true,
  "patch-role": true,
  status: true,
  "reset-password": true,
  verify: true,
  teardown: true,
  login: true,
  logout: true,
  sandbox: true,
};
const COMMAND_MENTION = new RegExp(`(?<!npx )\\bcrm-lead-setup (?=(?:${Object.keys(COMMANDS).join("|")})\\b)`, "g");

export interface Invocation {
  env: NodeJS.ProcessEnv;
  /** The script node was started with (process.argv[1]): our bin, or a link to it. */
  binPath: string | undefined;
}

const realpath = (path: string): string | undefined => {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
};

/** Whether typing `crm-lead-setup` in the user's shell starts this very bin (a global install, or `npm link`). */
function onPath({ env, binPath }: Invocation): boolean {
  const bin = binPath && realpath(binPath);
  if (!bin) return false;
  const packageRoot = dirname(dirname(bin));
  return (env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .some(
      (dir) =>
        realpath(join(dir, "crm-lead-setup")) === bin ||
        // npm's global bin on Windows is a .cmd shim beside node_modules/, not a link.
        (process.platform === "win32" &&
          existsSync(join(dir, "crm-lead-setup.cmd")) &&
          realpath(join(dir, "node_modules", "crm-lead-setup")) === packageRoot),
    );
}

/**
 * How the user types this CLI: `crm-lead-setup` when it is on their PATH, otherwise `npx crm-lead-setup`
 * (a clone, or a project's own dependency, where npx finds the bin). Under npx / `npm exec` (npm_command is
 * "exec") the PATH holds npx's own node_modules/.bin, which the user's shell does not have, so it says npx.
 */
export function commandPrefix(invocation: Invocation = { env: process.env, binPath: process.argv[1] }): string {
  if (invocation.env.npm_command === "exec") return "npx crm-lead-setup";
  return onPath(invocation) ? "crm-lead-setup" : "npx crm-lead-setup";
}

let decided: string | undefined;

/** A hint or note with each "crm-lead-setup <command>" written the way this user can run it. */
export function runnable(text: string): string {
  decided ??= commandPrefix();
  return decided === "crm-lead-setup" ? text : text.replace(COMMAND_MENTION, `${decided} `);
}
