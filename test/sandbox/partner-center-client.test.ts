import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSandbox, SANDBOX_OFFERS, type Sandbox } from "../../src/sandbox/server.js";
import { validateConfigureBody } from "../../src/sandbox/customer-leads-schema.js";
import { HttpClient } from "../../src/services/http.js";
import { Redactor } from "../../src/redact.js";
import type { Clock } from "../../src/clock.js";
import { CliError, ExitCode } from "../../src/errors.js";
import { PartnerCenterApi, type ConfigureJobStatus } from "../../src/services/partner-center.js";
import { awaitConfigureJob } from "../../src/offers/configure-job.js";
import { clearPendingJob, pendingJobFor, recordPendingJob } from "../../src/offers/pending-jobs.js";
import {
  configureBody,
  configureBodyFor,
  decideOffer,
  leadConfiguration,
  type DesiredLeadDestination,
  type OfferDecision,
} from "../../src/offers/lead-destination.js";
import { adminClients } from "../helpers.js";

/**
 * The Partner Center client, the lead-destination builder and the job poller, in-process against the
 * sandbox's Product Ingestion API (reference: partner-center §1.2–1.4). Job polls are answered without
 * Retry-After here (a virtual clock then costs no time), except in the test that proves it is honoured.
 */
let sandbox: Sandbox;
let clients: Awaited<ReturnType<typeof adminClients>>;
let http: HttpClient;
let redactor: Redactor;
let trace: string[];
let api: PartnerCenterApi;
/** Every Product Ingestion call must carry `$version` (partner-center §1.2): any without it, over the whole file. */
const withoutVersion: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ scenario: { partnerCenterPollSeconds: 0 } });
  clients = await adminClients(sandbox);
  redactor = new Redactor();
  trace = [];
  http = new HttpClient({
    onlyCaPem: sandbox.connection.caPem,
    redactor,
    trace: (line) => trace.push(line),
  });
  sandbox.onRequest((entry) => {
    if (entry.path.startsWith("/rp/product-ingestion") && !new URL(entry.path, "https://x").searchParams.has("$version"))
      withoutVersion.push(entry.path);
  });
  // The token of the Partner Center account's tenant: a Graph token, as `--partner-center-tenant` gets it.
  api = new PartnerCenterApi(http, sandbox.connection.graphOrigin, () => clients.tokens.getAccessToken(sandbox.connection.graphOrigin));
});
afterAll(async () => {
  expect(withoutVersion).toEqual([]);
  await http.close();
  await clients.http.close();
  await sandbox.close();
});
beforeEach(() => {
  sandbox.state.scenario.partnerCenterPollSeconds = 0;
  sandbox.state.scenario.partnerCenterRunningPolls = 1;
});

/** Time that passes only when slept: polls without Retry-After cost nothing. */
function virtualClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      slept.push(ms);
      now += ms;
    },
  };
}

const APP_ID = "8f3c1b2a-4d5e-4f60-9a7b-1c2d3e4f5a6b";
const DIRECTORY_ID = "5a9d8c3e-1c7b-4f0a-9e62-0c5d7ab31f44";
const CLIENT_SECRET = "Qx8~client-secret-of-this-run-0123456789abcdef";
const USER_PASSWORD = "Lead-Writer-Passw0rd-of-this-run-4711";

const appDestination = (extra: Partial<DesiredLeadDestination> = {}): DesiredLeadDestination => ({
  instanceUrl: sandbox.connection.orgUrl,
  identity: { kind: "app", applicationId: APP_ID, directoryId: DIRECTORY_ID },
  contactEmail: ["leads@contoso.com"],
  ...extra,
});

async function decide(offerIds: string[], desired: DesiredLeadDestination, secretGenerated: boolean): Promise<OfferDecision[]> {
  const offers = await api.requireProducts(offerIds);
  return Promise.all(
    offers.map(async (offer) =>
      decideOffer(
        { offerId: offer.offerId, productGuid: offer.productGuid, current: await api.customerLeads(offer.productGuid) },
        desired,
        secretGenerated,
      ),
    ),
  );
}

