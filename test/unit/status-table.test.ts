import { describe, expect, it } from "vitest";
import { statusTable, type State } from "../../src/commands/status.js";
import { wrapWords } from "../../src/render.js";
import type { StepResult } from "../../src/steps/step.js";

/**
 * A new user's trial at 120 columns: status's DETAIL column was cut by the terminal mid-word
 * ("crmleadsetupsandb" / "ox", "usage loca" / "tion US"). The detail now wraps at words inside its column.
 */
const plain = (text: string) => text;
const style = { bold: plain, green: plain, yellow: plain, red: plain };
const row = (id: StepResult["id"], state: State, summary: string): StepResult & { details: { state: State } } => ({
  id,
  status: state === "done" ? "unchanged" : "planned",
  summary,
  changes: [],
  details: { state },
});

const results = [
  row(
    "download-solution",
    "done",
    "Using the cached CrmLeadSetupSandboxLeadWriter 1.0.0.0 (managed, publisher crmleadsetupsandbox), SHA-256 fc5153428a786fb3915a9fe530e9d0cce1aafb0d0ee165541142c7b6fb4fb4ef",
  ),
  row(
    "create-user",
    "drifted",
    "Will bring the existing user mp-leadwriter@contoso.com into line: usage location US, password never expires",
  ),
];

describe("status's table on a terminal", () => {
  it.each([60, 80, 120])("at %i columns: rows fit the terminal and every word that fits the column is whole", (columns) => {
    const lines = statusTable(results, style, columns, wrapWords);
    expect(lines.filter((line) => line.length > columns)).toEqual([]);
    const details = lines.slice(1).map((line) => line.slice(28).trim());
    // Nothing is lost or reordered: the column read back is the summaries (a word longer than the column,
    // the SHA-256, is the only thing that may be split).
    expect(details.join("").replace(/\s/g, "")).toBe(
      results
        .map((r) => r.summary)
        .join("")
        .replace(/\s/g, ""),
    );
    const rows = details.flatMap((detail) => detail.split(" "));
    const fitting = results.flatMap((r) => r.summary.split(" ")).filter((word) => word.length <= columns - 29);
    for (const word of fitting) expect(rows).toContain(word);
    for (const line of lines.slice(1)) expect(line.slice(0, 28).trim() === "" || /^[a-z-]+ +[a-z]+ *$/.test(line.slice(0, 28))).toBe(true);
  });

  it("at 40 columns the detail gets lines of its own under the step, wrapped at words, none wider than the window", () => {
    const lines = statusTable(results, style, 40, wrapWords);
    expect(lines.filter((line) => line.length > 40)).toEqual([]);
    expect(lines[1]).toMatch(/^download-solution +done$/);
    expect(lines[2]).toMatch(/^ {2}Using the cached/);
    const details = lines.slice(1).filter((line) => line.startsWith("  "));
    expect(details.join("").replace(/\s/g, "")).toBe(
      results
        .map((r) => r.summary)
        .join("")
        .replace(/\s/g, ""),
    );
  });

  it("off a terminal each step is one line, as scripts read it", () => {
    expect(statusTable(results, style, undefined, wrapWords)).toHaveLength(3);
  });
});
