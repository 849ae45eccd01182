import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PublicClientApplication } from "@azure/msal-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MsalTokenProvider, type AuthSettings } from "../../src/auth/msal.js";
import { signInErrorFrom } from "../../src/auth/aadsts.js";
import { readClientCertificate } from "../../src/context.js";
import { SignInError } from "../../src/errors.js";
import { DataverseApi } from "../../src/services/dataverse.js";
import { GraphApi } from "../../src/services/graph.js";
import { sandboxBrowser } from "../../src/sandbox-link.js";
import { startSandbox, type Sandbox } from "../../src/sandbox/server.js";
import { sandboxHttp } from "../helpers.js";
import { makeCertificate } from "../certificates.js";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.close());

function provider(settings: Partial<AuthSettings>, http = sandboxHttp(sandbox)) {
  const messages: string[] = [];
  const tokens = new MsalTokenProvider(
    {
      method: "device-code",
      clientId: sandbox.connection.publicClientId,
      authorityHost: sandbox.connection.loginOrigin,
      tenant: sandbox.connection.tenantId,
      customAuthority: true,
      openBrowser: (url) => sandboxBrowser(http, url),
      onDeviceCode: (message) => messages.push(message),
      ...settings,
    },
    http,
  );
  return { tokens, messages, http };
}

const tokenRequests = () => sandbox.requests.filter((r) => r.service === "entra" && r.path.includes("/oauth2/v2.0/token"));

