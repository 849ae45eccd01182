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
    // End-to-end tests spawn the CLI; two workers match the 2-core machines CI runs on.
    maxWorkers: 2,
  },
});
