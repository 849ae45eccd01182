import { describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { appToken } from "../helpers.js";
import { freshVirtualTenants } from "../in-process.js";

/**
 * Issue 13 point 4 (SPEC §1 status): the app secret's expiry is watched. The CLI and the sandbox share one
 * virtual clock, so "20 days later" is a sleep on that clock: the tenant's time moves, nothing waits.
 */
const fresh = freshVirtualTenants();

const DAY = 86_400_000;
const ADMIN = ["--sandbox", "--yes", "--auth", "client-secret", "--identity", "app"];
/** status asks nothing, so it takes no --yes. */
const STATUS = ["status", "--sandbox", "--auth", "client-secret", "--identity", "app", "--json", "--detailed-exitcode"];

interface StatusStep {
  id: string;
  summary: string;
  changes: { action: string; target: string }[];
  details: { state: string };
}
const createApp = (stdout: string): StatusStep => JSON.parse(stdout).steps.find((s: StatusStep) => s.id === "create-app");

/** A tenant where init made the app with a one-month secret (the shortest --secret-expiry-months allows). */
async function appWithOneMonthSecret() {
  const tenant = await fresh();
  const init = await tenant.cli(["init", ...ADMIN, "--secret-expiry-months", "1", "--json"]);
  expect(init.code).toBe(0);
  const { applicationId, clientSecret } = JSON.parse(init.stdout).partnerCenter;
  return { ...tenant, applicationId: applicationId as string, clientSecret: clientSecret as string };
}

describe("status watches the app secret's expiry", () => {
  it("a fresh one-month secret is reported only once it is within --warn-days", async () => {
    const { cli } = await appWithOneMonthSecret();
    const now = await cli([...STATUS, "--warn-days", "20"]);
    expect({ code: now.code, state: createApp(now.stdout).details.state }).toEqual({ code: 0, state: "done" });
    const wide = await cli([...STATUS, "--warn-days", "60"]);
    expect({ code: wide.code, state: createApp(wide.stdout).details.state }).toEqual({ code: 10, state: "drifted" });
  });

  it("20 days on, the default 30 days reports it drifted (exit 10), naming its expiry; --warn-days 0 does not", async () => {
    const { cli, clock, sandbox, applicationId, clientSecret } = await appWithOneMonthSecret();
    const endDateTime = [...sandbox.state.applications.values()].find((a) => a.appId === applicationId)!.passwordCredentials[0]!
      .endDateTime;
    await clock.sleep(20 * DAY);
    sandbox.clearRequests();
    const soon = await cli(STATUS);
    // status only reads (sign-in aside).
    expect(sandbox.mutatingRequests().filter((r) => r.service !== "entra")).toEqual([]);
    expect(soon.code).toBe(10);
    const step = createApp(soon.stdout);
    expect(step.details.state).toBe("drifted");
    expect(step.summary).toContain(`expires on ${endDateTime.slice(0, 10)}`);
    expect(step.changes).toEqual([
      { action: "add", target: expect.stringContaining(`the current one expires on ${endDateTime.slice(0, 10)}`) },
    ]);
    expect((await cli([...STATUS, "--warn-days", "0"])).code).toBe(0);
    // Still valid: Entra accepts it.
    expect(await appToken(sandbox, applicationId, clientSecret)).toBe(200);
  });

  it("an expired secret is drifted; Entra refuses it; init (not status) adds a new one", async () => {
    const { cli, clock, sandbox, applicationId, clientSecret } = await appWithOneMonthSecret();
    await clock.sleep(40 * DAY);
    expect(await appToken(sandbox, applicationId, clientSecret)).toBe(401);
    const expired = await cli(STATUS);
    expect({ code: expired.code, state: createApp(expired.stdout).details.state }).toEqual({ code: 10, state: "drifted" });
    expect(createApp(expired.stdout).summary).toMatch(/expired on \d{4}-\d{2}-\d{2}/);
    const app = () => [...sandbox.state.applications.values()].find((a) => a.appId === applicationId)!;
    expect(app().passwordCredentials).toHaveLength(1);
    const init = await cli(["init", ...ADMIN, "--json"]);
    expect(init.code).toBe(0);
    expect(await appToken(sandbox, applicationId, JSON.parse(init.stdout).partnerCenter.clientSecret)).toBe(200);
    expect((await cli(STATUS)).code).toBe(0);
  });

  it("the secret this tool created counts, not a longer one someone else added", async () => {
    const { cli, clock, sandbox, applicationId } = await appWithOneMonthSecret();
    const app = [...sandbox.state.applications.values()].find((a) => a.appId === applicationId)!;
    // An admin adds a two-year secret in the Entra admin center (not through this tool).
    app.passwordCredentials.push({
      keyId: randomUUID(),
      displayName: "added by hand",
      hint: "abc",
      startDateTime: new Date(clock.now()).toISOString(),
      endDateTime: new Date(clock.now() + 730 * DAY).toISOString(),
      secretText: "abc8Q~not-used-by-this-test-00000000000000",
    });
    await clock.sleep(20 * DAY);
    expect((await cli(STATUS)).code).toBe(10);
  });

  it("--warn-days must be a whole number from 0 to 3650 (exit 2, nothing read)", async () => {
    const { cli } = await fresh();
    for (const bad of ["-1", "3651", "2.5", "soon"]) {
      const run = await cli([...STATUS, "--warn-days", bad]);
      expect({ bad, code: run.code }).toEqual({ bad, code: 2 });
      expect(JSON.parse(run.stdout).error.message).toContain("--warn-days");
    }
  });
});
