import { describe, expect, it } from "vitest";
import { SANDBOX_OFFERS } from "../../src/sandbox/partner-center-state.js";
import { printedPassword, runCli } from "../helpers.js";
import { freshSharedTenants } from "../in-process.js";
import { scan } from "../secrets-scan.js";

/**
 * Secrets (issue 13 point 6, SPEC §4, §7) for `reset-password --offer`: the new password or client secret
 * travels in the configure body (redacted in --verbose) and is shown once, in the summary; no other secret
 * (tokens, the old secret, what the offer stores) appears in stdout, stderr or any file under HOME. The
 * scanned runs are real processes; the `init --offer` before them runs in-process on a SharedClock with the
 * sandbox (its waits cost no real time), and writes the same files under HOME.
 */
const fresh = freshSharedTenants();
const OFFER = SANDBOX_OFFERS.dynamics;
const ADMIN = ["--sandbox", "--yes", "--auth", "client-secret"];
/**
 * Retry-After: 1 s, and a job that completes at its first poll, so that the real process waits 1 s in all;
 * these tests are about what a run prints and writes, not about a job's running phase.
 */
const SCENARIO = { scenario: { partnerCenterPollSeconds: 1, partnerCenterRunningPolls: 0 } };

describe("no secret leaks from reset-password --offer", () => {
  it("app: the new secret once on stdout, the configure body redacted in --verbose", async () => {
    const { home, env, sandbox, run: inProcess } = await fresh(SCENARIO);
    expect((await inProcess(["init", ...ADMIN, "--identity", "app", "--offer", OFFER])).code).toBe(0);
    const run = await runCli(["reset-password", ...ADMIN, "--identity", "app", "--offer", OFFER, "--verbose"], env);
    expect({ code: run.code, stderr: run.code ? run.stderr : "" }).toEqual({ code: 0, stderr: "" });
    expect(run.stderr).toMatch(/→ POST \S*\/rp\/product-ingestion\/configure/);
    const stored = sandbox.partnerCenter.offer(OFFER).draftLeads.dynamicsLeadConfiguration as { applicationKey: string };
    expect(run.stdout).toContain(stored.applicationKey);
    scan(sandbox, home, [run], stored.applicationKey);
  });

  it("user: the new password once on stdout, and the same run with --json", async () => {
    const { home, env, sandbox, run: inProcess } = await fresh(SCENARIO);
    expect((await inProcess(["init", ...ADMIN, "--offer", OFFER])).code).toBe(0);
    const run = await runCli(["reset-password", ...ADMIN, "--offer", OFFER, "--verbose"], env);
    expect({ code: run.code, stderr: run.code ? run.stderr : "" }).toEqual({ code: 0, stderr: "" });
    const password = printedPassword(run.stdout)!;
    expect((sandbox.partnerCenter.offer(OFFER).draftLeads.dynamicsLeadConfiguration as { password: string }).password).toBe(password);
    scan(sandbox, home, [run], password);
    const json = await runCli(["reset-password", ...ADMIN, "--offer", OFFER, "--json", "--verbose"], env);
    expect(json.code).toBe(0);
    scan(sandbox, home, [json], JSON.parse(json.stdout).partnerCenter.password);
  });

  it("app, on the failure path (no Partner Center role): nothing generated, nothing leaked", async () => {
    const { home, env, sandbox, run: inProcess } = await fresh(SCENARIO);
    expect((await inProcess(["init", ...ADMIN, "--identity", "app", "--offer", OFFER])).code).toBe(0);
    sandbox.partnerCenter.setRole(sandbox.connection.automationClientId, undefined);
    const credentials = () => [...sandbox.state.applications.values()].flatMap((a) => a.passwordCredentials.map((c) => c.keyId));
    const before = credentials();
    const run = await runCli(["reset-password", ...ADMIN, "--identity", "app", "--offer", OFFER, "--verbose"], env);
    expect(run.code).toBe(4);
    expect(credentials()).toEqual(before);
    scan(sandbox, home, [run]);
  });
});
