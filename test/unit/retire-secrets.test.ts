import { describe, expect, it } from "vitest";
import { SECRET_DESCRIPTION } from "../../src/steps/create-app.js";
import { addedByThisTool, earlierSecrets, retireSecretsStep } from "../../src/steps/retire-secrets.js";

/** Which secrets a rotation removes once the offers hold the new one: this tool's earlier ones, never another's. */
const credential = (keyId: string, displayName: string | null) => ({ keyId, displayName, endDateTime: "2027-01-01T00:00:00Z" });

describe("retire-secrets", () => {
  it("counts a secret as this tool's by its description (with the marker addPassword appends), not by a look-alike", () => {
    expect(addedByThisTool({ displayName: `${SECRET_DESCRIPTION} 1a2b3c4d` })).toBe(true);
    expect(addedByThisTool({ displayName: SECRET_DESCRIPTION })).toBe(true);
    expect(addedByThisTool({ displayName: `${SECRET_DESCRIPTION}-copy` })).toBe(false);
    expect(addedByThisTool({ displayName: "monitoring" })).toBe(false);
    expect(addedByThisTool({ displayName: null })).toBe(false);
  });

  it("removes the recorded one and every tagged one, keeps a hand-made one and the one this run added", () => {
    const credentials = [
      credential("recorded", "renamed by an admin"),
      credential("orphan", `${SECRET_DESCRIPTION} 00aa11bb`),
      credential("hand", "monitoring"),
      credential("new", `${SECRET_DESCRIPTION} 22cc33dd`),
    ];
    expect(earlierSecrets(credentials, "recorded", "new").map((c) => c.keyId)).toEqual(["recorded", "orphan"]);
    expect(earlierSecrets(credentials, undefined, undefined).map((c) => c.keyId)).toEqual(["orphan", "new"]);
  });

  it("plans one removal per earlier secret, each line saying it waits for the offers", () => {
    const step = retireSecretsStep({ appName: "Lead Writer" });
    const plan = step.plan({
      displayName: "Lead Writer",
      application: {
        id: "obj-1",
        appId: "app-1",
        displayName: "Lead Writer",
        signInAudience: "AzureADMultipleOrgs",
        passwordCredentials: [],
      },
      retiring: [{ keyId: "k1", endDateTime: "2027-01-01T00:00:00Z" }],
    });
    expect(plan.ops).toEqual([
      {
        kind: "remove-secret",
        displayName: "Lead Writer",
        applicationObjectId: "obj-1",
        appId: "app-1",
        keyId: "k1",
        endDateTime: "2027-01-01T00:00:00Z",
      },
    ]);
    expect(step.describe(plan.ops[0]!).target).toContain("once every offer accepted the new one");
    expect(step.plan({ displayName: "Lead Writer", application: undefined, retiring: [] }).ops).toEqual([]);
  });
});
