import { describe, expect, it } from "vitest";
import type { RequestLogEntry, Sandbox } from "../../src/sandbox/server.js";
import { appToken, startCli } from "../helpers.js";
import { freshSharedTenants } from "../in-process.js";
import { ADMIN, ROTATE, connectedApp, expectSecrets, expectSucceeded } from "../offer-rotation.js";

/**
 * Issue 13 point 3: `reset-password --identity app --offer` rotates the app secret end to end. The real
 * process is killed (SIGKILL) the moment the sandbox has answered a given request of the rotation; at that
 * moment the offer must still hold a secret Entra accepts (leads keep arriving), and a re-run must converge:
 * the offer holds the newest secret, the secrets this tool created before are gone, a secret it did not
 * create is kept. Everything is read from the sandbox's own records.
 *
 * The kill needs a process; the set-up before it and the runs after it are the same CLI in-process, on a
 * SharedClock with the sandbox: their waits cost no real time, the spawned process's waits pass in real
 * time (Retry-After 1 s, enforced alike for both). The rotation without a kill is in
 * test/integration/offer-rotation.test.ts.
 */
const fresh = freshSharedTenants();

const INGESTION = "/rp/product-ingestion/configure";
const isStatusPoll = (e: RequestLogEntry) => e.method === "GET" && e.path.startsWith(INGESTION) && e.path.includes("/status");
const jobOf = (e: RequestLogEntry) => e.path.slice(INGESTION.length + 1).split(/[/?]/)[0]!;

/**
 * Status polls that answer `running` before a job completes: one (the sandbox's default) where the kill
 * lands before the spawned process has seen the job end; none where it lands after, since the spawned
 * process waits each poll's Retry-After in real time and the kill point does not depend on a running poll.
 */
const RUNNING_ONCE = 1;
const COMPLETES_AT_FIRST_POLL = 0;

/** The kill points of a rotation: each a predicate on the sandbox's answered requests, and the running polls. */
const KILL_POINTS: [string, (sandbox: Sandbox) => (e: RequestLogEntry) => boolean, number][] = [
  ["right after the new secret was added", () => (e) => e.method === "POST" && e.path.endsWith("/addPassword"), RUNNING_ONCE],
  ["right after the configure POST", () => (e) => e.method === "POST" && e.path.split("?")[0] === INGESTION, RUNNING_ONCE],
  ["during the job wait (the job still running)", () => (e) => isStatusPoll(e), RUNNING_ONCE],
  [
    "once the job succeeded, before any old secret was removed",
    (sandbox) => (e) => isStatusPoll(e) && sandbox.partnerCenter.jobs.get(jobOf(e))?.jobStatus === "completed",
    COMPLETES_AT_FIRST_POLL,
  ],
  [
    "right after the first old secret was removed",
    () => (e) => e.method === "POST" && e.path.endsWith("/removePassword"),
    COMPLETES_AT_FIRST_POLL,
  ],
];

/** An app connected to the offer (set up in-process); the sandbox answers Retry-After: 1 s. */
async function connectedTenant(runningPolls: number) {
  const { env, sandbox, run } = await fresh({ scenario: { partnerCenterPollSeconds: 1, partnerCenterRunningPolls: runningPolls } });
  return { env, sandbox, run, ...(await connectedApp(sandbox, run)) };
}

/** Spawns the rotation and SIGKILLs it once the sandbox has answered the first request `shouldKill` picks. */
async function killRotationAt(env: NodeJS.ProcessEnv, sandbox: Sandbox, shouldKill: (entry: RequestLogEntry) => boolean) {
  const { child, done } = startCli(ROTATE, env);
  let seen: RequestLogEntry | undefined;
  const stop = sandbox.onRequest((entry) => {
    if (!seen && shouldKill(entry)) {
      seen = entry;
      child.kill("SIGKILL");
    }
  });
  const killed = await done;
  stop();
  return { killed, seen };
}

describe("reset-password --offer, killed at any point, still delivers leads and converges", () => {
  it("killed once the offers accepted the new secret, a later init (no --offer) keeps that secret", async () => {
    const { env, sandbox, run, applicationId, offerSecret } = await connectedTenant(COMPLETES_AT_FIRST_POLL);
    const { killed } = await killRotationAt(env, sandbox, KILL_POINTS[3]![1](sandbox));
    expect(killed.signal).toBe("SIGKILL");
    const held = offerSecret()!;
    expectSucceeded(await run(["init", ...ADMIN]));
    // Partner Center holds it: it was delivered, not an orphan to replace.
    expect(await appToken(sandbox, applicationId, held)).toBe(200);
  });

  it("killed while its job runs, the re-run lets that job end before it posts its own (the older secret cannot land last)", async () => {
    const { env, sandbox, run, offerSecret } = await connectedTenant(RUNNING_ONCE);
    const { killed, seen } = await killRotationAt(env, sandbox, isStatusPoll);
    expect(killed.signal).toBe("SIGKILL");
    const again = await run(ROTATE);
    expectSucceeded(again);
    const jobs = [...sandbox.partnerCenter.jobs.values()];
    const killedJob = sandbox.partnerCenter.jobs.get(jobOf(seen!))!;
    const last = jobs[jobs.length - 1]!;
    expect(last.jobId).not.toBe(killedJob.jobId);
    expect(killedJob.jobStatus).toBe("completed");
    expect(Date.parse(killedJob.jobEnd!)).toBeLessThanOrEqual(Date.parse(last.jobStart));
    expect(offerSecret()).toBe(JSON.parse(again.stdout).partnerCenter.clientSecret);
  });

  it.each(KILL_POINTS)("%s", async (_label, predicateFor, runningPolls) => {
    const { env, sandbox, run, applicationId, firstSecret, byHand, app, offerSecret } = await connectedTenant(runningPolls);
    const { killed, seen } = await killRotationAt(env, sandbox, predicateFor(sandbox));
    expect(seen).toBeDefined();
    expect(killed.signal).toBe("SIGKILL");
    // Killed here, the offer still holds a secret Entra accepts: leads keep arriving.
    expect(await appToken(sandbox, applicationId, offerSecret()!)).toBe(200);

    const again = await run(ROTATE);
    expectSucceeded(again);
    const newSecret = JSON.parse(again.stdout).partnerCenter.clientSecret as string;
    expect(offerSecret()).toBe(newSecret);
    expect(await appToken(sandbox, applicationId, newSecret)).toBe(200);
    expect(await appToken(sandbox, applicationId, firstSecret)).toBe(401);
    // Exactly the new secret and the hand-made one: no orphan of the killed run is left.
    expectSecrets(app, [byHand.secretText, newSecret]);
  });
});
