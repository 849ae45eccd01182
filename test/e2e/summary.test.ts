import { describe, expect, it } from "vitest";
import { passwordSignIn, startCli, freshTenants } from "../helpers.js";
import { runInProcess } from "../in-process.js";
import { systemClock } from "../../src/clock.js";

/**
 * The Partner Center values in --json (SPEC §3) after a kill (which needs a process): a secret this run did
 * not generate is null, with a hint that is the exact command to get one.
 */
/** A fresh HOME with a sandbox tenant of its own; closed after each test. */
const fresh = freshTenants();

const INIT = ["init", "--sandbox", "--yes", "--auth", "client-secret"];

/** The runs after the kill: the same CLI in this process, in real time as this file's sandbox is. */
const runCli = (args: string[], env: NodeJS.ProcessEnv) => runInProcess(args, env, { clock: systemClock });
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
});

// The app identity's secret shown in an earlier run, "assign-role timing out (exit 5)" (it waits out
// --sync-timeout) and Ctrl+C during the import (its --json document) run in-process on a virtual clock:
// test/integration/summary.test.ts.
