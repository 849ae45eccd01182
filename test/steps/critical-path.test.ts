import { afterEach, describe, expect, it } from "vitest";
import { runSteps } from "../../src/runner.js";
import { inProcessPorts } from "../../src/tenant-ports.js";
import { downloadSolutionStep } from "../../src/steps/download-solution.js";
import { importSolutionStep } from "../../src/steps/import-solution.js";
import { createUserStep } from "../../src/steps/create-user.js";
import { assignRoleStep } from "../../src/steps/assign-role.js";
import { patchRoleStep } from "../../src/steps/patch-role.js";
import { createAppStep, DEFAULT_APP_NAME } from "../../src/steps/create-app.js";
import type { AnyStep } from "../../src/steps/step.js";
import type { Sandbox } from "../../src/sandbox/server.js";
import { expectConfigured, freshTenants } from "../helpers.js";
import { callRounds, overlapped, recordTenantCalls } from "./call-rounds.js";
import { instantClock } from "../virtual-clock.js";

/**
 * The critical path of init's steps (issue 12 point 6): which tenant calls wait for which. Counted from the
 * order of events (call-rounds.ts), never from the clock, and asserted with the configured end state.
 */

const fresh = freshTenants();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function portsFor(env: NodeJS.ProcessEnv) {
  const ports = await inProcessPorts(env, { clock: instantClock() });
  closers.push(ports.close);
  return ports;
}

/**
 * Ports whose sign-in is done: a token for Graph and one for Dynamics are in hand, as after a cached
 * sign-in, so that the rounds counted are the steps' own (the in-process sign-in is app-only and not cached).
 */
async function signedInPorts(env: NodeJS.ProcessEnv) {
  const ports = await portsFor(env);
  const { directory, environment } = await ports.reads.tenant();
  await Promise.all([directory.organization(), environment.whoAmI()]);
  return ports;
}

