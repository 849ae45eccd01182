#!/usr/bin/env node
// Build: TypeScript compiles src/ to dist/ (ES modules, loaded on demand by the commands), and esbuild
// bundles the command-line entry (src/cli.ts with commander) into one CommonJS file, so that `--help`
// and `--version` start with a single small file and no ES-module loader (see the benchmark).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const require = createRequire(import.meta.url);
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", resolve(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root });
const { version } = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8"));
await build({
  entryPoints: [resolve(root, "src/cli.ts")],
  outfile: resolve(root, "dist/cli.bundle.cjs"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // The command runner stays a separate ES module, imported only when a command runs.
  external: ["./main.js"],
  define: { __CLI_VERSION__: JSON.stringify(version) },
  logLevel: "warning",
});
