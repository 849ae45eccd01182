import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildSandboxSolutionZip } from "../../src/sandbox/solution-zip.js";
import { BIN, ROOT, runCli, tempHome, type CliRun } from "../helpers.js";

const HEAVY = [
  "@azure/msal-node",
  "@microsoft/microsoft-graph-client",
  "adm-zip",
  "@inquirer",
  "cli-progress",
  "fast-xml-parser",
  "@peculiar",
  "chalk",
];

/** What each bundle holds, as the build recorded it (paths relative to the repository). */
const BUNDLE_INPUTS = JSON.parse(readFileSync(join(ROOT, "dist/bundle/meta.json"), "utf8")) as Record<string, string[]>;

/** The source files behind the loaded modules: a bundle counts as every source inside it. */
function sourcesOf(urls: string[]): string[] {
  return urls.flatMap((url) => {
    const path = url.replace(/^file:\/\//, "");
    const bundle = Object.keys(BUNDLE_INPUTS).find((file) => path.endsWith(`/${file}`));
    return bundle ? BUNDLE_INPUTS[bundle]!.map((input) => join(ROOT, input)) : [path];
  });
}

/** Runs the bin with an import recorder and returns the module URLs it resolved. */
function loadedModules(args: string[]): { urls: string[]; status: number | null } {
  const file = join(mkdtempSync(join(tmpdir(), "cls-imports-")), "imports.txt");
  writeFileSync(file, "");
  const { env } = tempHome();
  const run = spawnSync(process.execPath, ["--import", join(ROOT, "test/fixtures/record-imports.mjs"), BIN, ...args], {
    env: { ...env, RECORD_IMPORTS_FILE: file },
    encoding: "utf8",
  });
  return { urls: readFileSync(file, "utf8").split("\n").filter(Boolean), status: run.status };
}

/**
 * The built bin's help, one spawned run per distinct invocation: help is pure output, so the tests that read
 * the same page share one run (a fresh HOME each, as before).
 */
const helpRuns = new Map<string, Promise<CliRun>>();
function helpOf(args: string[]): Promise<CliRun> {
  const key = args.join(" ");
  if (!helpRuns.has(key)) helpRuns.set(key, runCli(args, tempHome().env));
  return helpRuns.get(key)!;
}

describe("--help and --version", () => {
  it("lists every built command and the exit-code table", async () => {
    const run = await helpOf(["--help"]);
    expect(run.code).toBe(0);
    for (const command of ["download-solution", "login", "logout", "sandbox"]) expect(run.stdout).toContain(command);
    expect(run.stdout).toContain("Exit codes:");
    expect(run.stdout).toMatch(/130 {2}interrupted/);
  });

  it("shows each command's options with their environment twins, and examples", async () => {
    const run = await helpOf(["download-solution", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--solution-file <path>");
    expect(run.stdout).toMatch(/--solution-url <url>[\s\S]*CRM_LEAD_SETUP_SOLUTION_URL/);
    expect(run.stdout).toContain("$ crm-lead-setup download-solution --sandbox --json");
  });

  it("gives every command a description, its options with environment twins, examples and the exit codes", async () => {
    const commands = [
      "init",
      "download-solution",
      "import-solution",
      "create-user",
      "create-app",
      "assign-role",
      "patch-role",
      "reset-password",
      "verify",
      "connect-offer",
      "teardown",
      "status",
      "login",
      "logout",
      "sandbox",
    ];
    const root = await helpOf(["--help"]);
    for (const command of commands) expect(root.stdout).toContain(command);
    for (const command of commands) {
      const run = await helpOf([command, "--help"]);
      expect({ command, code: run.code }).toEqual({ command, code: 0 });
      expect(run.stdout).toMatch(/\nExamples:\n {2}\$ .*crm-lead-setup /);
      expect(run.stdout).toContain("Exit codes:");
      if (command !== "sandbox" && command !== "logout") expect(run.stdout).toContain("[env CRM_LEAD_SETUP_");
    }
  });

  // SPEC §3: each command's --help lists only the options it reads. Written out here, not derived from the
  // declarations, so that a command that gains or loses an option fails this test until it is reviewed.
  const TENANT = [
    "--org-url",
    "--cloud",
    "--authority-host",
    "--graph-endpoint",
    "--tenant",
    "--auth",
    "--client-id",
    "--client-certificate",
    "--sandbox",
  ];
  const OUTPUT = ["--json", "--verbose", "--no-color"];
  const CHANGES = ["--dry-run", "--detailed-exitcode", "--yes"];
  const OFFERS = ["--offer", "--contact-email", "--partner-center-tenant"];
  const OPTIONS_OF: Record<string, string[]> = {
    init: [
      ...TENANT,
      "--identity",
      ...CHANGES,
      ...OUTPUT,
      "--solution-file",
      "--solution-url",
      "--user-name",
      "--display-name",
      "--usage-location",
      "--license",
      "--app-name",
      "--secret-expiry-months",
      "--sync-timeout",
      "--keep-password-expiry",
      "--verify",
      "--secret-stdin",
      "--force-sync",
      "--power-platform-audience",
      ...OFFERS,
    ],
    "download-solution": ["--sandbox", "--dry-run", "--detailed-exitcode", ...OUTPUT, "--solution-file", "--solution-url"],
    "import-solution": [...TENANT, ...CHANGES, ...OUTPUT, "--solution-file", "--solution-url", "--sync-timeout"],
    "create-user": [
      ...TENANT,
      ...CHANGES,
      ...OUTPUT,
      "--user-name",
      "--display-name",
      "--usage-location",
      "--license",
      "--keep-password-expiry",
    ],
    "create-app": [...TENANT, ...CHANGES, ...OUTPUT, "--app-name", "--secret-expiry-months"],
    "assign-role": [
      ...TENANT,
      "--identity",
      ...CHANGES,
      ...OUTPUT,
      "--user-name",
      "--app-name",
      "--sync-timeout",
      "--force-sync",
      "--power-platform-audience",
    ],
    "patch-role": [...TENANT, ...CHANGES, ...OUTPUT],
    "reset-password": [
      ...TENANT,
      "--identity",
      ...CHANGES,
      ...OUTPUT,
      "--user-name",
      "--app-name",
      "--secret-expiry-months",
      "--keep-password-expiry",
      ...OFFERS,
      "--sync-timeout",
    ],
    verify: [...TENANT, "--identity", ...CHANGES, ...OUTPUT, "--user-name", "--app-name", "--secret-stdin"],
    "connect-offer": [
      ...TENANT,
      "--identity",
      ...CHANGES,
      ...OUTPUT,
      "--user-name",
      "--app-name",
      ...OFFERS,
      "--sync-timeout",
      "--secret-stdin",
    ],
    teardown: [
      ...TENANT,
      "--identity",
      ...CHANGES,
      ...OUTPUT,
      "--user-name",
      "--app-name",
      "--include-solution",
      "--solution-file",
      "--solution-url",
    ],
    status: [
      ...TENANT,
      "--identity",
      "--detailed-exitcode",
      ...OUTPUT,
      "--solution-file",
      "--solution-url",
      "--user-name",
      "--app-name",
      "--warn-days",
      ...OFFERS,
    ],
    login: [...TENANT, "--dry-run", ...OUTPUT],
    logout: ["--dry-run", "--json", "--no-color"],
    sandbox: ["--json", "--no-color", "--scenario", "--faults"],
  };

  it.each(Object.entries(OPTIONS_OF))("%s --help lists exactly the options it reads", async (command, expected) => {
    const run = await helpOf([command, "--help"]);
    expect(run.code).toBe(0);
    const optionsSection = run.stdout.split(/\nOptions:\n/)[1]!.split(/\n\n/)[0]!;
    const listed = [...optionsSection.matchAll(/^ {2}(?:-[a-zA-Z], )?(--[a-z-]+)/gm)].map((m) => m[1]!).filter((flag) => flag !== "--help");
    expect(listed.sort()).toEqual([...expected].sort());
  });

  it.each([["status"], ["sandbox"]])("%s --dry-run is refused with exit 2 (it changes nothing to begin with)", async (command) => {
    const { env } = tempHome();
    const run = await runCli([command, "--dry-run"], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--dry-run'");
  });

  it("prints the package version", async () => {
    const { env } = tempHome();
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
    expect((await runCli(["--version"], env)).stdout.trim()).toBe(version);
  });

  it.each([["--help"], ["--version"], ["download-solution", "--help"]])("%s loads none of the heavy libraries", (...args) => {
    const { urls, status } = loadedModules(args);
    expect(status).toBe(0);
    expect(urls.some((u) => u.endsWith("dist/cli.bundle.cjs"))).toBe(true);
    const sources = sourcesOf(urls);
    for (const name of HEAVY) expect(sources.filter((u) => u.includes(`node_modules/${name}`))).toEqual([]);
    expect(urls.filter((u) => u.includes("/dist/") && !u.endsWith("cli.bundle.cjs"))).toEqual([]);
  });

  it("a real command does load them (the check above can fail)", () => {
    const file = join(mkdtempSync(join(tmpdir(), "cls-zip-")), "lead-writer.zip");
    writeFileSync(file, buildSandboxSolutionZip());
    const { urls, status } = loadedModules(["download-solution", "--solution-file", file]);
    expect(status).toBe(0);
    expect(urls.some((u) => u.endsWith("dist/bundle/main.js"))).toBe(true);
    const sources = sourcesOf(urls);
    expect(sources.some((u) => u.includes("node_modules/adm-zip"))).toBe(true);
    expect(sources.some((u) => u.endsWith("dist/services/http.js"))).toBe(true);
  });

  it("with --json, a usage error is still one JSON document on stdout (exit 2)", async () => {
    const { env } = tempHome();
    const run = await runCli(["status", "--json", "--frobnicate"], env);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      ok: false,
      command: "status",
      dryRun: false,
      steps: [],
      partnerCenter: null,
      error: {
        code: "usage-unknownOption",
        message: "unknown option '--frobnicate'",
        hint: "Run crm-lead-setup status --help for the options.",
      },
    });
  });

  it("exits 2 on an unknown option or command", async () => {
    const { env } = tempHome();
    const unknownOption = await runCli(["download-solution", "--frobnicate"], env);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("unknown option '--frobnicate'");
    const unknownCommand = await runCli(["downlaod-solution"], env);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("Did you mean download-solution?");
  });
});
