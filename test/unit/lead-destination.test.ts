import { describe, expect, it } from "vitest";
import {
  compareDestination,
  configureBody,
  decideOffer,
  describeOfferChange,
  destinationFingerprint,
  leadConfiguration,
  type DesiredLeadDestination,
  type DestinationState,
} from "../../src/offers/lead-destination.js";
import { offerOutcomes, offersSummary, type ConfigureJobEnd } from "../../src/offers/offer-outcomes.js";
import { parseContactEmails, parseOfferIds, requirePartnerCenterCloud } from "../../src/offer-options.js";
import { ExitCode } from "../../src/errors.js";
import type { CustomerLeadsResource } from "../../src/services/partner-center.js";

const APP_ID = "8f3c1b2a-4d5e-4f60-9a7b-1c2d3e4f5a6b";
const DIRECTORY_ID = "5a9d8c3e-1c7b-4f0a-9e62-0c5d7ab31f44";
const GUID = "0f6a44c4-93c5-4b53-a1c8-1b2a3c4d5e6f";
const PREVIEW2 = "https://product-ingestion.azureedge.net/schema/customer-leads/2022-03-01-preview2";
const PREVIEW3 = "https://schema.mp.microsoft.com/schema/customer-leads/2022-03-01-preview3";

const app: DesiredLeadDestination = {
  instanceUrl: "https://contoso.crm4.dynamics.com",
  identity: { kind: "app", applicationId: APP_ID, directoryId: DIRECTORY_ID },
  contactEmail: ["sales@contoso.com", "leads@contoso.com"],
};
const user: DesiredLeadDestination = {
  instanceUrl: "https://contoso.crm4.dynamics.com",
  identity: { kind: "user", username: "mp-leadwriter@contoso.com" },
  contactEmail: undefined,
};

/** The resource as Partner Center answers it: secret masked. */
const dynamics = (configuration: Record<string, unknown>, schema = PREVIEW3): CustomerLeadsResource => ({
  $schema: schema,
  id: `customer-leads/${GUID}`,
  product: `product/${GUID}`,
  leadDestination: "dynamics",
  dynamicsLeadConfiguration: configuration,
});
const appStored = (extra: Record<string, unknown> = {}) =>
  dynamics({
    instanceUrl: "https://contoso.crm4.dynamics.com",
    authentication: "azureAD",
    applicationId: APP_ID,
    applicationKey: "*********",
    directoryId: DIRECTORY_ID,
    contactEmail: ["sales@contoso.com", "leads@contoso.com"],
    ...extra,
  });
const userStored = (extra: Record<string, unknown> = {}) =>
  dynamics({
    instanceUrl: "https://contoso.crm4.dynamics.com",
    authentication: "office365",
    username: "mp-leadwriter@contoso.com",
    password: "*********",
    ...extra,
  });

describe("compareDestination: connected, missing, or drifted naming the field", () => {
  const cases: [string, CustomerLeadsResource | undefined, DesiredLeadDestination, DestinationState][] = [
    ["no customer-leads resource", undefined, app, { status: "missing", leadDestination: undefined }],
    ["destination none", { $schema: PREVIEW3, leadDestination: "none" }, app, { status: "missing", leadDestination: "none" }],
    [
      "an HTTPS endpoint",
      { $schema: PREVIEW3, leadDestination: "httpsEndpoint", httpsEndpointLeadConfiguration: { httpsEndpointUrl: "https://x.example" } },
      app,
      { status: "missing", leadDestination: "httpsEndpoint" },
    ],
    ["the same app destination", appStored(), app, { status: "connected" }],
    [
      "the same, written differently (URL case and slash, id case, email order and case)",
      appStored({
        instanceUrl: "https://Contoso.CRM4.dynamics.com/",
        applicationId: APP_ID.toUpperCase(),
        contactEmail: ["LEADS@contoso.com", "sales@contoso.com"],
      }),
      app,
      { status: "connected" },
    ],
    ["another org", appStored({ instanceUrl: "https://fabrikam.crm.dynamics.com" }), app, { status: "drifted", fields: ["instanceUrl"] }],
    ["another app", appStored({ applicationId: DIRECTORY_ID }), app, { status: "drifted", fields: ["applicationId"] }],
    ["another directory", appStored({ directoryId: APP_ID }), app, { status: "drifted", fields: ["directoryId"] }],
    ["other contact emails", appStored({ contactEmail: ["sales@contoso.com"] }), app, { status: "drifted", fields: ["contactEmail"] }],
    ["no contact emails stored", appStored({ contactEmail: undefined }), app, { status: "drifted", fields: ["contactEmail"] }],
    [
      "the user where the app is wanted",
      userStored(),
      app,
      { status: "drifted", fields: ["authentication", "applicationId", "directoryId", "contactEmail"] },
    ],
    ["the same user (contact emails not asked for)", userStored({ contactEmail: ["x@contoso.com"] }), user, { status: "connected" }],
    ["the same user, user name in other case", userStored({ username: "MP-LeadWriter@Contoso.com" }), user, { status: "connected" }],
    ["another user", userStored({ username: "other@contoso.com" }), user, { status: "drifted", fields: ["username"] }],
  ];
  it.each(cases)("%s", (_, current, desired, expected) => {
    expect(compareDestination(current, desired)).toEqual(expected);
  });
});

