import { describe, expect, it } from "vitest";
import { runCli, tempHome } from "../helpers.js";

/**
 * Bad input through the built bin with --json: the SPEC §3 error document is the whole of stdout, exit 2.
 * Every other bad-input case runs in-process: test/integration/bad-input.test.ts.
 */
const { env } = tempHome();

describe("bad input exits 2, names the input and the fix, and touches no tenant", () => {
  it("reports bad input as the SPEC §3 error document with --json", async () => {
    const run = await runCli(["status", "--json", "--cloud", "mars"], env);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      ok: false,
      command: "status",
      dryRun: false,
      steps: [],
      partnerCenter: null,
      error: { code: "cloud-unknown", message: expect.stringContaining('--cloud "mars"'), hint: expect.stringContaining("public, gcc") },
    });
  });
});
