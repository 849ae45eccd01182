import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempHome } from "../helpers.js";
import { runInProcess } from "../in-process.js";
import { VirtualClock } from "../virtual-clock.js";

/**
 * `--sandbox` with no running sandbox (the command starts a tenant of its own on the run's clock), and
 * `sandbox` refusing bad switches before it starts anything: in-process. (Moved from
 * test/e2e/sandbox-cli.test.ts with every assertion kept; the `sandbox` command that runs until Ctrl+C
 * stays there, and so does following the README's note through it.)
 */
const runCli = (args: string[], env: NodeJS.ProcessEnv) => runInProcess(args, env, { clock: new VirtualClock() });

describe("crm-lead-setup --sandbox with no sandbox running", () => {
  it("--sandbox with no running sandbox starts one inside the command", async () => {
    const { env } = tempHome();
    const run = await runCli(["download-solution", "--sandbox"], env);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("started a sandbox tenant inside this command");
    expect(run.stdout).toMatch(/✔ download-solution \(done\) Downloaded CrmLeadSetupSandboxLeadWriter 1\.0\.0\.0 .*SHA-256 [0-9a-f]{64}/);
  });

  it("--dry-run plans the download without doing it", async () => {
    const { home, env } = tempHome();
    const run = await runCli(["download-solution", "--sandbox", "--dry-run", "--json", "--detailed-exitcode"], env);
    expect(run.code).toBe(10);
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: true, steps: [{ status: "planned" }] });
    expect(existsSync(join(home, ".cache", "crm-lead-setup", "solutions"))).toBe(false);
  });
});

describe("crm-lead-setup sandbox refuses switches it does not know (issue 11 §10)", () => {
  it.each([
    [["--faults", '{"errorrate":0.3}'], /--faults has an unknown key "errorrate"\./],
    [["--scenario", '{"userSyncMs":"slow"}'], /--scenario "userSyncMs" must be a whole number from 0 up, not "slow"\./],
  ])("exits 2 for %j, naming the key and the allowed ones", async (args, message) => {
    const { home, env } = tempHome();
    const run = await runCli(["sandbox", ...args], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/Hint: Allowed keys: /);
    expect(existsSync(join(home, ".config", "crm-lead-setup", "sandbox.json"))).toBe(false);
  });
});

describe("the README's first command leads somewhere (issue 11 §3)", () => {
  /** The commands a note names, in backquotes, as argument lists without the program name. */
  // From a clone the tool suggests `npx crm-lead-setup …`: the words after the tool's name are the arguments.
  const suggested = (text: string) => [...text.matchAll(/`(?:npx )?crm-lead-setup ([^`]+)`/g)].map((m) => m[1]!.split(" "));

  it("init --sandbox --yes without a running sandbox says the tenant is gone and suggests the sandbox route; verify alone meets an empty tenant", async () => {
    const { env } = tempHome();
    const first = await runCli(["init", "--sandbox", "--yes"], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain("started a sandbox tenant inside this command");
    const note = first.stdout.split("\n").find((line) => line.includes("This sandbox tenant lived only for this command"))!;
    expect(note).toBeDefined();
    const steps = suggested(note);
    const verifyArgs = ["verify", "--sandbox", "--user-name", "mp-leadwriter@contoso.com"];
    expect(steps).toEqual([verifyArgs, ["sandbox"], ["init", "--sandbox", "--yes"], verifyArgs]);

    // What the note said was true: verify alone now meets a new, empty tenant, and says why.
    const alone = await runCli(["verify", "--sandbox", "--yes"], { ...env, CRM_LEAD_SETUP_SERVICE_PASSWORD: "x" });
    expect(alone.code).toBe(4);
    expect(alone.stderr).toContain("No `npx crm-lead-setup sandbox` is running, so this command started a new, empty sandbox tenant");
    expect(alone.stderr).not.toContain("Run crm-lead-setup create-user");
  });
});
