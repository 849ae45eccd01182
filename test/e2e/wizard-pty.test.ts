import { spawn } from "@lydell/node-pty";
import { describe, expect, it } from "vitest";
import type { SandboxOptions } from "../../src/sandbox/server.js";
import { BIN, expectConfigured, passwordSignIn, printedPassword, runCli, startCli, freshTenants } from "../helpers.js";
import { freshVirtualTenants } from "../in-process.js";

import { KEYS, Terminal } from "../pty.js";

/** The wizard's offer question (wizard-offers.test.ts), answered with none. */
async function skipOffers(terminal: Terminal): Promise<void> {
  await terminal.waitFor(/Partner Center offers to send leads to/);
  terminal.type(KEYS.enter);
}

/**
 * A fresh HOME with a sandbox tenant of its own; closed after each test. The import and the user's sync take
 * no time unless a test sets its own scenario (the terminal-layout and Ctrl+C-during-import tests hold them).
 */
const tenants = freshTenants();
const tenant = (options: SandboxOptions = {}) => tenants({ scenario: { importMs: 0, userSyncMs: 0 }, ...options });
/**
 * The same on a virtual clock, set up by an in-process init: for a terminal run that follows a finished
 * setup and waits on no sandbox timer (the tenant's clock moves only when the in-process run sleeps).
 */
const virtualTenant = freshVirtualTenants();
const setUpTenant = async () => {
  const configured = await virtualTenant();
  expect((await configured.run(SETUP)).code).toBe(0);
  return configured;
};

function inTerminal(args: string[], env: NodeJS.ProcessEnv, cols = 140): Terminal {
  return new Terminal(
    spawn(process.execPath, [BIN, ...args], {
      name: "xterm-256color",
      cols,
      rows: 50,
      env: { ...env, TERM: "xterm-256color" } as Record<string, string>,
    }),
  );
}

async function wizard(args: string[], options: { cols?: number; sandbox?: SandboxOptions } = {}) {
  const { env, sandbox } = await tenant(options.sandbox);
  return { terminal: inTerminal(args, env, options.cols), sandbox };
}

const SETUP = ["init", "--sandbox", "--yes", "--auth", "client-secret"];
const UPN = "mp-leadwriter@contoso.com";

describe("the interactive wizard in a pseudo-terminal", () => {
  it("asks, offers the discovered domains and licences, confirms, applies and shows the summary", async () => {
    const { terminal, sandbox } = await wizard(["init", "--sandbox"]);
    await terminal.waitFor(
      /How will Partner Center sign in to your Dynamics\?[\s\S]*Office 365: a licensed user with a password[\s\S]*Azure Active Directory: an app with a client secret/,
    );
    terminal.type(KEYS.enter); // the default: the Office 365 user
    await skipOffers(terminal);
    await terminal.waitFor(/Domain of the service user:[\s\S]*contoso\.onmicrosoft\.com[\s\S]*contoso\.com/);
    terminal.type(KEYS.up + KEYS.enter); // from the default domain up to the initial onmicrosoft.com one
    await terminal.waitFor(/Service user name \(the part before @contoso\.onmicrosoft\.com\):/);
    terminal.type(`pty-writer${KEYS.enter}`);
    await terminal.waitFor(
      /Licence for the service user[\s\S]*Dynamics 365 for Sales Enterprise Edition \(DYN365_ENTERPRISE_SALES\): 2 of 5 free[\s\S]*Dynamics 365 for Team Members Enterprise Edition \(DYN365_ENTERPRISE_TEAM_MEMBERS\): 9 of 10 free/,
    );
    expect(terminal.screen).not.toContain("D365_SALES_PRO"); // no free seat: not offered
    terminal.type(KEYS.down + KEYS.enter);
    await terminal.waitFor(/Usage location \(two-letter country code, needed for licensing\):/);
    terminal.type(`UK${KEYS.enter}`); // not ISO 3166: refused in place, asked again
    await terminal.waitFor(/"UK" is not a two-letter ISO 3166 country code/);
    terminal.type(`${"\x7f".repeat(2)}GB${KEYS.enter}`);
    await terminal.waitFor(
      /Plan:[\s\S]*\+ create-user: Will create pty-writer@contoso\.onmicrosoft\.com with licence DYN365_ENTERPRISE_TEAM_MEMBERS/,
    );
    await terminal.waitFor(/Apply 7 changes to the tenant\?/);
    terminal.type(`y${KEYS.enter}`);
    const box = await terminal.waitFor(/│ User name\s+(\S+)\s+│\s*│ Password\s+(\S+)\s+│/, 30_000);
    expect(await terminal.exited).toBe(0);
    const [, userName, password] = box;
    expect(userName).toBe("pty-writer@contoso.onmicrosoft.com");
    expectConfigured(sandbox, { userName: userName!, skuId: "8e7a3d30-d97d-43ab-837c-d7701cef83dc", usageLocation: "GB" });
    expect(await passwordSignIn(sandbox, userName!, password!)).toBe(200);
  });

  it("sets up the app identity when it is chosen, asking nothing more", async () => {
    const { terminal, sandbox } = await wizard(["init", "--sandbox"]);
    await terminal.waitFor(/How will Partner Center sign in to your Dynamics\?/);
    terminal.type(KEYS.down + KEYS.enter);
    await skipOffers(terminal);
    await terminal.waitFor(/Apply \d+ changes to the tenant\?/);
    terminal.type(`y${KEYS.enter}`);
    const box = await terminal.waitFor(/│ Application \(client\) ID\s+(\S+)\s+│[\s\S]*│ Client secret\s+(\S+)\s+│/, 30_000);
    expect(await terminal.exited).toBe(0);
    const appUser = [...sandbox.state.systemUsers.values()].find((u) => u.applicationid === box[1]);
    expect([...appUser!.roles].map((id) => sandbox.state.roles.get(id)!.name)).toEqual(["Microsoft Marketplace Lead Writer"]);
  });

  it("Ctrl+C at a question exits 130 and changes nothing", async () => {
    const { terminal, sandbox } = await wizard(["init", "--sandbox"]);
    await terminal.waitFor(/How will Partner Center sign in to your Dynamics\?/);
    terminal.type(KEYS.ctrlC);
    expect(await terminal.exited).toBe(130);
    expect(terminal.screen).toContain("Cancelled at a question; nothing was changed.");
    expect(terminal.screen).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(sandbox.mutatingRequests()).toEqual([]);
  });

  it("declining the plan is not an interrupt: exit 1 and nothing changed", async () => {
    const { terminal, sandbox } = await wizard(["create-user", "--sandbox"]);
    await terminal.waitFor(/Apply 2 changes to the tenant\? \(Y\/n\)/);
    terminal.type(`n${KEYS.enter}`);
    expect(await terminal.exited).toBe(1);
    expect(terminal.screen).toContain("Nothing was changed");
    expect(sandbox.mutatingRequests()).toEqual([]);
  });
});

