import { describe, expect, it } from "vitest";
import { passwordSignIn, runCli, startCli, freshTenants } from "../helpers.js";

/**
 * The Partner Center values in --json (SPEC §3): a secret this run did not generate is null, with a hint
 * that is the exact command to get one; a run that did not finish every step says so instead of inviting
 * the admin to select Validate.
 */
/** A fresh HOME with a sandbox tenant of its own; closed after each test. */
const fresh = freshTenants();

const INIT = ["init", "--sandbox", "--yes", "--auth", "client-secret"];
const UPN = "mp-leadwriter@contoso.com";

/** The command inside the hint's backquotes, as arguments (the hint quotes nothing in these tests). */
function hintedCommand(hint: string): string[] {
  const command = /`crm-lead-setup ([^`]+)`/.exec(hint)?.[1];
  if (!command) throw new Error(`no command in the hint: ${hint}`);
  return command.split(" ");
}

describe("a secret this run did not generate", () => {
  it("after a kill that left the password unshown: null, and a hint whose command sets a new one", async () => {
    const { env, sandbox } = await fresh();
    const { child, done } = startCli(INIT, env);
    const stop = sandbox.onRequest((entry) => {
      if (entry.method === "POST" && entry.path === "/v1.0/users") child.kill("SIGKILL");
    });
    expect((await done).signal).toBe("SIGKILL");
    stop();

    const again = await runCli([...INIT, "--json"], env);
    expect(again.code).toBe(0);
    const { partnerCenter } = JSON.parse(again.stdout);
    expect(partnerCenter).toMatchObject({ userName: UPN, password: null, setup: "complete" });
    expect(partnerCenter.hint).toContain(`The password generated when ${UPN} was created was never shown`);
    expect(partnerCenter.hint).toContain(`\`crm-lead-setup reset-password --sandbox --auth client-secret --user-name ${UPN}\``);

    const reset = await runCli([...hintedCommand(partnerCenter.hint), "--yes", "--json"], env);
    expect(reset.code).toBe(0);
    const password = JSON.parse(reset.stdout).partnerCenter.password;
    expect(await passwordSignIn(sandbox, UPN, password)).toBe(200);
  });

  it("the app identity's secret shown in an earlier run: null, and a hint with --identity app and the app's name", async () => {
    const { env, sandbox } = await fresh();
    const args = [...INIT, "--identity", "app", "--app-name", "Lead-Writer-CI", "--json"];
    expect((await runCli(args, env)).code).toBe(0);
    const again = await runCli(args, env);
    expect(again.code).toBe(0);
    const { partnerCenter } = JSON.parse(again.stdout);
    expect(partnerCenter).toMatchObject({ authentication: "Azure Active Directory", clientSecret: null });
    expect(partnerCenter.hint).toContain(
      "`crm-lead-setup reset-password --sandbox --auth client-secret --identity app --app-name Lead-Writer-CI`",
    );

    const app = () => [...sandbox.state.applications.values()].find((a) => a.displayName === "Lead-Writer-CI")!;
    const secretsBefore = app().passwordCredentials.length;
    const rotate = await runCli([...hintedCommand(partnerCenter.hint), "--yes", "--json"], env);
    expect(rotate.code).toBe(0);
    expect(JSON.parse(rotate.stdout).partnerCenter.clientSecret).toEqual(expect.any(String));
    expect(app().passwordCredentials.length).toBe(secretsBefore + 1);
  });
});

// "assign-role timing out (exit 5)" waits out --sync-timeout: it runs in-process on a virtual clock,
// test/integration/summary.test.ts.
describe("a run that did not finish every step", () => {
  it("Ctrl+C during the import: 'Setup incomplete' in --json as well", async () => {
    const { env, sandbox } = await fresh({ scenario: { importMs: 3_600_000 } });
    const { child, done } = startCli([...INIT, "--json"], env);
    // Interrupt at the first poll of the import after the licence is assigned (create-user has ended).
    let licensed = false;
    const stop = sandbox.onRequest((entry) => {
      if (entry.path.endsWith("/assignLicense")) licensed = true;
      else if (licensed && entry.path.startsWith("/api/data/v9.2/asyncoperations(")) {
        stop();
        child.kill("SIGINT");
      }
    });
    const run = await done;
    expect(run.code).toBe(130);
    const document = JSON.parse(run.stdout);
    expect(document.steps.find((s: { id: string }) => s.id === "import-solution").status).toBe("failed");
    expect(document.partnerCenter).toMatchObject({ setup: "incomplete", password: expect.any(String) });
    expect(document.partnerCenter.nextStep).toContain("Setup incomplete: re-run");
  });
});
