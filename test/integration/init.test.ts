import { describe, expect, it } from "vitest";
import { expectConfigured, passwordSignIn, printedPassword, SALES_SKU } from "../helpers.js";
import { freshVirtualTenants } from "../in-process.js";

/**
 * init and the single-step commands against the sandbox: dry-run, the step commands in order, business
 * units, seats, flags, a missing terminal, refused domains. In-process on a virtual clock (nothing here
 * needs a process of its own). (Moved from test/e2e/init.test.ts with every assertion kept; the --json
 * contract stays there.)
 */
/** A fresh HOME with a sandbox tenant of its own on a virtual clock; closed after each test. */
const fresh = freshVirtualTenants();

const UPN = "mp-leadwriter@contoso.com";

describe("init against the sandbox, in-process", () => {
  it("with client-secret sign-in reaches the configured state; the printed password signs in", async () => {
    const { env, sandbox, cli } = await fresh();
    const run = await cli(["init", "--sandbox", "--yes", "--auth", "client-secret"], env);
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    expectConfigured(sandbox, { userName: UPN });
    const password = printedPassword(run.stdout);
    expect(password).toMatch(/^\S{28}$/);
    expect(await passwordSignIn(sandbox, UPN, password!)).toBe(200);
    expect(run.stdout).toMatch(/│ URL\s+https:\/\/localhost:\d+\s+│/);
    expect(run.stdout).toMatch(/│ Authentication\s+Office 365\s+│/);
    expect(run.stdout).toMatch(/│ User name\s+mp-leadwriter@contoso\.com\s+│/);
    expect(run.stderr).not.toContain(password!);
    expect(run.stdout).toContain(
      "To prove Partner Center can write leads, run `npx crm-lead-setup verify --sandbox --auth client-secret --user-name mp-leadwriter@contoso.com`",
    );
  });

  it("--dry-run on a fresh tenant plans every step and sends no mutating request", async () => {
    const { env, sandbox, cli } = await fresh();
    const run = await cli(["init", "--sandbox", "--dry-run", "--json", "--detailed-exitcode"], env);
    expect(run.code).toBe(10);
    const document = JSON.parse(run.stdout);
    expect(document.dryRun).toBe(true);
    expect(document.steps.map((s: { status: string }) => s.status)).toEqual(["planned", "planned", "planned", "planned", "planned"]);
    expect(document.steps[3].changes[0].target).toContain("once create-user and import-solution have run");
    expect(sandbox.mutatingRequests()).toEqual([]);
    expect(sandbox.state.users.size).toBe(1); // the seeded admin only
    expect((await cli(["init", "--sandbox", "--dry-run"], env)).code).toBe(0);
  });

  it("the single-step commands, run in order, reach the same state", async () => {
    const { env, sandbox, cli } = await fresh();
    const outputs: string[] = [];
    for (const command of ["download-solution", "import-solution", "create-user", "assign-role", "patch-role"]) {
      // download-solution asks nothing, so it takes no --yes (SPEC §3: only the options a command reads).
      const run = await cli([command, "--sandbox", ...(command === "download-solution" ? [] : ["--yes"])], env);
      expect({ command, code: run.code, stderr: run.code ? run.stderr : "" }).toEqual({ command, code: 0, stderr: "" });
      outputs.push(run.stdout);
    }
    expectConfigured(sandbox, { userName: UPN });
    const password = printedPassword(outputs[2]!);
    expect(await passwordSignIn(sandbox, UPN, password!)).toBe(200);
    const status = await cli(["status", "--sandbox", "--json", "--detailed-exitcode"], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).steps.map((s: { details: { state: string } }) => s.details.state)).toEqual([
      "done",
      "done",
      "done",
      "done",
      "done",
    ]);
  });

  it("assigns the role copy of the user's business unit when it lands in a child unit", async () => {
    const { env, sandbox, cli } = await fresh({ scenario: { userBusinessUnit: "child" } });
    const run = await cli(["init", "--sandbox", "--yes", "--auth", "client-secret"], env);
    expect(run.code).toBe(0);
    expectConfigured(sandbox, { userName: UPN });
    const systemUser = [...sandbox.state.systemUsers.values()].find((s) => s.domainname === UPN)!;
    expect(systemUser.businessunitid).toBe(sandbox.state.businessUnits[1]!.businessunitid);
  });

  it("stops with exit 4 and creates nothing when the requested licence has no free seat", async () => {
    const { env, sandbox, cli } = await fresh();
    const run = await cli(["init", "--sandbox", "--yes", "--auth", "client-secret", "--license", "D365_SALES_PRO"], env);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/--license D365_SALES_PRO has no free seat \(2 of 2 assigned\)/);
    expect(run.stderr).toMatch(/Dynamics 365 for Sales Enterprise Edition \(DYN365_ENTERPRISE_SALES\): 2 of 5 free/);
    expect(sandbox.mutatingRequests()).toEqual([]);
    expect([...sandbox.state.users.values()].some((u) => u.userPrincipalName === UPN)).toBe(false);
  });

  it("uses the flags it is given: user name, licence, usage location, password expiry", async () => {
    const { env, sandbox, cli } = await fresh();
    const run = await cli(
      [
        "init",
        "--sandbox",
        "--yes",
        "--auth",
        "client-secret",
        "--user-name",
        "Leads@Contoso.onmicrosoft.com",
        "--license",
        "DYN365_ENTERPRISE_TEAM_MEMBERS",
        "--usage-location",
        "gb",
      ],
      env,
    );
    expect(run.code).toBe(0);
    expectConfigured(sandbox, {
      userName: "Leads@contoso.onmicrosoft.com",
      skuId: "8e7a3d30-d97d-43ab-837c-d7701cef83dc",
      usageLocation: "GB",
    });
    expect(sandbox.state.skus.find((s) => s.skuId === SALES_SKU)!.consumedUnits).toBe(3);
  });

  it("without a terminal, names every answer it needs (exit 2) and touches nothing", async () => {
    const { env, sandbox, cli } = await fresh();
    const noYes = await cli(["init", "--sandbox"], env);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/init needs --yes: there is no terminal to ask on/);
    const noOrg = await cli(["init"], env);
    expect(noOrg.code).toBe(2);
    expect(noOrg.stderr).toMatch(/init needs --org-url and --yes/);
    const single = await cli(["create-user", "--sandbox", "--auth", "client-secret"], env);
    expect(single.code).toBe(2);
    expect(single.stderr).toMatch(/create-user would change the tenant, and there is no terminal to confirm on[\s\S]*--yes/);
    expect(sandbox.mutatingRequests()).toEqual([]);
  });

  it("refuses an unverified or federated domain for the user, before any change (exit 2)", async () => {
    const { env, sandbox, cli } = await fresh();
    for (const [upn, reason] of [
      ["x@contoso-pending.net", /not a verified domain/],
      ["x@fabrikam-federated.com", /federated domain/],
    ] as const) {
      const run = await cli(["create-user", "--sandbox", "--yes", "--auth", "client-secret", "--user-name", upn], env);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(reason);
    }
    expect(sandbox.mutatingRequests()).toEqual([]);
  });
});
