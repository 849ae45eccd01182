import { describe, expect, it } from "vitest";
import { envNameOf, OPTION_SPECS, resolveOptions, specsFor, type CommandName } from "../../src/options.js";
import { COMMANDS } from "../../src/commands/index.js";
import { UsageError } from "../../src/errors.js";

/** The options a command declares in its own file. */
const readsOf = (command: CommandName) => COMMANDS.find((declared) => declared.name === command)!.options;
const COMMAND_OPTIONS = Object.fromEntries(COMMANDS.map((declared) => [declared.name, declared.options]));

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
    const globals = [
      "--org-url",
      "--cloud",
      "--authority-host",
      "--graph-endpoint",
      "--tenant",
      "--auth",
      "--client-id",
      "--dry-run",
      "--yes",
      "--json",
      "--verbose",
      "--sandbox",
      "--detailed-exitcode",
      "--no-color",
    ];
    for (const command of [
      "init",
      "import-solution",
      "create-user",
      "create-app",
      "assign-role",
      "patch-role",
      "reset-password",
      "teardown",
      "verify",
    ] as const) {
      const flags = specsFor(readsOf(command)).map((s) => s.flags.split(" ")[0]);
      for (const flag of globals) expect({ command, flag, listed: flags.includes(flag) }).toEqual({ command, flag, listed: true });
    }
    const sandboxFlags = specsFor(readsOf("sandbox")).map((s) => s.flags.split(" ")[0]);
    expect(sandboxFlags).not.toContain("--org-url");
    expect(sandboxFlags).toContain("--json");
  });

  it("declare every option some command reads, and each command's options once", () => {
    const read = new Set(Object.values(COMMAND_OPTIONS).flat());
    expect(OPTION_SPECS.filter((spec) => !read.has(spec.key)).map((spec) => spec.key)).toEqual([]);
    for (const [command, keys] of Object.entries(COMMAND_OPTIONS))
      expect({ command, size: new Set(keys).size }).toEqual({ command, size: keys.length });
  });

  it("switch off what a command does not read, even when the environment sets it", () => {
    expect(resolveOptions(readsOf("status"), {}, () => undefined, { CRM_LEAD_SETUP_DRY_RUN: "1" }).dryRun).toBe(false);
  });

  it("never declare a secret as an option value (SPEC §4)", () => {
    const valueTaking = OPTION_SPECS.filter((spec) => spec.flags.includes("<"));
    expect(valueTaking.length).toBeGreaterThan(10);
    for (const spec of valueTaking) expect(spec.flags).not.toMatch(/--[a-z-]*(secret|password|token) </i);
  });
});

describe("resolveOptions", () => {
  it("takes a value from the environment twin", () => {
    const options = resolveOptions(readsOf("init"), {}, () => undefined, {
      CRM_LEAD_SETUP_ORG_URL: "https://contoso.crm4.dynamics.com",
      CRM_LEAD_SETUP_JSON: "1",
    });
    expect(options.orgUrl).toBe("https://contoso.crm4.dynamics.com");
    expect(options.json).toBe(true);
  });

  it("lets a flag beat its environment twin", () => {
    const parsed = { cloud: "gcc" };
    const options = resolveOptions(readsOf("init"), parsed, fromCli(parsed), { CRM_LEAD_SETUP_CLOUD: "china" });
    expect(options.cloud).toBe("gcc");
  });

  it("names the environment variable when its value is bad", () => {
    expect(() => resolveOptions(readsOf("init"), {}, () => undefined, { CRM_LEAD_SETUP_CLOUD: "mars" })).toThrowError(
      /CRM_LEAD_SETUP_CLOUD "mars"/,
    );
    expect(() => resolveOptions(readsOf("init"), {}, () => undefined, { CRM_LEAD_SETUP_DRY_RUN: "maybe" })).toThrowError(UsageError);
  });

  it("names the flag when its value is bad", () => {
    const parsed = { auth: "password" };
    expect(() => resolveOptions(readsOf("init"), parsed, fromCli(parsed), {})).toThrowError(
      /--auth "password" is not a valid sign-in method/,
    );
  });

  it("reads booleans from the environment strictly and --no-color from either side", () => {
    expect(resolveOptions(readsOf("init"), {}, () => undefined, { CRM_LEAD_SETUP_DRY_RUN: "false" }).dryRun).toBe(false);
    expect(resolveOptions(readsOf("init"), {}, () => undefined, { CRM_LEAD_SETUP_NO_COLOR: "1" }).color).toBe(false);
    const parsed = { color: false };
    expect(resolveOptions(readsOf("init"), parsed, fromCli(parsed), {}).color).toBe(false);
    expect(resolveOptions(readsOf("init"), {}, () => undefined, {}).color).toBe(true);
  });
});

