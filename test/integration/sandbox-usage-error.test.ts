import { describe, expect, it } from "vitest";
import { runInProcess } from "../in-process.js";
import { tempHome } from "../helpers.js";
import { VirtualClock } from "../virtual-clock.js";

/** The TCP servers this process holds open: a sandbox started inside a command is five of them. */
const openServers = () => process.getActiveResourcesInfo().filter((resource) => resource === "TCPServerWrap").length;

describe("a usage error found after --sandbox started a sandbox inside the command", () => {
  it("exits 2 and closes that sandbox, so the process can end", async () => {
    const { env } = tempHome();
    const before = openServers();
    const run = await runInProcess(["status", "--sandbox", "--auth", "client-certificate"], env, { clock: new VirtualClock() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--auth client-certificate needs --client-certificate <pem>.");
    expect(run.stderr).toContain("started a sandbox tenant inside this command");
    // A closed server leaves the list of active handles a few turns of the event loop later; one left
    // open stays there (before the fix: five, for as long as the process lived).
    for (let turn = 0; turn < 100 && openServers() > before; turn++) await new Promise((resolve) => setTimeout(resolve, 0));
    expect(openServers()).toBe(before);
  });
});
