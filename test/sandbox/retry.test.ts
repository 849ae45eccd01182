import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/server.js";
import { HttpFailure } from "../../src/services/http.js";
import { ServiceError } from "../../src/services/service-error.js";
import { adminClients, sandboxHttp } from "../helpers.js";
import { VirtualClock } from "../virtual-clock.js";

/**
 * The sandbox and the clients share one virtual clock: Retry-After and back-off cost no real time, and the
 * sandbox enforces Retry-After on that same clock, so a client that resends early is still caught.
 */
const clock = new VirtualClock();
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ clock });
});
afterAll(() => sandbox.close());
afterEach(() => sandbox.faults.set({}));

const fast = { baseDelayMs: 10, maxDelayMs: 50, maxAttempts: 3, deadlineMs: 10_000 };
const dataverseCalls = (path: string) => sandbox.requests.filter((r) => r.service === "dataverse" && r.path.startsWith(path));

describe("the one retry policy, against the sandbox's faults", () => {
  it("never resends before Retry-After has passed", async () => {
    const clients = await adminClients(sandbox, {}, clock);
    await clients.dataverse.get("WhoAmI"); // sign in before the faults
    sandbox.faults.set({ throttleFirstCall: { retryAfterSeconds: 1 } });
    sandbox.clearRequests();
    // When each call reached the sandbox, on the shared clock (the request log's `at` is wall time).
    const reachedAt: number[] = [];
    const stop = sandbox.onRequest((entry) => {
      if (entry.path.startsWith("/api/data/v9.2/RetrieveVersion")) reachedAt.push(clock.now());
    });
    await clients.dataverse.get("RetrieveVersion");
    stop();
    await clients.graph.list("/domains");
    const calls = dataverseCalls("/api/data/v9.2/RetrieveVersion");
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(reachedAt[1]! - reachedAt[0]!).toBeGreaterThanOrEqual(1000);
    expect(sandbox.faults.stats.retryAfterViolations).toBe(0);
    expect(sandbox.requests.filter((r) => r.path === "/v1.0/domains").map((r) => r.status)).toEqual([429, 200]);
  });

  it("detects a client that ignores Retry-After (the check above can fail)", async () => {
    // A clock whose waits end at once: the client resends as soon as it is throttled.
    const impatient = await adminClients(sandbox, fast, { now: () => Date.now(), sleep: async () => undefined });
    await impatient.dataverse.get("WhoAmI");
    sandbox.faults.set({ throttleFirstCall: { retryAfterSeconds: 1 } });
    await impatient.dataverse.get("RetrieveVersion").catch(() => undefined);
    expect(sandbox.faults.stats.retryAfterViolations).toBeGreaterThan(0);
  });

  it("gives up at the attempt cap with a clear error", async () => {
    const clients = await adminClients(sandbox, fast, clock);
    await clients.dataverse.get("WhoAmI");
    sandbox.faults.set({ errorRate: 1, errorStatuses: [503] });
    sandbox.clearRequests();
    const error = await clients.dataverse.get("solutions").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpFailure);
    expect((error as HttpFailure).exitCode).toBe(1);
    expect((error as HttpFailure).message).toMatch(
      /GET https:\/\/localhost:\d+\/api\/data\/v9\.2\/solutions kept failing: server error \(503\); gave up after 3 attempts/,
    );
    expect((error as HttpFailure).hint).toMatch(/re-run/i);
    expect(dataverseCalls("/api/data/v9.2/solutions")).toHaveLength(3);
  });

  it("does not resend a POST that may have been applied, and reports the service's answer", async () => {
    const clients = await adminClients(sandbox, fast, clock);
    await clients.dataverse.get("WhoAmI");
    sandbox.faults.set({ errorRate: 1, errorStatuses: [503] });
    sandbox.clearRequests();
    const error = await clients.dataverse.post("leads", { lastname: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).status).toBe(503);
    expect(dataverseCalls("/api/data/v9.2/leads")).toHaveLength(1);
  });

  it("retries a POST that was throttled (a 429 was never processed)", async () => {
    const clients = await adminClients(sandbox, {}, clock);
    await clients.dataverse.get("WhoAmI");
    sandbox.faults.set({ throttleFirstCall: { retryAfterSeconds: 0 } });
    sandbox.clearRequests();
    await clients.dataverse.post("leads", { lastname: "throttled once" });
    expect(dataverseCalls("/api/data/v9.2/leads").map((c) => c.status)).toEqual([429, 204]);
    expect([...sandbox.state.leads.values()].filter((l) => l.fields.lastname === "throttled once")).toHaveLength(1);
  });

  it("retries dropped connections on GETs and recovers", async () => {
    const clients = await adminClients(sandbox, { ...fast, maxAttempts: 6 }, clock);
    await clients.dataverse.get("WhoAmI");
    sandbox.faults.set({ dropRate: 0.5, seed: 7 });
    for (let i = 0; i < 5; i++) await clients.dataverse.get("RetrieveVersion");
    expect(sandbox.faults.stats.drops).toBeGreaterThan(0);
  });

  it("refuses to wait past the deadline", async () => {
    const clients = await adminClients(sandbox, { ...fast, deadlineMs: 2000 }, clock);
    await clients.dataverse.get("WhoAmI");
    sandbox.faults.set({ throttleFirstCall: { retryAfterSeconds: 30 } });
    sandbox.clearRequests();
    const error = await clients.dataverse.get("RetrieveVersion").catch((e: unknown) => e);
    expect((error as HttpFailure).message).toMatch(/waiting 30 s more would pass the 2 s deadline/);
    expect(dataverseCalls("/api/data/v9.2/RetrieveVersion")).toHaveLength(1);
  });

  it("abandons an attempt that gets no answer in time", async () => {
    const clients = await adminClients(sandbox, { ...fast, requestTimeoutMs: 150, maxAttempts: 2 }, clock);
    await clients.dataverse.get("WhoAmI");
    sandbox.faults.set({ latencyMs: 600 });
    const error = await clients.dataverse.get("RetrieveVersion").catch((e: unknown) => e);
    expect((error as HttpFailure).code).toBe("network-timeout");
    expect((error as HttpFailure).host).toBe(new URL(sandbox.connection.orgUrl).host);
    expect((error as HttpFailure).message).toMatch(
      /no answer within 0\.1 s.*gave up after 2 attempts|no answer within 0\.2 s.*gave up after 2 attempts/,
    );
  });

  it("a host whose certificate another CA signed fails at once, with no retry", async () => {
    const other = await startSandbox();
    try {
      // A retry would first wait out a back-off on the clock: no wait asked for proves there is none.
      const http = sandboxHttp(sandbox, { ...fast, baseDelayMs: 2_000, maxDelayMs: 2_000 }, clock);
      const waitsBefore = clock.sleeps.length;
      const failure = await http
        .send({ service: "entra", method: "GET", url: `${other.connection.loginOrigin}/_sandbox/health` })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(HttpFailure);
      expect((failure as Error).message).toMatch(/TLS certificate not trusted \(.+\)/);
      expect(other.requests).toEqual([]);
      expect(clock.sleeps.slice(waitsBefore)).toEqual([]);
      // The same client reaches its own sandbox.
      expect((await http.send({ service: "entra", method: "GET", url: `${sandbox.connection.loginOrigin}/_sandbox/health` })).status).toBe(
        200,
      );
      await http.close();
    } finally {
      await other.close();
    }
  });
});