describe("the sandbox's --scenario and --faults switches (issue 11 §10)", () => {
  const resolve = (parsed: Record<string, unknown>) => resolveOptions(readsOf("sandbox"), parsed, fromCli(parsed), {});
  const failure = (parsed: Record<string, unknown>) => {
    try {
      resolve(parsed);
    } catch (error) {
      return error as UsageError;
    }
    throw new Error("accepted");
  };

  it("accepts every key the README lists, with values of the right type", () => {
    const scenario =
      '{"userBusinessUnit":"child","userSyncMs":20000,"importMs":0,"deviceCodePendingPolls":2,"dynamicsVersion":"9.1.0.1","seats":{"DYN365_ENTERPRISE_SALES":{"enabled":1,"consumed":1}},"cloud":"gcc"}';
    const faults =
      '{"throttleFirstCall":{"retryAfterSeconds":2},"errorRate":0.3,"errorStatuses":[503,504],"dropRate":0,"replication404s":3,"latencyMs":5,"signInError":{"aadsts":50076,"users":["a@contoso.com"]},"importFailure":{"component":"x","message":"y"},"concurrentImportBusy":1,"services":["graph"],"seed":7}';
    const options = resolve({ scenario, faults });
    expect(options.scenario).toMatchObject({ userBusinessUnit: "child", cloud: "gcc" });
    expect(options.faults).toMatchObject({ errorRate: 0.3, services: ["graph"] });
  });

  it("refuses an unknown key, naming it and the allowed ones", () => {
    const error = failure({ faults: '{"errorrate":0.3}' });
    expect(error.message).toBe('--faults has an unknown key "errorrate".');
    expect(error.hint).toContain("Allowed keys: throttleFirstCall, errorRate, errorStatuses, dropRate");
    expect(failure({ scenario: '{"userSync":5}' }).hint).toContain("userBusinessUnit, userSyncMs, importMs");
  });

  it.each([
    ["scenario", '{"userSyncMs":"20000"}', /--scenario "userSyncMs" must be a whole number from 0 up, not "20000"/],
    ["scenario", '{"userBusinessUnit":"branch"}', /"userBusinessUnit" must be one of root, child/],
    ["scenario", '{"seats":{"DYN365_ENTERPRISE_SALES":{"enabled":-1,"consumed":0}}}', /"seats" must be an object mapping SKU part numbers/],
    ["scenario", '{"cloud":"mars"}', /"cloud" must be one of public, gcc, gcchigh, dod, china/],
    ["faults", '{"errorRate":1.5}', /--faults "errorRate" must be a number from 0 to 1, not 1.5/],
    ["faults", '{"errorStatuses":[200]}', /"errorStatuses" must be a list of HTTP statuses from 400 to 599/],
    ["faults", '{"throttleFirstCall":2}', /"throttleFirstCall" must be an object \{"retryAfterSeconds"\}/],
    ["faults", '{"throttleFirstCall":{"retryAfter":2}}', /"throttleFirstCall" must be an object \{"retryAfterSeconds"\}/],
    ["faults", '{"services":["sharepoint"]}', /"services" must be a list of entra, graph, dataverse, bap, download/],
  ])("refuses --%s %s", (key, value, message) => {
    const error = failure({ [key]: value });
    expect(error.code).toBe("sandbox-switch-invalid");
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(/^Allowed keys: /);
  });
});
