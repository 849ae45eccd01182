import { describe, expect, it } from "vitest";
import { odataString, withQuery } from "../../src/services/http.js";
import { readAllPages } from "../../src/services/pages.js";
import { decideRetry, DEFAULT_RETRY_POLICY } from "../../src/services/retry.js";

/** Issue 10 §6, §7 and §5: query values, next links, and the replication retry rule. */
const HOSTILE = ["Leads & more", "Leads+Co", "Lead #1", "O'Brien's leads", "100% leads", "Léads für Größe", "a=b;c", "x%2By"];

describe("withQuery", () => {
  it.each(HOSTILE)("carries %j to a form-decoding server unchanged", (name) => {
    const url = new URL(
      `https://graph.example${withQuery("/v1.0/applications", { $filter: `displayName eq ${odataString(name)}`, $select: "id,appId" })}`,
    );
    expect(url.hash).toBe("");
    expect([...url.searchParams.keys()]).toEqual(["$filter", "$select"]);
    expect(url.searchParams.get("$filter")).toBe(`displayName eq '${name.replace(/'/g, "''")}'`);
    expect(url.searchParams.get("$select")).toBe("id,appId");
  });

  it("appends to a path that already has a query, leaves out undefined values, keeps $ , ( ) readable", () => {
    expect(withQuery("/x?api-version=1", { a: "b c", skip: undefined })).toBe("/x?api-version=1&a=b%20c");
    expect(withQuery("/x", { $expand: "roles($select=id,name)" })).toBe("/x?$expand=roles($select%3Did,name)");
    expect(withQuery("/x")).toBe("/x");
  });

  it("doubles single quotes in OData string literals", () => {
    expect(odataString("O'Brien's")).toBe("'O''Brien''s'");
  });
});

describe("readAllPages", () => {
  const pages: Record<string, { value: number[]; "@odata.nextLink"?: string; nextLink?: string }> = {
    "https://svc.example/list?$skiptoken=2": { value: [3, 4], nextLink: "https://svc.example/list?$skiptoken=3" },
    "https://svc.example/list?$skiptoken=3": { value: [5] },
  };
  it("follows @odata.nextLink and nextLink until none is left", async () => {
    const items = await readAllPages(
      "https://svc.example/list",
      { value: [1, 2], "@odata.nextLink": "https://svc.example/list?$skiptoken=2" },
      async (link) => pages[link]!,
    );
    expect(items).toEqual([1, 2, 3, 4, 5]);
  });

  it("refuses a next link on another host (the token would go there) and a link that repeats", async () => {
    await expect(
      readAllPages("https://svc.example/list", { value: [1], nextLink: "https://elsewhere.example/list" }, async () => ({ value: [] })),
    ).rejects.toThrow(/another host/);
    const loop = { value: [1], nextLink: "https://svc.example/list?$skiptoken=1" };
    await expect(readAllPages("https://svc.example/list", loop, async () => loop)).rejects.toThrow(/already sent/);
  });
});

describe("decideRetry for an object not replicated yet", () => {
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, replicationAttempts: 4 };
  it("resends a refused POST, with back-off or Retry-After, up to replicationAttempts", () => {
    expect(decideRetry({ attempt: 1, status: 400, notYetReplicated: true, idempotent: false, elapsedMs: 0 }, policy, () => 1)).toEqual({
      retry: true,
      delayMs: 100,
      reason: "not replicated yet (400)",
    });
    expect(
      decideRetry({ attempt: 2, status: 404, notYetReplicated: true, retryAfterMs: 3000, idempotent: false, elapsedMs: 0 }, policy),
    ).toMatchObject({ retry: true, delayMs: 3000 });
    expect(decideRetry({ attempt: 4, status: 404, notYetReplicated: true, idempotent: false, elapsedMs: 0 }, policy)).toMatchObject({
      retry: false,
    });
    expect(decideRetry({ attempt: 1, status: 404, idempotent: false, elapsedMs: 0 }, policy)).toMatchObject({ retry: false });
  });
});
