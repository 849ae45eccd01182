import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/server.js";
import { buildSandboxSolutionZip } from "../../src/sandbox/solution-zip.js";
import { appPaths } from "../../src/paths.js";
import { LEAD_WRITER, runCli, sandboxFor, tempHome } from "../helpers.js";

/**
 * `teardown --include-solution` after a real setup: patch-role's AddPrivilegesRole puts the managed role in the
 * Active layer, so the role's solutionid names the Active solution, not the Lead Writer solution. The solution
 * is found by the unique name in the package's manifest instead.
 */
const sandboxes: Sandbox[] = [];
afterEach(async () => {
  for (const sandbox of sandboxes.splice(0)) await sandbox.close();
});

const ADMIN = ["--sandbox", "--yes", "--auth", "client-secret"];
const UNIQUE_NAME = "CrmLeadSetupSandboxLeadWriter";

async function initialised() {
  const { home, env } = tempHome();
  const sandbox = await sandboxFor(env);
  sandboxes.push(sandbox);
  expect((await runCli(["init", ...ADMIN], env)).code).toBe(0);
  const role = [...sandbox.state.roles.values()].find((r) => r.name === LEAD_WRITER && r.parentroleid === null)!;
  expect(role.solutionid).toBe("fd140aae-4df4-11dd-bd17-0019b9312238"); // the Active layer, after patch-role
  return { home, env, sandbox };
}

const leadWriterSolutions = (sandbox: Sandbox) => [...sandbox.state.solutions.values()].filter((s) => s.uniquename === UNIQUE_NAME);

describe("teardown --include-solution", () => {
  it("after init, removes the Lead Writer solution (found by the manifest's unique name) and with it the role", async () => {
    const { env, sandbox } = await initialised();
    const run = await runCli(["teardown", ...ADMIN, "--include-solution", "--json"], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).steps[0].changes).toContainEqual({
      action: "delete",
      target: `solution ${UNIQUE_NAME} 1.0.0.0, and with it the ${LEAD_WRITER} role`,
    });
    expect(leadWriterSolutions(sandbox)).toHaveLength(0);
    expect([...sandbox.state.roles.values()].filter((r) => r.name === LEAD_WRITER)).toHaveLength(0);
    expect(
      sandbox
        .mutatingRequests()
        .filter((r) => r.method === "DELETE" && r.path.includes("/solutions("))
        .map((r) => r.status),
    ).toEqual([204]);
  });

  it("with no package at hand, names --solution-file and changes nothing; with it, removes the solution", async () => {
    const { home, env, sandbox } = await initialised();
    rmSync(join(appPaths(env).cacheDir, "solutions"), { recursive: true, force: true });
    sandbox.clearRequests();
    const refused = await runCli(["teardown", ...ADMIN, "--include-solution"], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--solution-file/);
    expect(sandbox.mutatingRequests()).toEqual([]);
    const zip = join(home, "lead-writer.zip");
    writeFileSync(zip, buildSandboxSolutionZip());
    const run = await runCli(["teardown", ...ADMIN, "--include-solution", "--solution-file", zip], env);
    expect(run.code).toBe(0);
    expect(leadWriterSolutions(sandbox)).toHaveLength(0);
  });
});
