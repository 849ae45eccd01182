import { afterEach, describe, expect, it } from "vitest";
import type { RequestLogEntry, Sandbox } from "../../src/sandbox/server.js";
import { expectConfigured, passwordSignIn, printedPassword, sandboxFor, startCli, tempHome } from "../helpers.js";
import { runInProcess } from "../in-process.js";
import { VirtualClock } from "../virtual-clock.js";

/**
 * Crash and resume (issue 4): the CLI is killed with SIGKILL the moment the sandbox has answered a given
 * request, at every step boundary and in the middle of steps. The next run must converge on the clean
 * state with exactly one of everything. The kill needs a process; the runs after it are the same CLI
 * in-process, on a clock of their own: the sandbox imports and syncs at once, so they wait on no sandbox
 * timer. Where the crash lands inside the import, the test holds it until the next run has seen it running.
 */

/** The next run after the kill: the same CLI, in this process. */
const runCli = (args: string[], env: NodeJS.ProcessEnv) => runInProcess(args, env, { clock: new VirtualClock() });
const sandboxes: Sandbox[] = [];
afterEach(async () => {
  for (const sandbox of sandboxes.splice(0)) await sandbox.close();
});

const INIT = ["init", "--sandbox", "--yes", "--auth", "client-secret"];
const UPN = "mp-leadwriter@contoso.com";

/** The first request matching `then` after one matching `first`. */
const after = (first: (e: RequestLogEntry) => boolean, then: (e: RequestLogEntry) => boolean) => {
  let armed = false;
  return (entry: RequestLogEntry) => (armed ? then(entry) : ((armed = first(entry)), false));
};

const CRASH_POINTS: [string, () => (entry: RequestLogEntry) => boolean][] = [
  ["after the download (boundary download → import)", () => (e) => e.service === "download"],
  ["right after the import started", () => IMPORT_STARTED],
  [
    "after the import finished (boundary import → create-user)",
    () => after(IMPORT_POLL, (e) => e.path.startsWith("/api/data/v9.2/roles?")),
  ],
  ["right after the user was created; the next run says its password was never shown, reset-password sets one", () => USER_CREATED],
  ["after the licence (boundary create-user → assign-role)", () => (e) => e.path.endsWith("/assignLicense")],
  ["right after the role was associated", () => (e) => e.path.endsWith("/systemuserroles_association/$ref")],
  ["after the privileges were added (in patch-role)", () => (e) => e.path.includes("AddPrivilegesRole")],
  [
    "after member privilege inheritance (before the read-back)",
    () => (e) => e.method === "PATCH" && e.path.startsWith("/api/data/v9.2/roles("),
  ],
];

const IMPORT_STARTED = (e: RequestLogEntry) => e.path.startsWith("/api/data/v9.2/ImportSolutionAsync");
const IMPORT_POLL = (e: RequestLogEntry) => e.path.startsWith("/api/data/v9.2/asyncoperations(");
const USER_CREATED = (e: RequestLogEntry) => e.method === "POST" && e.path === "/v1.0/users";

async function crashAt(predicate: (entry: RequestLogEntry) => boolean, holdImport = false) {
  const { env } = tempHome();
  const sandbox = await sandboxFor(env, { scenario: { importMs: 0, userSyncMs: 0 } });
  sandboxes.push(sandbox);
  if (holdImport) sandbox.state.hold("import");
  const { child, done } = startCli(INIT, env);
  let seen: RequestLogEntry | undefined;
  const stop = sandbox.onRequest((entry) => {
    if (!seen && predicate(entry)) {
      seen = entry;
      child.kill("SIGKILL");
    }
  });
  const killed = await done;
  stop();
  if (holdImport) {
    // Still running when the next run first looks at it (that answer is sent before this hook runs);
    // released then, so that run watches it finish.
    const stopHolding = sandbox.onRequest((entry) => {
      if (!/^\/api\/data\/v9\.2\/(asyncoperations|importjobs)\(/.test(entry.path)) return;
      stopHolding();
      sandbox.state.release("import");
    });
  }
  return { env, sandbox, killed, seen };
}

describe("killed at any point, the next run converges", () => {
  it.each(CRASH_POINTS)("%s", async (_label, makePredicate) => {
    const predicate = makePredicate();
    const { env, sandbox, killed, seen } = await crashAt(predicate, predicate === IMPORT_STARTED);
    expect(seen).toBeDefined();
    expect(killed.signal).toBe("SIGKILL");
    const again = await runCli(INIT, env);
    expect(again.stderr).not.toMatch(/Error:/);
    expect(again.code).toBe(0);
    expectConfigured(sandbox, { userName: UPN });
    expect([...sandbox.state.users.values()].filter((u) => u.userPrincipalName === UPN)).toHaveLength(1);
    expect([...sandbox.state.solutions.values()]).toHaveLength(1);
    expect(sandbox.state.asyncOperations.size).toBe(1);
    if (predicate === USER_CREATED) await expectNeverShownPasswordReset(env, sandbox, again.stdout);
  });
});

/** After a kill right after the user was created: the next run says its password was never shown; reset-password sets one. */
async function expectNeverShownPasswordReset(env: NodeJS.ProcessEnv, sandbox: Sandbox, againStdout: string): Promise<void> {
  expect(againStdout).toMatch(/Password\s+\(not shown/);
  expect(againStdout).toContain(
    `The password generated when ${UPN} was created was never shown: the run that created it was interrupted. Run \`npx crm-lead-setup reset-password --sandbox --auth client-secret --user-name ${UPN}\` to set a new one.`,
  );

  const reset = await runCli(["reset-password", "--sandbox", "--yes", "--auth", "client-secret", "--json"], env);
  expect(reset.code).toBe(0);
  const document = JSON.parse(reset.stdout);
  expect(document.steps).toEqual([expect.objectContaining({ id: "reset-password", status: "done" })]);
  expect(document.partnerCenter).toMatchObject({ userName: UPN, password: expect.stringMatching(/^\S{28}$/) });
  expect(await passwordSignIn(sandbox, UPN, document.partnerCenter.password)).toBe(200);
  const user = [...sandbox.state.users.values()].find((u) => u.userPrincipalName === UPN)!;
  expect(user.forceChangePasswordNextSignIn).toBe(false);
  expect(user.passwordPolicies).toContain("DisablePasswordExpiration");

  // Shown now: the next run no longer says it was never shown.
  const third = await runCli(INIT, env);
  expect(third.stdout).not.toContain("was never shown");
  expect(printedPassword(third.stdout)).toBeUndefined();
}