/** Plans, posts one job for every offer that changes, and waits for it: what `connect-offer` will do. */
async function connect(offerIds: string[], desired: DesiredLeadDestination, secret: string, clock: Clock = virtualClock()) {
  const decisions = await decide(offerIds, desired, true);
  const started = await api.configure(configureBodyFor(decisions, desired, secret)!);
  const byResource = new Map(decisions.map((d) => [`customer-leads/${d.productGuid}`, d.offerId]));
  return awaitConfigureJob(api, started, { clock, timeoutMs: 600_000, offerOf: (id) => byResource.get(id) });
}

const configurePosts = () => sandbox.requests.filter((r) => r.method === "POST" && r.path.includes("/rp/product-ingestion/configure"));

async function failureOf(promise: Promise<unknown>): Promise<CliError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(CliError);
  return outcome as CliError;
}

describe("reading offers (partner-center §1.2)", () => {
  it("finds an offer by its offer ID, and answers undefined for one the account does not have", async () => {
    const found = await api.findProduct(SANDBOX_OFFERS.dynamics);
    const guid = sandbox.partnerCenter.offer(SANDBOX_OFFERS.dynamics).guid;
    expect(found).toEqual({
      offerId: SANDBOX_OFFERS.dynamics,
      productId: `product/${guid}`,
      productGuid: guid,
      type: "dynamics365ForCustomerEngagement",
      alias: "Contoso CRM Connector",
    });
    expect(await api.findProduct("no-such-offer")).toBeUndefined();
    expect(sandbox.requests.filter((r) => r.path.includes("/rp/product-ingestion/")).every((r) => r.path.includes("$version="))).toBe(true);
  });

  it("lists every offer the account can see, following @nextLink across pages", async () => {
    sandbox.clearRequests();
    const offers = await api.listProducts();
    expect(offers.map((o) => o.offerId).sort()).toEqual(Object.values(SANDBOX_OFFERS).sort());
    expect(sandbox.requests.filter((r) => r.path.includes("/rp/product-ingestion/product")).length).toBeGreaterThan(1);
  });

  it("refuses an unknown offer with exit 2, naming it and the offers the account can see, before anything changes", async () => {
    sandbox.clearRequests();
    const error = await failureOf(api.requireProducts([SANDBOX_OFFERS.saas, "contoso-typo"]));
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.code).toBe("partner-center-offer-unknown");
    expect(error.message).toContain("contoso-typo");
    for (const offer of Object.values(SANDBOX_OFFERS)) expect(error.message).toContain(offer);
    expect(sandbox.mutatingRequests()).toEqual([]);
  });

  it("reads the offer's customer-leads resource from the resource tree, by its $schema", async () => {
    const guid = sandbox.partnerCenter.offer(SANDBOX_OFFERS.saas).guid;
    const leads = await api.customerLeads(guid);
    expect(leads).toMatchObject({
      $schema: "https://schema.mp.microsoft.com/schema/customer-leads/2022-03-01-preview3",
      id: `customer-leads/${guid}`,
      leadDestination: "httpsEndpoint",
    });
    expect(sandbox.requests.at(-1)!.path).toContain("$version=2022-03-01-preview5");
  });
});

describe("the Partner Center role (partner-center §1.4)", () => {
  it("turns a 403 without the role into exit 4 naming Account settings → User management and Manager", async () => {
    const appId = sandbox.connection.automationClientId;
    sandbox.partnerCenter.setRole(appId, undefined);
    try {
      const error = await failureOf(api.findProduct(SANDBOX_OFFERS.saas));
      expect(error.exitCode).toBe(ExitCode.TenantNotReady);
      expect(error.code).toBe("partner-center-role-missing");
      expect(error.hint).toContain("Account settings → User management");
      expect(error.hint).toContain("Manager");
      expect(error.hint).toContain("--partner-center-tenant");
    } finally {
      sandbox.partnerCenter.setRole(appId, "Manager");
    }
  });
});