describe("MSAL's real flows against the sandbox's Entra ID", () => {
  it("device code: shows the code, polls while pending, then one sign-in serves Graph and Dataverse", async () => {
    sandbox.clearRequests();
    // One authorization_pending answer, which MSAL waits out on its own timer (the 1 s interval the sandbox
    // sends): only here, so no other sign-in in this file pays that second.
    const scenario = sandbox.state.scenario as { deviceCodePendingPolls: number };
    scenario.deviceCodePendingPolls = 1;
    const { tokens, messages, http } = provider({});
    const graph = new GraphApi(http, sandbox.connection.graphOrigin, tokens);
    const domains = await graph.list<{ id: string }>("/domains").finally(() => (scenario.deviceCodePendingPolls = 0));
    expect(domains.map((d) => d.id)).toContain("contoso.onmicrosoft.com");
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/enter the code [0-9A-F]+ to authenticate/);
    expect(tokenRequests()).toHaveLength(2); // authorization_pending once, then the token

    const whoAmI = await new DataverseApi(http, sandbox.connection.orgUrl, tokens).get<{ UserId: string }>("WhoAmI");
    expect(whoAmI.UserId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sandbox.requests.filter((r) => r.path.includes("/devicecode"))).toHaveLength(1); // no second sign-in
    expect(tokenRequests()).toHaveLength(3); // the refresh-token grant for Dataverse
    expect(tokens.account()?.username).toBe("admin@contoso.onmicrosoft.com");
  });

  it("authorization code with PKCE, the browser driven by the test", async () => {
    sandbox.clearRequests();
    const { tokens } = provider({ method: "browser" });
    const token = await tokens.getAccessToken(sandbox.connection.graphOrigin);
    expect(token.split(".")).toHaveLength(3);
    const authorize = sandbox.requests.find((r) => r.path.includes("/oauth2/v2.0/authorize"))!;
    expect(authorize.path).toContain("code_challenge_method=S256");
    expect(sandbox.requests.some((r) => r.path.includes("/devicecode"))).toBe(false);
  });

  it("client credentials with a secret; a wrong secret is AADSTS7000215, exit 3", async () => {
    const { tokens, http } = provider({
      method: "client-secret",
      clientId: sandbox.connection.automationClientId,
      clientSecret: sandbox.connection.automationClientSecret,
    });
    const graph = new GraphApi(http, sandbox.connection.graphOrigin, tokens);
    expect((await graph.list("/subscribedSkus")).length).toBeGreaterThan(0);
    const wrong = provider({
      method: "client-secret",
      clientId: sandbox.connection.automationClientId,
      clientSecret: "not-the-secret",
    }).tokens;
    const error = await wrong.getAccessToken(sandbox.connection.graphOrigin).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignInError);
    expect((error as SignInError).exitCode).toBe(3);
    expect((error as SignInError).code).toBe("aadsts-7000215");
    expect((error as SignInError).message).toMatch(/client secret .* is invalid or expired/);
  });

  it("client credentials with a certificate; an unregistered certificate is refused", async () => {
    const pemPath = await makeCertificate("registered");
    const certificate = readClientCertificate(pemPath);
    const app = [...sandbox.state.applications.values()].find((a) => a.appId === sandbox.connection.automationClientId)!;
    app.certificates.push({ thumbprintSha256: certificate.thumbprintSha256.toUpperCase(), certPem: certificate.x5c });
    const { tokens } = provider({ method: "client-certificate", clientId: app.appId, clientCertificate: certificate });
    expect(await tokens.getAccessToken(sandbox.connection.orgUrl)).toMatch(/\./);
    // MSAL sends the same signed assertion again for the next resource, which Entra accepts until it expires.
    expect(await tokens.getAccessToken(sandbox.connection.graphOrigin)).toMatch(/\./);

    const stranger = readClientCertificate(await makeCertificate("stranger"));
    const error = await provider({ method: "client-certificate", clientId: app.appId, clientCertificate: stranger })
      .tokens.getAccessToken(sandbox.connection.orgUrl)
      .catch((e: unknown) => e);
    expect((error as SignInError).code).toBe("aadsts-700027");
  });

  it("username/password (ROPC): succeeds, and MFA (AADSTS50076) is explained for a service account", async () => {
    const http = sandboxHttp(sandbox);
    const { tokens } = provider({}, http);
    await tokens.getAccessToken(sandbox.connection.graphOrigin); // any configured PCA works; use MSAL directly below
    const pca = new PublicClientApplication({
      auth: {
        clientId: sandbox.connection.publicClientId,
        authority: `${sandbox.connection.loginOrigin}/${sandbox.connection.tenantId}`,
        knownAuthorities: [new URL(sandbox.connection.loginOrigin).host],
      },
      system: {
        networkClient: (tokens as unknown as { configuration(): { system: { networkClient: never } } }).configuration().system
          .networkClient,
      },
    });
    const user = sandbox.state.addDirectoryUser({ userPrincipalName: "svc@contoso.com", displayName: "svc", password: "Correct-Horse-9" });
    const ok = await pca.acquireTokenByUsernamePassword({
      scopes: [`${sandbox.connection.orgUrl}/.default`],
      username: user.userPrincipalName,
      password: "Correct-Horse-9",
    });
    expect(ok?.accessToken).toBeTruthy();

    const wrong = await pca
      .acquireTokenByUsernamePassword({
        scopes: [`${sandbox.connection.orgUrl}/.default`],
        username: user.userPrincipalName,
        password: "nope",
      })
      .catch((e: unknown) => e);
    expect(signInErrorFrom(wrong, context("service")).code).toBe("aadsts-50126");

    sandbox.faults.set({ signInError: { aadsts: 50076 } });
    try {
      const mfa = await pca
        .acquireTokenByUsernamePassword({
          scopes: [`${sandbox.connection.orgUrl}/.default`],
          username: user.userPrincipalName,
          password: "Correct-Horse-9",
        })
        .catch((e: unknown) => e);
      const explained = signInErrorFrom(mfa, context("service"));
      expect(explained.aadsts).toBe(50076);
      expect(explained.message).toMatch(/MFA|Multi-factor authentication or Conditional Access blocks this account/i);
      expect(explained.hint).toMatch(/--identity app/);
    } finally {
      sandbox.faults.set({});
    }
  });

  it("a password grant through a confidential client needs that client's own credential, as Entra's ROPC does", async () => {
    const user = sandbox.state.addDirectoryUser({
      userPrincipalName: "svc-ropc@contoso.com",
      displayName: "svc",
      password: "Correct-Horse-9",
    });
    const http = sandboxHttp(sandbox);
    const grant = async (fields: Record<string, string>) => {
      const response = await http.send({
        service: "entra",
        method: "POST",
        url: `${sandbox.connection.loginOrigin}/${sandbox.connection.tenantId}/oauth2/v2.0/token`,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "password",
          username: user.userPrincipalName,
          password: "Correct-Horse-9",
          scope: `${sandbox.connection.orgUrl}/.default`,
          ...fields,
        }).toString(),
      });
      return { status: response.status, codes: response.json<{ error_codes?: number[] }>().error_codes ?? [] };
    };
    const automation = sandbox.connection.automationClientId;
    try {
      expect(await grant({ client_id: automation })).toEqual({ status: 401, codes: [7000218] });
      expect(await grant({ client_id: automation, client_secret: "not-the-secret" })).toEqual({ status: 401, codes: [7000215] });
      expect((await grant({ client_id: automation, client_secret: sandbox.connection.automationClientSecret })).status).toBe(200);
      expect((await grant({ client_id: sandbox.connection.publicClientId })).status).toBe(200);
      expect(await grant({ client_id: sandbox.connection.publicClientId, client_secret: "anything" })).toEqual({
        status: 401,
        codes: [700025],
      });
    } finally {
      await http.close();
    }
  });

  it("an unknown client id is AADSTS700016 with the fix", async () => {
    const error = await provider({ clientId: "00000000-0000-0000-0000-00000000abcd" })
      .tokens.getAccessToken(sandbox.connection.graphOrigin)
      .catch((e: unknown) => e);
    expect((error as SignInError).code).toBe("aadsts-700016");
    expect((error as SignInError).hint).toMatch(/--client-id/);
  });

  it("keeps the token cache in a 0600 file and signs in silently from it in a new process", async () => {
    const cachePath = join(mkdtempSync(join(tmpdir(), "cls-cache-")), "config", "msal-cache.json");
    await provider({ cachePath }).tokens.getAccessToken(sandbox.connection.graphOrigin);
    expect(statSync(cachePath).mode & 0o777).toBe(0o600);
    expect(statSync(join(cachePath, "..")).mode & 0o777).toBe(0o700);
    sandbox.clearRequests();
    const second = provider({ cachePath });
    await second.tokens.getAccessToken(sandbox.connection.orgUrl);
    expect(second.messages).toHaveLength(0);
    expect(sandbox.requests.some((r) => r.path.includes("/devicecode"))).toBe(false);
  });
});

