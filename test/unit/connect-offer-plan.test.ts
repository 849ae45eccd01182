import { describe, expect, it } from "vitest";
import { connectOfferStep, type ConnectOfferState } from "../../src/steps/connect-offer.js";
import { decideOffer, type DesiredLeadDestination } from "../../src/offers/lead-destination.js";

/** connect-offer's plan (SPEC §7), pure: one configure op for every offer that changes, a resume, or nothing. */
const step = connectOfferStep({
  offerIds: ["contoso-lead-saas", "contoso-crm-connector"],
  identity: "app",
  appName: "Lead Writer",
  syncTimeoutSeconds: 600,
  serviceSecret: async () => "unused",
});

const APP_ID = "11111111-2222-3333-4444-555555555555";
const TENANT = "5a9d8c3e-1c7b-4f0a-9e62-0c5d7ab31f44";
const desired: DesiredLeadDestination = {
  instanceUrl: "https://contoso.crm4.dynamics.com",
  identity: { kind: "app", applicationId: APP_ID, directoryId: TENANT },
  contactEmail: undefined,
};
const connected = {
  $schema: "https://schema.mp.microsoft.com/schema/customer-leads/2022-03-01-preview3",
  leadDestination: "dynamics",
  dynamicsLeadConfiguration: {
    instanceUrl: "https://contoso.crm4.dynamics.com",
    authentication: "azureAD",
    applicationId: APP_ID,
    applicationKey: "*********",
    directoryId: TENANT,
  },
};

function state(currents: [string, unknown][], newSecret = false, extra: Partial<ConnectOfferState> = {}): ConnectOfferState {
  return {
    offers: currents.map(([offerId, current], index) =>
      decideOffer({ offerId, productGuid: `0000000${index}-0000-0000-0000-000000000000`, current: current as never }, desired, newSecret),
    ),
    desired,
    writer: { identity: desired.identity, label: 'the app "Lead Writer"', generated: newSecret ? "s3cr3t" : undefined },
    ...extra,
  };
}

describe("connect-offer's plan", () => {
  it("plans nothing when every offer already sends leads to this Dynamics with this identity", () => {
    const plan = step.plan(state([["contoso-lead-saas", connected]]));
    expect(plan.ops).toEqual([]);
    expect(plan.summary).toContain("already this Dynamics");
  });

  it("one configure op for all offers that change, naming each changed field; the secret only as hidden", () => {
    const plan = step.plan(
      state(
        [
          ["contoso-lead-saas", connected],
          ["contoso-crm-connector", { leadDestination: "none" }],
        ],
        true,
        {},
      ),
    );
    expect(plan.ops).toHaveLength(1);
    const line = step.describe(plan.ops[0]!).target;
    expect(line).toContain("offer contoso-lead-saas: applicationKey (new value, hidden)");
    expect(line).toContain(`offer contoso-crm-connector: leadDestination none → dynamics, instanceUrl https://contoso.crm4.dynamics.com`);
    expect(line).not.toContain("s3cr3t");
  });

  it("a drifted field is named with its old and new value", () => {
    const drifted = {
      ...connected,
      dynamicsLeadConfiguration: { ...connected.dynamicsLeadConfiguration, instanceUrl: "https://old.crm.dynamics.com" },
    };
    const plan = step.plan(state([["contoso-lead-saas", drifted]]));
    expect(plan.drift).toBe(true);
    expect(step.describe(plan.ops[0]!).target).toBe(
      "lead destination of offer contoso-lead-saas: instanceUrl https://old.crm.dynamics.com → https://contoso.crm4.dynamics.com, applicationKey (new value, hidden)",
    );
  });

  it("a job an earlier run left running is waited for, not posted again", () => {
    const resumable = { jobId: "job-1", offerIds: ["contoso-crm-connector"], fingerprint: "f", postedAt: "2026-01-01T00:00:00Z" };
    const plan = step.plan(state([["contoso-crm-connector", { leadDestination: "none" }]], false, { resumable }));
    expect(plan.ops).toEqual([expect.objectContaining({ kind: "resume-job", jobId: "job-1" })]);
    expect(step.describe(plan.ops[0]!)).toEqual({
      action: "wait",
      target: "configure job job-1 (lead destination of contoso-crm-connector)",
    });
  });

  it("an identity still to be created makes the plan depend on its step", () => {
    const waiting = state([["contoso-crm-connector", { leadDestination: "none" }]], true);
    waiting.writer = { ...waiting.writer, generated: undefined, waitingFor: "create-app" };
    expect(step.plan(waiting).dependsOn).toEqual(["create-app"]);
  });
});
