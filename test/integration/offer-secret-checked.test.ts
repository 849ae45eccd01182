import { describe, expect, it } from "vitest";
import { freshVirtualTenants } from "../in-process.js";
import { SANDBOX_OFFERS } from "../../src/sandbox/server.js";

/**
 * A secret this run did not generate is checked before it is written into an offer: Partner Center would
 * sign in with it, and a mistyped one would make leads stop silently while `status` says "connected". A new
 * user's trial typed a wrong line at the hidden question and it went into the offer.
 */
const fresh = freshVirtualTenants();
const APP = ["--sandbox", "--identity", "app", "--auth", "client-secret", "--yes", "--json"];

describe("connect-offer with the secret of an identity set up earlier", () => {
  it("refuses a wrong secret with the sign-in's own error (exit 3) and posts nothing to Partner Center", async () => {
    const { sandbox, run, cli, env } = await fresh();
    expect((await run(["init", ...APP])).code).toBe(0);
    const wrong = { ...env, CRM_LEAD_SETUP_SERVICE_SECRET: "not-the-secret-of-this-app" };
    const result = await cli(["connect-offer", ...APP, "--offer", SANDBOX_OFFERS.saas], wrong);
    expect(result.code).toBe(3);
    expect(sandbox.requests.filter((r) => r.path.startsWith("/rp/") && r.method !== "GET")).toEqual([]);
    expect(sandbox.partnerCenter.offer(SANDBOX_OFFERS.saas).draftLeads.leadDestination).not.toBe("dynamics");
  });
});
