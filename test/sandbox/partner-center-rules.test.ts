import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, SANDBOX_OFFERS, type Sandbox } from "../../src/sandbox/server.js";
import { HttpFailure, type HttpClient, type HttpResponse } from "../../src/services/http.js";
import { parseRetryAfter } from "../../src/services/retry.js";
import { adminClients, sandboxHttp } from "../helpers.js";
import { VirtualClock } from "../virtual-clock.js";

/**
 * The emulated Product Ingestion API (reference: partner-center §1.2–1.5). The sandbox answers job polls
 * with Retry-After 0 here, except in the test that proves Retry-After is enforced.
 */
let sandbox: Sandbox;
let clients: Awaited<ReturnType<typeof adminClients>>;
let token: string;
/** The sandbox gates polls on this clock; a test waits out a Retry-After on it, in no real time. */
const clock = new VirtualClock();
beforeAll(async () => {
  sandbox = await startSandbox({ scenario: { partnerCenterPollSeconds: 0 }, clock });
  clients = await adminClients(sandbox, {}, clock);
  token = await clients.tokens.getAccessToken(sandbox.connection.graphOrigin);
});
afterAll(async () => {
  await clients.http.close();
  await sandbox.close();
});

const CONFIGURE_VERSION = "2022-03-01-preview2";
const CONFIGURE_SCHEMA = "https://schema.mp.microsoft.com/schema/configure/2022-03-01-preview2";
const LEADS_SCHEMA = "https://schema.mp.microsoft.com/schema/customer-leads/2022-03-01-preview3";
const APP_ID = "8f3c1b2a-4d5e-4f60-9a7b-1c2d3e4f5a6b";
const DIRECTORY_ID = "5a9d8c3e-1c7b-4f0a-9e62-0c5d7ab31f44";
const CLIENT_SECRET = "abc8Q~sandbox-test-secret-value-0123456789";
const USER_PASSWORD = "Lead-Writer-Passw0rd-0123456789";

interface Options {
  version?: string | null;
  body?: unknown;
  bearer?: string | null;
  http?: HttpClient;
}

