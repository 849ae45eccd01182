import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildSandboxSolutionZip } from "../../src/sandbox/solution-zip.js";
import { BIN, sandboxFor, tempHome } from "../helpers.js";
import { runInProcess } from "../in-process.js";
import { systemClock } from "../../src/clock.js";
import { writePrivateFile } from "../../src/auth/cache.js";
import { timeToHeaders } from "../http-timing.js";

const expectedSha = createHash("sha256").update(buildSandboxSolutionZip()).digest("hex");

/**
 * The commands "in another shell" that use the spawned sandbox: the same CLI in this process, in real
 * time as the sandbox is. What needs a process here is the `sandbox` command itself (it runs until Ctrl+C).
 */
const runCli = (args: string[], env: NodeJS.ProcessEnv) => runInProcess(args, env, { clock: systemClock });

describe("crm-lead-setup sandbox, used from another shell", () => {
  it("runs until Ctrl+C while download-solution --sandbox --json prints one SPEC §3 document", async () => {
    const { home, env } = tempHome();
    const sandbox = spawn(process.execPath, [BIN, "sandbox"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    sandbox.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => sandbox.on("close", resolve));
    try {
      await waitUntil(() => output.includes("Press Ctrl+C to stop."));
      expect(output).toMatch(/Dynamics URL {6}https:\/\/localhost:\d+/);
      const connectionFile = join(home, ".config", "crm-lead-setup", "sandbox.json");
      expect(existsSync(connectionFile)).toBe(true);

      const run = await runCli(["download-solution", "--sandbox", "--json"], env);
      expect(run.code).toBe(0);
      const document = JSON.parse(run.stdout);
      expect(Object.keys(document)).toEqual(["ok", "command", "dryRun", "steps", "partnerCenter", "error"]);
      expect(document).toMatchObject({ ok: true, command: "download-solution", dryRun: false, partnerCenter: null, error: null });
      expect(document.steps).toHaveLength(1);
      expect(document.steps[0]).toMatchObject({ id: "download-solution", status: "done", changes: [{ action: "download" }] });
      expect(document.steps[0].details.solution).toMatchObject({
        uniqueName: "CrmLeadSetupSandboxLeadWriter",
        version: "1.0.0.0",
        managed: true,
        publisher: "crmleadsetupsandbox",
        sha256: expectedSha,
      });
      expect(run.stderr).not.toContain("started a sandbox tenant inside this command");

      const again = JSON.parse((await runCli(["download-solution", "--sandbox", "--json"], env)).stdout);
      expect(again.steps[0]).toMatchObject({ status: "unchanged", changes: [] });

      sandbox.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(existsSync(connectionFile)).toBe(false);
      expect(output).toMatch(/Sandbox stopped after \d+ requests/);
    } finally {
      sandbox.kill("SIGKILL");
    }
  });
});

/** `crm-lead-setup sandbox` as a child process, with what it has printed so far. */
function startSandboxCommand(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, "sandbox", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  const printed = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Buffer) => (printed.stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (printed.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, printed, exited };
}

describe("sandbox --json", () => {
  it("prints its endpoints document on stdout as soon as it is ready, with no secret in it", async () => {
    const { home, env } = tempHome();
    const sandbox = startSandboxCommand(["--json"], env);
    try {
      await waitUntil(() => parses(sandbox.printed.stdout));
      const document = JSON.parse(sandbox.printed.stdout);
      const connectionFile = join(home, ".config", "crm-lead-setup", "sandbox.json");
      const connection = JSON.parse(readFileSync(connectionFile, "utf8"));
      expect(document).toMatchObject({
        ok: true,
        command: "sandbox",
        error: null,
        sandbox: {
          pid: sandbox.child.pid,
          instanceId: connection.instanceId,
          orgUrl: connection.orgUrl,
          loginOrigin: connection.loginOrigin,
          graphOrigin: connection.graphOrigin,
          connectionFile,
        },
      });
      for (const secret of [connection.automationClientSecret, connection.adminPassword, connection.controlToken])
        expect(sandbox.printed.stdout).not.toContain(secret);
      sandbox.child.kill("SIGINT");
      expect(await sandbox.exited).toBe(0);
      // One document: nothing more on stdout when it stops.
      expect(JSON.parse(sandbox.printed.stdout)).toEqual(document);
    } finally {
      sandbox.child.kill("SIGKILL");
    }
  });
});

describe("sandbox --scenario '{\"latencyMs\":…}'", () => {
  it("delays every answer of the running sandbox, sign-in included", async () => {
    const { home, env } = tempHome();
    const sandbox = startSandboxCommand(["--json", "--scenario", '{"latencyMs":300}'], env);
    try {
      await waitUntil(() => parses(sandbox.printed.stdout));
      const connection = JSON.parse(readFileSync(join(home, ".config", "crm-lead-setup", "sandbox.json"), "utf8"));
      const signIn = await timeToHeaders(
        `${connection.loginOrigin}/${connection.tenantId}/v2.0/.well-known/openid-configuration`,
        connection.caPem,
      );
      const download = await timeToHeaders(connection.downloadUrl, connection.caPem);
      expect([signIn.status, download.status]).toEqual([200, 200]);
      for (const { ms } of [signIn, download]) expect(ms).toBeGreaterThanOrEqual(299);
      sandbox.child.kill("SIGINT");
      expect(await sandbox.exited).toBe(0);
    } finally {
      sandbox.child.kill("SIGKILL");
    }
  });
});

describe("one sandbox per connection file", () => {
  it("a second `sandbox` is refused (exit 2), names the running one, and leaves it running and connected", async () => {
    const { home, env } = tempHome();
    const first = startSandboxCommand([], env);
    try {
      await waitUntil(() => first.printed.stdout.includes("Press Ctrl+C to stop."));
      const connectionFile = join(home, ".config", "crm-lead-setup", "sandbox.json");
      const before = readFileSync(connectionFile, "utf8");
      const { orgUrl } = JSON.parse(before);
      const second = await runCli(["sandbox"], env);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`A sandbox is already running (pid ${first.child.pid}`);
      expect(second.stderr).toContain(orgUrl);
      expect(readFileSync(connectionFile, "utf8")).toBe(before);
      const json = await runCli(["sandbox", "--json"], env);
      expect({ code: json.code, error: JSON.parse(json.stdout).error.code }).toEqual({ code: 2, error: "sandbox-already-running" });
      // The first one still serves --sandbox commands.
      const use = await runCli(["download-solution", "--sandbox"], env);
      expect(use.code).toBe(0);
      expect(use.stderr).not.toContain("started a sandbox tenant inside this command");
    } finally {
      first.child.kill("SIGKILL");
    }
  });

  it("a stopping sandbox removes the connection file and the CA file only when they are its own", async () => {
    const { home, env } = tempHome();
    const first = startSandboxCommand([], env);
    const configDir = join(home, ".config", "crm-lead-setup");
    let other;
    try {
      await waitUntil(() => first.printed.stdout.includes("Press Ctrl+C to stop."));
      // Another instance has taken the files over since (as an older version of the tool did).
      other = await sandboxFor(env);
      await writePrivateFile(join(configDir, "sandbox-ca.pem"), other.connection.caPem);
      const connection = readFileSync(join(configDir, "sandbox.json"), "utf8");
      first.child.kill("SIGINT");
      expect(await first.exited).toBe(0);
      expect(readFileSync(join(configDir, "sandbox.json"), "utf8")).toBe(connection);
      expect(readFileSync(join(configDir, "sandbox-ca.pem"), "utf8")).toBe(other.connection.caPem);
    } finally {
      first.child.kill("SIGKILL");
      await other?.close();
    }
  });
});

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the README's first command leads somewhere (issue 11 §3)", () => {
  it("following the note of init --sandbox --yes literally (the sandbox in another shell, init, verify), verify passes", async () => {
    // The note's commands (asserted in test/integration/sandbox-cli.test.ts), followed literally.
    const { env } = tempHome();
    const verifyArgs = ["verify", "--sandbox", "--user-name", "mp-leadwriter@contoso.com"];
    const steps = [verifyArgs, ["sandbox"], ["init", "--sandbox", "--yes"], verifyArgs];
    // Follow it: the sandbox in another shell, init again, then verify with the password that init printed.
    const shell = spawn(process.execPath, [BIN, ...steps[1]!], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    shell.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitUntil(() => output.includes("Press Ctrl+C to stop."));
      const init = await runCli(steps[2]!, env);
      expect(init.code).toBe(0);
      expect(init.stderr).not.toContain("started a sandbox tenant inside this command");
      expect(init.stdout).toContain(
        "To prove Partner Center can write leads, run `npx crm-lead-setup verify --sandbox --user-name mp-leadwriter@contoso.com`",
      );
      const password = /│ Password\s+(\S+)\s+│/.exec(init.stdout)![1]!;
      const verify = await runCli(steps[3]!, { ...env, CRM_LEAD_SETUP_SERVICE_PASSWORD: password });
      expect(verify.stderr).not.toContain("Error");
      expect(verify.code).toBe(0);
      expect(verify.stdout).toMatch(/✔ verify \(done\)/);
    } finally {
      shell.kill("SIGINT");
      await new Promise((resolve) => shell.on("close", resolve));
    }
  });
});
