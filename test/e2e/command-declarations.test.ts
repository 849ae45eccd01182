import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli, tempHome } from "../helpers.js";

/** What the start-up bundle holds, as the build recorded it (paths relative to the repository). */
const entryInputs = (): string[] =>
  (JSON.parse(readFileSync(join(ROOT, "dist/bundle/meta.json"), "utf8")) as Record<string, string[]>)["dist/cli.bundle.cjs"]!;

describe("the command declarations in the start-up bundle", () => {
  it("holds every command file for --help, and none of what a command's run imports", () => {
    const inputs = entryInputs();
    const commandFiles = readdirSync(join(ROOT, "src/commands")).filter((file) => file.endsWith(".ts") && file !== "command-steps.ts");
    for (const file of commandFiles) expect({ file, bundled: inputs.includes(`src/commands/${file}`) }).toEqual({ file, bundled: true });
    const implementation = inputs.filter((input) =>
      /^src\/(steps|services|auth|offers|solution)\/|^src\/(context|tenant-command|tenant-ports|runner|render|io|prompter|main)\.ts$|^src\/commands\/command-steps\.ts$/.test(
        input,
      ),
    );
    expect(implementation).toEqual([]);
  });

  it("runs a command from the runner bundle, not from the start-up bundle's copy (logout --dry-run)", async () => {
    const { env } = tempHome();
    const run = await runCli(["logout", "--dry-run", "--json"], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, command: "logout", dryRun: true, logout: { cacheFiles: [] } });
  });
});
