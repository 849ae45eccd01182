#!/usr/bin/env node
// Build, in three parts:
//   1. esbuild strips the types of each file of src/ into dist/ (ES modules; the sandbox and the scripts use them
//      as they are). Types are checked by `npm run typecheck`, not here.
//   2. esbuild bundles the command-line entry (src/cli.ts with commander and the command declarations) into
//      one small CommonJS file, so that `--help` and `--version` start without the ES-module loader and
//      without any heavy library (a command's implementation, loaded with import() in its run, stays out).
//   3. esbuild bundles the command runner (dist/main.js) with the libraries it uses into one ES module,
//      loaded only when a command runs: one file to read instead of several hundred, which takes about a
//      hundred milliseconds off every command (see the benchmark). The sandbox stays outside it (it is
//      loaded only by --sandbox without a running sandbox, and by `crm-lead-setup sandbox`), and so does
//      @inquirer/prompts (loaded only when there is a terminal to ask on).
// dist/bundle/meta.json records which sources each bundle holds (the cold-start test reads it).
// `--release` (npm pack runs it through `prepack`) builds what users install: no source maps, so the shipped
// files name no map that package.json's `files` leaves out of the tarball (as it leaves out meta.json).
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const release = process.argv.includes("--release");

/** Every TypeScript source under a folder (no declaration files). */
function sourceFiles(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}
rmSync(resolve(root, "dist"), { recursive: true, force: true });
// Each source file on its own, types stripped: `npm run typecheck` (CI runs it) checks the types of src and
// test together, so the build does not check them a second time (tsc took ~7 s of every `npm test`).
await build({
  entryPoints: sourceFiles(resolve(root, "src")),
  outdir: resolve(root, "dist"),
  outbase: resolve(root, "src"),
  bundle: false,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: release ? false : "linked",
  logLevel: "warning",
});
const { version } = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8"));

/** Leaves an import out of the bundle, rewritten to where the file is relative to the bundle. */
const keepOutside = (filter, path) => ({
  name: `outside:${path}`,
  setup(build) {
    build.onResolve({ filter }, () => ({ path, external: true }));
  },
});

/**
 * The entry bundle holds the command declarations (src/commands/*.ts) for --help, but never runs a command:
 * main.js runs them from its own bundle. So every `import()` in the entry (a command's heavy implementation)
 * is left out of it instead of being bundled; cli.ts's own `import("./main.js")` is resolved before this.
 */
const leaveOutDynamicImports = {
  name: "leave-out-dynamic-imports",
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => (args.kind === "dynamic-import" ? { path: args.path, external: true } : undefined));
  },
};

const entry = await build({
  entryPoints: [resolve(root, "src/cli.ts")],
  outfile: resolve(root, "dist/cli.bundle.cjs"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  plugins: [keepOutside(/^\.\/main\.js$/, "./bundle/main.js"), leaveOutDynamicImports],
  define: { __CLI_VERSION__: JSON.stringify(version) },
  metafile: true,
  logLevel: "warning",
});

const runner = await build({
  entryPoints: [resolve(root, "dist/main.js")],
  outfile: resolve(root, "dist/bundle/main.js"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: release ? false : "linked",
  external: ["@inquirer/prompts"],
  plugins: [keepOutside(/(^|\/)sandbox\/server\.js$/, "../sandbox/server.js")],
  // The CommonJS libraries inside (MSAL, adm-zip, …) call require() for Node's own modules.
  banner: { js: 'import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);' },
  metafile: true,
  logLevel: "warning",
});

const inputsOf = (metafile) =>
  Object.fromEntries(
    Object.entries(metafile.outputs)
      .filter(([file]) => !file.endsWith(".map"))
      .map(([file, output]) => [file, Object.keys(output.inputs)]),
  );
writeFileSync(
  resolve(root, "dist/bundle/meta.json"),
  `${JSON.stringify({ ...inputsOf(entry.metafile), ...inputsOf(runner.metafile) }, null, 1)}\n`,
);
