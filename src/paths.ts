import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where the tool keeps its files: the token cache and the sandbox connection file under the user's config
 * directory, downloaded solution packages under the user's cache directory. XDG on Linux, the platform's
 * own folders elsewhere; CRM_LEAD_SETUP_CONFIG_DIR / CRM_LEAD_SETUP_CACHE_DIR override both.
 */
export interface AppPaths {
  configDir: string;
  cacheDir: string;
}

export function appPaths(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): AppPaths {
  const home = env.HOME || env.USERPROFILE || homedir();
  const name = "crm-lead-setup";
  let config: string;
  let cache: string;
  if (platform === "win32") {
    config = join(env.APPDATA || join(home, "AppData", "Roaming"), name);
    cache = join(env.LOCALAPPDATA || join(home, "AppData", "Local"), name, "Cache");
  } else if (platform === "darwin") {
    config = join(home, "Library", "Application Support", name);
    cache = join(home, "Library", "Caches", name);
  } else {
    config = join(env.XDG_CONFIG_HOME || join(home, ".config"), name);
    cache = join(env.XDG_CACHE_HOME || join(home, ".cache"), name);
  }
  return { configDir: env.CRM_LEAD_SETUP_CONFIG_DIR || config, cacheDir: env.CRM_LEAD_SETUP_CACHE_DIR || cache };
}
