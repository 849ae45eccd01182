import { spawnSync } from "node:child_process";
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
});
