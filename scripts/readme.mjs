#!/usr/bin/env node
// Keeps the README's generated sections current (run after `npm run build`):
//   - the troubleshooting table, from the error catalogue and the AADSTS explanations;
//   - the transcript of the interactive wizard: the built CLI run in a pseudo-terminal against a sandbox,
//     answered with the defaults, and rendered by a terminal emulator (@xterm/headless) as the screen shows it.
// `node scripts/readme.mjs` rewrites README.md; `--check` only compares and exits 1 when it is stale.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { createRequire } from "node:module";
import { spawn } from "@lydell/node-pty";
import { CATALOGUE } from "../dist/catalogue.js";
import { explainAadsts } from "../dist/auth/aadsts.js";
import { explainUnknownAudience } from "../dist/services/power-platform.js";
import { startSandbox } from "../dist/sandbox/server.js";
import { writeConnectionFile } from "../dist/sandbox-link.js";
import { appPaths } from "../dist/paths.js";

const require = createRequire(import.meta.url);
const { Terminal } = require("@xterm/headless");
const root = resolve(import.meta.dirname, "..");
const readmePath = join(root, "README.md");

/** Who wrote the page a catalogue entry links to: Microsoft for most, Node.js or the HTTP RFC for network failures. */
function sourceName(link) {
  const host = new URL(link).host;
  return host === "nodejs.org" ? "Node.js" : host.endsWith("rfc-editor.org") ? "RFC 9110" : "Microsoft";
}

function troubleshooting() {
  const context = { who: "admin", clientId: "<client id>", authorityHost: "https://login.microsoftonline.com", tenant: "<tenant>" };
  const rows = [
    ...[50076, 53003, 65001, 700016, 7000218].map((code) => {
      const { message, hint } = explainAadsts(code, context);
      return [`AADSTS${code}`, `\`aadsts-${code}\``, message, hint, "3"];
    }),
    ...[50076, 50126, 50055, 7000218].map((code) => {
      const { message, hint } = explainAadsts(code, { ...context, who: "service" });
      return [`AADSTS${code} in \`verify\``, `\`aadsts-${code}\``, message, hint, "3"];
    }),
    (() => {
      const { message, hint } = explainUnknownAudience("<audience>", "<Power Platform admin API>");
      return ["AADSTS500011 with `--force-sync`", "`aadsts-500011`", message.replace(/^AADSTS500011: /, ""), hint, "3"];
    })(),
    // Not an error, so in no catalogue: what an admin sees when a cache does not serve the next command.
    [
      "Asked to sign in again on every command",
      "—",
      "The token cache in the config directory was not written or not read back; one sign-in normally serves every later command (accounts are found under any alias of the cloud's sign-in host, e.g. login.windows.net).",
      "Check that the config directory is writable, then run crm-lead-setup logout once and sign in again.",
      "—",
    ],
    ...CATALOGUE.map((e) => [e.title, `\`${e.code}\``, e.meaning, `${e.fix} ([${sourceName(e.link)}](${e.link}))`, String(e.exitCode)]),
  ];
  const escape = (text) => text.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return [
    "| Symptom | `--json` code | What it means | What to do | Exit |",
    "|---|---|---|---|---|",
    ...rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ].join("\n");
}

async function transcript() {
  const home = mkdtempSync(join(tmpdir(), "cls-readme-"));
  const env = { PATH: process.env.PATH, HOME: home, TERM: "xterm-256color", LANG: "C.UTF-8" };
  const sandbox = await startSandbox();
  await writeConnectionFile(appPaths(env), sandbox.connection);
  const cols = 110;
  const terminal = new Terminal({ cols, rows: 80, scrollback: 2000, allowProposedApi: true });
  const pty = spawn(process.execPath, [join(root, "bin", "crm-lead-setup.js"), "init", "--sandbox"], { cols, rows: 80, env });
  let raw = "";
  const written = [];
  pty.onData((data) => {
    raw += data;
    written.push(new Promise((done) => terminal.write(data, done)));
  });
  const exited = new Promise((done) => pty.onExit(({ exitCode }) => done(exitCode)));
  const waitFor = async (pattern) => {
    const started = Date.now();
    while (!pattern.test(stripVTControlCharacters(raw))) {
      if (Date.now() - started > 30_000) throw new Error(`transcript: no ${pattern} on screen`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  for (const prompt of [
    /How will Partner Center sign in/,
    /Partner Center offers to send leads to/,
    /Domain of the service user/,
    /Service user name/,
    /Licence for the service user/,
    /Usage location/,
  ]) {
    await waitFor(prompt);
    pty.write("\r");
  }
  await waitFor(/Apply \d+ changes to the tenant\?/);
  pty.write("y\r");
  const code = await exited;
  await Promise.all(written);
  await sandbox.close();
  rmSync(home, { recursive: true, force: true });
  if (code !== 0) throw new Error(`transcript: the wizard exited ${code}`);
  const buffer = terminal.buffer.active;
  const lines = [];
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    // A row the terminal wrapped continues the line above: join it back into the line the CLI wrote.
    if (line.isWrapped && lines.length > 0) lines[lines.length - 1] += line.translateToString(true);
    else lines.push(line.translateToString(true));
  }
  while (lines.length && lines.at(-1) === "") lines.pop();
  // What changes from run to run becomes a placeholder of the same width, so the box stays aligned.
  return lines
    .join("\n")
    .replace(/localhost:\d{5}/g, "localhost:NNNNN")
    .replace(/code(\s+)[0-9A-F]{9}/g, "code$1XXXXXXXXX")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
    .replace(/(│ Password\s+)(\S+)/, (_, label, password) => `${label}${"•".repeat(password.length)}`)
    .replace(/ in \d+s \(import job/g, " in 0s (import job");
}

function replaceSection(text, name, content) {
  const start = `<!-- generated:${name} (scripts/readme.mjs) -->`;
  const end = `<!-- /generated:${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`README.md has no ${name} markers`);
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

const current = readFileSync(readmePath, "utf8");
let next = replaceSection(current, "troubleshooting", troubleshooting());
next = replaceSection(next, "transcript", `\`\`\`text\n${await transcript()}\n\`\`\``);
if (process.argv.includes("--check")) {
  if (next !== current) {
    console.error("README.md is stale: run `npm run build && node scripts/readme.mjs`.");
    process.exit(1);
  }
  console.log("README.md generated sections are current.");
} else {
  writeFileSync(readmePath, next);
  console.log("README.md updated.");
}
