import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { RequestLogEntry, Sandbox } from "../../src/sandbox/server.js";
import { SANDBOX_OFFERS } from "../../src/sandbox/partner-center-state.js";
import { appToken, runCli, sandboxFor, startCli, tempHome } from "../helpers.js";

/**
 * Issue 13 point 3: `reset-password --identity app --offer` rotates the app secret end to end. The real
 * process is killed (SIGKILL) the moment the sandbox has answered a given request of the rotation; at that
 * moment the offer must still hold a secret Entra accepts (leads keep arriving), and a re-run must converge:
 * the offer holds the newest secret, the secrets this tool created before are gone, a secret it did not
 * create is kept. Everything is read from the sandbox's own records.
 */
const sandboxes: Sandbox[] = [];
afterEach(async () => {
  for (const sandbox of sandboxes.splice(0)) await sandbox.close();
});

const OFFER = SANDBOX_OFFERS.dynamics;
const ADMIN = ["--sandbox", "--yes", "--auth", "client-secret", "--identity", "app"];
const INIT = ["init", ...ADMIN, "--offer", OFFER, "--json"];
const ROTATE = ["reset-password", ...ADMIN, "--offer", OFFER, "--json"];
const INGESTION = "/rp/product-ingestion/configure";
/** Real time passes here (a real process): the job ends after one running poll, each 1 s apart (Retry-After). */

const isStatusPoll = (e: RequestLogEntry) => e.method === "GET" && e.path.startsWith(INGESTION) && e.path.includes("/status");
const jobOf = (e: RequestLogEntry) => e.path.slice(INGESTION.length + 1).split(/[/?]/)[0]!;

/** The kill points of a rotation: each a predicate on the sandbox's answered requests. */
const KILL_POINTS: [string, (sandbox: Sandbox) => (e: RequestLogEntry) => boolean][] = [
  ["right after the new secret was added", () => (e) => e.method === "POST" && e.path.endsWith("/addPassword")],
  ["right after the configure POST", () => (e) => e.method === "POST" && e.path.split("?")[0] === INGESTION],
  ["during the job wait (the job still running)", () => (e) => isStatusPoll(e)],
  [
    "once the job succeeded, before any old secret was removed",
    (sandbox) => (e) => isStatusPoll(e) && sandbox.partnerCenter.jobs.get(jobOf(e))?.jobStatus === "completed",
  ],
  ["right after the first old secret was removed", () => (e) => e.method === "POST" && e.path.endsWith("/removePassword")],
];

async function connectedApp() {
  const { env } = tempHome();
  const sandbox = await sandboxFor(env, { scenario: { partnerCenterPollSeconds: 1, partnerCenterRunningPolls: 1 } });
  sandboxes.push(sandbox);
  const init = await runCli(INIT, env);
  expect({ code: init.code, stderr: init.code ? init.stderr : "" }).toEqual({ code: 0, stderr: "" });
  const { applicationId, clientSecret } = JSON.parse(init.stdout).partnerCenter as { applicationId: string; clientSecret: string };
  const app = () => [...sandbox.state.applications.values()].find((a) => a.appId === applicationId)!;
  // A secret an admin added by hand in the Entra admin center: not this tool's, never removed by it.
  const byHand = {
    keyId: randomUUID(),
    displayName: "monitoring",
    hint: "mon",
    startDateTime: new Date().toISOString(),
    endDateTime: new Date(Date.now() + 365 * 86_400_000).toISOString(),
    secretText: `mon8Q~${randomUUID()}`,
  };
  app().passwordCredentials.push(byHand);
  /** The secret the offer's draft holds (what Partner Center signs in with once published). */
  const offerSecret = () =>
    (sandbox.partnerCenter.offer(OFFER).draftLeads.dynamicsLeadConfiguration as { applicationKey?: string } | undefined)?.applicationKey;
  expect(offerSecret()).toBe(clientSecret);
  return { env, sandbox, applicationId, firstSecret: clientSecret, byHand, app, offerSecret };
}

