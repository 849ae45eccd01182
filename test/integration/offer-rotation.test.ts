import { describe, expect, it } from "vitest";
import { appToken } from "../helpers.js";
import { freshVirtualTenants } from "../in-process.js";
import { ROTATE, connectedApp, expectSecrets, expectSucceeded } from "../offer-rotation.js";

/**
 * `reset-password --identity app --offer` rotates the app secret end to end (issue 13 point 3), in-process
 * on a virtual clock: the sandbox keeps a running job for a poll, each poll after its Retry-After. The
 * same rotation killed at each of its requests is test/e2e/rotation-crash.test.ts.
 */
const fresh = freshVirtualTenants();

describe("reset-password --offer, in-process", () => {
  it("without a kill: the offer holds the new secret, the old one is removed, the hand-made one kept", async () => {
    const { sandbox, run } = await fresh({ scenario: { partnerCenterPollSeconds: 1, partnerCenterRunningPolls: 1 } });
    const { applicationId, firstSecret, byHand, app, offerSecret } = await connectedApp(sandbox, run);
    const rotation = await run(ROTATE);
    expectSucceeded(rotation);
    const newSecret = JSON.parse(rotation.stdout).partnerCenter.clientSecret as string;
    expect(newSecret).not.toBe(firstSecret);
    expect(offerSecret()).toBe(newSecret);
    expect(await appToken(sandbox, applicationId, newSecret)).toBe(200);
    expect(await appToken(sandbox, applicationId, firstSecret)).toBe(401);
    expectSecrets(app, [byHand.secretText, newSecret]);
    // The removal came after the job had succeeded.
    const log = sandbox.requests.map((e) => `${e.method} ${e.path}`);
    const removed = log.findIndex((l) => l.includes("/removePassword"));
    const lastPoll = log.map((l) => l.includes("/status")).lastIndexOf(true);
    expect(removed).toBeGreaterThan(lastPoll);
  });
});