describe("wizard details (issue 11 §10)", () => {
  it("Ctrl+C in a list erases the list and exits 130, with nothing left half-drawn", async () => {
    const { terminal, sandbox } = await wizard(["init", "--sandbox"]);
    await terminal.waitFor(/Azure Active Directory: an app with a client secret[\s\S]*navigate/);
    terminal.type(KEYS.down);
    await terminal.waitFor(/❯ Azure Active Directory/);
    terminal.type(KEYS.ctrlC);
    expect(await terminal.exited).toBe(130);
    const screen = await terminal.rendered();
    expect(screen.join("\n")).toContain("Cancelled at a question; nothing was changed.");
    expect(
      screen.filter((line) => /Office 365: a licensed user|Azure Active Directory: an app|navigate|How will Partner Center/.test(line)),
    ).toEqual([]);
    expect(sandbox.mutatingRequests()).toEqual([]);
  });

  it("the user-name question names the validator's one rule, takes the default for an empty answer after an error, and quotes a long paste shortly", async () => {
    const { terminal } = await wizard(["init", "--sandbox", "--identity", "user"]);
    await skipOffers(terminal);
    await terminal.waitFor(/Domain of the service user:/);
    terminal.type(KEYS.enter);
    await terminal.waitFor(/Service user name \(the part before @contoso\.com\):/);
    terminal.type(`bad name${KEYS.enter}`);
    const refused = await terminal.waitFor(
      /may only hold ([\s\S]+?)\. Use the form name@yourdomain\.com: up to 64 ([\s\S]+?) before the @/,
    );
    const [inMessage, inHint] = [refused[1]!, refused[2]!].map((rule) => rule.replace(/\r?\n/g, "")); // as wrapped at 140 columns
    expect(inMessage).toBe("letters, digits and ' . - _ ! # ^ ~");
    expect(inHint).toBe(inMessage);
    // Clear the refused answer, and one Backspace more (which made the prompt library drop its default).
    terminal.type(`${"\x7f".repeat("bad name".length + 1)}${KEYS.enter}`);
    await terminal.waitFor(/✔ Service user name \(the part before @contoso\.com\): mp-leadwriter\s/);
    expect(terminal.screen).not.toContain('"@contoso.com"');
    await terminal.waitFor(/Licence for the service user/);
    terminal.type(KEYS.ctrlC);
    expect(await terminal.exited).toBe(130);
  });

  // 400 characters: the prompt library redraws the line at every key, so a 5,000-character paste takes
  // minutes in a pseudo-terminal (the 5,000-character case is in test/unit/validate.test.ts).
  it("quotes at most 60 characters of a long answer back", async () => {
    const { terminal } = await wizard(["init", "--sandbox", "--identity", "user"]);
    await skipOffers(terminal);
    await terminal.waitFor(/Domain of the service user:/);
    terminal.type(KEYS.enter);
    await terminal.waitFor(/Service user name \(the part before @contoso\.com\):/);
    terminal.type(`${"n".repeat(400)}${KEYS.enter}`);
    await terminal.waitFor(/is not a valid user principal name/, 30_000);
    const screen = (await terminal.rendered()).join(""); // the message wraps at 140 columns
    expect(screen).toContain(
      `The user name "${"n".repeat(60)}…" is not a valid user principal name: the part before @ is longer than 64 characters.`,
    );
    expect(screen).not.toContain(`The user name "${"n".repeat(61)}`);
    terminal.type(KEYS.ctrlC);
    expect(await terminal.exited).toBe(130);
  });
});

