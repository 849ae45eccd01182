import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import type { Sandbox } from "../src/sandbox/server.js";
import { SANDBOX_OFFERS } from "../src/sandbox/partner-center-state.js";
import type { CliRun } from "./helpers.js";

/**
 * The starting point of the rotation tests (issue 13 point 3, `reset-password --identity app --offer`):
 * an app connected to an offer by `init --offer`, plus a secret an admin added by hand. Everything is read
 * from the sandbox's own records.
 */
export const OFFER = SANDBOX_OFFERS.dynamics;
export const ADMIN = ["--sandbox", "--yes", "--auth", "client-secret", "--identity", "app"];
export const INIT = ["init", ...ADMIN, "--offer", OFFER, "--json"];
export const ROTATE = ["reset-password", ...ADMIN, "--offer", OFFER, "--json"];

/** Succeeded, or the run's stderr in the failure message. */
export function expectSucceeded(run: CliRun): void {
  expect({ code: run.code, stderr: run.code ? run.stderr : "" }).toEqual({ code: 0, stderr: "" });
}

/** `init --offer` run by `run` (in-process or spawned) against `sandbox`, then a hand-made secret added. */
export async function connectedApp(sandbox: Sandbox, run: (args: string[]) => Promise<CliRun>) {
  const init = await run(INIT);
  expectSucceeded(init);
  const { applicationId, clientSecret } = JSON.parse(init.stdout).partnerCenter as { applicationId: string; clientSecret: string };
  const app = () => [...sandbox.state.applications.values()].find((a) => a.appId === applicationId)!;
  // A secret an admin added by hand in the Entra admin center: not this tool's, never removed by it.
  const byHand = {
    keyId: randomUUID(),
    displayName: "monitoring",
    hint: "mon",
    startDateTime: new Date(sandbox.state.clock.now()).toISOString(),
    endDateTime: new Date(sandbox.state.clock.now() + 365 * 86_400_000).toISOString(),
    secretText: `mon8Q~${randomUUID()}`,
  };
  app().passwordCredentials.push(byHand);
  /** The secret the offer's draft holds (what Partner Center signs in with once published). */
  const offerSecret = () =>
    (sandbox.partnerCenter.offer(OFFER).draftLeads.dynamicsLeadConfiguration as { applicationKey?: string } | undefined)?.applicationKey;
  expect(offerSecret()).toBe(clientSecret);
  return { applicationId, firstSecret: clientSecret, byHand, app, offerSecret };
}

/** The app's secrets: exactly these (no orphan of a killed run is left). */
export function expectSecrets(app: () => { passwordCredentials: { secretText?: string }[] }, secrets: string[]): void {
  expect(
    app()
      .passwordCredentials.map((c) => c.secretText)
      .sort(),
  ).toEqual([...secrets].sort());
}
