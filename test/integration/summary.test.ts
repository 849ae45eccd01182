import { describe, expect, it } from "vitest";
import { passwordSignIn } from "../helpers.js";
import { freshVirtualTenants } from "../in-process.js";

/**
 * The Partner Center values in --json (SPEC §3), in-process on a virtual clock: a run that waited out
 * --sync-timeout or was stopped by Ctrl+C says so instead of inviting the admin to select Validate; a secret
 * shown in an earlier run is null, with a hint that is the exact command to get a new one. (Moved from
 * test/e2e/summary.test.ts with every assertion kept; the kill that leaves a password unshown needs a
 * process and stays there.)
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

/** The command inside the hint's backquotes, as arguments (the hint quotes nothing in these tests). */
function hintedCommand(hint: string): string[] {
  const command = /`crm-lead-setup ([^`]+)`/.exec(hint)?.[1];
  if (!command) throw new Error(`no command in the hint: ${hint}`);
  return command.split(" ");
}

describe("a secret this run did not generate", () => {
  it("the app identity's secret shown in an earlier run: null, and a hint with --identity app and the app's name", async () => {
    const { sandbox, run: cli } = await fresh();
    const args = [...INIT, "--identity", "app", "--app-name", "Lead-Writer-CI", "--json"];
    expect((await cli(args)).code).toBe(0);
    const again = await cli(args);
    expect(again.code).toBe(0);
    const { partnerCenter } = JSON.parse(again.stdout);
    expect(partnerCenter).toMatchObject({ authentication: "Azure Active Directory", clientSecret: null });
    expect(partnerCenter.hint).toContain(
      "`crm-lead-setup reset-password --sandbox --auth client-secret --identity app --app-name Lead-Writer-CI`",
    );

    const app = () => [...sandbox.state.applications.values()].find((a) => a.displayName === "Lead-Writer-CI")!;
    const secretsBefore = app().passwordCredentials.length;
    const rotate = await cli([...hintedCommand(partnerCenter.hint), "--yes", "--json"]);
    expect(rotate.code).toBe(0);
    expect(JSON.parse(rotate.stdout).partnerCenter.clientSecret).toEqual(expect.any(String));
    expect(app().passwordCredentials.length).toBe(secretsBefore + 1);
  });
});

describe("a run that did not finish every step (Ctrl+C)", () => {
  it("Ctrl+C during the import: 'Setup incomplete' in --json as well", async () => {
    const { sandbox, run: cli } = await fresh({ scenario: { importMs: 3_600_000 } });
    let interrupt = () => {};
    // Interrupt at the first poll of the import after the licence is assigned (create-user has ended).
    let licensed = false;
    const stop = sandbox.onRequest((entry) => {
      if (entry.path.endsWith("/assignLicense")) licensed = true;
      else if (licensed && entry.path.startsWith("/api/data/v9.2/asyncoperations(")) {
        stop();
        interrupt();
      }
    });
    const run = await cli([...INIT, "--json"], { onStart: (controls) => (interrupt = controls.interrupt) });
    expect(run.code).toBe(130);
    const document = JSON.parse(run.stdout);
    expect(document.steps.find((s: { id: string }) => s.id === "import-solution").status).toBe("failed");
    expect(document.partnerCenter).toMatchObject({ setup: "incomplete", password: expect.any(String) });
    expect(document.partnerCenter.nextStep).toContain("Setup incomplete: re-run");
  });
});
