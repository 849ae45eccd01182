import { afterEach, describe, expect, it } from "vitest";
import type { RequestLogEntry, Sandbox, SandboxOptions } from "../../src/sandbox/server.js";
import { expectConfigured, printedPassword, runCli, sandboxFor, startCli, tempHome } from "../helpers.js";
import { writeConnectionFile } from "../../src/sandbox-link.js";
import { appPaths } from "../../src/paths.js";
import { runInProcess } from "../in-process.js";
import { VirtualClock } from "../virtual-clock.js";

const sandboxes: Sandbox[] = [];
afterEach(async () => {
  for (const sandbox of sandboxes.splice(0)) await sandbox.close();
});

const INIT = ["init", "--sandbox", "--yes", "--auth", "client-secret"];

/** The re-run after Ctrl+C: the same CLI in this process (the signal needed one; resuming does not). */
const resume = (args: string[], env: NodeJS.ProcessEnv) => runInProcess(args, env, { clock: new VirtualClock() });
const UPN = "mp-leadwriter@contoso.com";

/**
 * Runs init and sends Ctrl+C when `predicate` sees the request. The import or the user sync is held by
 * the test (not timed), so the run is surely still waiting when Ctrl+C lands, however slow the machine;
 * the test releases it before the re-run.
 */
async function interruptWhen(
  options: SandboxOptions,
  held: "import" | "user-sync",
  predicate: (entry: RequestLogEntry) => boolean,
  extraArgs: string[] = [],
) {
  const { env } = tempHome();
  const sandbox = await sandboxFor(env, options);
  sandbox.state.hold(held);
  sandboxes.push(sandbox);
  const { child, done } = startCli([...INIT, ...extraArgs], env);
  const stop = sandbox.onRequest((entry) => {
    if (predicate(entry)) {
      stop();
      child.kill("SIGINT");
    }
  });
  return { env, sandbox, run: await done };
}

describe("Ctrl+C", () => {
  it("during the import wait: exit 130, a short report, no stack trace; the re-run watches the same import", async () => {
    const { env, sandbox, run } = await interruptWhen({ scenario: { importMs: 0 } }, "import", (e) =>
      e.path.startsWith("/api/data/v9.2/asyncoperations("),
    );
    expect(run.code).toBe(130);
    expect(run.stdout).toMatch(/✔ download-solution \(done\)/);
    expect(run.stdout).toMatch(/✖ import-solution \(failed\) Interrupted \(Ctrl\+C\)\./);
    // The user needs nothing from the solution: it was created while the solution imported, and its
    // password is shown; the steps that need the role did not start.
    expect(run.stdout).toMatch(/✔ create-user \(done\)/);
    expect(run.stdout).toMatch(/↓ assign-role \(skipped\) Not run: import-solution failed\./);
    expect(run.stdout).toMatch(/↓ patch-role \(skipped\) Not run: import-solution failed\./);
    expect(printedPassword(run.stdout)).toMatch(/^\S{24,}$/);
    expect(run.stderr).toContain("Hint: Re-run the same command to resume.");
    expect(run.stdout + run.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/);
    sandbox.state.release("import");
    const again = await resume(INIT, env);
    expect(again.code).toBe(0);
    expect(sandbox.state.asyncOperations.size).toBe(1);
    expectConfigured(sandbox, { userName: UPN });
  });

  it("during the wait for the user to sync: exit 130 in --json too; the re-run finishes", async () => {
    let armed = false;
    const { env, sandbox, run } = await interruptWhen(
      { scenario: { userSyncMs: 0 } },
      "user-sync",
      (e) => (e.path.endsWith("/assignLicense") ? ((armed = true), false) : armed && e.path.startsWith("/api/data/v9.2/systemusers?")),
      ["--json"],
    );
    expect(run.code).toBe(130);
    const document = JSON.parse(run.stdout);
    expect(document.ok).toBe(false);
    expect(document.error).toMatchObject({ code: "interrupted", hint: "Re-run the same command to resume." });
    const statuses = document.steps.map((s: { id: string; status: string }) => `${s.id} ${s.status}`);
    expect(statuses.slice(0, 4)).toEqual(["download-solution done", "import-solution done", "create-user done", "assign-role failed"]);
    // patch-role runs alongside the sync wait: Ctrl+C lands before or after it ends.
    expect(["patch-role done", "patch-role failed"]).toContain(statuses[4]);
    expect(document.steps[3].summary).toBe("Interrupted (Ctrl+C).");
    sandbox.state.release("user-sync");
    const again = await resume(INIT, env);
    expect(again.code).toBe(0);
    expectConfigured(sandbox, { userName: UPN });
  });
});

describe("two init at once against one tenant", () => {
  it("make one user and one association, and both end cleanly", async () => {
    const a = tempHome();
    const b = tempHome();
    const sandbox = await sandboxFor(a.env);
    sandboxes.push(sandbox);
    await writeConnectionFile(appPaths(b.env), sandbox.connection); // both shells use the one running sandbox
    const [first, second] = await Promise.all([runCli(INIT, a.env), runCli(INIT, b.env)]);
    expect([first.code, second.code]).toEqual([0, 0]);
    expectConfigured(sandbox, { userName: UPN });
    const systemUser = [...sandbox.state.systemUsers.values()].find((s) => s.domainname === UPN)!;
    expect(systemUser.roles.size).toBe(1);
    expect([...sandbox.state.solutions.values()]).toHaveLength(1);
    // One of them created the user and shows its password; the other adopted it and says so.
    const shown = [first, second].map((run) => printedPassword(run.stdout)).filter(Boolean);
    expect(shown).toHaveLength(1);
  });
});
