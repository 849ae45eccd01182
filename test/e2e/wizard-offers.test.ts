import { spawn } from "@lydell/node-pty";
import { describe, expect, it } from "vitest";
import { SANDBOX_OFFERS } from "../../src/sandbox/server.js";
import { BIN, freshTenants } from "../helpers.js";

/**
 * The wizard's offer question (SPEC §7), in a pseudo-terminal: after the identity question, a multi-select
 * of the offers the Partner Center account can see (skippable); with no Partner Center role, one line and
 * no question. The pattern of wizard-pty.test.ts.
 */
import { KEYS, Terminal } from "../pty.js";

const tenant = freshTenants();
/**
 * No test here is about a wait: the import and the user's sync take no time, and a configure job answers
 * `completed` at its first status poll (that poll still waits for the Retry-After, which the sandbox enforces).
 */
const NO_WAITS = { importMs: 0, userSyncMs: 0, partnerCenterRunningPolls: 0 };

async function wizard(scenario: Record<string, unknown> = {}) {
  const { env, sandbox } = await tenant({ scenario: { ...NO_WAITS, ...scenario } });
  const pty = spawn(process.execPath, [BIN, "init", "--sandbox"], {
    name: "xterm-256color",
    cols: 140,
    rows: 50,
    env: { ...env, TERM: "xterm-256color" } as Record<string, string>,
  });
  return { terminal: new Terminal(pty), sandbox };
}

describe("the wizard's Partner Center offers", () => {
  it("lists the offers the account can see after the identity question; the one selected gets its lead destination", async () => {
    const { terminal, sandbox } = await wizard();
    await terminal.waitFor(/How will Partner Center sign in to your Dynamics\?/);
    terminal.type(KEYS.down + KEYS.enter); // the app identity
    await terminal.waitFor(
      new RegExp(
        `Partner Center offers to send leads to[\\s\\S]*${SANDBOX_OFFERS.saas}[\\s\\S]*${SANDBOX_OFFERS.dynamics}[\\s\\S]*${SANDBOX_OFFERS.publishing}`,
      ),
    );
    terminal.type(KEYS.space + KEYS.enter); // the first: contoso-lead-saas
    await terminal.waitFor(new RegExp(`✔ Partner Center offers to send leads to.*${SANDBOX_OFFERS.saas}`));
    await terminal.waitFor(new RegExp(`connect-offer: Will set the lead destination of ${SANDBOX_OFFERS.saas}`));
    await terminal.waitFor(/Apply \d+ changes to the tenant\?/);
    terminal.type(`y${KEYS.enter}`);
    await terminal.waitFor(/Publish the offer in Partner Center/, 20_000);
    expect(await terminal.exited).toBe(0);
    expect(sandbox.partnerCenter.offer(SANDBOX_OFFERS.saas).draftLeads.leadDestination).toBe("dynamics");
    expect(sandbox.partnerCenter.offer(SANDBOX_OFFERS.dynamics).draftLeads.leadDestination).toBe("none");
    // The follow-up names the offers chosen at the question, as it does for --offer: the rotation pushes the
    // new secret into them (before, the wizard's choice was missing and it said to paste it by hand).
    expect(terminal.screen.replace(/\s+/g, " ")).toMatch(
      new RegExp(`reset-password [^\`]*--offer ${SANDBOX_OFFERS.saas}\`: it writes the new one into the offers`),
    );
  });

  it("Enter with nothing selected skips the offers: Partner Center is only read", async () => {
    const { terminal, sandbox } = await wizard();
    await terminal.waitFor(/How will Partner Center sign in to your Dynamics\?/);
    terminal.type(KEYS.down + KEYS.enter);
    await terminal.waitFor(/Partner Center offers to send leads to/);
    terminal.type(KEYS.enter);
    await terminal.waitFor(/✔ Partner Center offers to send leads to.* none/);
    await terminal.waitFor(/Apply \d+ changes to the tenant\?/);
    terminal.type(`y${KEYS.enter}`);
    expect(await terminal.exited).toBe(0);
    expect(terminal.screen).not.toContain("connect-offer");
    expect(sandbox.requests.filter((r) => r.path.startsWith("/rp/") && r.method !== "GET")).toEqual([]);
  });

  it("with no Partner Center role it says so in one line and asks nothing about offers", async () => {
    const { terminal } = await wizard({ partnerCenterRole: "none" });
    await terminal.waitFor(/How will Partner Center sign in to your Dynamics\?/);
    terminal.type(KEYS.down + KEYS.enter);
    await terminal.waitFor(/Partner Center refused to list the offers: the signed-in identity has no role there .*Skipping the offers\./);
    await terminal.waitFor(/Apply \d+ changes to the tenant\?/);
    terminal.type(`y${KEYS.enter}`);
    expect(await terminal.exited).toBe(0);
    expect(terminal.screen).not.toContain("Partner Center offers to send leads to");
  });
});
