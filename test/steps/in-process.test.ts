import { afterEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock.js";
import { runSteps } from "../../src/runner.js";
import { inProcessPorts } from "../../src/tenant-ports.js";
import { downloadSolutionStep } from "../../src/steps/download-solution.js";
import { importSolutionStep } from "../../src/steps/import-solution.js";
import { createUserStep } from "../../src/steps/create-user.js";
import { assignRoleStep, leadWriterRoles } from "../../src/steps/assign-role.js";
import { patchRoleStep } from "../../src/steps/patch-role.js";
import { DEFAULT_APP_NAME } from "../../src/steps/create-app.js";
import type { AnyStep } from "../../src/steps/step.js";
import { expectConfigured, freshTenants, passwordSignIn } from "../helpers.js";
import { instantClock } from "../virtual-clock.js";

/**
 * Steps built from their inputs and run in this process against the sandbox, through the ports the CLI
 * builds: no child process, and waits on a clock the test controls.
 */

const fresh = freshTenants();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A clock whose sleeps end only when the run is interrupted. */
const stoppedClock: Clock = {
  now: () => 0,
  sleep: (_ms, signal) =>
    new Promise((_resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    }),
};

async function portsFor(env: NodeJS.ProcessEnv, extra: Parameters<typeof inProcessPorts>[1] = {}) {
  const ports = await inProcessPorts(env, extra);
  closers.push(ports.close);
  return ports;
}

function userIdentitySteps(downloadUrl: string): AnyStep[] {
  return [
    downloadSolutionStep({ urls: [downloadUrl] }),
    importSolutionStep({ syncTimeoutSeconds: 600 }),
    createUserStep({ keepPasswordExpiry: false, offerNeverShownReset: false }),
    assignRoleStep({ identity: "user", appName: DEFAULT_APP_NAME, forceSync: false, syncTimeoutSeconds: 600 }),
    patchRoleStep(),
  ];
}

describe("steps run in process against the sandbox", () => {
  it("init's steps reach the configured state, hand the new user's password on, and a second run plans nothing", async () => {
    const { env, sandbox } = await fresh({ scenario: { importMs: 0, userSyncMs: 0 } });
    const ports = await portsFor(env, { clock: instantClock() });
    const signal = new AbortController().signal;

    const outcome = await runSteps(userIdentitySteps(sandbox.connection.downloadUrl), ports, { dryRun: false, signal });
    expect(outcome.error).toBeUndefined();
    expect(outcome.results.map((r) => `${r.id} ${r.status}`)).toEqual([
      "download-solution done",
      "import-solution done",
      "create-user done",
      "assign-role done",
      "patch-role done",
    ]);
    const user = outcome.outputs["create-user"]!;
    expectConfigured(sandbox, { userName: user.userPrincipalName });
    expect(await passwordSignIn(sandbox, user.userPrincipalName, user.generatedPassword!)).toBe(200);

    sandbox.clearRequests();
    const again = await runSteps(userIdentitySteps(sandbox.connection.downloadUrl), await portsFor(env), { dryRun: false, signal });
    expect(again.results.map((r) => r.status)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"]);
    expect(sandbox.mutatingRequests()).toEqual([]);
  });

  it("a POST /users whose answer is lost is looked for, not sent again: one user, with the password it was sent", async () => {
    const { env, sandbox } = await fresh({ faults: { lostAnswers: ["POST /users"] } });
    const ports = await portsFor(env);
    const step = createUserStep({ keepPasswordExpiry: false, offerNeverShownReset: false });
    const outcome = await runSteps([step], ports, { dryRun: false, signal: new AbortController().signal });
    expect(outcome.error).toBeUndefined();
    const user = outcome.outputs["create-user"]!;
    expect([...sandbox.state.users.values()].filter((u) => u.userPrincipalName === user.userPrincipalName)).toHaveLength(1);
    expect(sandbox.requests.filter((r) => r.method === "POST" && r.path === "/v1.0/users")).toHaveLength(1);
    expect(await passwordSignIn(sandbox, user.userPrincipalName, user.generatedPassword!)).toBe(200);
  });

  it("an ImportSolutionAsync whose answer is lost is looked for, not started again, and the role it made is handed on", async () => {
    const { env, sandbox } = await fresh({
      scenario: { importMs: 0, userSyncMs: 0 },
      faults: { lostAnswers: ["POST /ImportSolutionAsync"] },
    });
    const ports = await portsFor(env, { clock: instantClock() });
    const outcome = await runSteps(userIdentitySteps(sandbox.connection.downloadUrl), ports, {
      dryRun: false,
      signal: new AbortController().signal,
    });
    expect(outcome.error).toBeUndefined();
    expect(sandbox.faults.stats.lostAnswers).toBe(1);
    expect(sandbox.requests.filter((r) => r.path.endsWith("/ImportSolutionAsync"))).toHaveLength(1);
    expect(sandbox.state.asyncOperations.size).toBe(1);
    expectConfigured(sandbox, { userName: outcome.outputs["create-user"]!.userPrincipalName });
  });

  it("another import that keeps the environment busy past --sync-timeout: the refusal is reported, on the one poll schedule", async () => {
    const { env, sandbox } = await fresh({ faults: { concurrentImportBusy: 1_000 } });
    const ports = await portsFor(env, { clock: instantClock() });
    const outcome = await runSteps(
      [downloadSolutionStep({ urls: [sandbox.connection.downloadUrl] }), importSolutionStep({ syncTimeoutSeconds: 30 })],
      ports,
      { dryRun: false, signal: new AbortController().signal },
    );
    expect(outcome.error).toMatchObject({ code: "import-concurrent", exitCode: 1 });
    // 30 s of virtual time: looks at 0, 0.25, 0.65, … then every 5 s, about a dozen in all.
    const attempts = sandbox.requests.filter((r) => r.path.endsWith("/ImportSolutionAsync")).length;
    expect(attempts).toBeGreaterThan(5);
    expect(attempts).toBeLessThan(20);
    expect(sandbox.state.solutions.size).toBe(0);
  });

  it("an import an interrupted run left running, ending between the run's early role read and the import's inspection: the role is read again", async () => {
    const { env, sandbox } = await fresh({ scenario: { importMs: 0, userSyncMs: 0 } });
    const steps = () => userIdentitySteps(sandbox.connection.downloadUrl);
    sandbox.state.hold("import");
    // An earlier run started the import and was interrupted while watching it.
    const earlier = new AbortController();
    const started = new Promise<void>((resolve) => {
      const stop = sandbox.onRequest((entry) => {
        if (entry.path.endsWith("/ImportSolutionAsync")) resolve(stop());
      });
    });
    const interrupted = runSteps(steps().slice(0, 2), await portsFor(env, { clock: stoppedClock, signal: earlier.signal }), {
      dryRun: false,
      signal: earlier.signal,
    });
    await Promise.race([started, interrupted]);
    earlier.abort(new Error("Interrupted (Ctrl+C)."));
    expect((await interrupted).error?.message).toBe("Interrupted (Ctrl+C).");

    const ports = await portsFor(env, { clock: instantClock() });
    // The next run reads the role early (assign-role's prefetch) while that import still runs…
    expect(await leadWriterRoles(ports.reads)).toEqual([]);
    // …and the import ends before import-solution inspects it.
    sandbox.state.release("import");
    const outcome = await runSteps(steps(), ports, { dryRun: false, signal: new AbortController().signal });
    expect(outcome.error).toBeUndefined();
    expect(outcome.results.map((r) => r.status)).toEqual(["unchanged", "unchanged", "done", "done", "done"]);
    expectConfigured(sandbox, { userName: outcome.outputs["create-user"]!.userPrincipalName });
  });

  it("Ctrl+C while another import keeps the environment busy ends the wait at once", async () => {
    // Dataverse allows one solution import at a time (reference: dataverse §4): the sandbox refuses ours while busy.
    const { env, sandbox } = await fresh({ faults: { concurrentImportBusy: 1_000 } });
    const controller = new AbortController();
    const ports = await portsFor(env, { clock: stoppedClock, signal: controller.signal });
    // The step says it waits for the other import just before it starts waiting.
    const waiting = new Promise<void>((resolve) => (ports.progress = { ...ports.progress, info: () => resolve() }));
    let ended = false;
    const run = runSteps(
      [downloadSolutionStep({ urls: [sandbox.connection.downloadUrl] }), importSolutionStep({ syncTimeoutSeconds: 600 })],
      ports,
      { dryRun: false, signal: controller.signal },
    ).finally(() => (ended = true));
    await Promise.race([waiting, run]);
    controller.abort(new Error("Interrupted (Ctrl+C)."));
    // A few turns of the event loop, no timer: an abortable wait has ended by then.
    for (let turn = 0; turn < 20 && !ended; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(true);
    const outcome = await run;
    expect(outcome.error?.message).toBe("Interrupted (Ctrl+C).");
    expect(outcome.results.map((r) => `${r.id} ${r.status}`)).toEqual(["download-solution done", "import-solution failed"]);
    expect(sandbox.requests.filter((r) => r.path.endsWith("/ImportSolutionAsync"))).toHaveLength(1);
    expect(sandbox.state.solutions.size).toBe(0);
  });
});