describe("decideOffer: what changes, and the secret generated in this run", () => {
  const offer = (current: CustomerLeadsResource | undefined) => ({ offerId: "contoso-lead-saas", productGuid: GUID, current });
  const cases: [string, CustomerLeadsResource | undefined, DesiredLeadDestination, boolean, string[]][] = [
    ["connected, no new secret: nothing", appStored(), app, false, []],
    ["connected, a new client secret: the secret alone", appStored(), app, true, ["applicationKey"]],
    ["connected user, a new password: the password alone", userStored(), user, true, ["password"]],
    [
      "missing: every field and the secret",
      undefined,
      app,
      false,
      ["leadDestination", "instanceUrl", "authentication", "applicationId", "directoryId", "contactEmail", "applicationKey"],
    ],
    [
      "drifted: the field, and the secret it is sent with",
      appStored({ directoryId: APP_ID }),
      app,
      false,
      ["directoryId", "applicationKey"],
    ],
  ];
  it.each(cases)("%s", (_, current, desired, newSecret, fields) => {
    expect(decideOffer(offer(current), desired, newSecret).changes.map((c) => c.field)).toEqual(fields);
  });

  it("writes back the customer-leads $schema the resource tree reported, else preview3", () => {
    expect(decideOffer(offer(appStored({})), app, true).schema).toBe(PREVIEW3);
    expect(decideOffer(offer(dynamics({}, PREVIEW2)), app, true).schema).toBe(PREVIEW2);
    expect(decideOffer(offer(undefined), app, true).schema).toBe(PREVIEW3);
  });
});

describe("describeOfferChange: plan lines name the fields, secrets masked", () => {
  it.each([
    [
      "from an HTTPS endpoint",
      { $schema: PREVIEW3, leadDestination: "httpsEndpoint" },
      "lead destination of offer contoso-lead-saas: leadDestination httpsEndpoint → dynamics, instanceUrl https://contoso.crm4.dynamics.com, authentication azureAD, " +
        `applicationId ${APP_ID}, directoryId ${DIRECTORY_ID}, contactEmail sales@contoso.com;leads@contoso.com, applicationKey (new value, hidden)`,
    ],
    [
      "another org",
      appStored({ instanceUrl: "https://fabrikam.crm.dynamics.com" }),
      "lead destination of offer contoso-lead-saas: instanceUrl https://fabrikam.crm.dynamics.com → https://contoso.crm4.dynamics.com, applicationKey (new value, hidden)",
    ],
  ] as [string, CustomerLeadsResource, string][])("%s", (_, current, line) => {
    const decision = decideOffer({ offerId: "contoso-lead-saas", productGuid: GUID, current }, app, false);
    expect(describeOfferChange(decision)).toEqual({ action: "configure", target: line });
    expect(line).not.toContain("*");
  });
});