describe("a token Partner Center does not take (partner-center §1.4)", () => {
  it("turns a 401 into exit 4 that points to --partner-center-tenant", async () => {
    const dataverseAudience = new PartnerCenterApi(http, sandbox.connection.graphOrigin, () =>
      clients.tokens.getAccessToken(sandbox.connection.orgUrl),
    );
    const error = await failureOf(dataverseAudience.listProducts());
    expect(error.exitCode).toBe(ExitCode.TenantNotReady);
    expect(error.code).toBe("partner-center-unauthorized");
    expect(error.hint).toContain("--partner-center-tenant");
  });
});

describe("configure: one job for several offers, polled to its end (partner-center §1.2, SPEC §7)", () => {
  it("connects a fresh offer with five requests: find, resource tree, configure, and two polls", async () => {
    sandbox.state.scenario.partnerCenterRunningPolls = 1;
    sandbox.clearRequests();
    await connect([SANDBOX_OFFERS.dynamics], appDestination({ contactEmail: ["five@contoso.com"] }), CLIENT_SECRET);
    expect(sandbox.requests.filter((r) => r.service !== "entra").map((r) => `${r.method} ${r.path.split("?")[0]}`)).toEqual([
      `GET /rp/product-ingestion/product`,
      `GET /rp/product-ingestion/resource-tree/product/${sandbox.partnerCenter.offer(SANDBOX_OFFERS.dynamics).guid}`,
      `POST /rp/product-ingestion/configure`,
      expect.stringMatching(/^GET \/rp\/product-ingestion\/configure\/[0-9a-f-]{36}\/status$/),
      expect.stringMatching(/^GET \/rp\/product-ingestion\/configure\/[0-9a-f-]{36}\/status$/),
    ]);
    // Nothing changes: no body at all.
    expect(
      configureBodyFor(
        await decide([SANDBOX_OFFERS.dynamics], appDestination({ contactEmail: ["five@contoso.com"] }), false),
        appDestination(),
        CLIENT_SECRET,
      ),
    ).toBeUndefined();
  });

  it("connects two offers in one job, saves them in the draft, and a second plan changes nothing", async () => {
    sandbox.clearRequests();
    const done = await connect([SANDBOX_OFFERS.saas, SANDBOX_OFFERS.dynamics], appDestination(), CLIENT_SECRET);
    expect(done).toMatchObject({ jobStatus: "completed", jobResult: "succeeded", errors: [] });
    expect(configurePosts()).toHaveLength(1);
    for (const offer of [SANDBOX_OFFERS.saas, SANDBOX_OFFERS.dynamics]) {
      expect(sandbox.partnerCenter.offer(offer).draftLeads).toEqual({
        leadDestination: "dynamics",
        dynamicsLeadConfiguration: {
          instanceUrl: sandbox.connection.orgUrl,
          authentication: "azureAD",
          applicationId: APP_ID,
          applicationKey: CLIENT_SECRET,
          directoryId: DIRECTORY_ID,
          contactEmail: ["leads@contoso.com"],
        },
      });
    }
    const again = await decide([SANDBOX_OFFERS.saas, SANDBOX_OFFERS.dynamics], appDestination(), false);
    expect(again.map((d) => [d.state, d.changes])).toEqual([
      [{ status: "connected" }, []],
      [{ status: "connected" }, []],
    ]);
    const drifted = await decide([SANDBOX_OFFERS.dynamics], appDestination({ contactEmail: ["other@contoso.com"] }), false);
    expect(drifted[0]!.state).toEqual({ status: "drifted", fields: ["contactEmail"] });
  });

  it("switches a destination to office365 with the user's password", async () => {
    const desired: DesiredLeadDestination = {
      instanceUrl: sandbox.connection.orgUrl,
      identity: { kind: "user", username: "mp-leadwriter@contoso.onmicrosoft.com" },
      contactEmail: undefined,
    };
    await connect([SANDBOX_OFFERS.dynamics], desired, USER_PASSWORD);
    expect(sandbox.partnerCenter.offer(SANDBOX_OFFERS.dynamics).draftLeads.dynamicsLeadConfiguration).toEqual({
      instanceUrl: sandbox.connection.orgUrl,
      authentication: "office365",
      username: "mp-leadwriter@contoso.onmicrosoft.com",
      password: USER_PASSWORD,
      // Without --contact-email, the offer's contact emails are kept.
      contactEmail: ["leads@contoso.com"],
    });
  });

  it("explains productLocked with exit 5, naming the offer being published", async () => {
    const error = await failureOf(connect([SANDBOX_OFFERS.publishing], appDestination(), CLIENT_SECRET));
    expect(error.exitCode).toBe(ExitCode.TimedOut);
    expect(error.code).toBe("partner-center-offer-locked");
    expect(error.message).toContain(`offer ${SANDBOX_OFFERS.publishing}: productLocked`);
    expect(error.hint).toContain("re-run");
    expect(sandbox.partnerCenter.offer(SANDBOX_OFFERS.publishing).draftLeads.leadDestination).toBe("none");
  });

  it("explains notSupported with exit 1 and points to the printed values", async () => {
    sandbox.state.scenario.partnerCenterNotSupportedTypes = ["dynamics365ForCustomerEngagement"];
    try {
      const error = await failureOf(connect([SANDBOX_OFFERS.dynamics], appDestination(), CLIENT_SECRET));
      expect(error.exitCode).toBe(ExitCode.StepFailed);
      expect(error.code).toBe("partner-center-not-supported");
      expect(error.message).toContain(`offer ${SANDBOX_OFFERS.dynamics}: notSupported`);
      expect(error.hint).toContain("by hand");
    } finally {
      sandbox.state.scenario.partnerCenterNotSupportedTypes = [];
    }
  });

  it("honours each answer's Retry-After: the sandbox refuses a sooner poll, and none is refused", async () => {
    sandbox.state.scenario.partnerCenterPollSeconds = 30;
    sandbox.clearRequests();
    // Time passes only in the clock's sleeps; once slept, the sandbox's hold-offs have run out (set() clears them).
    const clock = virtualClock();
    const sleepingClock: Clock = {
      now: clock.now,
      sleep: async (ms, signal) => {
        await clock.sleep(ms, signal);
        sandbox.faults.set(sandbox.faults.current);
      },
    };
    const done = await connect([SANDBOX_OFFERS.dynamics], appDestination(), CLIENT_SECRET, sleepingClock);
    expect(done.jobResult).toBe("succeeded");
    expect(clock.slept).toEqual([30_000, 30_000]);
    expect(sandbox.requests.filter((r) => r.status === 429 || r.retryAfterViolation)).toEqual([]);
  });

  it("is refused (429) by the sandbox when it polls before Retry-After has passed", async () => {
    sandbox.state.scenario.partnerCenterPollSeconds = 30;
    const impatient = new HttpClient({ onlyCaPem: sandbox.connection.caPem, redactor: new Redactor(), policy: { maxAttempts: 1 } });
    try {
      const hasty = new PartnerCenterApi(impatient, sandbox.connection.graphOrigin, () =>
        clients.tokens.getAccessToken(sandbox.connection.graphOrigin),
      );
      const [decision] = await decide([SANDBOX_OFFERS.dynamics], appDestination(), true);
      const started = await hasty.configure(
        configureBody([{ decision: decision!, configuration: leadConfiguration(appDestination(), CLIENT_SECRET) }]),
      );
      expect(started.retryAfterMs).toBe(30_000);
      // A clock whose sleeps end at once, without the sandbox's time passing: the next poll comes too soon.
      const error = await failureOf(awaitConfigureJob(hasty, started, { clock: virtualClock(), timeoutMs: 600_000 }));
      expect(error.message).toContain("429");
      expect(sandbox.requests.at(-1)).toMatchObject({ status: 429, retryAfterViolation: true });
    } finally {
      await impatient.close();
    }
  });

  it("gives up past the timeout with exit 5 naming the job, and the kept job id resumes it without a second post", async () => {
    sandbox.state.scenario.partnerCenterRunningPolls = 1000;
    const paths = { configDir: mkdtempSync(join(tmpdir(), "cls-pc-")), cacheDir: mkdtempSync(join(tmpdir(), "cls-pc-cache-")) };
    const clock = virtualClock();
    sandbox.clearRequests();
    const decisions = await decide([SANDBOX_OFFERS.dynamics], appDestination(), true);
    const started = await api.configure(
      configureBody([{ decision: decisions[0]!, configuration: leadConfiguration(appDestination(), CLIENT_SECRET) }]),
    );
    await recordPendingJob(paths, sandbox.connection.tenantId, {
      jobId: started.jobId,
      offerIds: [SANDBOX_OFFERS.dynamics],
      fingerprint: "f",
    });
    const error = await failureOf(awaitConfigureJob(api, started, { clock, timeoutMs: 120_000 }));
    expect(error.exitCode).toBe(ExitCode.TimedOut);
    expect(error.code).toBe("partner-center-job-running");
    expect(error.details).toEqual({ jobId: started.jobId });
    expect(clock.now()).toBeLessThanOrEqual(120_000);
    // Without Retry-After: 10 s, 20 s, 40 s, then once a minute at most (the private-offers doc's pacing).
    expect(clock.slept.slice(0, 4)).toEqual([10_000, 20_000, 40_000]);

    sandbox.state.scenario.partnerCenterRunningPolls = 0;
    const kept = await pendingJobFor(paths, sandbox.connection.tenantId, SANDBOX_OFFERS.dynamics);
    expect(kept).toMatchObject({ jobId: started.jobId, offerIds: [SANDBOX_OFFERS.dynamics] });
    const resumed = await awaitConfigureJob(api, { jobId: kept!.jobId }, { clock: virtualClock(), timeoutMs: 60_000 });
    expect(resumed).toMatchObject({ jobId: started.jobId, jobResult: "succeeded" });
    expect(configurePosts()).toHaveLength(1);
    await clearPendingJob(paths, sandbox.connection.tenantId, started.jobId);
    expect(await pendingJobFor(paths, sandbox.connection.tenantId, SANDBOX_OFFERS.dynamics)).toBeUndefined();
  });

  it("stops at once when aborted while waiting, and polls no more", async () => {
    sandbox.state.scenario.partnerCenterRunningPolls = 1000;
    const decisions = await decide([SANDBOX_OFFERS.dynamics], appDestination(), true);
    const started = await api.configure(
      configureBody([{ decision: decisions[0]!, configuration: leadConfiguration(appDestination(), CLIENT_SECRET) }]),
    );
    const controller = new AbortController();
    const interrupted = new Error("interrupted");
    let polls = 0;
    const outcome = await awaitConfigureJob({ jobStatus: (id) => (polls++, api.jobStatus(id)) }, started, {
      clock: virtualClock(),
      signal: controller.signal,
      timeoutMs: 600_000,
      onStatus: () => controller.abort(interrupted),
    }).catch((error: unknown) => error);
    expect(outcome).toBe(interrupted);
    expect(polls).toBe(1);
  });

  it("names a job id Partner Center does not know", async () => {
    const error = await failureOf(api.jobStatus("00000000-0000-4000-8000-000000000000"));
    expect(error.code).toBe("partner-center-job-unknown");
  });
});

