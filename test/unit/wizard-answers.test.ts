import { describe, expect, it } from "vitest";
import { userNameAnswer } from "../../src/commands/init.js";
import { UsageError } from "../../src/errors.js";

/**
 * The wizard asks for "the part before @<domain>". A new user often types the whole address; before this,
 * `mp-leadwriter@contoso.com` became `mp-leadwriter@contoso.com@contoso.com` and was refused with a rule
 * ("use the form name@yourdomain.com") that the answer already followed.
 */
describe("the service user name typed at the wizard's question", () => {
  it.each([
    ["mp-leadwriter", "mp-leadwriter@contoso.com"],
    ["  mp-leadwriter ", "mp-leadwriter@contoso.com"],
    ["mp-leadwriter@contoso.com", "mp-leadwriter@contoso.com"],
    ["leads@CONTOSO.com", "leads@contoso.com"],
  ])("%j is %j", (typed, userName) => {
    expect(userNameAnswer(typed, "contoso.com")).toBe(userName);
  });

  it("refuses a whole address in another domain, saying to type only the part before the @", () => {
    expect(() => userNameAnswer("leads@fabrikam.com", "contoso.com")).toThrow(UsageError);
    expect(() => userNameAnswer("leads@fabrikam.com", "contoso.com")).toThrow(/another domain than contoso\.com/);
  });

  it("still refuses what is not a user name", () => {
    expect(() => userNameAnswer("bad user", "contoso.com")).toThrow(UsageError);
  });
});
