import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/commands/index.js";
import type { CommandFactory } from "../../src/command.js";
import { IO } from "../../src/io.js";
import { OPTION_SPECS, resolveOptions } from "../../src/options.js";
import { appPaths } from "../../src/paths.js";
import { systemClock } from "../../src/clock.js";

const COMMANDS_DIR = join(import.meta.dirname, "../../src/commands");
/** Files in src/commands that are not commands: the list itself, and the step inputs several commands share. */
const NOT_COMMANDS = ["index.ts", "command-steps.ts"];

describe("one file per command", () => {
  it("declares each command whole in src/commands/<name>.ts: help, examples and the options it reads", async () => {
    const files = readdirSync(COMMANDS_DIR).filter((file) => file.endsWith(".ts") && !NOT_COMMANDS.includes(file));
    expect(files.map((file) => file.replace(/\.ts$/, "")).sort()).toEqual(COMMANDS.map((c) => c.name).sort());
    for (const file of files) {
      const { command } = (await import(join(COMMANDS_DIR, file.replace(/\.ts$/, ".js")))) as { command?: (typeof COMMANDS)[number] };
      expect({ file, name: command?.name }).toEqual({ file, name: file.replace(/\.ts$/, "") });
      expect(command!.summary.length).toBeGreaterThan(10);
      expect(
        command!.examples.every(
          (example) => example.startsWith(`crm-lead-setup ${command!.name}`) || example.includes(` crm-lead-setup ${command!.name}`),
        ),
      ).toBe(true);
      const declared = new Set(OPTION_SPECS.map((spec) => spec.key));
      expect(command!.options.filter((key) => !declared.has(key))).toEqual([]);
      expect(typeof command!.run).toBe("function");
    }
  });
});

/** A factory whose tenant link and prompter must not be used: a command that needs neither runs without them. */
function factoryWithoutTenant(name: "logout", home: string): { factory: CommandFactory; stdout: PassThrough } {
  const env = { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_CACHE_HOME: join(home, ".cache") };
  const stdout = new PassThrough();
  const io = new IO(
    { stdin: Readable.from([]), stdout, stderr: new PassThrough(), env },
    { json: false, verbose: false, colorFlag: false, yes: false },
  );
  const command = COMMANDS.find((c) => c.name === name)!;
  const options = resolveOptions(command.options, {}, () => undefined, env);
  const refused = (what: string) => () => Promise.reject(new Error(`${name} asked for ${what}`));
  const factory: CommandFactory = {
    name,
    options,
    io,
    paths: appPaths(env),
    signal: new AbortController().signal,
    clock: systemClock,
    link: refused("the tenant link"),
    prompter: refused("a prompter"),
  };
  return { factory, stdout };
}

describe("commands get what they need", () => {
  it("logout removes the token caches without connecting to any tenant or asking anything", async () => {
    const home = mkdtempSync(join(tmpdir(), "cls-logout-"));
    const { factory, stdout } = factoryWithoutTenant("logout", home);
    mkdirSync(factory.paths.configDir, { recursive: true });
    writeFileSync(join(factory.paths.configDir, "msal-cache.json"), "{}");
    const outcome = await COMMANDS.find((c) => c.name === "logout")!.run(factory);
    expect(outcome.error).toBeUndefined();
    expect(outcome.report).toEqual({ logout: { cacheFiles: [join(factory.paths.configDir, "msal-cache.json")] } });
    expect(readdirSync(factory.paths.configDir)).toEqual([]);
    expect(String(stdout.read())).toContain("Signed out: removed 1 token cache file");
  });
});