describe("the sandbox's Entra metadata when it poses as a real cloud", () => {
  it("answers instance discovery and the OIDC document as Entra does, so MSAL caches accounts under login.windows.net", async () => {
    const posing = await startSandbox({ cloud: "public" });
    const http = sandboxHttp(posing);
    try {
      const discovery = await http.send({
        service: "entra",
        method: "GET",
        url: "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
      });
      const metadata = discovery.json<{ metadata: { preferred_network: string; preferred_cache: string; aliases: string[] }[] }>().metadata;
      const publicCloud = metadata.find((m) => m.aliases.includes("login.microsoftonline.com"))!;
      expect(publicCloud).toMatchObject({ preferred_network: "login.microsoftonline.com", preferred_cache: "login.windows.net" });
      expect(metadata.find((m) => m.aliases.includes("login.chinacloudapi.cn"))?.preferred_cache).toBe("login.partner.microsoftonline.cn");
      const oidc = await http.send({
        service: "entra",
        method: "GET",
        url: `https://login.microsoftonline.com/${posing.connection.tenantId}/v2.0/.well-known/openid-configuration`,
      });
      expect(oidc.json<{ cloud_instance_name: string }>().cloud_instance_name).toBe("microsoftonline.com");

      const { tokens } = provider(
        {
          authorityHost: posing.connection.loginOrigin,
          tenant: posing.connection.tenantId,
          customAuthority: false,
          clientId: posing.connection.publicClientId,
        },
        http,
      );
      await tokens.getAccessToken(posing.connection.graphOrigin);
      expect(tokens.account()?.environment).toBe("login.windows.net");
    } finally {
      await http.close();
      await posing.close();
    }
  });
});

describe("one token cache shared by two clouds", () => {
  it("each cloud finds its own cached account under its aliases, and never sends the other's refresh token", async () => {
    const cachePath = join(mkdtempSync(join(tmpdir(), "cls-cache-")), "msal-cache.json");
    const clouds = [await startSandbox({ cloud: "public" }), await startSandbox({ cloud: "gcchigh" })];
    const signIn = async (cloud: Sandbox, resource: string) => {
      const http = sandboxHttp(cloud);
      const { tokens, messages } = provider({ authorityHost: cloud.connection.loginOrigin, customAuthority: false, cachePath }, http);
      await tokens.getAccessToken(resource);
      await http.close();
      return messages.length;
    };
    const tokenRequests = (cloud: Sandbox) =>
      cloud.requests.filter((r) => r.service === "entra" && r.path.includes("/oauth2/v2.0/token")).length;
    try {
      const [commercial, government] = clouds as [Sandbox, Sandbox];
      expect(await signIn(commercial, commercial.connection.graphOrigin)).toBe(1);
      expect(await signIn(government, government.connection.graphOrigin)).toBe(1);
      expect(tokenRequests(government)).toBe(1); // the device code's grant alone: no refresh token from the commercial cloud
      commercial.clearRequests();
      government.clearRequests();
      expect(await signIn(commercial, commercial.connection.orgUrl)).toBe(0);
      expect(await signIn(government, government.connection.orgUrl)).toBe(0);
    } finally {
      for (const cloud of clouds) await cloud.close();
    }
  });
});

describe("the sandbox's resource services check tokens", () => {
  it("refuse a token issued for another audience, a tampered token and no token", async () => {
    const { tokens, http } = provider({
      method: "client-secret",
      clientId: sandbox.connection.automationClientId,
      clientSecret: sandbox.connection.automationClientSecret,
    });
    const graphToken = await tokens.getAccessToken(sandbox.connection.graphOrigin);
    const call = (authorization?: string) =>
      http.send({
        service: "dataverse",
        method: "GET",
        url: `${sandbox.connection.orgUrl}/api/data/v9.2/WhoAmI`,
        headers: authorization ? { Authorization: authorization } : {},
      });
    const wrongAudience = await call(`Bearer ${graphToken}`);
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.text()).toContain(`audience ${sandbox.connection.graphOrigin} is not ${sandbox.connection.orgUrl}`);
    expect(wrongAudience.headers["www-authenticate"]).toMatch(/^Bearer authorization_uri=/);
    const [header, payload] = graphToken.split(".");
    const forged = Buffer.from(
      JSON.parse(Buffer.from(payload!, "base64url").toString()) &&
        JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), aud: sandbox.connection.orgUrl }),
    ).toString("base64url");
    expect((await call(`Bearer ${header}.${forged}.AAAA`)).text()).toContain("signature is invalid");
    expect((await call()).status).toBe(401);
  });
});

function context(who: "admin" | "service") {
  return {
    who,
    clientId: sandbox.connection.publicClientId,
    authorityHost: sandbox.connection.loginOrigin,
    tenant: sandbox.connection.tenantId,
  } as const;
}
