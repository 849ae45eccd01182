import { describe, expect, it } from "vitest";
import { expectConfigured, passwordSignIn, runCli, freshTenants } from "../helpers.js";

/** A fresh HOME with a sandbox tenant of its own; closed after each test. */
const fresh = freshTenants();

const UPN = "mp-leadwriter@contoso.com";

/**
 * The --json contract and the configured state through the built bin: one spawned run, and the re-run.
 * The other init cases run in-process: test/integration/init.test.ts.
 */
describe("init against the sandbox, end to end", () => {
  it("with device-code sign-in, as JSON, then a second run changes nothing", async () => {
    const { env, sandbox } = await fresh();
    const first = await runCli(["init", "--sandbox", "--yes", "--json"], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/enter the code [0-9A-F]+/);
    const document = JSON.parse(first.stdout);
    expect(document.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`)).toEqual([
      "download-solution:done",
      "import-solution:done",
      "create-user:done",
      "assign-role:done",
      "patch-role:done",
    ]);
    expect(document.partnerCenter).toEqual({
      url: sandbox.connection.orgUrl,
      authentication: "Office 365",
      userName: UPN,
      password: expect.stringMatching(/^\S{28}$/),
      setup: "complete",
      nextStep: expect.stringContaining("then select Validate in Partner Center"),
    });
    expectConfigured(sandbox, { userName: UPN });
    expect(await passwordSignIn(sandbox, UPN, document.partnerCenter.password)).toBe(200);
    expect(first.stderr).not.toContain(document.partnerCenter.password);

    sandbox.clearRequests();
    const second = await runCli(["init", "--sandbox", "--yes", "--json"], env);
    expect(second.code).toBe(0);
    const again = JSON.parse(second.stdout);
    expect(again.steps.map((s: { status: string }) => s.status)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"]);
    expect(again.partnerCenter.password).toBeNull();
    expect(sandbox.mutatingRequests()).toEqual([]);
  });
});
