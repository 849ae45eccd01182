import { describe, expect, it } from "vitest";
import { COMMAND_OPTIONS, envNameOf, OPTION_SPECS, resolveOptions, specsFor } from "../../src/options.js";
import { UsageError } from "../../src/errors.js";

const fromCli = (parsed: Record<string, unknown>) => (key: string) => (key in parsed ? "cli" : undefined);

describe("option declarations", () => {
  it("derive one CRM_LEAD_SETUP_* twin per option", () => {
    const spec = (key: string) => OPTION_SPECS.find((s) => s.key === key)!;
    expect(envNameOf(spec("orgUrl"))).toBe("CRM_LEAD_SETUP_ORG_URL");
    expect(envNameOf(spec("detailedExitcode"))).toBe("CRM_LEAD_SETUP_DETAILED_EXITCODE");
    expect(envNameOf(spec("color"))).toBe("CRM_LEAD_SETUP_NO_COLOR");
    const names = OPTION_SPECS.map(envNameOf);
    expect(new Set(names).size).toBe(names.length);
  });

  it("put the SPEC §3 global options on every tenant-changing command, and none of the tenant ones on the local sandbox", () => {
    const globals = ["--org-url", "--cloud", "--authority-host", "--graph-endpoint", "--tenant", "--auth", "--client-id", "--dry-run", "--yes", "--json", "--verbose", "--sandbox", "--detailed-exitcode", "--no-color"];
    for (const command of ["init", "import-solution", "create-user", "create-app", "assign-role", "patch-role", "reset-password", "teardown", "verify"] as const) {
      const flags = specsFor(command).map((s) => s.flags.split(" ")[0]);
      for (const flag of globals) expect({ command, flag, listed: flags.includes(flag) }).toEqual({ command, flag, listed: true });
    }
    const sandboxFlags = specsFor("sandbox").map((s) => s.flags.split(" ")[0]);
    expect(sandboxFlags).not.toContain("--org-url");
    expect(sandboxFlags).toContain("--json");
  });

  it("declare every option some command reads, and each command's options once", () => {
    const read = new Set(Object.values(COMMAND_OPTIONS).flat());
    expect(OPTION_SPECS.filter((spec) => !read.has(spec.key)).map((spec) => spec.key)).toEqual([]);
    for (const [command, keys] of Object.entries(COMMAND_OPTIONS)) expect({ command, size: new Set(keys).size }).toEqual({ command, size: keys.length });
  });

  it("switch off what a command does not read, even when the environment sets it", () => {
    expect(resolveOptions("status", {}, () => undefined, { CRM_LEAD_SETUP_DRY_RUN: "1" }).dryRun).toBe(false);
  });

  it("never declare a secret as an option value (SPEC §4)", () => {
    const valueTaking = OPTION_SPECS.filter((spec) => spec.flags.includes("<"));
    expect(valueTaking.length).toBeGreaterThan(10);
    for (const spec of valueTaking) expect(spec.flags).not.toMatch(/--[a-z-]*(secret|password|token) </i);
  });
});

describe("resolveOptions", () => {
  it("takes a value from the environment twin", () => {
    const options = resolveOptions("init", {}, () => undefined, { CRM_LEAD_SETUP_ORG_URL: "https://contoso.crm4.dynamics.com", CRM_LEAD_SETUP_JSON: "1" });
    expect(options.orgUrl).toBe("https://contoso.crm4.dynamics.com");
    expect(options.json).toBe(true);
  });

  it("lets a flag beat its environment twin", () => {
    const parsed = { cloud: "gcc" };
    const options = resolveOptions("init", parsed, fromCli(parsed), { CRM_LEAD_SETUP_CLOUD: "china" });
    expect(options.cloud).toBe("gcc");
  });

  it("names the environment variable when its value is bad", () => {
    expect(() => resolveOptions("init", {}, () => undefined, { CRM_LEAD_SETUP_CLOUD: "mars" })).toThrowError(/CRM_LEAD_SETUP_CLOUD "mars"/);
    expect(() => resolveOptions("init", {}, () => undefined, { CRM_LEAD_SETUP_DRY_RUN: "maybe" })).toThrowError(UsageError);
  });

  it("names the flag when its value is bad", () => {
    const parsed = { auth: "password" };
    expect(() => resolveOptions("init", parsed, fromCli(parsed), {})).toThrowError(/--auth "password" is not a valid sign-in method/);
  });

  it("reads booleans from the environment strictly and --no-color from either side", () => {
    expect(resolveOptions("init", {}, () => undefined, { CRM_LEAD_SETUP_DRY_RUN: "false" }).dryRun).toBe(false);
    expect(resolveOptions("init", {}, () => undefined, { CRM_LEAD_SETUP_NO_COLOR: "1" }).color).toBe(false);
    const parsed = { color: false };
    expect(resolveOptions("init", parsed, fromCli(parsed), {}).color).toBe(false);
    expect(resolveOptions("init", {}, () => undefined, {}).color).toBe(true);
  });
});
