import { describe, expect, it } from "vitest";
import { partnerCenterSummary, type SummaryFacts } from "../../src/summary.js";
import type { ServiceAppOutput } from "../../src/steps/step.js";

/** The expiry note of a new app secret points to the rotation that needs no paste when the run had offers. */
const app: ServiceAppOutput = {
  identity: "app",
  displayName: "Lead Writer",
  application: { id: "obj-1", appId: "app-1", displayName: "Lead Writer", signInAudience: "AzureADMultipleOrgs", passwordCredentials: [] },
  applicationUser: undefined,
  directoryId: "tenant-1",
  generatedSecret: { keyId: "k1", secretText: "s3cr3t-generated-this-run", endDateTime: "2028-11-30T00:00:00Z" },
  neverShown: false,
};
const facts = (options: SummaryFacts["options"]): SummaryFacts => ({
  command: "reset-password",
  options,
  orgUrl: "https://sandbox.crm.dynamics.com",
  identity: app,
  complete: true,
  endsWithVerifyHint: false,
});
const expiryNote = (summary: ReturnType<typeof partnerCenterSummary>) => summary!.notes.find((n) => n.includes("expires on 2028-11-30"));

describe("the secret's expiry note", () => {
  it("with offers: names reset-password --offer, which writes the new one into them", () => {
    const note = expiryNote(partnerCenterSummary(facts({ sandbox: true, identity: "app", offer: ["contoso-a", "contoso-b"] })));
    expect(note).toContain("crm-lead-setup reset-password --sandbox --identity app --app-name 'Lead Writer' --offer contoso-a,contoso-b`");
    expect(note).not.toContain("paste");
  });
  it("without offers: the new one is pasted into Partner Center", () => {
    expect(expiryNote(partnerCenterSummary(facts({ sandbox: true, identity: "app" })))).toContain("paste the new one into Partner Center");
  });
});
