import { describe, expect, it } from "vitest";
import { InterruptedError, StillRunningError } from "../../src/errors.js";
import { parseYesNo } from "../../src/prompter.js";
import { partnerCenterLines } from "../../src/render.js";
import { followUpCommand, partnerCenterSummary, secretHint, setupComplete, type SummaryFacts } from "../../src/summary.js";
import type { ServiceUserOutput, StepResult } from "../../src/steps/step.js";

describe("a yes/no answer", () => {
  it.each([
    ["y", true],
    ["Y", true],
    ["yes", true],
    ["YES", true],
    [" yes ", true],
    ["n", false],
    ["N", false],
    ["no", false],
    ["No", false],
  ])("%j is %s whatever the default", (answer, meaning) => {
    expect(parseYesNo(answer, true)).toBe(meaning);
    expect(parseYesNo(answer, false)).toBe(meaning);
  });

  it("Enter alone takes the default", () => {
    expect(parseYesNo("", true)).toBe(true);
    expect(parseYesNo("", false)).toBe(false);
  });

  it.each(["x", "maybe", "yesterday", "nope", "ja", "1", "0", "y n"])("%j is no answer: it is asked again", (answer) => {
    expect(parseYesNo(answer, true)).toBeUndefined();
    expect(parseYesNo(answer, false)).toBeUndefined();
  });
});

describe("the command that reaches the same tenant and identity", () => {
  it("on a real tenant: the org URL, the sign-in flags that were given, and the identity", () => {
    const command = followUpCommand(
      "reset-password",
      {
        sandbox: false,
        orgUrl: "https://contoso.crm4.dynamics.com",
        cloud: "gcc",
        tenant: "contoso.onmicrosoft.com",
        auth: "client-certificate",
        clientId: "11111111-2222-3333-4444-555555555555",
        clientCertificate: "/etc/ci/admin cert.pem",
        identity: "app",
      },
      "Leads & more",
    );
    expect(command).toBe(
      "crm-lead-setup reset-password --org-url https://contoso.crm4.dynamics.com --cloud gcc --tenant contoso.onmicrosoft.com --auth client-certificate --client-id 11111111-2222-3333-4444-555555555555 --client-certificate '/etc/ci/admin cert.pem' --identity app --app-name 'Leads & more'",
    );
  });

  it("in the sandbox: --sandbox instead of the endpoints; the user identity by its name", () => {
    expect(followUpCommand("reset-password", { sandbox: true, orgUrl: undefined, identity: undefined }, "mp-leadwriter@contoso.com")).toBe(
      "crm-lead-setup reset-password --sandbox --user-name mp-leadwriter@contoso.com",
    );
  });

  it("quotes a name with a quote in it so that a POSIX shell reads it back unchanged", () => {
    expect(followUpCommand("reset-password", { sandbox: true, identity: "app" }, "O'Brien's app")).toBe(
      `crm-lead-setup reset-password --sandbox --identity app --app-name 'O'\\''Brien'\\''s app'`,
    );
  });
});

