import { describe, expect, it } from "vitest";
import { SANDBOX_OFFERS } from "../../src/sandbox/partner-center-state.js";
import { freshVirtualTenants } from "../in-process.js";

/**
 * Issue 13 point 4 (SPEC §1 status, §7): `status --offer` reports each offer's lead destination as
 * connected, missing, or drifted naming the field, read from the sandbox's Partner Center; it only reads, and
 * needs no secret of the service identity (it compares no secret: Partner Center answers them masked).
 */
const fresh = freshVirtualTenants();

const CONNECTED = SANDBOX_OFFERS.dynamics;
/** Seeded with an HTTPS-endpoint destination: not Dynamics, so "missing". */
const OTHER = SANDBOX_OFFERS.saas;
const STATUS = ["status", "--sandbox", "--auth", "client-secret", "--identity", "app", "--json", "--detailed-exitcode"];

interface Row {
  id: string;
  summary: string;
  details: { state: string; offers?: { offerId: string; status: string; fields?: string[] }[] };
}
const row = (stdout: string) => (JSON.parse(stdout).steps as Row[]).find((s) => s.id === "connect-offer");

async function connected() {
  const tenant = await fresh();
  const init = await tenant.cli(["init", "--sandbox", "--yes", "--auth", "client-secret", "--identity", "app", "--offer", CONNECTED]);
  expect({ code: init.code, stderr: init.code ? init.stderr : "" }).toEqual({ code: 0, stderr: "" });
  return tenant;
}

describe("status --offer", () => {
  it("a connected offer is done (exit 0), read without any secret and without a write", async () => {
    const { cli, sandbox } = await connected();
    sandbox.clearRequests();
    const run = await cli([...STATUS, "--offer", CONNECTED]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(row(run.stdout)).toMatchObject({ details: { state: "done", offers: [{ offerId: CONNECTED, status: "connected" }] } });
    expect(sandbox.mutatingRequests().filter((r) => r.service !== "entra")).toEqual([]);
  });

  it("an offer with another destination is missing; a changed field is drifted, naming it (exit 10)", async () => {
    const { cli, sandbox } = await connected();
    const both = await cli([...STATUS, "--offer", `${CONNECTED},${OTHER}`]);
    expect(both.code).toBe(10);
    expect(row(both.stdout)!.details.offers).toEqual([
      { offerId: CONNECTED, status: "connected" },
      { offerId: OTHER, status: "missing", leadDestination: "httpsEndpoint" },
    ]);
    expect(row(both.stdout)!.summary).toContain(`${OTHER}: missing`);
    // Someone edits the offer in Partner Center: another instance URL.
    const config = sandbox.partnerCenter.offer(CONNECTED).draftLeads.dynamicsLeadConfiguration as Record<string, unknown>;
    config.instanceUrl = "https://fabrikam.crm4.dynamics.com";
    const drifted = await cli([...STATUS, "--offer", CONNECTED]);
    expect(drifted.code).toBe(10);
    expect(row(drifted.stdout)).toMatchObject({
      details: { state: "drifted", offers: [{ offerId: CONNECTED, status: "drifted", fields: ["instanceUrl"] }] },
    });
    expect(row(drifted.stdout)!.summary).toContain(`${CONNECTED}: drifted (instanceUrl)`);
  });
});
