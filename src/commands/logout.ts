import type { CommandFactory, CommandSpec } from "../command.js";
import type { CommandOutcome } from "../render.js";

/** Deletes every token cache the tool wrote (the tenant's and any sandbox's); --dry-run names them and keeps them. */
export const command: CommandSpec = {
  name: "logout",
  summary: "delete the cached tokens",
  description: "Deletes every token cache crm-lead-setup wrote.",
  examples: ["crm-lead-setup logout"],
  options: ["dryRun", "json", "color"],
  run,
};

/** What logout uses: the config folder; never the tenant link, so it signs in nowhere. */
type LogoutDeps = Pick<CommandFactory, "name" | "io" | "paths" | "options">;

async function run({ name: commandName, io, paths, options }: LogoutDeps): Promise<CommandOutcome> {
  const [{ readdir }, { join }, { removeFile }] = await Promise.all([
    import("node:fs/promises"),
    import("node:path"),
    import("../auth/cache.js"),
  ]);
  let names: string[] = [];
  try {
    names = await readdir(paths.configDir);
  } catch {
    // No config directory: nothing was ever cached.
  }
  const caches = names.filter((n) => /^msal-cache.*\.json$/.test(n)).map((name) => join(paths.configDir, name));
  const removed: string[] = [];
  if (options.dryRun) {
    for (const file of caches) io.out(`Would remove ${file}`);
  } else {
    for (const file of caches) if (await removeFile(file)) removed.push(file);
  }
  const listed = options.dryRun ? caches : removed;
  if (listed.length === 0) io.out("No cached sign-in to remove.");
  else if (!options.dryRun)
    io.out(`Signed out: removed ${removed.length} token cache file${removed.length === 1 ? "" : "s"}: ${removed.join(", ")}.`);
  return {
    command: commandName,
    dryRun: options.dryRun,
    results: [],
    partnerCenter: null,
    error: undefined,
    newSecrets: [],
    report: { logout: { cacheFiles: listed } },
  };
}
