import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { removeFile } from "../auth/cache.js";
import type { CommandContext } from "../context.js";

/** Deletes every token cache the tool wrote (the tenant's and any sandbox's). */
export async function run(context: CommandContext) {
  let removed = 0;
  let names: string[] = [];
  try {
    names = await readdir(context.paths.configDir);
  } catch {
    // No config directory: nothing was ever cached.
  }
  for (const name of names.filter((n) => /^msal-cache.*\.json$/.test(n))) {
    if (await removeFile(join(context.paths.configDir, name))) removed++;
  }
  context.io.out(removed > 0 ? `Signed out: removed ${removed} token cache file${removed === 1 ? "" : "s"} from ${context.paths.configDir}.` : "No cached sign-in to remove.");
  return { command: context.command, dryRun: false, results: [], partnerCenter: null, error: undefined, newSecrets: [] };
}
