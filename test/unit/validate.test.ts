import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { parseIntegerInRange, parseLicense, parseUsageLocation, parseUserPrincipalName, quoteInput } from "../../src/validate.js";

describe("UPN validation (Entra rules, graph-and-msal §A.2)", () => {
  it("accepts and normalises a valid UPN", () => {
    expect(parseUserPrincipalName(" mp-leadwriter@Contoso.com ", "--user-name")).toBe("mp-leadwriter@contoso.com");
    expect(parseUserPrincipalName("o'brien_x!#^~@contoso.onmicrosoft.com", "--user-name")).toBe("o'brien_x!#^~@contoso.onmicrosoft.com");
  });
  it.each([
    ["no-at-sign", /exactly one @/],
    ["a@b@contoso.com", /exactly one @/],
    ["bad name@contoso.com", /may only hold/],
    ["jürgen@contoso.com", /may only hold/],
    ["dot.@contoso.com", /start or end with a dot/],
    [`${"a".repeat(65)}@contoso.com`, /longer than 64/],
    [`a@${"b".repeat(45)}.com`, /domain is longer than 48/],
    ["a@contoso", /not a valid domain/],
  ])("refuses %s", (upn, why) => {
    expect(() => parseUserPrincipalName(upn, "--user-name")).toThrowError(why);
  });

  it("names one rule for the characters before the @, in the message and in the hint", () => {
    const error = (() => {
      try {
        parseUserPrincipalName("bad name@contoso.com", "--user-name");
      } catch (caught) {
        return caught as UsageError;
      }
      throw new Error("accepted");
    })();
    const rule = "letters, digits and ' . - _ ! # ^ ~";
    expect(error.message).toContain(rule);
    expect(error.hint).toContain(rule);
    // Every character the rule names is accepted.
    expect(parseUserPrincipalName("a'b.c-d_e!f#g^h~i@contoso.com", "--user-name")).toBe("a'b.c-d_e!f#g^h~i@contoso.com");
  });

  it("quotes at most 60 characters of a long value back", () => {
    const pasted = `${"n".repeat(5_000)}@contoso.com`;
    expect(() => parseUserPrincipalName(pasted, "--user-name")).toThrowError(
      `--user-name "${"n".repeat(60)}…" is not a valid user principal name`,
    );
    expect(quoteInput("short")).toBe('"short"');
    try {
      parseUsageLocation("X".repeat(5_000), "--usage-location");
    } catch (error) {
      expect((error as UsageError).message.length).toBeLessThan(140);
    }
  });
});

describe("usage location", () => {
  it("accepts ISO 3166 alpha-2 in any case", () => expect(parseUsageLocation("gb", "--usage-location")).toBe("GB"));
  it.each(["UK", "USA", "1", "", "XX"])("refuses %s", (code) => {
    expect(() => parseUsageLocation(code, "--usage-location")).toThrowError(
      /--usage-location .* is not a two-letter ISO 3166 country code/,
    );
  });
});

describe("licence and numbers", () => {
  it("accepts a SKU part number or skuId", () => {
    expect(parseLicense("DYN365_ENTERPRISE_SALES", "--license")).toBe("DYN365_ENTERPRISE_SALES");
    expect(parseLicense("1e1a282c-9c54-43a2-9310-98ef728faace", "--license")).toBe("1e1a282c-9c54-43a2-9310-98ef728faace");
    expect(() => parseLicense("Sales Enterprise!", "--license")).toThrowError(/neither a SKU part number nor a skuId/);
  });
  it.each(["-5", "0", "abc", "1.5", "90000"])("refuses --sync-timeout %s", (value) => {
    expect(() => parseIntegerInRange(value, "--sync-timeout", 1, 86_400, "seconds")).toThrowError(
      /--sync-timeout .* must be a whole number of seconds from 1 to 86400/,
    );
  });
});
