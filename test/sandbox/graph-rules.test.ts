import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/server.js";
import { ServiceError } from "../../src/services/service-error.js";
import { adminClients } from "../helpers.js";
import { VirtualClock } from "../virtual-clock.js";

let sandbox: Sandbox;
let clients: Awaited<ReturnType<typeof adminClients>>;
// The sync delay passes on this clock, only when the test sleeps on it: no check races real time.
const clock = new VirtualClock();
beforeAll(async () => {
  sandbox = await startSandbox({ scenario: { userSyncMs: 300 }, clock });
  clients = await adminClients(sandbox, {}, clock);
});
afterAll(() => sandbox.close());

const SALES = "1e1a282c-9c54-43a2-9310-98ef728faace";
const userBody = (upn: string, extra: Record<string, unknown> = {}) => ({
  accountEnabled: true,
  displayName: "Lead writer",
  mailNickname: upn.split("@")[0],
  userPrincipalName: upn,
  passwordProfile: { password: "Valid-Passw0rd-123", forceChangePasswordNextSignIn: false },
  ...extra,
});
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable("no error"),
    (e: unknown) => e as ServiceError,
  );

describe("Graph users", () => {
  it("creates a user (201) and refuses a duplicate UPN with ObjectConflict", async () => {
    const created = await clients.graph.post<{ id: string; userPrincipalName: string }>("/users", userBody("dup@contoso.com"));
    expect(created.userPrincipalName).toBe("dup@contoso.com");
    const error = await failure(clients.graph.post("/users", userBody("dup@contoso.com")));
    expect(error.status).toBe(400);
    expect(error.serviceCode).toBe("Request_BadRequest");
    expect(error.known).toBe("graph-user-name-taken");
  });

  it("refuses unverified and federated domains, and weak passwords", async () => {
    expect((await failure(clients.graph.post("/users", userBody("x@contoso-pending.net")))).message).toMatch(/verified domain/i);
    expect((await failure(clients.graph.post("/users", userBody("x@fabrikam-federated.com")))).message).toMatch(/onPremisesImmutableId/i);
    const weak = userBody("weak@contoso.com", { passwordProfile: { password: "password", forceChangePasswordNextSignIn: false } });
    expect((await failure(clients.graph.post("/users", weak))).known).toBe("graph-password-complexity");
  });

  it("never returns the password, and 404s an unknown user with Graph's envelope", async () => {
    const user = await clients.graph.get<Record<string, unknown>>("/users/dup@contoso.com");
    expect(JSON.stringify(user)).not.toContain("Valid-Passw0rd-123");
    const error = await failure(clients.graph.get("/users/nobody@contoso.com"));
    expect(error.status).toBe(404);
    expect(error.serviceCode).toBe("Request_ResourceNotFound");
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("licence assignment (graph-and-msal §A.7)", () => {
  it("fails without a usage location, then succeeds once it is set, and uses a seat", async () => {
    const user = await clients.graph.post<{ id: string }>("/users", userBody("lic@contoso.com"));
    const body = { addLicenses: [{ skuId: SALES, disabledPlans: [] }], removeLicenses: [] };
    expect((await failure(clients.graph.post(`/users/${user.id}/assignLicense`, body))).known).toBe("graph-usage-location-missing");
    const before = sandbox.state.skus.find((s) => s.skuId === SALES)!.consumedUnits;
    await clients.graph.patch(`/users/${user.id}`, { usageLocation: "GB" });
    await clients.graph.post(`/users/${user.id}/assignLicense`, body);
    expect(sandbox.state.skus.find((s) => s.skuId === SALES)!.consumedUnits).toBe(before + 1);
  });

  it("fails when no seat is free, and for a company SKU", async () => {
    const user = await clients.graph.post<{ id: string }>("/users", userBody("noseat@contoso.com", { usageLocation: "US" }));
    const full = "be9f9771-1c64-4618-9907-244325141096"; // D365_SALES_PRO: 2 of 2 used in the seed
    expect(
      (
        await failure(
          clients.graph.post(`/users/${user.id}/assignLicense`, { addLicenses: [{ skuId: full, disabledPlans: [] }], removeLicenses: [] }),
        )
      ).known,
    ).toBe("graph-license-no-seat");
    const company = "328dc228-00bc-48c6-8b09-1fbc8bc3435d";
    expect(
      (
        await failure(
          clients.graph.post(`/users/${user.id}/assignLicense`, {
            addLicenses: [{ skuId: company, disabledPlans: [] }],
            removeLicenses: [],
          }),
        )
      ).message,
    ).toMatch(/applies to the company/i);
  });

  it("answers 404 right after creation while the replication fault is on", async () => {
    sandbox.faults.set({ replication404s: 2 });
    try {
      const user = await clients.graph.post<{ id: string }>("/users", userBody("repl@contoso.com", { usageLocation: "US" }));
      expect((await failure(clients.graph.get(`/users/${user.id}`))).status).toBe(404);
      expect((await failure(clients.graph.get(`/users/${user.id}`))).status).toBe(404);
      expect((await clients.graph.get<{ id: string }>(`/users/${user.id}`)).id).toBe(user.id);
      expect(sandbox.faults.stats.replication404s).toBe(2);
    } finally {
      sandbox.faults.set({});
    }
  });
});

describe("a user reaches Dynamics only once licensed with a CRM plan, after the sync delay (dataverse §5.1)", () => {
  it("appears in systemusers after the delay, in the scenario's business unit", async () => {
    const user = await clients.graph.post<{ id: string }>("/users", userBody("sync@contoso.com", { usageLocation: "US" }));
    const find = () =>
      clients.dataverse.list<{ systemuserid: string; _businessunitid_value: string; isdisabled: boolean }>(
        `systemusers?$filter=azureactivedirectoryobjectid eq ${user.id}`,
      );
    await clients.graph.post(`/users/${user.id}/assignLicense`, {
      addLicenses: [{ skuId: "6fd2c87f-b296-42f0-b197-1e91e994b900", disabledPlans: [] }],
      removeLicenses: [],
    });
    await clock.sleep(400);
    expect(await find()).toHaveLength(0); // Office 365 E3 carries no Dynamics plan
    await clients.graph.post(`/users/${user.id}/assignLicense`, { addLicenses: [{ skuId: SALES, disabledPlans: [] }], removeLicenses: [] });
    expect(await find()).toHaveLength(0); // not before the sync delay
    await clock.sleep(400);
    const [row] = await find();
    expect(row?.isdisabled).toBe(false);
    expect(row?._businessunitid_value).toBe(sandbox.state.rootBusinessUnit.businessunitid);
  });
});

describe("request headers", () => {
  it("refuses Node fetch's default Accept-Language: *, which our Graph client never sends", async () => {
    const token = await clients.tokens.getAccessToken(sandbox.connection.graphOrigin);
    const raw = await clients.http.send({
      service: "graph",
      method: "GET",
      url: `${sandbox.connection.graphOrigin}/v1.0/domains`,
      headers: { Authorization: `Bearer ${token}`, "Accept-Language": "*" },
    });
    expect([raw.status, raw.json<{ error: { message: string } }>().error.message]).toEqual([400, "Invalid language specified."]);
    expect((await clients.graph.list("/domains")).length).toBeGreaterThan(0);
  });
});

describe("applications and service principals", () => {
  it("creates an app, a service principal and a secret that signs in", async () => {
    const app = await clients.graph.post<{ id: string; appId: string }>("/applications", {
      displayName: "Lead writer app",
      signInAudience: "AzureADMultipleOrgs",
    });
    await clients.graph.post("/servicePrincipals", { appId: app.appId });
    const secret = await clients.graph.post<{ secretText: string; endDateTime: string }>(`/applications/${app.id}/addPassword`, {
      passwordCredential: { displayName: "Partner Center", endDateTime: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expect(secret.secretText.length).toBeGreaterThan(30);
    const listed = await clients.graph.list<{ appId: string; passwordCredentials: { secretText: string | null }[] }>("/applications", {
      $filter: "displayName eq 'Lead writer app'",
    });
    expect(listed).toHaveLength(1);
    expect(listed[0]!.passwordCredentials[0]!.secretText).toBeNull();
    expect((await failure(clients.graph.post("/servicePrincipals", { appId: app.appId }))).status).toBe(409);
  });
});
