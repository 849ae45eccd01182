import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/server.js";
import { BIN, ROOT, runCli, sandboxFor, tempHome, type CliRun } from "../helpers.js";

const open: Sandbox[] = [];
afterEach(async () => {
  for (const sandbox of open.splice(0)) await sandbox.close();
});

describe("the packed tarball", () => {
  it("holds the built CLI and the LICENSE, without source maps or the bundle's meta.json", () => {
    // --ignore-scripts: packs the dist/ this run built (with maps, as `npm run build` makes it), so the
    // exclusion is package.json's `files`, not a lucky build; prepack would also rebuild dist/ under other tests.
    const pack = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, npm_config_loglevel: "error" },
    });
    expect(pack.status).toBe(0);
    const files = (JSON.parse(pack.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(existsSync(join(ROOT, "dist/bundle/main.js.map"))).toBe(true);
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    expect(files).not.toContain("dist/bundle/meta.json");
    expect(files).toEqual(
      expect.arrayContaining([
        "LICENSE",
        "package.json",
        "bin/crm-lead-setup.js",
        "bin/package.json",
        "dist/cli.bundle.cjs",
        "dist/bundle/main.js",
        "dist/sandbox/server.js",
      ]),
    );
    expect(files.filter((f) => !/^(bin|dist)\//.test(f)).sort()).toEqual(["LICENSE", "README.md", "package.json"]);
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} crm-lead-setup contributors\n/);
  });

  it("runs no script when users install it, and builds when it is packed", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { license: string; scripts: Record<string, string> };
    expect(manifest.license).toBe("MIT");
    expect(Object.keys(manifest.scripts).filter((name) => /^(pre|post)?(install|prepare)$/.test(name))).toEqual([]);
    expect(manifest.scripts.prepack).toBe("node scripts/build.mjs --release");
  });
});

/** The bin started as the shell starts a global install's: through the link npm puts in <prefix>/bin, on PATH. */
function runThroughLinkOnPath(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const binDir = mkdtempSync(join(tmpdir(), "cls-global-bin-"));
  const link = join(binDir, "crm-lead-setup");
  symlinkSync(BIN, link);
  const child = spawn(link, args, { env: { ...env, PATH: `${binDir}${delimiter}${env.PATH}` }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, stdout, stderr, signal }));
  });
}

describe.skipIf(process.platform === "win32")("the commands the tool suggests", () => {
  it("say npx from a clone, where `crm-lead-setup` alone is not on the PATH", async () => {
    const { env } = tempHome();
    open.push(await sandboxFor(env));
    const run = await runCli(["init", "--sandbox", "--yes"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "To prove Partner Center can write leads, run `npx crm-lead-setup verify --sandbox --user-name mp-leadwriter@contoso.com`",
    );
  });

  it("say the bare name when it is installed on the PATH", async () => {
    const { env } = tempHome();
    open.push(await sandboxFor(env));
    const run = await runThroughLinkOnPath(["init", "--sandbox", "--yes"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "To prove Partner Center can write leads, run `crm-lead-setup verify --sandbox --user-name mp-leadwriter@contoso.com`",
    );
  });
});
