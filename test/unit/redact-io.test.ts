import { describe, expect, it } from "vitest";
import { Redactor } from "../../src/redact.js";
import { decideColor } from "../../src/io.js";

describe("Redactor", () => {
  it("masks registered secrets and the shapes secrets take on the wire", () => {
    const redactor = new Redactor();
    redactor.add("S3cr3t-Value-123");
    const text = [
      "password is S3cr3t-Value-123",
      "Authorization: Bearer eyJhbGciOi.abc.def",
      '{"passwordProfile":{"password":"Xy!9aaaaaaaa"},"access_token":"tok","secretText":"abc~def"}',
      "grant_type=refresh_token&refresh_token=RT123&client_secret=CS456&scope=x",
      `{"CustomizationFile":"${"QUJD".repeat(100)}"}`,
    ].join("\n");
    const out = redactor.redact(text);
    for (const secret of ["S3cr3t-Value-123", "eyJhbGciOi", "Xy!9aaaaaaaa", '"tok"', "abc~def", "RT123", "CS456", "QUJDQUJD"])
      expect(out).not.toContain(secret);
    expect(out).toContain("<base64 solution package, 300 bytes>");
    expect(out).toContain("scope=x");
    expect(redactor.redact('{"error":{"code":"Request_BadRequest"}} ?code=abc123&state=1')).toBe(
      '{"error":{"code":"Request_BadRequest"}} ?code=***&state=1',
    );
  });

  it("shows only the secrets a summary is allowed to show", () => {
    const redactor = new Redactor();
    redactor.add("new-password-1");
    redactor.add("other-secret-2");
    expect(redactor.redact("new-password-1 other-secret-2", ["new-password-1"])).toBe("new-password-1 ***");
  });

  it("masks credential headers", () => {
    expect(new Redactor().headers({ Authorization: "Bearer x", "Content-Type": "application/json" })).toEqual({
      Authorization: "***",
      "Content-Type": "application/json",
    });
  });
});

describe("colour is decided once (SPEC §3)", () => {
  const tty = { env: {}, colorFlag: true, json: false, isTTY: true };
  it.each([
    ["a terminal", tty, true],
    ["a pipe", { ...tty, isTTY: false }, false],
    ["NO_COLOR on a terminal (chalk alone ignores it)", { ...tty, env: { NO_COLOR: "1" } }, false],
    ["an empty NO_COLOR", { ...tty, env: { NO_COLOR: "" } }, true],
    ["TERM=dumb", { ...tty, env: { TERM: "dumb" } }, false],
    ["--no-color", { ...tty, colorFlag: false }, false],
    ["--json", { ...tty, json: true }, false],
    ["FORCE_COLOR on a pipe", { ...tty, isTTY: false, env: { FORCE_COLOR: "1" } }, true],
    ["FORCE_COLOR over NO_COLOR", { ...tty, env: { FORCE_COLOR: "1", NO_COLOR: "1" } }, true],
    ["FORCE_COLOR=0", { ...tty, env: { FORCE_COLOR: "0" } }, false],
    ["--no-color over FORCE_COLOR", { ...tty, colorFlag: false, env: { FORCE_COLOR: "1" } }, false],
  ])("%s", (_label, inputs, expected) => {
    expect(decideColor(inputs)).toBe(expected);
  });
});

describe("the one output that may show a new secret", () => {
  it("shows exactly that secret; every other secret, by value or by shape, is still masked", () => {
    const redactor = new Redactor();
    redactor.add("Known-secret-value-1");
    const document = JSON.stringify({
      partnerCenter: { password: "Gen3rated-Pass-Word-24x" },
      steps: [
        { details: { client_secret: "unregistered-client-secret", note: "Bearer eyJhbGciOi.abc.def", known: "Known-secret-value-1" } },
      ],
      error: { message: "POST /token failed: client_secret=form-secret-value&grant_type=client_credentials" },
    });
    const shown = redactor.redact(document, ["Gen3rated-Pass-Word-24x"]);
    expect(shown).toContain('"password":"Gen3rated-Pass-Word-24x"');
    for (const hidden of ["unregistered-client-secret", "eyJhbGciOi", "Known-secret-value-1", "form-secret-value"])
      expect(shown).not.toContain(hidden);
  });
});
