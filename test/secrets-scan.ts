import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Sandbox } from "../src/sandbox/server.js";
import type { CliRun } from "./helpers.js";

/**
 * The secrets scan (issue 4, SPEC §4): every token, refresh token, password and client secret the sandbox
 * issued or holds is searched for in the runs' stdout and stderr and in every file under HOME. Only
 * `allowedOnce` (a secret generated in the run) may appear, once, on stdout; the token cache must be 0600.
 */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

const count = (text: string, secret: string) => text.split(secret).length - 1;

export function scan(sandbox: Sandbox, home: string, runs: CliRun[], allowedOnce?: string): void {
  const secrets = sandbox.issuedSecrets();
  expect(secrets.length).toBeGreaterThan(4);
  const stdout = runs.map((r) => r.stdout).join("\n");
  const stderr = runs.map((r) => r.stderr).join("\n");
  for (const secret of secrets) {
    expect(count(stderr, secret), "a secret on stderr").toBe(0);
    expect(count(stdout, secret), "a secret on stdout").toBe(secret === allowedOnce ? 1 : 0);
  }
  for (const file of filesUnder(home)) {
    if (file.endsWith("sandbox.json")) continue; // written by the test harness, as `crm-lead-setup sandbox` would
    if (/msal-cache/.test(file)) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      continue;
    }
    const text = readFileSync(file, "latin1");
    for (const secret of secrets) expect(text.includes(secret), `${file} holds a secret`).toBe(false);
  }
}
