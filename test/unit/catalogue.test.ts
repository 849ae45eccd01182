import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CATALOGUE, explain } from "../../src/catalogue.js";
import { explainAadsts, signInErrorFrom } from "../../src/auth/aadsts.js";
import { HttpFailure } from "../../src/services/http.js";
import { ServiceError } from "../../src/services/service-error.js";

const REFERENCE = resolve(import.meta.dirname, "../../../shared/reference");
const referenceText = existsSync(REFERENCE)
  ? readdirSync(REFERENCE)
      .map((f) => readFileSync(join(REFERENCE, f), "utf8"))
      .join("\n")
  : "";

describe("the error catalogue", () => {
  it("has unique stable codes", () => {
    const codes = CATALOGUE.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^[a-z]+(-[a-z0-9]+)+$/);
  });

  it.each(CATALOGUE.map((e) => [e.code, e] as const))("%s: found from its own sample, with its fix and link", (_code, entry) => {
    expect(explain(entry.example)?.code).toBe(entry.code);
    const error =
      entry.example.service === "network"
        ? new HttpFailure(
            { method: "GET", url: "https://x" },
            `GET https://x failed: connection failed (${entry.example.serviceCode}: ${entry.example.text}).`,
            undefined,
            entry.example.serviceCode,
          )
        : new ServiceError(
            entry.example.service,
            entry.example.status ?? 400,
            entry.example.serviceCode ?? "",
            entry.example.text,
            "GET x",
            "req-1",
          );
    expect(error.code).toBe(entry.code);
    expect(error.exitCode).toBe(entry.exitCode);
    expect(error.message).toContain(entry.meaning);
    expect(error.hint).toContain(entry.fix);
    expect(error.hint).toContain(entry.link);
    expect(error.toJSON()).toEqual({ code: entry.code, message: error.message, hint: error.hint });
  });

  // reference/ sits beside the repository for developers and CI (../shared); elsewhere this check is skipped.
  it.skipIf(!referenceText).each(CATALOGUE.map((e) => [e.code, e.link] as const))(
    "%s links to a page the reference cites",
    (_code, link) => {
      if (/^https:\/\/(nodejs\.org|www\.rfc-editor\.org)\//.test(link)) return; // network failures are Node's and HTTP's, not Microsoft's
      expect(referenceText.length).toBeGreaterThan(1000);
      const page = link
        .replace(/^https:\/\/learn\.microsoft\.com\/(en-us\/)?/, "")
        .split("/")
        .pop()!;
      expect(referenceText.includes(link) || referenceText.includes(`${page}.md`) || referenceText.includes(`/${page}`)).toBe(true);
    },
  );

  it("leaves unknown failures to the generic code", () => {
    expect(explain({ service: "graph", status: 400, serviceCode: "Request_BadRequest", text: "Something new." })).toBeUndefined();
    expect(new ServiceError("graph", 400, "Request_BadRequest", "Something new.", "GET x", undefined).code).toBe(
      "graph-request-badrequest",
    );
  });
});

describe("AADSTS codes (graph-and-msal §C.6)", () => {
  const context = { who: "admin" as const, clientId: "c", authorityHost: "https://login.microsoftonline.com", tenant: "contoso.com" };
  const fallback = explainAadsts(99999, context).message;
  it.each([
    50076, 50079, 53003, 530035, 65001, 65002, 700016, 7000218, 7000215, 700027, 7000229, 90002, 50126, 50034, 50055, 50057, 50053, 500011,
    70011,
  ])("%i has its own explanation", (code) => {
    const explained = explainAadsts(code, context);
    expect(explained.message).not.toBe(fallback);
    expect(explained.hint.length).toBeGreaterThan(10);
    const error = signInErrorFrom({ errorNo: code, errorMessage: `AADSTS${code}: …` }, context);
    expect([error.code, error.exitCode, error.aadsts]).toEqual([`aadsts-${code}`, 3, code]);
  });
  it("prints the admin-consent URL for missing consent (65001)", () => {
    expect(explainAadsts(65001, context).hint).toContain("https://login.microsoftonline.com/contoso.com/adminconsent?client_id=c");
  });
});
