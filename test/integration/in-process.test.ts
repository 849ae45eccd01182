import { describe, expect, it } from "vitest";
import { freshVirtualTenants } from "../in-process.js";

/** The in-process harness runs the real CLI without touching what belongs to the test process. */
const fresh = freshVirtualTenants();

describe("the CLI in-process", () => {
  it("captures its output and exit code, and leaves SIGINT handlers and process.exitCode as they were", async () => {
    const { run } = await fresh();
    const sigintHandlers = process.listenerCount("SIGINT");
    const exitCode = process.exitCode;
    const result = await run(["init", "--sandbox", "--yes", "--auth", "client-secret", "--dry-run", "--json", "--detailed-exitcode"]);
    expect(result.code).toBe(10);
    expect(result.json).toMatchObject({ ok: true, command: "init", dryRun: true });
    expect(process.listenerCount("SIGINT")).toBe(sigintHandlers);
    expect(process.exitCode).toBe(exitCode);
  });
});
