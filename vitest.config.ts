import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string };

export default defineConfig({
  // The bundler injects the version (scripts/build.mjs); in-process tests load src/cli.ts unbundled.
  define: { __CLI_VERSION__: JSON.stringify(version) },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Measured on the shared 2-core machine: forks beat threads, and sharing the module
    // graph between the files of one worker cuts "import" from ~15 s to ~4 s, as every in-process file
    // loads the whole CLI and sandbox. No test touches process-wide state (the in-process harness injects
    // streams, environment, clock and Ctrl+C); test/setup.ts restores what a file might leave behind.
    pool: "forks",
    isolate: false,
    setupFiles: ["test/setup.ts"],
    unstubEnvs: true,
    unstubGlobals: true,
    // Three workers on two cores: the spawned processes' and pseudo-terminals' waits overlap with the CPU-bound
    // in-process files (measured on a quiet 2-core machine: npm test 60.7 s with two workers, 55.9 s with three).
    maxWorkers: 3,
  },
});