describe("leadConfiguration and configureBody", () => {
  it.each([
    [
      "app",
      app,
      "app-secret-value",
      undefined,
      {
        instanceUrl: "https://contoso.crm4.dynamics.com",
        authentication: "azureAD",
        applicationId: APP_ID,
        applicationKey: "app-secret-value",
        directoryId: DIRECTORY_ID,
        contactEmail: ["sales@contoso.com", "leads@contoso.com"],
      },
    ],
    [
      "user, contact emails kept from the offer",
      user,
      "user-password-value",
      userStored({ contactEmail: ["kept@contoso.com"] }),
      {
        instanceUrl: "https://contoso.crm4.dynamics.com",
        authentication: "office365",
        username: "mp-leadwriter@contoso.com",
        password: "user-password-value",
        contactEmail: ["kept@contoso.com"],
      },
    ],
    [
      "user, contact emails kept from the offer's earlier destination (an HTTPS endpoint)",
      user,
      "user-password-value",
      {
        $schema: PREVIEW3,
        leadDestination: "httpsEndpoint",
        httpsEndpointLeadConfiguration: { httpsEndpointUrl: "https://leads.contoso.com/in", contactEmail: ["ops@contoso.com"] },
      },
      {
        instanceUrl: "https://contoso.crm4.dynamics.com",
        authentication: "office365",
        username: "mp-leadwriter@contoso.com",
        password: "user-password-value",
        contactEmail: ["ops@contoso.com"],
      },
    ],
    [
      "user, no contact emails anywhere",
      user,
      "user-password-value",
      { $schema: PREVIEW3, leadDestination: "none" },
      {
        instanceUrl: "https://contoso.crm4.dynamics.com",
        authentication: "office365",
        username: "mp-leadwriter@contoso.com",
        password: "user-password-value",
      },
    ],
  ] as [string, DesiredLeadDestination, string, CustomerLeadsResource | undefined, unknown][])(
    "%s",
    (_, desired, secret, current, expected) => {
      expect(leadConfiguration(desired, secret, current)).toEqual(expected);
    },
  );

  it("puts every offer into one configure body, each with its own $schema and ids", () => {
    const other = "1a2b3c4d-0000-4000-8000-000000000001";
    const decisions = [
      decideOffer({ offerId: "a-offer", productGuid: GUID, current: dynamics({}, PREVIEW2) }, app, true),
      decideOffer({ offerId: "b-offer", productGuid: other, current: undefined }, app, true),
    ];
    const configuration = leadConfiguration(app, "app-secret-value");
    expect(configureBody(decisions.map((decision) => ({ decision, configuration })))).toEqual({
      $schema: "https://schema.mp.microsoft.com/schema/configure/2022-03-01-preview2",
      resources: [
        {
          $schema: PREVIEW2,
          id: `customer-leads/${GUID}`,
          product: `product/${GUID}`,
          leadDestination: "dynamics",
          dynamicsLeadConfiguration: configuration,
        },
        {
          $schema: PREVIEW3,
          id: `customer-leads/${other}`,
          product: `product/${other}`,
          leadDestination: "dynamics",
          dynamicsLeadConfiguration: configuration,
        },
      ],
    });
  });

  it("fingerprints what a job sets without its secret: another secret version or field is another job", () => {
    const same = destinationFingerprint(app, "key-1");
    expect(destinationFingerprint({ ...app }, "key-1")).toBe(same);
    expect(destinationFingerprint(app, "key-2")).not.toBe(same);
    expect(destinationFingerprint({ ...app, instanceUrl: "https://fabrikam.crm.dynamics.com" }, "key-1")).not.toBe(same);
  });
});