describe("what the builder can send (customer-leads schema, partner-center §1.3)", () => {
  it("produces only bodies the sandbox's schema validator accepts, for both identities", async () => {
    const [decision] = await decide([SANDBOX_OFFERS.dynamics], appDestination(), true);
    const user: DesiredLeadDestination = { ...appDestination(), identity: { kind: "user", username: "u@contoso.com" } };
    for (const [desired, secret] of [
      [appDestination(), CLIENT_SECRET],
      [user, USER_PASSWORD],
      [appDestination({ contactEmail: [] }), "k".repeat(2048)],
      [user, "p".repeat(256)],
    ] as const) {
      expect(
        validateConfigureBody(configureBody([{ decision: decision!, configuration: leadConfiguration(desired, secret) }])).errors,
      ).toEqual([]);
    }
  });

  it("refuses, before sending anything, what the schema forbids", () => {
    const user: DesiredLeadDestination = { ...appDestination(), identity: { kind: "user", username: "u@contoso.com" } };
    const refused: [string, () => unknown][] = [
      [
        "a bad application id",
        () =>
          leadConfiguration(appDestination({ identity: { kind: "app", applicationId: "app", directoryId: DIRECTORY_ID } }), CLIENT_SECRET),
      ],
      [
        "a bad directory id",
        () =>
          leadConfiguration(
            appDestination({ identity: { kind: "app", applicationId: APP_ID, directoryId: "contoso.com" } }),
            CLIENT_SECRET,
          ),
      ],
      ["an empty secret", () => leadConfiguration(appDestination(), "")],
      ["a masked secret", () => leadConfiguration(appDestination(), "*********")],
      ["an over-long client secret", () => leadConfiguration(appDestination(), "k".repeat(2049))],
      ["an over-long password", () => leadConfiguration(user, "p".repeat(257))],
      [
        "an over-long user name",
        () => leadConfiguration({ ...user, identity: { kind: "user", username: "u".repeat(129) } }, USER_PASSWORD),
      ],
      ["a bad contact email", () => leadConfiguration(appDestination({ contactEmail: ["sales at contoso"] }), CLIENT_SECRET)],
      ["an http URL", () => leadConfiguration(appDestination({ instanceUrl: "http://contoso.crm.dynamics.com" }), CLIENT_SECRET)],
    ];
    for (const [problem, build] of refused) {
      let error: unknown;
      try {
        build();
      } catch (caught) {
        error = caught;
      }
      expect(error, problem).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode, problem).toBe(ExitCode.Usage);
    }
  });
});

