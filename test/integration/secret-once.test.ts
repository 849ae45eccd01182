import { describe, expect, it } from "vitest";
import { freshVirtualTenants } from "../in-process.js";
import { SANDBOX_OFFERS } from "../../src/sandbox/server.js";

/**
 * `init --verify --offer` for an identity set up earlier needs the service secret twice (verify signs in with
 * it, connect-offer writes it into the offer). It is read once: standard input can be read only once, and a
 * person should not be asked twice. Before, the second read found stdin used up: exit 2, secret-stdin-empty.
 */
const fresh = freshVirtualTenants();
const APP = ["--sandbox", "--identity", "app", "--auth", "client-secret", "--yes", "--json"];

describe("the service secret a run did not generate", () => {
  it("is read from standard input once, for verify and connect-offer alike", async () => {
    const { sandbox, run } = await fresh({ scenario: { partnerCenterPollSeconds: 1 } });
    const first = await run(["init", ...APP]);
    expect(first.code).toBe(0);
    const secret = (first.json as { partnerCenter: { clientSecret: string } }).partnerCenter.clientSecret;
    const second = await run(["init", ...APP, "--verify", "--offer", SANDBOX_OFFERS.saas, "--secret-stdin"], { input: `${secret}\n` });
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: "" });
    const draft = sandbox.partnerCenter.offer(SANDBOX_OFFERS.saas).draftLeads.dynamicsLeadConfiguration as { applicationKey?: string };
    expect(draft.applicationKey).toBe(secret);
  });
});