describe("the --offer, --contact-email and cloud checks (exit 2 before anything changes)", () => {
  it.each([
    [["contoso-lead-saas"], ["contoso-lead-saas"]],
    [
      ["contoso-lead-saas, contoso-crm-connector", "contoso-lead-saas"],
      ["contoso-lead-saas", "contoso-crm-connector"],
    ],
    [
      ["abc", "a_b-c"],
      ["abc", "a_b-c"],
    ],
  ])("accepts %j", (values, ids) => {
    expect(parseOfferIds(values)).toEqual(ids);
  });

  it.each([[["Contoso-Lead"]], [["ab"]], [["-offer"]], [["a".repeat(51)]], [["offer id"]], [[","]]])("refuses %j", (values) => {
    expect(() => parseOfferIds(values)).toThrowError(expect.objectContaining({ exitCode: ExitCode.Usage, code: "offer-id-invalid" }));
  });

  it("reads contact emails separated by commas or semicolons, and refuses one that is not an address", () => {
    expect(parseContactEmails(["sales@contoso.com; leads@contoso.com", "sales@contoso.com"])).toEqual([
      "sales@contoso.com",
      "leads@contoso.com",
    ]);
    expect(() => parseContactEmails(["sales at contoso"])).toThrowError(
      expect.objectContaining({ exitCode: ExitCode.Usage, code: "contact-email-invalid" }),
    );
  });

  it.each([
    ["public", true],
    ["gcc", true],
    ["custom", true],
    ["gcchigh", false],
    ["dod", false],
    ["china", false],
  ] as const)("--cloud %s allows --offer: %s", (cloud, allowed) => {
    if (allowed) expect(() => requirePartnerCenterCloud(cloud)).not.toThrow();
    else
      expect(() => requirePartnerCenterCloud(cloud)).toThrowError(
        expect.objectContaining({ exitCode: ExitCode.Usage, code: "partner-center-cloud-unsupported" }),
      );
  });
});

describe("offerOutcomes and offersSummary: partnerCenter.offers and the summary's lines", () => {
  const OTHER = "1a2b3c4d-0000-4000-8000-000000000001";
  const THIRD = "1a2b3c4d-0000-4000-8000-000000000002";
  const decisions = [
    decideOffer({ offerId: "a-offer", productGuid: GUID, current: undefined }, app, true),
    decideOffer({ offerId: "b-offer", productGuid: OTHER, current: undefined }, app, true),
    decideOffer({ offerId: "c-offer", productGuid: THIRD, current: appStored() }, app, false),
  ];
  const locked = (guid: string | undefined) => ({
    code: "productLocked",
    message: "locked",
    ...(guid ? { resourceId: `customer-leads/${guid}` } : {}),
  });
  it.each([
    ["a dry-run", true, undefined, ["planned", "planned", "unchanged"]],
    ["a job that succeeded", false, { jobResult: "succeeded" }, ["done", "done", "unchanged"]],
    [
      "a job whose error names one offer",
      false,
      { jobResult: "failed", errors: [locked(OTHER.toUpperCase())] },
      ["done", "failed", "unchanged"],
    ],
    [
      "a job with an error naming no offer",
      false,
      { jobResult: "failed", errors: [locked(GUID), locked(undefined)] },
      ["failed", "failed", "unchanged"],
    ],
    ["a job that did not finish", false, { jobResult: "unfinished" }, ["failed", "failed", "unchanged"]],
  ] as [string, boolean, ConfigureJobEnd | undefined, string[]][])("%s", (_, dryRun, job, statuses) => {
    const outcomes = offerOutcomes(decisions, dryRun, job);
    expect(outcomes.map((o) => o.status)).toEqual(statuses);
    expect(outcomes[0]).toMatchObject({ offerId: "a-offer", productId: `product/${GUID}`, target: "draft" });
  });

  it("lists the saved offers and says they take effect once published", () => {
    expect(offersSummary(offerOutcomes(decisions, false, { jobResult: "failed", errors: [locked(OTHER)] }))).toEqual([
      "Lead destination saved in the draft of offer a-offer.",
      "Already sending leads to this Dynamics: offer c-offer.",
      "Not connected: offer b-offer. Paste the values above into its Customer leads dialog, or re-run.",
      "Publish the offer in Partner Center (Review and publish) for the new lead destination to take effect.",
    ]);
    expect(offersSummary(offerOutcomes(decisions.slice(2), false, undefined))).toEqual([
      "Already sending leads to this Dynamics: offer c-offer.",
    ]);
  });
});
