import { describe, expect, it } from "vitest";
import { freshVirtualTenants } from "../in-process.js";
import { DEFAULT_APP_NAME } from "../../src/steps/create-app.js";

/**
 * Ctrl+C while `addPassword` is in flight: Entra may have added the secret, but its text never reached
 * this tool, so nobody can ever use it. The next run must find that secret by the marker the interrupted run
 * gave it (recorded before the request went out), remove it, and add one it can show — instead of taking the
 * app's only secret for a delivered one and leaving an orphan that never expires for two years.
 */
const fresh = freshVirtualTenants();
const APP = ["init", "--sandbox", "--identity", "app", "--auth", "client-secret", "--yes", "--json"];

describe("an app secret whose addPassword was interrupted", () => {
  it("is found by the next run, removed, and replaced by one that is shown", async () => {
    // The sandbox applies addPassword and loses its answer; Ctrl+C arrives at that moment.
    const { sandbox, run } = await fresh({ faults: { lostAnswers: ["POST /addPassword"] } });
    let interrupt = () => {};
    const stop = sandbox.onRequest((entry) => {
      if (entry.method === "POST" && entry.path.endsWith("/addPassword")) interrupt();
    });
    const first = await run(APP, { onStart: (controls) => (interrupt = controls.interrupt) });
    stop();
    expect(first.code).toBe(130);
    const app = () => [...sandbox.state.applications.values()].find((a) => a.displayName === DEFAULT_APP_NAME)!;
    expect(app().passwordCredentials).toHaveLength(1);
    const orphan = app().passwordCredentials[0]!;

    const second = await run(APP);
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: "" });
    const document = second.json as {
      partnerCenter: { clientSecret: string | null };
      steps: { id: string; changes: { target: string }[] }[];
    };
    const secret = document.partnerCenter.clientSecret;
    expect(secret).toEqual(expect.any(String));
    expect(app().passwordCredentials.map((c) => c.secretText)).toEqual([secret]);
    const createApp = document.steps.find((s) => s.id === "create-app")!;
    expect(app().passwordCredentials.map((c) => c.keyId)).not.toContain(orphan.keyId);
    expect(createApp.changes.map((c) => c.target)).toContain(
      `the client secret ${orphan.keyId}, which an interrupted run added but never showed`,
    );
  });
});
