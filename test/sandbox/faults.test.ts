import { describe, expect, it } from "vitest";
import { FaultInjector, type FaultDecision } from "../../src/sandbox/faults.js";

/**
 * The sandbox's random faults are seeded per request identity: a run whose independent requests overlap
 * in a different order meets the same faults, so the fault tests are repeatable.
 */
const kind = (decision: FaultDecision) => (decision.kind === "error" ? `error ${decision.status}` : decision.kind);

function decisions(order: [string, string][], seed: number): Map<string, string[]> {
  const faults = new FaultInjector();
  faults.set({ errorRate: 0.5, dropRate: 0.2, seed });
  const seen = new Map<string, string[]>();
  for (const [method, path] of order) {
    const key = `${method} ${path}`;
    seen.set(key, [...(seen.get(key) ?? []), kind(faults.decide("dataverse", method, path))]);
  }
  return seen;
}

describe("seeded faults", () => {
  const calls: [string, string][] = [
    ["GET", "/api/data/v9.2/roles"],
    ["GET", "/api/data/v9.2/privileges"],
    ["POST", "/v1.0/users"],
  ];
  const repeated = [...calls, ...calls, ...calls, ...calls, ...calls];

  it("do not depend on how parallel requests interleave", () => {
    const inOrder = decisions(repeated, 7);
    const reversed = decisions([...repeated].reverse(), 7);
    expect(reversed).toEqual(inOrder);
    expect(new Set([...inOrder.values()].flat()).size).toBeGreaterThan(1); // some calls fail, some do not
  });

  it("treat the same request about another object as the same request (ids left out)", () => {
    const a = decisions([["GET", "/api/data/v9.2/asyncoperations(8004b16e-e186-43c3-9d4d-99f3a3a7b243)"]], 3);
    const b = decisions([["GET", "/api/data/v9.2/asyncoperations(0e4a8ae4-bbb9-4971-9139-ef73a43c7bbc)"]], 3);
    expect([...a.values()]).toEqual([...b.values()]);
  });

  it("differ with the seed", () => {
    const outcomes = [1, 2, 3, 4, 5].map((seed) => JSON.stringify([...decisions(repeated, seed)]));
    expect(new Set(outcomes).size).toBeGreaterThan(1);
  });
});
