import { describe, expect, it } from "vitest";
import type { SandboxOptions } from "../../src/sandbox/server.js";
import { printedPassword } from "../helpers.js";
import { freshVirtualTenants } from "../in-process.js";
import { scan } from "../secrets-scan.js";

/**
 * Secrets (issue 4, SPEC §4): a client secret from the environment and every failure path, in-process on a
 * virtual clock shared with the sandbox, so the waits (a sync timeout, a service that keeps failing through
 * every back-off) cost no real time; the same scan as test/e2e/secrets-full.test.ts over stdout, stderr and
 * every file under HOME. (Moved from test/e2e/secrets-full.test.ts with every assertion kept; the spawned
 * device-code wizard scan stays there.)
 */
const fresh = freshVirtualTenants();

describe("no secret leaks", () => {
  it("with a client secret from the environment and --verbose", async () => {
    const { home, env, sandbox, cli } = await fresh();
    const run = await cli(
      ["init", "--sandbox", "--yes", "--verbose", "--auth", "client-secret", "--client-id", sandbox.connection.automationClientId],
      { ...env, CRM_LEAD_SETUP_CLIENT_SECRET: sandbox.connection.automationClientSecret },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("client_secret=***");
    scan(sandbox, home, [run], printedPassword(run.stdout));
  });

  it.each([
    ["no free seat", {}, ["--license", "D365_SALES_PRO"], 4],
    ["a failing import", { faults: { importFailure: { component: "solution.xml", message: "Import failed." } } }, [], 1],
    ["a sync timeout", { scenario: { userSyncMs: 5000 } }, ["--sync-timeout", "1"], 5],
    ["a service that keeps failing", { faults: { errorRate: 1, errorStatuses: [504] } }, [], 1],
  ] as const)("on the failure path of %s, with --verbose", async (_label, options, args, exit) => {
    const { home, sandbox, run: cli } = await fresh(options as SandboxOptions);
    const run = await cli(["init", "--sandbox", "--yes", "--verbose", ...args]);
    expect(run.code).toBe(exit);
    // A password generated before the failure is shown once all the same (else it would be lost).
    scan(sandbox, home, [run], printedPassword(run.stdout));
  });
});
