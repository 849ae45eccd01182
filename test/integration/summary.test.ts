import { describe, expect, it } from "vitest";
import { passwordSignIn } from "../helpers.js";
import { freshVirtualTenants } from "../in-process.js";

/**
 * The Partner Center values of a run that waited out --sync-timeout (SPEC §3): in-process on a virtual
 * clock, so the wait costs no real time. (Moved from test/e2e/summary.test.ts with every assertion kept.)
 */
const fresh = freshVirtualTenants();

const INIT = ["init", "--sandbox", "--yes", "--auth", "client-secret"];
const UPN = "mp-leadwriter@contoso.com";

describe("a run that did not finish every step", () => {
  it("assign-role timing out (exit 5): 'Setup incomplete', the new password kept, no invitation to Validate", async () => {
    // The user never syncs while this test runs: the wait always runs out.
    const { sandbox, run: cli } = await fresh({ scenario: { userSyncMs: 3_600_000 } });
    const run = await cli([...INIT, "--sync-timeout", "1", "--json"]);
    expect(run.code).toBe(5);
    const { partnerCenter } = JSON.parse(run.stdout);
    expect(partnerCenter.setup).toBe("incomplete");
    expect(partnerCenter.nextStep).toMatch(
      /^Setup incomplete: re-run `crm-lead-setup init --sandbox --auth client-secret --user-name mp-leadwriter@contoso\.com` before you select Validate\./,
    );
    expect(partnerCenter.nextStep).not.toContain("Paste it now");
    expect(await passwordSignIn(sandbox, UPN, partnerCenter.password)).toBe(200);
  });
});