describe("secrets (SPEC §4, §7)", () => {
  it("never writes the secret of a configure body into the --verbose trace", async () => {
    trace.length = 0;
    await connect([SANDBOX_OFFERS.saas], appDestination(), CLIENT_SECRET);
    const user: DesiredLeadDestination = { ...appDestination(), identity: { kind: "user", username: "u@contoso.com" } };
    await connect([SANDBOX_OFFERS.saas], user, USER_PASSWORD);
    const posted = trace.filter((line) => line.includes("dynamicsLeadConfiguration"));
    expect(posted.length).toBeGreaterThan(0);
    const all = trace.join("\n");
    expect(all).not.toContain(CLIENT_SECRET);
    expect(all).not.toContain(USER_PASSWORD);
    expect(all).toContain("applicationKey");
  });
});

// The configure answer carries what the poller needs, read whatever the casing of the job id (§1.2).
it("reads the job id of the answer (the sandbox prints the 2023 docs' jobID)", async () => {
  const [decision] = await decide([SANDBOX_OFFERS.dynamics], appDestination(), true);
  const started: ConfigureJobStatus = await api.configure(
    configureBody([{ decision: decision!, configuration: leadConfiguration(appDestination(), CLIENT_SECRET) }]),
  );
  expect(started.jobId).toMatch(/^[0-9a-f-]{36}$/);
  expect(sandbox.partnerCenter.jobs.has(started.jobId)).toBe(true);
});