/** From now on, 150 ms before every answer of every service, as the sandbox's `latencyMs` option adds. */
function addNetworkLatency(sandbox: Sandbox): void {
  sandbox.faults.set({ latencyMs: 150, services: ["entra", "graph", "dataverse", "bap", "download"] });
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

function appIdentitySteps(downloadUrl: string): AnyStep[] {
  return [
    downloadSolutionStep({ urls: [downloadUrl] }),
    importSolutionStep({ syncTimeoutSeconds: 600 }),
    createAppStep({}),
    assignRoleStep({ identity: "app", appName: DEFAULT_APP_NAME, forceSync: false, syncTimeoutSeconds: 600 }),
    patchRoleStep(),
  ];
}

async function freshRun(
  { latencyMs, ...scenario }: { importMs: number; userSyncMs: number; latencyMs?: number } = { importMs: 0, userSyncMs: 0 },
  prepare: (sandbox: Sandbox) => void = () => undefined,
) {
  const { env, sandbox } = await fresh({ scenario, latencyMs });
  prepare(sandbox);
  const ports = await portsFor(env);
  const calls = recordTenantCalls(ports);
  const outcome = await runSteps(userIdentitySteps(sandbox.connection.downloadUrl), ports, {
    dryRun: false,
    signal: new AbortController().signal,
  });
  expect(outcome.error).toBeUndefined();
  expectConfigured(sandbox, { userName: outcome.outputs["create-user"]!.userPrincipalName });
  return { env, sandbox, calls };
}

describe("init's critical path", () => {
  it("sends the isinherited PATCH beside AddPrivilegesRole, not after its read-back", async () => {
    const { calls } = await freshRun();
    expect(overlapped(calls, "environment.addPrivilegesAndReadBack", "environment.setMemberPrivilegeInheritance")).toBe(true);
  });

  it("polls asyncoperations and importjobs together while the import runs", async () => {
    const { calls } = await freshRun(undefined, (sandbox) => {
      // The import runs until the run has looked at its async operation once.
      sandbox.state.hold("import");
      const stop = sandbox.onRequest((entry) => {
        if (entry.path.includes("/asyncoperations(")) {
          stop();
          sandbox.state.release("import");
        }
      });
    });
    expect(overlapped(calls, "environment.asyncOperation", "environment.importJob")).toBe(true);
  });

  it("a converged run reads the tenant in at most 3 dependent rounds", async () => {
    // Every answer waits 150 ms, as over a network: a call that needs another's answer then starts after it
    // settled, and calls that need nothing of each other start before any answer is back. The set-up run
    // before it counts nothing: it runs without the latency, which is then added to every service's answers.
    const { env, sandbox } = await freshRun();
    addNetworkLatency(sandbox);
    const ports = await signedInPorts(env);
    const calls = recordTenantCalls(ports);
    const again = await runSteps(userIdentitySteps(sandbox.connection.downloadUrl), ports, {
      dryRun: false,
      signal: new AbortController().signal,
    });
    expect(again.results.map((r) => r.status)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"]);
    const rounds = callRounds(calls);
    expect(rounds.length, JSON.stringify(rounds)).toBeLessThanOrEqual(3);
  });

  it("downloads the solution at once, beside sign-in, so that the import is planned with its version before confirmation", async () => {
    // 150 ms per answer, as over a network: sign-in alone takes two answers before the first Dataverse call.
    const { env, sandbox } = await fresh({ scenario: { importMs: 0, userSyncMs: 0 }, latencyMs: 150 });
    const ports = await portsFor(env);
    const outcome = await runSteps(userIdentitySteps(sandbox.connection.downloadUrl), ports, {
      dryRun: true,
      signal: new AbortController().signal,
    });
    const imported = outcome.results.find((r) => r.id === "import-solution")!;
    expect(imported.changes).toEqual([{ action: "import", target: "solution CrmLeadSetupSandboxLeadWriter 1.0.0.0 (managed)" }]);
    const order = sandbox.requests.map((r) => r.service);
    expect(order.indexOf("download")).toBeGreaterThanOrEqual(0);
    expect(order.indexOf("download")).toBeLessThan(order.indexOf("dataverse"));
    // Nothing is written in a dry run: the package is cached only when download-solution applies.
    expect(outcome.results.find((r) => r.id === "download-solution")!.status).toBe("planned");
  });

  it("the app identity: the app is looked up beside WhoAmI, and the root business unit is known before the app is created", async () => {
    const { env, sandbox } = await fresh({ scenario: { importMs: 0, userSyncMs: 0 } });
    const run = async (dryRun = false) => {
      const ports = await signedInPorts(env);
      const calls = recordTenantCalls(ports);
      const outcome = await runSteps(appIdentitySteps(sandbox.connection.downloadUrl), ports, {
        dryRun,
        signal: new AbortController().signal,
      });
      expect(outcome.error).toBeUndefined();
      return { outcome, calls };
    };
    const first = await run();
    // The root business unit (for the application user) was read while planning, not between addPassword and the create.
    const created = first.calls.findIndex((e) => e.name === "applications.addPassword" && e.phase === "end");
    const rootRead = first.calls.findIndex((e) => e.name === "environment.rootBusinessUnitId" && e.phase === "start");
    expect(rootRead).toBeGreaterThanOrEqual(0);
    expect(rootRead).toBeLessThan(created);
    // Planned again (a dry run: the secret, never shown outside the CLI, would be planned anew), the tenant is read in 2 rounds,
    // with 150 ms per answer as over a network (the order asserted above is the code's, whatever the latency).
    addNetworkLatency(sandbox);
    const again = await run(true);
    const rounds = callRounds(again.calls);
    expect(rounds.length, JSON.stringify(rounds)).toBeLessThanOrEqual(2);
  });

  it("reads the Lead Writer role beside the look that sees the import end, not after it", async () => {
    const { calls } = await freshRun();
    // The last look at the import (the one that saw it end) is the last asyncOperation call.
    const lastLook = calls.map((e) => e.name === "environment.asyncOperation" && e.phase === "start").lastIndexOf(true);
    const lookCall = calls[lastLook]!.call;
    const lookEnded = calls.findIndex((e) => e.call === lookCall && e.phase === "end");
    const rolesAfter = calls.slice(lookEnded).filter((e) => e.name === "environment.roles" && e.phase === "start");
    expect(rolesAfter).toEqual([]);
  });

  it("signs in for Graph first: the directory's reads depend on each other (domains, then the user), Dataverse's do not", async () => {
    // 150 ms per answer, as over a network: the resource signed in for first is read one round earlier.
    const { env, sandbox } = await fresh({ scenario: { importMs: 0, userSyncMs: 0 }, latencyMs: 150 });
    const ports = await portsFor(env);
    await runSteps(userIdentitySteps(sandbox.connection.downloadUrl), ports, { dryRun: true, signal: new AbortController().signal });
    const order = sandbox.requests.map((r) => r.service);
    expect(order.indexOf("graph")).toBeGreaterThanOrEqual(0);
    expect(order.indexOf("graph")).toBeLessThan(order.indexOf("dataverse"));
  });

  it("adds the privileges and reads them back in one round trip (a Dataverse $batch)", async () => {
    const { calls, sandbox } = await freshRun();
    const added = calls.findIndex((e) => /addPrivileges/.test(e.name) && e.phase === "start");
    expect(added).toBeGreaterThanOrEqual(0);
    expect(calls.slice(added).filter((e) => e.name === "environment.rolePrivileges" && e.phase === "start")).toEqual([]);
    expect(sandbox.requests.filter((r) => r.path.endsWith("/$batch"))).toHaveLength(1);
  });
});
