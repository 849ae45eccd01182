import { describe, expect, it } from "vitest";
import type { SandboxOptions } from "../../src/sandbox/server.js";
import { printedPassword } from "../helpers.js";
import { freshVirtualTenants } from "../in-process.js";
import { scan } from "../secrets-scan.js";

/**
 * Secrets on the failure paths that wait (SPEC §4): a sync timeout, and a service that keeps failing
 * through every back-off. In-process on a virtual clock shared with the sandbox, so the waits cost no real
 * time; the same scan as test/e2e/secrets-full.test.ts over stdout, stderr and every file under HOME.
 * (Moved from test/e2e/secrets-full.test.ts with every assertion kept.)
 */
const fresh = freshVirtualTenants();

describe("no secret leaks", () => {
  it.each([
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
