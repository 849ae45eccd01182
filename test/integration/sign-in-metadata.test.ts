import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freshVirtualTenants } from "../in-process.js";

/**
 * The sign-in server's OpenID configuration (MSAL's authority metadata) is kept beside the token cache, as
 * MSAL itself keeps it in memory for 24 hours (msal-common AUTHORITY_METADATA_REFRESH_TIME_SECONDS), and
 * handed back to MSAL (`auth.authorityMetadata`), so that a run with a cached sign-in asks Entra nothing.
 */
const fresh = freshVirtualTenants();

const discovery = (path: string) => path.endsWith("/.well-known/openid-configuration");

describe("the sign-in server's metadata", () => {
  it("is fetched on the first sign-in only: a later run with a cached sign-in sends no request to Entra", async () => {
    const { env, sandbox, cli, home } = await fresh({ scenario: { importMs: 0, userSyncMs: 0 } });
    const first = await cli(["init", "--sandbox", "--yes", "--json"], env);
    expect(first.code).toBe(0);
    expect(sandbox.requests.filter((r) => r.service === "entra" && discovery(r.path)).length).toBeGreaterThan(0);

    sandbox.clearRequests();
    const again = await cli(["init", "--sandbox", "--yes", "--json"], env);
    expect(again.code).toBe(0);
    expect(sandbox.requests.filter((r) => r.service === "entra").map((r) => `${r.method} ${r.path}`)).toEqual([]);

    // What is kept holds no token or secret the sandbox issued.
    const configDir = join(home, ".config", "crm-lead-setup");
    const kept = readdirSync(configDir).filter((name) => name.includes("authority"));
    expect(kept).toHaveLength(1);
    const text = readFileSync(join(configDir, kept[0]!), "utf8");
    for (const secret of sandbox.issuedSecrets()) expect(text).not.toContain(secret);
  });
});
