import { describe, expect, it } from "vitest";
import { freshVirtualTenants } from "../in-process.js";

/**
 * The Power Platform admin API's token audience in GCC / GCC High (issue 10 point 9): the sandbox, posing
 * as the cloud, issues tokens only for the audience the README documents; any other is AADSTS500011,
 * which the CLI explains with the audience it tried and the way to override it. In-process on a virtual
 * clock. (Moved from test/e2e/power-platform-audience.test.ts with every assertion kept.)
 */
const fresh = freshVirtualTenants();

describe("--force-sync and the Power Platform admin API audience", () => {
  it("an audience Entra does not know is AADSTS500011, naming the audience and the override", async () => {
    const { env, sandbox, cli } = await fresh({ cloud: "gcc", scenario: { userSyncMs: 600_000 } });
    const run = await cli(["init", "--sandbox", "--yes", "--force-sync", "--json"], {
      ...env,
      CRM_LEAD_SETUP_POWER_PLATFORM_AUDIENCE: "https://service.powerapps.us",
    });
    expect(run.code).toBe(3);
    const error = JSON.parse(run.stdout).error;
    expect(error.code).toBe("aadsts-500011");
    expect(error.message).toContain("Power Platform admin API audience https://service.powerapps.us");
    expect(error.hint).toMatch(/--power-platform-audience <url> \(or CRM_LEAD_SETUP_POWER_PLATFORM_AUDIENCE\)/);
    expect(sandbox.requests.some((r) => r.service === "bap")).toBe(false);
  });

  it("the documented audience, passed explicitly, reaches the API", async () => {
    const { env, sandbox, cli } = await fresh({ cloud: "gcchigh", scenario: { userSyncMs: 600_000 } });
    const run = await cli(
      ["init", "--sandbox", "--yes", "--force-sync", "--power-platform-audience", "https://high.service.powerapps.us"],
      env,
    );
    expect(run.code).toBe(0);
    expect(sandbox.requests.filter((r) => r.service === "bap" && r.method === "POST").every((r) => r.status === 200)).toBe(true);
  });
});