describe("reset-password --offer, killed at any point, still delivers leads and converges", () => {
  it("without a kill: the offer holds the new secret, the old one is removed, the hand-made one kept", async () => {
    const { env, sandbox, applicationId, firstSecret, byHand, app, offerSecret } = await connectedApp();
    const run = await runCli(ROTATE, env);
    expect({ code: run.code, stderr: run.code ? run.stderr : "" }).toEqual({ code: 0, stderr: "" });
    const newSecret = JSON.parse(run.stdout).partnerCenter.clientSecret as string;
    expect(newSecret).not.toBe(firstSecret);
    expect(offerSecret()).toBe(newSecret);
    expect(await appToken(sandbox, applicationId, newSecret)).toBe(200);
    expect(await appToken(sandbox, applicationId, firstSecret)).toBe(401);
    expect(
      app()
        .passwordCredentials.map((c) => c.secretText)
        .sort(),
    ).toEqual([byHand.secretText, newSecret].sort());
    // The removal came after the job had succeeded.
    const log = sandbox.requests.map((e) => `${e.method} ${e.path}`);
    const removed = log.findIndex((l) => l.includes("/removePassword"));
    const lastPoll = log.map((l) => l.includes("/status")).lastIndexOf(true);
    expect(removed).toBeGreaterThan(lastPoll);
  }, 120_000);

  it("killed once the offers accepted the new secret, a later init (no --offer) keeps that secret", async () => {
    const { env, sandbox, applicationId, offerSecret } = await connectedApp();
    const { child, done } = startCli(ROTATE, env);
    const predicate = KILL_POINTS[3]![1](sandbox);
    const stop = sandbox.onRequest((entry) => void (predicate(entry) && child.kill("SIGKILL")));
    expect((await done).signal).toBe("SIGKILL");
    stop();
    const held = offerSecret()!;
    const init = await runCli(["init", ...ADMIN], env);
    expect({ code: init.code, stderr: init.code ? init.stderr : "" }).toEqual({ code: 0, stderr: "" });
    // Partner Center holds it: it was delivered, not an orphan to replace.
    expect(await appToken(sandbox, applicationId, held)).toBe(200);
  }, 120_000);

  it("killed while its job runs, the re-run lets that job end before it posts its own (the older secret cannot land last)", async () => {
    const { env, sandbox, offerSecret } = await connectedApp();
    const { child, done } = startCli(ROTATE, env);
    let first: string | undefined;
    const stop = sandbox.onRequest((entry) => {
      if (!first && isStatusPoll(entry)) {
        first = jobOf(entry);
        child.kill("SIGKILL");
      }
    });
    expect((await done).signal).toBe("SIGKILL");
    stop();
    const again = await runCli(ROTATE, env);
    expect({ code: again.code, stderr: again.code ? again.stderr : "" }).toEqual({ code: 0, stderr: "" });
    const jobs = [...sandbox.partnerCenter.jobs.values()];
    const killedJob = sandbox.partnerCenter.jobs.get(first!)!;
    const last = jobs[jobs.length - 1]!;
    expect(last.jobId).not.toBe(killedJob.jobId);
    expect(killedJob.jobStatus).toBe("completed");
    expect(Date.parse(killedJob.jobEnd!)).toBeLessThanOrEqual(Date.parse(last.jobStart));
    expect(offerSecret()).toBe(JSON.parse(again.stdout).partnerCenter.clientSecret);
  }, 120_000);

  it.each(KILL_POINTS)(
    "%s",
    async (_label, predicateFor) => {
      const { env, sandbox, applicationId, firstSecret, byHand, app, offerSecret } = await connectedApp();
      const { child, done } = startCli(ROTATE, env);
      const predicate = predicateFor(sandbox);
      let seen: RequestLogEntry | undefined;
      const stop = sandbox.onRequest((entry) => {
        if (!seen && predicate(entry)) {
          seen = entry;
          child.kill("SIGKILL");
        }
      });
      const killed = await done;
      stop();
      expect(seen).toBeDefined();
      expect(killed.signal).toBe("SIGKILL");
      // Killed here, the offer still holds a secret Entra accepts: leads keep arriving.
      expect(await appToken(sandbox, applicationId, offerSecret()!)).toBe(200);

      const again = await runCli(ROTATE, env);
      expect({ code: again.code, stderr: again.code ? again.stderr : "" }).toEqual({ code: 0, stderr: "" });
      const newSecret = JSON.parse(again.stdout).partnerCenter.clientSecret as string;
      expect(offerSecret()).toBe(newSecret);
      expect(await appToken(sandbox, applicationId, newSecret)).toBe(200);
      expect(await appToken(sandbox, applicationId, firstSecret)).toBe(401);
      // Exactly the new secret and the hand-made one: no orphan of the killed run is left.
      expect(
        app()
          .passwordCredentials.map((c) => c.secretText)
          .sort(),
      ).toEqual([byHand.secretText, newSecret].sort());
    },
    120_000,
  );
});