/** One call to the Product Ingestion API under the sandbox's Graph origin. */
function call(method: "GET" | "POST", path: string, options: Options = {}): Promise<HttpResponse> {
  const url = new URL(`${sandbox.connection.graphOrigin}/rp/product-ingestion/${path}`);
  const version = options.version === undefined ? CONFIGURE_VERSION : options.version;
  if (version !== null) url.searchParams.set("$version", version);
  const bearer = options.bearer === undefined ? token : options.bearer;
  return (options.http ?? clients.http).send({
    service: "graph",
    method,
    url: url.toString(),
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
}

const guidOf = (offer: string) => sandbox.partnerCenter.offer(offer).guid;

function leadsResource(offer: string, configuration: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const guid = guidOf(offer);
  return {
    $schema: LEADS_SCHEMA,
    id: `customer-leads/${guid}`,
    product: `product/${guid}`,
    leadDestination: "dynamics",
    dynamicsLeadConfiguration: configuration,
    ...extra,
  };
}
const azureAd = (extra: Record<string, unknown> = {}) => ({
  instanceUrl: "https://contoso.crm4.dynamics.com",
  authentication: "azureAD",
  applicationId: APP_ID,
  applicationKey: CLIENT_SECRET,
  directoryId: DIRECTORY_ID,
  contactEmail: ["sales@contoso.com"],
  ...extra,
});
const configureBody = (...resources: unknown[]) => ({ $schema: CONFIGURE_SCHEMA, resources });

interface JobStatus {
  jobID: string;
  jobStatus: string;
  jobResult: string;
  errors: { code: string; message: string; resourceId?: string }[];
}

/** Posts a configure and polls its status until it completes; returns every status seen. */
async function runJob(body: unknown): Promise<JobStatus[]> {
  const posted = await call("POST", "configure", { body });
  expect(posted.status).toBe(202);
  const seen = [posted.json<JobStatus>()];
  while (seen.at(-1)!.jobStatus !== "completed" && seen.length < 10) {
    seen.push((await call("GET", `configure/${seen[0]!.jobID}/status`)).json<JobStatus>());
  }
  return seen;
}

describe("$version, token and Partner Center role (partner-center §1.2, §1.4)", () => {
  it("refuses a call without $version, with api-version instead, or below every schema version", async () => {
    for (const response of [
      await call("GET", "product", { version: null }),
      await call("GET", `product?api-version=${CONFIGURE_VERSION}`, { version: null }),
    ]) {
      expect(response.status).toBe(400);
      expect(response.json<{ error: { code: string; message: string } }>().error.message).toContain("$version");
    }
    expect((await call("GET", "product", { version: "2022-03-01-preview1" })).status).toBe(400);
    expect((await call("GET", "product", { version: "latest" })).status).toBe(400);
  });

  it("answers 401 without a valid Graph token", async () => {
    expect((await call("GET", "product", { bearer: null })).status).toBe(401);
    const dataverseToken = await clients.tokens.getAccessToken(sandbox.connection.orgUrl);
    expect((await call("GET", "product", { bearer: dataverseToken })).status).toBe(401);
  });

  it("answers 403 in the documented error shape once the Manager role is removed, and Developer may read but not configure", async () => {
    const appId = sandbox.connection.automationClientId;
    try {
      sandbox.partnerCenter.setRole(appId, undefined);
      const refused = await call("GET", `product?externalId=${SANDBOX_OFFERS.saas}`);
      expect(refused.status).toBe(403);
      const error = refused.json<{ error: { code: string; message: string; details: unknown[] } }>().error;
      expect(error).toMatchObject({ code: "forbidden", details: [] });
      expect(error.message).toContain("Manager");
      sandbox.partnerCenter.setRole(appId, "Developer");
      expect((await call("GET", `product?externalId=${SANDBOX_OFFERS.saas}`)).status).toBe(200);
      expect((await call("POST", "configure", { body: configureBody(leadsResource(SANDBOX_OFFERS.dynamics, azureAd())) })).status).toBe(
        403,
      );
    } finally {
      sandbox.partnerCenter.setRole(appId, "Manager");
    }
  });

  it("has the scenario switch partnerCenterRole none: every call is 403", async () => {
    const roleless = await startSandbox({ scenario: { partnerCenterRole: "none" } });
    const http = sandboxHttp(roleless);
    try {
      const { tokens } = await adminClients(roleless);
      const bearer = await tokens.getAccessToken(roleless.connection.graphOrigin);
      const response = await http.send({
        service: "graph",
        method: "GET",
        url: `${roleless.connection.graphOrigin}/rp/product-ingestion/product?$version=${CONFIGURE_VERSION}`,
        headers: { authorization: `Bearer ${bearer}` },
      });
      expect(response.status).toBe(403);
    } finally {
      await http.close();
      await roleless.close();
    }
  });
});

describe("reading products and their customer-leads (partner-center §1.2)", () => {
  it("finds a product by externalId, and lists every offer of the account through @nextLink", async () => {
    const found = (await call("GET", `product?externalId=${SANDBOX_OFFERS.dynamics}`, { version: "2022-03-01-preview3" })).json<{
      value: { id: string; type: string; identity: { externalId: string } }[];
    }>();
    expect(found.value).toHaveLength(1);
    expect(found.value[0]).toMatchObject({
      id: `product/${guidOf(SANDBOX_OFFERS.dynamics)}`,
      type: "dynamics365ForCustomerEngagement",
      identity: { externalId: SANDBOX_OFFERS.dynamics },
    });
    expect((await call("GET", "product?externalId=no-such-offer")).json<{ value: unknown[] }>().value).toEqual([]);

    const ids: string[] = [];
    let page = (await call("GET", "product")).json<{ value: { identity: { externalId: string } }[]; "@nextLink"?: string }>();
    ids.push(...page.value.map((p) => p.identity.externalId));
    while (page["@nextLink"]) {
      const nextLink = new URL(page["@nextLink"]);
      expect(nextLink.searchParams.has("$version")).toBe(false);
      expect((await call("GET", `product${nextLink.search}`, { version: null })).status).toBe(400);
      nextLink.searchParams.set("$version", CONFIGURE_VERSION);
      const next = await clients.http.send({
        service: "graph",
        method: "GET",
        url: nextLink.toString(),
        headers: { authorization: `Bearer ${token}` },
      });
      page = next.json();
      ids.push(...page.value.map((p) => p.identity.externalId));
    }
    expect(ids.sort()).toEqual(Object.values(SANDBOX_OFFERS).sort());
  });

  it("returns a resource tree whose customer-leads resource is found by $schema, at the newest version not above $version", async () => {
    const guid = guidOf(SANDBOX_OFFERS.saas);
    const tree = (await call("GET", `resource-tree/product/${guid}`, { version: "2022-03-01-preview5" })).json<{
      root: string;
      resources: Record<string, unknown>[];
    }>();
    expect(tree.root).toBe(`product/${guid}`);
    const leads = tree.resources.filter((r) => String(r.$schema).includes("/customer-leads/"));
    expect(leads).toHaveLength(1);
    expect(leads[0]).toMatchObject({
      $schema: LEADS_SCHEMA,
      id: `customer-leads/${guid}`,
      product: `product/${guid}`,
      leadDestination: "httpsEndpoint",
    });
    expect(tree.resources.length).toBeGreaterThan(1);
    const older = (await call("GET", `resource-tree/product/${guid}`)).json<{ resources: { $schema: string }[] }>();
    expect(older.resources.some((r) => r.$schema.endsWith("/customer-leads/2022-03-01-preview2"))).toBe(true);
    expect((await call("GET", `resource-tree/product/${guid}?targetType=staging`)).status).toBe(400);
  });
});

describe("configure jobs (partner-center §1.2, §1.3)", () => {
  it("saves an azureAD destination after notStarted → running → completed, and answers the secret masked", async () => {
    const statuses = await runJob(configureBody(leadsResource(SANDBOX_OFFERS.dynamics, azureAd())));
    expect(statuses.map((s) => s.jobStatus)).toEqual(["notStarted", "running", "completed"]);
    expect(statuses.at(-1)).toMatchObject({ jobResult: "succeeded", errors: [] });
    const read = await call("GET", `customer-leads/${guidOf(SANDBOX_OFFERS.dynamics)}`, { version: "2022-03-01-preview3" });
    expect(read.json()).toMatchObject({
      leadDestination: "dynamics",
      dynamicsLeadConfiguration: { ...azureAd(), applicationKey: "*********" },
    });
    expect(read.text()).not.toContain(CLIENT_SECRET);
    expect(sandbox.issuedSecrets()).toContain(CLIENT_SECRET);

    // The masked value sent back keeps the stored secret.
    const again = await runJob(
      configureBody(leadsResource(SANDBOX_OFFERS.dynamics, azureAd({ applicationKey: "*********", contactEmail: ["leads@contoso.com"] }))),
    );
    expect(again.at(-1)!.jobResult).toBe("succeeded");
    expect(sandbox.partnerCenter.offer(SANDBOX_OFFERS.dynamics).draftLeads.dynamicsLeadConfiguration).toMatchObject({
      applicationKey: CLIENT_SECRET,
      contactEmail: ["leads@contoso.com"],
    });
  });

  it("saves an office365 destination with the offer referenced by externalId, and masks the password", async () => {
    const resource = {
      $schema: LEADS_SCHEMA,
      product: { externalId: SANDBOX_OFFERS.saas },
      leadDestination: "dynamics",
      dynamicsLeadConfiguration: {
        instanceUrl: "https://contoso.crm4.dynamics.com",
        authentication: "office365",
        username: "leadwriter@contoso.com",
        password: USER_PASSWORD,
      },
    };
    const statuses = await runJob(configureBody(resource));
    expect(statuses.at(-1)).toMatchObject({ jobStatus: "completed", jobResult: "succeeded" });
    const tree = (await call("GET", `resource-tree/product/${guidOf(SANDBOX_OFFERS.saas)}`, { version: "2022-03-01-preview5" })).json<{
      resources: Record<string, unknown>[];
    }>();
    const leads = tree.resources.find((r) => String(r.$schema).includes("/customer-leads/"))!;
    expect(leads).toMatchObject({
      leadDestination: "dynamics",
      dynamicsLeadConfiguration: { authentication: "office365", username: "leadwriter@contoso.com", password: "*********" },
    });
    expect(leads.httpsEndpointLeadConfiguration).toBeUndefined();
    expect(JSON.stringify(tree)).not.toContain(USER_PASSWORD);
  });

  const forbidden: [string, () => unknown, string][] = [
    [
      "an unknown property",
      () => leadsResource(SANDBOX_OFFERS.dynamics, azureAd({ clientSecret: "x" })),
      "dynamicsLeadConfiguration.clientSecret is not an allowed property",
    ],
    [
      "a bad uuid",
      () => leadsResource(SANDBOX_OFFERS.dynamics, azureAd({ applicationId: "not-a-guid" })),
      "applicationId is not a valid uuid",
    ],
    [
      "azureAD without applicationId",
      () => leadsResource(SANDBOX_OFFERS.dynamics, azureAd({ applicationId: undefined })),
      `authentication "azureAD" requires applicationId`,
    ],
    [
      "azureAD with username and password",
      () => leadsResource(SANDBOX_OFFERS.dynamics, azureAd({ username: "u@contoso.com", password: "p" })),
      "must not carry both username and password",
    ],
    [
      "office365 without password",
      () =>
        leadsResource(SANDBOX_OFFERS.dynamics, {
          instanceUrl: "https://contoso.crm4.dynamics.com",
          authentication: "office365",
          username: "u@contoso.com",
        }),
      `authentication "office365" requires password`,
    ],
    [
      "an over-long username",
      () =>
        leadsResource(SANDBOX_OFFERS.dynamics, {
          instanceUrl: "https://contoso.crm4.dynamics.com",
          authentication: "office365",
          username: "u".repeat(129),
          password: "p",
        }),
      "username must be 1 to 128 characters long",
    ],
    [
      "an over-long applicationKey",
      () => leadsResource(SANDBOX_OFFERS.dynamics, azureAd({ applicationKey: "k".repeat(2049) })),
      "applicationKey must be 1 to 2048 characters long",
    ],
    ["a missing instanceUrl", () => leadsResource(SANDBOX_OFFERS.dynamics, azureAd({ instanceUrl: undefined })), "instanceUrl is required"],
    [
      "a missing leadDestination",
      () => leadsResource(SANDBOX_OFFERS.dynamics, azureAd(), { leadDestination: undefined }),
      "leadDestination is required",
    ],
    [
      "a second destination's configuration",
      () =>
        leadsResource(SANDBOX_OFFERS.dynamics, azureAd(), { httpsEndpointLeadConfiguration: { httpsEndpointUrl: "https://x.example" } }),
      `httpsEndpointLeadConfiguration is not allowed with leadDestination "dynamics"`,
    ],
    [
      "an unknown resource property",
      () => leadsResource(SANDBOX_OFFERS.dynamics, azureAd(), { publish: true }),
      "resources[0].publish is not an allowed property",
    ],
    [
      "a bad contact email",
      () => leadsResource(SANDBOX_OFFERS.dynamics, azureAd({ contactEmail: ["sales at contoso"] })),
      "contactEmail item 0 is not a valid email address",
    ],
  ];
  for (const [problem, resource, message] of forbidden) {
    it(`fails the job on ${problem}, naming it, and changes nothing`, async () => {
      const before = structuredClone(sandbox.partnerCenter.offer(SANDBOX_OFFERS.dynamics).draftLeads);
      const final = (await runJob(configureBody(resource()))).at(-1)!;
      expect(final).toMatchObject({ jobStatus: "completed", jobResult: "failed" });
      const error = final.errors.find((e) => e.message.includes(message));
      expect(error, JSON.stringify(final.errors)).toMatchObject({
        code: "schemaValidationError",
        resourceId: `customer-leads/${guidOf(SANDBOX_OFFERS.dynamics)}`,
      });
      expect(JSON.stringify(final)).not.toContain(CLIENT_SECRET);
      expect(sandbox.partnerCenter.offer(SANDBOX_OFFERS.dynamics).draftLeads).toEqual(before);
    });
  }

  it("fails a locked offer (being published) with productLocked, while the other offer of the job is saved", async () => {
    const final = (
      await runJob(
        configureBody(
          leadsResource(SANDBOX_OFFERS.publishing, azureAd()),
          leadsResource(SANDBOX_OFFERS.dynamics, azureAd({ contactEmail: ["locked-test@contoso.com"] })),
        ),
      )
    ).at(-1)!;
    expect(final).toMatchObject({ jobStatus: "completed", jobResult: "failed" });
    expect(final.errors).toEqual([
      expect.objectContaining({ code: "productLocked", resourceId: `customer-leads/${guidOf(SANDBOX_OFFERS.publishing)}` }),
    ]);
    expect(sandbox.partnerCenter.offer(SANDBOX_OFFERS.publishing).draftLeads.leadDestination).toBe("none");
    expect(sandbox.partnerCenter.offer(SANDBOX_OFFERS.dynamics).draftLeads.dynamicsLeadConfiguration).toMatchObject({
      contactEmail: ["locked-test@contoso.com"],
    });
  });

  it("fails with notSupported for a product type the scenario lists (configure support per offer type is UNCONFIRMED)", async () => {
    sandbox.state.scenario.partnerCenterNotSupportedTypes = ["dynamics365ForCustomerEngagement"];
    try {
      const final = (await runJob(configureBody(leadsResource(SANDBOX_OFFERS.dynamics, azureAd())))).at(-1)!;
      expect(final).toMatchObject({
        jobResult: "failed",
        errors: [expect.objectContaining({ code: "notSupported", resourceId: `customer-leads/${guidOf(SANDBOX_OFFERS.dynamics)}` })],
      });
    } finally {
      sandbox.state.scenario.partnerCenterNotSupportedTypes = [];
    }
  });

  it("refuses the job detail before completion and a cancel after it (the doc's own answers)", async () => {
    const posted = (
      await call("POST", "configure", { body: configureBody(leadsResource(SANDBOX_OFFERS.dynamics, azureAd())) })
    ).json<JobStatus>();
    expect((await call("GET", `configure/${posted.jobID}`)).status).toBe(400);
    const cancelled = (await call("POST", `configure/${posted.jobID}/cancel`)).json<JobStatus>();
    expect(cancelled).toMatchObject({ jobStatus: "completed", jobResult: "cancelled" });
    const refused = await call("POST", `configure/${posted.jobID}/cancel`);
    expect(refused.status).toBe(400);
    expect(refused.json<{ error: { message: string } }>().error.message).toBe("Cannot cancel job, job has already completed.");
    expect((await call("GET", `configure/${posted.jobID}`)).json<{ resources: unknown[] }>().resources).toEqual([]);
  });
});

/** Sleeps for a Retry-After value, as a polling client must: the sandbox's gate is exactly that long. */
const waitOut = (retryAfter: string | undefined) => clock.sleep(parseRetryAfter(retryAfter, clock.now()) ?? 0);

describe("pacing: Retry-After and 429 (partner-center §1.2 'Pacing')", () => {
  it("sends Retry-After on a running job and answers a sooner poll with 429 without advancing the job", async () => {
    const impatient = sandboxHttp(sandbox, { maxAttempts: 1 });
    sandbox.state.scenario.partnerCenterPollSeconds = 1;
    try {
      const posted = await call("POST", "configure", { body: configureBody(leadsResource(SANDBOX_OFFERS.dynamics, azureAd())) });
      expect(posted.headers["retry-after"]).toBe("1");
      const jobId = posted.json<JobStatus>().jobID;
      const tooSoon = await call("GET", `configure/${jobId}/status`, { http: impatient }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(tooSoon).toBeInstanceOf(HttpFailure);
      expect((tooSoon as HttpFailure).lastStatus).toBe(429);
      expect(sandbox.requests.at(-1)).toMatchObject({ status: 429, retryAfterViolation: true });
      expect(sandbox.partnerCenter.jobs.get(jobId)!.jobStatus).toBe("notStarted");

      // A client that waits out each Retry-After (the 429's, then the status answer's) is never refused.
      sandbox.clearRequests();
      await waitOut("1");
      const running = await call("GET", `configure/${jobId}/status`);
      expect(running.json<JobStatus>().jobStatus).toBe("running");
      expect(running.headers["retry-after"]).toBe("1");
      await waitOut(running.headers["retry-after"]);
      const completed = await call("GET", `configure/${jobId}/status`);
      expect(completed.json<JobStatus>()).toMatchObject({ jobStatus: "completed", jobResult: "succeeded" });
      expect(completed.headers["retry-after"]).toBeUndefined();
      expect(sandbox.requests.filter((r) => r.retryAfterViolation)).toEqual([]);
    } finally {
      sandbox.state.scenario.partnerCenterPollSeconds = 0;
      await impatient.close();
    }
  });

  it("throttles the ingestion routes with the throttleFirstCall fault, and a client that honours Retry-After gets through", async () => {
    sandbox.faults.set({ throttleFirstCall: { retryAfterSeconds: 1 } });
    sandbox.clearRequests();
    try {
      const found = await call("GET", `product?externalId=${SANDBOX_OFFERS.saas}`);
      expect(found.status).toBe(200);
      expect(sandbox.requests.map((r) => r.status)).toEqual([429, 200]);
      expect(sandbox.requests.filter((r) => r.retryAfterViolation)).toEqual([]);
    } finally {
      sandbox.faults.set({});
    }
  });
});
