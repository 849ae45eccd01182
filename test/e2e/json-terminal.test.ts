import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { spawn } from "@lydell/node-pty";
import { describe, expect, it } from "vitest";
import { BIN, runCli, tempHome } from "../helpers.js";

/**
 * `reset-password --json > out.json` in a terminal: the document goes to the file, and the person at the
 * terminal still sees one line saying what went wrong (stderr is the terminal). Without a terminal on
 * stderr, --json keeps stderr quiet as before.
 */
function inTerminalWithStdoutTo(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ screen: string; code: number }> {
  const quoted = [process.execPath, BIN, ...args].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(" ");
  const pty = spawn("/bin/sh", ["-c", `exec ${quoted} > '${file}'`], {
    name: "xterm-256color",
    cols: 200,
    rows: 40,
    env: { ...env, TERM: "xterm-256color" } as Record<string, string>,
  });
  let screen = "";
  pty.onData((data) => (screen += data));
  return new Promise((resolve) => pty.onExit(({ exitCode }) => resolve({ screen: stripVTControlCharacters(screen), code: exitCode })));
}

const UNRESOLVABLE = [
  "--cloud",
  "custom",
  "--authority-host",
  "https://login.nowhere.invalid",
  "--graph-endpoint",
  "https://graph.nowhere.invalid",
  "--org-url",
  "https://x.nowhere.invalid",
  "--auth",
  "device-code",
  "--solution-url",
  "https://solution.nowhere.invalid/lead-writer.zip",
];

describe("--json with stderr on a terminal", () => {
  it.each([
    ["a usage error", ["reset-password", "--json", "--user-name", "not a user name"], 2, "user-name-invalid"],
    ["a failure while running", ["status", "--json", ...UNRESOLVABLE], 1, "network-host-unknown"],
  ])("%s: one line on the terminal, the document in the file", async (_what, args, exitCode, code) => {
    const { env } = tempHome();
    const file = join(mkdtempSync(join(tmpdir(), "cls-json-")), "out.json");
    const run = await inTerminalWithStdoutTo(file, args, env);
    expect(run.code).toBe(exitCode);
    const document = JSON.parse(readFileSync(file, "utf8"));
    expect(document.error.code).toMatch(code);
    const errorLines = run.screen.split(/\r?\n/).filter((line) => line.startsWith("Error"));
    expect(errorLines).toEqual([`Error (${document.error.code}): ${document.error.message}`]);
  });

  it("with stderr not a terminal, --json writes nothing to stderr", async () => {
    const { env } = tempHome();
    const run = await runCli(["reset-password", "--json", "--user-name", "not a user name"], env);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error).not.toBeNull();
    expect(run.stderr).toBe("");
  });
});

describe("the wizard with no route to the sign-in host", () => {
  it('names the host and exits 1, instead of "GET /organization failed: -1 SignInError"', async () => {
    const { env } = tempHome();
    const pty = spawn(process.execPath, [BIN, "init", ...UNRESOLVABLE], {
      name: "xterm-256color",
      cols: 200,
      rows: 40,
      env: { ...env, TERM: "xterm-256color" } as Record<string, string>,
    });
    let screen = "";
    pty.onData((data) => (screen += data));
    const exited = new Promise<number>((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
    const started = Date.now();
    while (!stripVTControlCharacters(screen).includes("How will Partner Center sign in")) {
      if (Date.now() - started > 15_000) throw new Error(`no identity question; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    pty.write("\r");
    expect(await exited).toBe(1);
    const text = stripVTControlCharacters(screen);
    expect(text).toMatch(/Error: Could not reach login\.nowhere\.invalid: .*ENOTFOUND/);
    expect(text).not.toMatch(/SignInError|failed: -1/);
  });
});
