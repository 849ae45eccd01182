import {
  createHash,
  createPublicKey,
  randomBytes,
  randomUUID,
  verify as verifySignature,
  constants as cryptoConstants,
  X509Certificate,
} from "node:crypto";
import { jsonResponse, readForm, type SandboxRequest, type SandboxResponse, type TokenClaims } from "./kit.js";
import { AZURE_POWERSHELL_CLIENT_ID, TENANT_ID, type Application, type DirectoryUser, type TenantState } from "./state.js";
import { TokenAuthority, unsignedJwt } from "./tokens.js";
import type { FaultInjector } from "./faults.js";

/**
 * Emulated Entra ID v2.0 endpoints (reference: graph-and-msal §C and §G): OIDC metadata, device code
 * (auto-approved after the code was shown), authorization code with PKCE, client credentials (secret or
 * certificate assertion), refresh tokens for any known resource, and username/password; AADSTS error
 * bodies in Entra's shape.
 */

const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);

/** Message text of the AADSTS codes the emulator produces (reference: graph-and-msal §C.6). */
const AADSTS_TEXT: Record<number, { error: string; text: string; suberror?: string }> = {
  50034: {
    error: "invalid_grant",
    text: "The user account {0} does not exist in the {1} directory. To sign into this application, the account must be added to the directory.",
  },
  50055: { error: "invalid_grant", text: "The password is expired.", suberror: "user_password_expired" },
  50057: { error: "invalid_grant", text: "The user account is disabled." },
  50076: {
    error: "invalid_grant",
    text: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{0}'.",
    suberror: "basic_action",
  },
  50079: {
    error: "invalid_grant",
    text: "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '{0}'.",
    suberror: "basic_action",
  },
  50126: { error: "invalid_grant", text: "Error validating credentials due to invalid username or password." },
  53003: {
    error: "invalid_grant",
    text: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
  },
  530035: {
    error: "invalid_grant",
    text: "Access has been blocked by security defaults. This is due to the request using legacy auth or being deemed unsafe by security defaults policies.",
  },
  65001: {
    error: "invalid_grant",
    text: "The user or administrator has not consented to use the application with ID '{0}'. Send an interactive authorization request for this user and resource.",
    suberror: "consent_required",
  },
  70008: {
    error: "invalid_grant",
    text: "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
  },
  70011: {
    error: "invalid_scope",
    text: "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {0} is not valid.",
  },
  70016: { error: "authorization_pending", text: "OAuth 2.0 device flow error. Authorization is pending. Continue polling." },
  70019: { error: "expired_token", text: "Verification code expired." },
  90002: {
    error: "invalid_request",
    text: "Tenant '{0}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
  },
  500011: { error: "invalid_resource", text: "The resource principal named {0} was not found in the tenant named {1}." },
  700016: {
    error: "unauthorized_client",
    text: "Application with identifier '{0}' was not found in the directory '{1}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
  },
  7000215: {
    error: "invalid_client",
    text: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{0}'.",
  },
  // An expired secret has its own code (seen in public error reports, e.g. MicrosoftDocs/azure-docs#48669,
  // Azure-Samples/ms-identity-python-webapp#67); its text as Entra prints it today.
  7000222: {
    error: "invalid_client",
    text: "The provided client secret keys for app '{0}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
  },
  700025: { error: "invalid_client", text: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented." },
  7000218: {
    error: "invalid_client",
    text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  },
  7000229: { error: "invalid_client", text: "The client application {0} is missing service principal in the tenant {1}." },
  700027: { error: "invalid_client", text: "Client assertion failed signature validation." },
  50148: {
    error: "invalid_grant",
    text: "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
  },
};

/**
 * Entra's answer to `GET https://login.microsoftonline.com/common/discovery/instance?api-version=1.1`
 * (recorded verbatim in public test fixtures, e.g. Azure SDK for JS recordings; MSAL ships the same list
 * in msal-common `AuthorityMetadata`): each cloud's hosts, the one to call (`preferred_network`) and the one
 * tokens are cached under (`preferred_cache`).
 */
const ENTRA_INSTANCE_METADATA: readonly { preferred_network: string; preferred_cache: string; aliases: string[] }[] = [
  {
    preferred_network: "login.microsoftonline.com",
    preferred_cache: "login.windows.net",
    aliases: ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
  },
  {
    preferred_network: "login.partner.microsoftonline.cn",
    preferred_cache: "login.partner.microsoftonline.cn",
    aliases: ["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
  },
  { preferred_network: "login.microsoftonline.de", preferred_cache: "login.microsoftonline.de", aliases: ["login.microsoftonline.de"] },
  {
    preferred_network: "login.microsoftonline.us",
    preferred_cache: "login.microsoftonline.us",
    aliases: ["login.microsoftonline.us", "login.usgovcloudapi.net"],
  },
  {
    preferred_network: "login-us.microsoftonline.com",
    preferred_cache: "login-us.microsoftonline.com",
    aliases: ["login-us.microsoftonline.com"],
  },
];

/**
 * `cloud_instance_name` of each instance's OIDC document: "microsoftonline.com" is recorded in public
 * fixtures of login.microsoftonline.com; the US Government and China values follow Entra's naming of those
 * instances (UNCONFIRMED from a recorded answer).
 */
const CLOUD_INSTANCE_NAMES: Record<string, string> = {
  "login.microsoftonline.com": "microsoftonline.com",
  "login.partner.microsoftonline.cn": "partner.microsoftonline.cn",
  "login.microsoftonline.de": "microsoftonline.de",
  "login.microsoftonline.us": "microsoftonline.us",
  "login-us.microsoftonline.com": "microsoftonline.us",
};

export function aadstsError(code: number, ...args: string[]): SandboxResponse {
  const entry = AADSTS_TEXT[code] ?? { error: "invalid_request", text: "Sandbox error." };
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  const text = entry.text.replace(/\{(\d)\}/g, (_, i: string) => args[Number(i)] ?? "");
  return jsonResponse(code === 70016 ? 400 : entry.error === "invalid_client" ? 401 : 400, {
    error: entry.error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `/error?code=${code}`,
    ...(entry.suberror ? { suberror: entry.suberror } : {}),
  });
}

interface DeviceCodeGrant {
  clientId: string;
  resource: string;
  pendingPollsLeft: number;
  expiresAt: number;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string;
  nonce: string | undefined;
  userId: string;
  expiresAt: number;
}

interface RefreshGrant {
  clientId: string;
  userId: string;
}

export interface EntraResources {
  loginOrigin: string;
  /** Token audiences this tenant knows: Graph root, the Dynamics org, the Power Platform admin API. */
  resources: string[];
}

export class EntraService {
  private readonly deviceCodes = new Map<string, DeviceCodeGrant>();
  private readonly authorizationCodes = new Map<string, AuthorizationCode>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();

  constructor(
    private readonly state: TenantState,
    private readonly tokens: TokenAuthority,
    private readonly faults: FaultInjector,
    private readonly endpoints: EntraResources,
  ) {}

  private get issuer(): string {
    return `${this.endpoints.loginOrigin}/${TENANT_ID}/v2.0`;
  }

  handle(request: SandboxRequest): SandboxResponse {
    const segments = request.url.pathname.split("/").filter(Boolean);
    const tenant = segments[0] ?? "";
    const rest = segments.slice(1).join("/");
    if (request.method === "GET" && request.url.pathname === "/devicelogin") {
      return {
        status: 200,
        headers: { "content-type": "text/html" },
        body: "<h1>Sandbox sign-in</h1><p>Device codes are approved automatically in the sandbox.</p>",
      };
    }
    if (request.method === "GET" && request.url.pathname === "/common/discovery/instance") {
      // MSAL's instance discovery. Posing as a real cloud, the sandbox answers what Entra answers, aliases
      // included; on its own loopback host it vouches for that host alone.
      const host = new URL(this.endpoints.loginOrigin).host;
      const metadata = this.realInstance()
        ? ENTRA_INSTANCE_METADATA
        : [{ preferred_network: host, preferred_cache: host, aliases: [host] }];
      return jsonResponse(200, {
        tenant_discovery_endpoint: `${this.endpoints.loginOrigin}/${TENANT_ID}/v2.0/.well-known/openid-configuration`,
        "api-version": "1.1",
        metadata,
      });
    }
    if (!this.isTenant(tenant)) return aadstsError(90002, tenant);
    if (request.method === "GET" && (rest === "v2.0/.well-known/openid-configuration" || rest === ".well-known/openid-configuration")) {
      return jsonResponse(200, this.openIdConfiguration(tenant));
    }
    if (request.method === "GET" && rest === "discovery/v2.0/keys") return jsonResponse(200, { keys: [] });
    if (request.method === "POST" && rest === "oauth2/v2.0/devicecode") return this.deviceCode(readForm(request));
    if (request.method === "POST" && rest === "oauth2/v2.0/token") return this.token(readForm(request));
    if (request.method === "GET" && rest === "oauth2/v2.0/authorize") return this.authorize(request.url.searchParams);
    if (request.method === "GET" && rest === "oauth2/v2.0/logout") return { status: 200, body: "Signed out." };
    return jsonResponse(404, {
      error: "not_found",
      error_description: `The sandbox's Entra ID has no endpoint ${request.method} ${request.url.pathname}.`,
    });
  }

  /** The real Entra instance whose host this sandbox poses as, if any. */
  private realInstance(): { cloudInstanceName: string } | undefined {
    const host = new URL(this.endpoints.loginOrigin).host;
    const entry = ENTRA_INSTANCE_METADATA.find((m) => m.aliases.includes(host));
    return entry ? { cloudInstanceName: CLOUD_INSTANCE_NAMES[entry.preferred_network]! } : undefined;
  }

  private isTenant(segment: string): boolean {
    const value = segment.toLowerCase();
    return (
      value === TENANT_ID ||
      value === "organizations" ||
      value === "common" ||
      this.state.domains.some((d) => d.isVerified && d.id === value)
    );
  }

  openIdConfiguration(tenant: string): Record<string, unknown> {
    const base = `${this.endpoints.loginOrigin}/${tenant}`;
    return {
      issuer: this.issuer,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${this.endpoints.loginOrigin}/${TENANT_ID}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      response_types_supported: ["code"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      tenant_region_scope: "NA",
      cloud_instance_name: this.realInstance()?.cloudInstanceName ?? "sandbox.localhost",
    };
  }

  /** Splits `scope` into the one resource it targets; Entra refuses tokens for two resources at once. */
  private resourceOf(scope: string | null): string | SandboxResponse {
    const resourceScopes = (scope ?? "").split(" ").filter((s) => s && !OIDC_SCOPES.has(s));
    if (resourceScopes.length === 0) return aadstsError(70011, scope ?? "");
    const origins = new Set<string>();
    for (const s of resourceScopes) {
      try {
        origins.add(new URL(s).origin);
      } catch {
        return aadstsError(70011, s);
      }
    }
    if (origins.size !== 1) return aadstsError(70011, resourceScopes.join(" "));
    const origin = [...origins][0]!;
    if (!this.endpoints.resources.includes(origin)) return aadstsError(500011, origin, TENANT_ID);
    return origin;
  }

  private publicClient(clientId: string | null): { ok: true } | SandboxResponse {
    if (!clientId) return aadstsError(700016, "", TENANT_ID);
    if (clientId === AZURE_POWERSHELL_CLIENT_ID) return { ok: true };
    const app = this.appById(clientId);
    if (!app) return aadstsError(700016, clientId, TENANT_ID);
    if (!app.publicClientFlows) return aadstsError(7000218);
    return { ok: true };
  }

  private appById(appId: string): Application | undefined {
    return [...this.state.applications.values()].find((a) => a.appId === appId);
  }

  private deviceCode(form: URLSearchParams): SandboxResponse {
    const client = this.publicClient(form.get("client_id"));
    if ("status" in client) return client;
    const resource = this.resourceOf(form.get("scope"));
    if (typeof resource !== "string") return resource;
    const deviceCode = randomBytes(24).toString("base64url");
    const userCode = randomBytes(5).toString("hex").toUpperCase().slice(0, 9);
    this.deviceCodes.set(deviceCode, {
      clientId: form.get("client_id")!,
      resource,
      pendingPollsLeft: this.state.scenario.deviceCodePendingPolls,
      expiresAt: Date.now() + 900_000,
    });
    const verificationUri = `${this.endpoints.loginOrigin}/devicelogin`;
    return jsonResponse(200, {
      user_code: userCode,
      device_code: deviceCode,
      verification_uri: verificationUri,
      expires_in: 900,
      interval: 1,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate. (Sandbox: approved automatically as ${this.state.credentials.adminUserName}.)`,
    });
  }

  private authorize(query: URLSearchParams): SandboxResponse {
    const clientId = query.get("client_id");
    const client = this.publicClient(clientId);
    if ("status" in client) return client;
    const redirectUri = query.get("redirect_uri") ?? "";
    if (!/^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/|$)/.test(redirectUri)) {
      return {
        status: 400,
        headers: { "content-type": "text/plain" },
        body: "AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.",
      };
    }
    const resource = this.resourceOf(query.get("scope"));
    if (typeof resource !== "string") return resource;
    if (query.get("code_challenge_method") !== "S256" || !query.get("code_challenge")) {
      return {
        status: 400,
        headers: { "content-type": "text/plain" },
        body: "AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption.",
      };
    }
    const code = randomBytes(32).toString("base64url");
    const admin = this.state.findUser(this.state.credentials.adminUserName)!;
    this.authorizationCodes.set(code, {
      clientId: clientId!,
      redirectUri,
      codeChallenge: query.get("code_challenge")!,
      resource,
      nonce: query.get("nonce") ?? undefined,
      userId: admin.id,
      expiresAt: Date.now() + 600_000,
    });
    const state = query.get("state") ?? "";
    if (query.get("response_mode") === "form_post") {
      const input = (name: string, value: string) => `<input type="hidden" name="${name}" value="${value.replace(/"/g, "&quot;")}"/>`;
      const body = `<html><body onload="document.forms[0].submit()"><form method="POST" action="${redirectUri}">${input("code", code)}${input("state", state)}${input("session_state", randomUUID())}</form></body></html>`;
      return { status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body };
    }
    const target = new URL(redirectUri);
    target.searchParams.set("code", code);
    target.searchParams.set("state", state);
    return { status: 302, headers: { location: target.href } };
  }

  private token(form: URLSearchParams): SandboxResponse {
    switch (form.get("grant_type")) {
      case "device_code":
      case "urn:ietf:params:oauth:grant-type:device_code":
        return this.redeemDeviceCode(form);
      case "authorization_code":
        return this.redeemAuthorizationCode(form);
      case "refresh_token":
        return this.redeemRefreshToken(form);
      case "client_credentials":
        return this.clientCredentials(form);
      case "password":
        return this.password(form);
      default:
        return jsonResponse(400, {
          error: "unsupported_grant_type",
          error_description: `AADSTS70003: The app requested an unsupported grant type '${form.get("grant_type")}'.`,
          error_codes: [70003],
        });
    }
  }

  private redeemDeviceCode(form: URLSearchParams): SandboxResponse {
    const grant = this.deviceCodes.get(form.get("device_code") ?? "");
    if (!grant) return aadstsError(70019);
    if (Date.now() > grant.expiresAt) {
      this.deviceCodes.delete(form.get("device_code")!);
      return aadstsError(70019);
    }
    if (grant.pendingPollsLeft > 0) {
      grant.pendingPollsLeft--;
      return aadstsError(70016);
    }
    this.deviceCodes.delete(form.get("device_code")!);
    const admin = this.state.findUser(this.state.credentials.adminUserName)!;
    return this.delegatedTokenResponse(admin, grant.clientId, grant.resource, undefined);
  }

  private redeemAuthorizationCode(form: URLSearchParams): SandboxResponse {
    const code = this.authorizationCodes.get(form.get("code") ?? "");
    if (!code || Date.now() > code.expiresAt || code.clientId !== form.get("client_id")) return aadstsError(70008);
    this.authorizationCodes.delete(form.get("code")!);
    if (form.get("redirect_uri") !== code.redirectUri) {
      return jsonResponse(400, {
        error: "invalid_grant",
        error_description: "AADSTS50148: The redirect_uri does not match the one used in the authorization request.",
        error_codes: [50148],
      });
    }
    const verifier = form.get("code_verifier") ?? "";
    if (createHash("sha256").update(verifier).digest("base64url") !== code.codeChallenge) return aadstsError(50148);
    const user = this.state.users.get(code.userId)!;
    return this.delegatedTokenResponse(user, code.clientId, code.resource, code.nonce);
  }

  private redeemRefreshToken(form: URLSearchParams): SandboxResponse {
    const grant = this.refreshTokens.get(form.get("refresh_token") ?? "");
    if (!grant || grant.clientId !== form.get("client_id")) return aadstsError(70008);
    const resource = this.resourceOf(form.get("scope"));
    if (typeof resource !== "string") return resource;
    const user = this.state.users.get(grant.userId);
    if (!user || !user.accountEnabled) return aadstsError(50057);
    return this.delegatedTokenResponse(user, grant.clientId, resource, undefined);
  }

  /**
   * Entra accepts a password grant from a public client (one that allows public client flows), or from a
   * confidential client that proves itself with its own secret or certificate assertion; a confidential
   * client without it is AADSTS7000218, and a first-party public client that sends one is AADSTS700025
   * (reference: graph-and-msal §C.3 and §C.6; learn.microsoft.com/entra/identity-platform/v2-oauth-ropc,
   * `client_secret`: "If your app is a public client, then the client_secret or client_assertion can't be
   * included. If the app is a confidential client, then it must be included.").
   */
  private passwordClient(form: URLSearchParams): { ok: true } | SandboxResponse {
    const clientId = form.get("client_id");
    const presentsCredential = form.get("client_secret") !== null || form.get("client_assertion") !== null;
    if (clientId === AZURE_POWERSHELL_CLIENT_ID) {
      return presentsCredential ? aadstsError(700025) : { ok: true };
    }
    const app = clientId ? this.appById(clientId) : undefined;
    if (app && presentsCredential) return this.clientCredential(app, form);
    return this.publicClient(clientId);
  }

  private password(form: URLSearchParams): SandboxResponse {
    const client = this.passwordClient(form);
    if ("status" in client) return client;
    const resource = this.resourceOf(form.get("scope"));
    if (typeof resource !== "string") return resource;
    const userName = (form.get("username") ?? "").toLowerCase();
    const user = this.state.findUser(userName);
    if (!user) return aadstsError(50034, userName, TENANT_ID);
    if (user.password !== form.get("password")) return aadstsError(50126);
    if (!user.accountEnabled) return aadstsError(50057);
    if (user.forceChangePasswordNextSignIn) return aadstsError(50055);
    const fault = this.faults.current.signInError;
    const isAdmin = user.directoryRoles.length > 0;
    if (fault && (fault.users ? fault.users.map((u) => u.toLowerCase()).includes(userName) : !isAdmin)) {
      return aadstsError(fault.aadsts, resource);
    }
    return this.delegatedTokenResponse(user, form.get("client_id")!, resource, undefined);
  }

  private clientCredentials(form: URLSearchParams): SandboxResponse {
    const clientId = form.get("client_id") ?? "";
    const app = this.appById(clientId);
    if (!app) return aadstsError(700016, clientId, TENANT_ID);
    const credential = this.clientCredential(app, form);
    if ("status" in credential) return credential;
    const hasServicePrincipal = [...this.state.servicePrincipals.values()].some((sp) => sp.appId === app.appId) || app.appRoles.size > 0;
    if (!hasServicePrincipal) return aadstsError(7000229, clientId, TENANT_ID);
    const resource = this.resourceOf(form.get("scope"));
    if (typeof resource !== "string") return resource;
    const { token, expiresIn } = this.tokens.issue({
      aud: resource,
      iss: this.issuer,
      tid: TENANT_ID,
      oid: app.id,
      idtyp: "app",
      appid: app.appId,
    });
    return jsonResponse(200, { token_type: "Bearer", expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token });
  }

  /** The confidential client's proof of itself: an unexpired secret, or a certificate assertion. */
  private clientCredential(app: Application, form: URLSearchParams): { ok: true } | SandboxResponse {
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    if (secret !== null) {
      // On the tenant's clock: a secret past its endDateTime is refused as expired (AADSTS7000222), not as wrong.
      const match = app.passwordCredentials.find((c) => c.secretText === secret);
      if (!match) return aadstsError(7000215, app.appId);
      return Date.parse(match.endDateTime) > this.state.clock.now() ? { ok: true } : aadstsError(7000222, app.appId);
    }
    if (assertion !== null) return this.assertionValid(app, assertion) ? { ok: true } : aadstsError(700027);
    return aadstsError(7000218);
  }

  /**
   * Verifies a certificate client assertion (RFC 7523): signature by a registered certificate, issuer,
   * subject, expiry and a `jti`. A repeated `jti` within the assertion's lifetime is accepted, as Entra does:
   * MSAL Node signs one assertion and sends it with every token request until it expires
   * (msal-node ClientAssertion.getJwt), as MSAL.NET did before 4.35 (AzureAD/microsoft-authentication-library-
   * for-dotnet#2798: only its audience, never its reuse, was a problem), and the only failure Entra reports for
   * a reused assertion is its expiry (AADSTS700024; MicrosoftDocs/azure-docs#65990).
   */
  private assertionValid(app: Application, assertion: string): boolean {
    const [headerPart, payloadPart, signaturePart] = assertion.split(".");
    if (!headerPart || !payloadPart || !signaturePart) return false;
    try {
      const header = JSON.parse(Buffer.from(headerPart, "base64url").toString("utf8")) as Record<string, string>;
      const payload = JSON.parse(Buffer.from(payloadPart, "base64url").toString("utf8")) as Record<string, unknown>;
      const thumbprint = header["x5t#S256"] ? Buffer.from(header["x5t#S256"], "base64url").toString("hex").toUpperCase() : undefined;
      const certificate = app.certificates.find((c) => c.thumbprintSha256 === thumbprint);
      if (!certificate) return false;
      const key = createPublicKey(new X509Certificate(certificate.certPem).publicKey.export({ format: "pem", type: "spki" }));
      const data = Buffer.from(`${headerPart}.${payloadPart}`);
      const signature = Buffer.from(signaturePart, "base64url");
      const ok =
        header.alg === "PS256"
          ? verifySignature("sha256", data, { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature)
          : header.alg === "RS256" && verifySignature("sha256", data, key, signature);
      const now = Date.now() / 1000;
      const jti = String(payload.jti ?? "");
      return ok && payload.iss === app.appId && payload.sub === app.appId && Number(payload.exp) >= now && jti !== "";
    } catch {
      return false;
    }
  }

  private delegatedTokenResponse(user: DirectoryUser, clientId: string, resource: string, nonce: string | undefined): SandboxResponse {
    const { token, expiresIn } = this.tokens.issue({
      aud: resource,
      iss: this.issuer,
      tid: TENANT_ID,
      oid: user.id,
      idtyp: "user",
      appid: clientId,
      upn: user.userPrincipalName,
    });
    const refreshToken = randomBytes(32).toString("base64url");
    this.refreshTokens.set(refreshToken, { clientId, userId: user.id });
    this.tokens.issued.add(refreshToken);
    const now = Math.floor(Date.now() / 1000);
    const idToken = unsignedJwt({
      aud: clientId,
      iss: this.issuer,
      iat: now,
      nbf: now,
      exp: now + 3600,
      oid: user.id,
      sub: user.id,
      tid: TENANT_ID,
      preferred_username: user.userPrincipalName,
      name: user.displayName,
      ver: "2.0",
      ...(nonce ? { nonce } : {}),
    });
    return jsonResponse(200, {
      token_type: "Bearer",
      scope: `${resource}/.default`,
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      access_token: token,
      refresh_token: refreshToken,
      id_token: idToken,
      client_info: Buffer.from(JSON.stringify({ uid: user.id, utid: TENANT_ID })).toString("base64url"),
    });
  }
}

/** Checks the bearer token of a resource request: signature, expiry, and that it was issued for this audience. */
export function authenticate(
  request: SandboxRequest,
  tokens: TokenAuthority,
  audience: string,
): TokenClaims | { status: number; reason: string } {
  const header = request.headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) return { status: 401, reason: "Authorization header with a Bearer token is required." };
  const claims = tokens.verify(match[1]!);
  if ("error" in claims) return { status: 401, reason: claims.error };
  if (claims.aud !== audience) return { status: 401, reason: `The access token's audience ${claims.aud} is not ${audience}.` };
  return claims;
}