describe("the hint for a secret this run did not generate", () => {
  const command = "crm-lead-setup reset-password --sandbox --user-name u@contoso.com";
  it("says that an interrupted run never showed it", () => {
    expect(secretHint({ identity: "user", name: "u@contoso.com", neverShown: true, command })).toBe(
      `The password generated when u@contoso.com was created was never shown: the run that created it was interrupted. Run \`${command}\` to set a new one.`,
    );
  });
  it("otherwise says how to replace one that is lost", () => {
    expect(secretHint({ identity: "user", name: "u@contoso.com", neverShown: false, command })).toContain(`\`${command}\``);
    expect(secretHint({ identity: "app", name: "Lead Writer", neverShown: false, command })).toMatch(
      /client secret.*`crm-lead-setup reset-password/,
    );
  });
});

describe("whether the setup is complete", () => {
  const done = (id: string): StepResult => ({ id: id as StepResult["id"], status: "done", summary: "", changes: [] });
  it("is complete when every step ended well", () => {
    expect(setupComplete([done("create-user"), { ...done("assign-role"), status: "unchanged" }], undefined)).toBe(true);
  });
  it("is not after a failure, an interrupt or a time-out, whatever the other steps did", () => {
    expect(setupComplete([done("create-user"), { ...done("import-solution"), status: "failed" }], new InterruptedError())).toBe(false);
    expect(
      setupComplete(
        [done("create-user"), { ...done("assign-role"), status: "failed" }],
        new StillRunningError({ code: "user-not-synced", message: "m" }),
      ),
    ).toBe(false);
    expect(
      setupComplete(
        [done("create-user"), { ...done("assign-role"), status: "skipped", summary: "Not run: import-solution failed." }],
        undefined,
      ),
    ).toBe(false);
  });
});

describe("the Partner Center summary, from the outcome alone", () => {
  const UPN = "mp-leadwriter@contoso.com";
  const user = (overrides: Partial<ServiceUserOutput> = {}): ServiceUserOutput => ({
    identity: "user",
    userPrincipalName: UPN,
    user: {
      id: "user-1",
      userPrincipalName: UPN,
      displayName: "",
      accountEnabled: true,
      usageLocation: "US",
      passwordPolicies: null,
      assignedLicenses: [],
    },
    neverShown: false,
    ...overrides,
  });
  const facts = (overrides: Partial<SummaryFacts> = {}): SummaryFacts => ({
    command: "init",
    options: { sandbox: true, auth: "client-secret" },
    orgUrl: "https://sandbox.crm.dynamics.com",
    identity: user({ generatedPassword: "p4ssw0rd-generated-this-run!" }),
    complete: true,
    endsWithVerifyHint: true,
    ...overrides,
  });

  it("shows a password generated in the run, and names the record to make once it has been shown", () => {
    const summary = partnerCenterSummary(facts())!;
    expect(summary.values).toMatchObject({
      authentication: "Office 365",
      userName: UPN,
      password: "p4ssw0rd-generated-this-run!",
      setup: "complete",
    });
    expect(summary.shown).toEqual({
      kind: "password",
      orgUrl: "https://sandbox.crm.dynamics.com",
      userPrincipalName: UPN,
      objectId: "user-1",
    });
    expect(summary.notes[0]).toContain("`crm-lead-setup verify --sandbox --auth client-secret --user-name mp-leadwriter@contoso.com`");
  });

  it("without a password from this run: none shown, nothing to record, and the hint says whether it was ever shown", () => {
    const lost = partnerCenterSummary(facts({ identity: user({ neverShown: true }), endsWithVerifyHint: false }))!;
    expect(lost.values.password).toBeNull();
    expect(lost.shown).toBeUndefined();
    expect(lost.values.hint).toContain("was never shown: the run that created it was interrupted");
    expect(partnerCenterSummary(facts({ identity: user() }))!.values.hint).toContain("The password was shown once");
  });

  it("has nothing to show for an identity that does not exist", () => {
    expect(partnerCenterSummary(facts({ identity: user({ user: undefined }) }))).toBeUndefined();
    expect(partnerCenterSummary(facts({ identity: undefined }))).toBeUndefined();
  });
});

describe("the Partner Center values on screen", () => {
  const values = {
    url: "https://contoso.crm4.dynamics.com",
    authentication: "Office 365",
    userName: "mp-leadwriter@contoso.com",
    password: "Abcdefghijklmnopqrstuvwxy1!@",
    setup: "complete",
  };

  it("are a box when the terminal is wide enough (or unknown)", () => {
    for (const columns of [undefined, 120]) {
      const lines = partnerCenterLines(values, columns);
      expect(lines[0]).toMatch(/^┌ Partner Center → Customer leads/);
      expect(lines.some((l) => /^│ Password +(\S+) +│$/.exec(l)?.[1] === values.password)).toBe(true);
    }
  });

  it("are labelled lines, none wider than the terminal, below the box's width", () => {
    const lines = partnerCenterLines(values, 40);
    expect(lines.some((l) => l.includes("│"))).toBe(false);
    expect(lines).toContain(`Password: ${values.password}`);
    expect(lines).toContain("URL: https://contoso.crm4.dynamics.com");
    expect(lines.every((l) => l.length < 40)).toBe(true);
  });

  it("put a secret that does not fit beside its label on a line of its own, unbroken", () => {
    const secret = "abc8Q~0123456789012345678901234567890123";
    const lines = partnerCenterLines(
      {
        url: "https://contoso.crm4.dynamics.com",
        authentication: "Azure Active Directory",
        applicationId: "11111111-2222-3333-4444-555555555555",
        directoryId: "5a9d8c3e-1c7b-4f0a-9e62-0c5d7ab31f44",
        clientSecret: secret,
      },
      48,
    );
    expect(lines).toContain("Client secret:");
    expect(lines[lines.indexOf("Client secret:") + 1]).toBe(secret);
  });

  it("are headed 'Setup incomplete' when the setup did not finish", () => {
    expect(partnerCenterLines({ ...values, setup: "incomplete" }, undefined)[0]).toMatch(/^┌ Setup incomplete/);
    expect(partnerCenterLines({ ...values, setup: "incomplete" }, 40)[0]).toBe("Setup incomplete");
  });
});
