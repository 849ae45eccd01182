import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";

describe("the README", () => {
  it("shows the transcript and troubleshooting table the current build produces", () => {
    // Drives the built wizard in a pseudo-terminal and compares with README.md (scripts/readme.mjs --check).
    const run = spawnSync(process.execPath, [join(ROOT, "scripts", "readme.mjs"), "--check"], { encoding: "utf8", timeout: 60_000 });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("speaks to users: no files they do not have, and the Node version exactly as package.json's engines (issue 11 §13)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme).not.toMatch(/\bSPEC\b/);
    expect(readme).not.toContain("../shared");
    const engines = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } }).engines.node;
    const minimum = engines.replace(/^>=/, "");
    expect(readme).toContain(`Node.js ${minimum} or later`);
    expect(readme).not.toMatch(new RegExp(`Node\\.js (?!${minimum.replace(/\./g, "\\.")})\\d+\\.\\d+`));
  });

  it("tells a real-tenant user where the org URL is and what to do about MFA or Conditional Access (issue 11 §13)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme).toMatch(/Power Platform admin center[^]*Environments[^]*Environment\s+URL/);
    expect(readme).toMatch(/\*\*When your own sign-in meets MFA or Conditional Access\.\*\* Use `--auth browser`/);
    expect(readme).toMatch(/\*\*What you will see when you sign in\.\*\*/);
  });
});
