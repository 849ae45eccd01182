import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/server.js";
import { buildSandboxSolutionZip } from "../../src/sandbox/solution-zip.js";
import { appPaths } from "../../src/paths.js";
import { LEAD_WRITER } from "../helpers.js";
import { freshVirtualTenants } from "../in-process.js";

/**
 * `teardown --include-solution` after a real setup: patch-role's AddPrivilegesRole puts the managed role in the
 * Active layer, so the role's solutionid names the Active solution, not the Lead Writer solution. The solution
 * is found by the unique name in the package's manifest instead. In-process on a virtual clock. (Moved from
 * test/e2e/teardown-solution.test.ts with every assertion kept.)
 */
const fresh = freshVirtualTenants();

const ADMIN = ["--sandbox", "--yes", "--auth", "client-secret"];
const UNIQUE_NAME = "CrmLeadSetupSandboxLeadWriter";

async function initialised() {
  const { home, env, sandbox, cli } = await fresh();
  expect((await cli(["init", ...ADMIN])).code).toBe(0);
  const role = [...sandbox.state.roles.values()].find((r) => r.name === LEAD_WRITER && r.parentroleid === null)!;
  expect(role.solutionid).toBe("fd140aae-4df4-11dd-bd17-0019b9312238"); // the Active layer, after patch-role
  return { home, env, sandbox, cli };
}

const leadWriterSolutions = (sandbox: Sandbox) => [...sandbox.state.solutions.values()].filter((s) => s.uniquename === UNIQUE_NAME);

describe("teardown --include-solution", () => {
  it("after init, removes the Lead Writer solution (found by the manifest's unique name) and with it the role", async () => {
    const { env, sandbox, cli } = await initialised();
    const run = await cli(["teardown", ...ADMIN, "--include-solution", "--json"], env);
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
    const { home, env, sandbox, cli } = await initialised();
    rmSync(join(appPaths(env).cacheDir, "solutions"), { recursive: true, force: true });
    sandbox.clearRequests();
    const refused = await cli(["teardown", ...ADMIN, "--include-solution"], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--solution-file/);
    expect(sandbox.mutatingRequests()).toEqual([]);
    const zip = join(home, "lead-writer.zip");
    writeFileSync(zip, buildSandboxSolutionZip());
    const run = await cli(["teardown", ...ADMIN, "--include-solution", "--solution-file", zip], env);
    expect(run.code).toBe(0);
    expect(leadWriterSolutions(sandbox)).toHaveLength(0);
  });
});