describe("terminal layout (issue 11 §11)", () => {
  it("at 120 columns: plan and result lines break at words, waiting steps show what they wait for, a running step has one line and one timer", async () => {
    // The user's sync into Dynamics is held until the test releases it, so the waiting step is on screen.
    const { terminal, sandbox } = await wizard(
      [
        "init",
        "--sandbox",
        "--identity",
        "user",
        "--user-name",
        "mp-leadwriter@contoso.com",
        "--usage-location",
        "US",
        "--license",
        "DYN365_ENTERPRISE_SALES",
      ],
      { cols: 120, sandbox: { scenario: { userSyncMs: 3_600_000 } } },
    );
    await skipOffers(terminal);
    await terminal.waitFor(/Apply \d+ changes to the tenant\?/);
    terminal.type(`y${KEYS.enter}`);
    await terminal.waitFor(/◦ assign-role: waiting for import-solution, create-user/);
    await terminal.waitFor(/assign-role: Waiting for mp-leadwriter@contoso\.com to sync from Entra ID to Dynamics… \d+s/, 30_000);
    // The region is redrawn ten times a second (erase, then draw): read the screen between two redraws.
    const regionOf = async () =>
      (await terminal.rendered()).filter((row) => /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏◦] assign-role/.test(row) || /to sync from Entra ID/.test(row));
    let region = await regionOf();
    for (let tries = 0; region.length === 0 && tries < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      region = await regionOf();
    }
    expect(region).toEqual([
      expect.stringMatching(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] assign-role: Waiting for mp-leadwriter@contoso\.com to sync from Entra ID to Dynamics… \d+s$/),
    ]);
    (sandbox.state.scenario as { userSyncMs: number }).userSyncMs = 0;
    await terminal.waitFor(/Partner Center → Customer leads/, 30_000);
    expect(await terminal.exited).toBe(0);

    const rows = await terminal.rows();
    const from = rows.findIndex((row) => row.text.startsWith("Plan:"));
    const to = rows.findIndex((row) => row.text.startsWith("┌"));
    const planAndResults = rows.slice(from, to);
    expect(planAndResults.filter((row) => row.wrapped)).toEqual([]); // no line was left for the terminal to break mid-word
    expect(planAndResults.every((row) => row.text.length <= 119)).toBe(true);
    const continued = planAndResults.findIndex(
      (row) =>
        row.text.startsWith("      ") &&
        !row.text.startsWith("        ") &&
        rows[from + planAndResults.indexOf(row) - 1]!.text.startsWith("  + "),
    );
    expect(continued).toBeGreaterThan(0); // a long plan line continues under a hanging indent
    expect(planAndResults.map((row) => row.text)).toContainEqual(
      expect.stringMatching(/^ {4}SHA-256 [0-9a-f]{64}; 1\.3 KB from localhost:\d+$/),
    );
  });
});

describe("confirmations accept only yes or no", () => {
  it("teardown: an answer that is not yes or no is asked again; no deletes nothing and exits 1", async () => {
    const { env, sandbox } = await setUpTenant();
    const before = sandbox.mutatingRequests().length;
    const terminal = inTerminal(["teardown", "--sandbox", "--auth", "client-secret"], env);
    await terminal.waitFor(/Apply 2 changes to the tenant\? \(y\/N\)/);
    terminal.type(`x${KEYS.enter}`);
    await terminal.waitFor(/Answer yes or no/);
    terminal.type(`n${KEYS.enter}`);
    expect(await terminal.exited).toBe(1);
    expect(terminal.screen).toContain("Nothing was changed");
    expect(sandbox.mutatingRequests().length).toBe(before);
    expect([...sandbox.state.users.values()].filter((u) => u.userPrincipalName === UPN)).toHaveLength(1);
  });

  it("reset-password: Enter takes the default, which is No", async () => {
    const { env, sandbox } = await setUpTenant();
    const before = sandbox.mutatingRequests().length;
    const terminal = inTerminal(["reset-password", "--sandbox", "--auth", "client-secret"], env);
    await terminal.waitFor(/Apply 1 change to the tenant\? \(y\/N\)/);
    terminal.type(KEYS.enter);
    expect(await terminal.exited).toBe(1);
    expect(terminal.screen).toContain("Nothing was changed");
    expect(sandbox.mutatingRequests().length).toBe(before);
  });
});

describe("the summary in a terminal", () => {
  it("after Ctrl+C during the import: 'Setup incomplete', the new password still shown, no invitation to Validate or verify", async () => {
    // The import never finishes on its own: Ctrl+C always lands while it runs.
    const { env, sandbox } = await tenant({ scenario: { importMs: 3_600_000 } });
    const terminal = inTerminal(SETUP, env);
    await terminal.waitFor(/create-user \(done\)/, 30_000);
    terminal.type(KEYS.ctrlC);
    expect(await terminal.exited).toBe(130);
    const screen = terminal.screen;
    expect(screen).toMatch(/Setup incomplete/);
    // Wrapped between words at 140 columns (a command in backticks stays on one line): read it joined again.
    expect(screen.replace(/\r?\n/g, " ")).toContain(
      "Setup incomplete: re-run `npx crm-lead-setup init --sandbox --auth client-secret --user-name mp-leadwriter@contoso.com` before you select Validate.",
    );
    expect(screen).not.toMatch(/Paste it now; then select Validate|Paste these values, then select Validate/);
    expect(screen).not.toContain("crm-lead-setup verify");
    const password = /│ Password\s+(\S+)\s+│/.exec(screen)?.[1];
    expect(await passwordSignIn(sandbox, UPN, password!)).toBe(200);
  });

  it("at 40 columns the values are labelled lines and the password is never broken", async () => {
    const { env, sandbox } = await setUpTenant();
    const terminal = inTerminal(["reset-password", "--sandbox", "--auth", "client-secret", "--yes"], env, 40);
    expect(await terminal.exited).toBe(0);
    const rows = (await terminal.rows()).map((row) => row.text);
    expect(rows.every((row) => !row.includes("│"))).toBe(true);
    const passwordRow = rows.find((row) => /^Password: \S+$/.test(row));
    const password = passwordRow!.slice("Password: ".length);
    expect(rows).toContain(`User name: ${UPN}`);
    // The sentence under the values wraps between words: joined again, it reads whole.
    expect(rows.join(" ").replace(/ +/g, " ")).toContain(
      "The password is shown this once and never expires. Paste it now; then select Validate in Partner Center.",
    );
    expect(await passwordSignIn(sandbox, UPN, password)).toBe(200);
  });
});

describe("a password an interrupted run never showed (issue 12 §1)", () => {
  it("is replaced by an op of the plan, confirmed with the rest, and the new one is shown", async () => {
    const { env, sandbox } = await tenant();
    const { child, done } = startCli(SETUP, env);
    const stop = sandbox.onRequest((entry) => {
      if (entry.method === "POST" && entry.path === "/v1.0/users") child.kill("SIGKILL");
    });
    expect((await done).signal).toBe("SIGKILL");
    stop();

    const flags = ["--identity", "user", "--user-name", UPN, "--usage-location", "US", "--license", "DYN365_ENTERPRISE_SALES"];
    const terminal = inTerminal(["init", "--sandbox", "--auth", "client-secret", ...flags], env);
    await skipOffers(terminal);
    await terminal.waitFor(
      /set a new generated password for mp-leadwriter@contoso\.com \(the one generated when it was created was never shown/,
    );
    await terminal.waitFor(/Apply \d+ changes to the tenant\? \(Y\/n\)/);
    terminal.type(`y${KEYS.enter}`);
    expect(await terminal.exited).toBe(0);
    // One question: the plan's. Nothing is asked after it.
    expect(terminal.screen).not.toContain("Set a new password now?");
    const password = printedPassword(terminal.screen);
    expect(password).toMatch(/^\S{28}$/);
    expect(await passwordSignIn(sandbox, UPN, password!)).toBe(200);
    expect(terminal.screen).not.toContain("was never shown: the run that created it was interrupted. Run");
  });
});
