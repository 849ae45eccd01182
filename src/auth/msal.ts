import {
  ConfidentialClientApplication,
  LogLevel,
  PublicClientApplication,
  type AccountInfo,
  type AuthenticationResult,
  type Configuration,
  type DeviceCodeRequest,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from "@azure/msal-node";
import { HttpFailure, type HttpClient } from "../services/http.js";
import type { TokenProvider } from "../services/tokens.js";
import { untilAborted } from "../clock.js";
import type { AuthMethod } from "../options.js";
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileCachePlugin, writePrivateFile } from "./cache.js";
import { signInErrorFrom, type AadstsContext } from "./aadsts.js";
import { signInCacheAliases } from "../clouds.js";

/**
 * Sign-in through MSAL Node. One sign-in yields tokens for every resource: the first token comes from an
 * interactive flow (browser or device code) or client credentials; later resources (Dataverse after Graph)
 * come silently from the refresh token (reference: graph-and-msal §C.10). Scopes are `<resource>/.default`,
 * which first-party public clients require.
 */

export interface ClientCertificate {
  thumbprintSha256: string;
  privateKey: string;
  x5c: string;
}

export interface AuthSettings {
  /** `password`: the service user's own sign-in, as Partner Center makes it (used only by verify). */
  method: AuthMethod | "password";
  username?: string;
  password?: string;
  /** Whose sign-in this is, for the AADSTS explanations. */
  who?: "admin" | "service";
  /** For the service identity: the exact command that sets a new password or secret (named in hints). */
  resetCommand?: string;
  clientId: string;
  authorityHost: string;
  tenant: string;
  clientSecret?: string;
  clientCertificate?: ClientCertificate;
  /** Token cache file (0600); undefined keeps tokens in memory only. */
  cachePath?: string;
  /** Authority hosts MSAL does not know (sandbox, custom clouds) must be listed to skip Microsoft's instance discovery. */
  customAuthority: boolean;
  openBrowser: (url: string) => Promise<void>;
  /** Receives the device-code instruction; always shown, whatever the output mode. */
  onDeviceCode: (message: string) => void;
  trace?: (line: string) => void;
  /** The run's Ctrl+C: ends a sign-in that waits for the admin (device code, browser) at once. */
  signal?: AbortSignal;
}

/** MSAL's network calls go through our HTTP layer: same CA, retry policy, timeouts and redacted tracing. */
class MsalNetworkClient implements INetworkModule {
  /**
   * Entra's first error answer in this attempt. MSAL replaces some with a generic error, and after a
   * refused device-code request it even polls on with no code, so the first error is the one that counts.
   */
  private firstEntraError: { error_description?: string; error_codes?: number[] } | undefined;

  /**
   * A host that could not be reached. MSAL replaces whatever the network client throws with its own
   * `network_error` (token requests) or `endpoints_resolution_error` (metadata), dropping the cause
   * (msal-common protocol/Token.mjs sendPostRequest; AzureAD/microsoft-authentication-library-for-js
   * issues #7584, #7189), so the failure is kept here and reported instead: naming the host, never as a sign-in failure.
   */
  private unreachable: HttpFailure | undefined;

  resetErrors(): void {
    this.firstEntraError = undefined;
    this.unreachable = undefined;
  }

  networkFailure(): HttpFailure | undefined {
    return this.unreachable;
  }

  entraError(): { error_description?: string; error_codes?: number[] } | undefined {
    return this.firstEntraError;
  }

  /** The sign-in server's OpenID configuration, when MSAL fetched it in this run. */
  private openIdConfiguration: unknown;

  /** The configuration fetched since the last call, once. */
  takeOpenIdConfiguration(): unknown {
    const fetched = this.openIdConfiguration;
    this.openIdConfiguration = undefined;
    return fetched;
  }

  constructor(private readonly http: HttpClient) {}

  async sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("GET", url, options);
  }

  async sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("POST", url, options);
  }

  private async send<T>(method: "GET" | "POST", url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    // Redeeming an authorization code is single-use; every other token request can be resent safely.
    const idempotent = method === "GET" || !/grant_type=authorization_code/.test(options?.body ?? "");
    const response = await this.http
      .send({ service: "entra", method, url, headers: options?.headers, body: options?.body, idempotent })
      .catch((error: unknown) => {
        if (error instanceof HttpFailure && error.unreachable) this.unreachable ??= error;
        throw error;
      });
    let body: unknown = {};
    try {
      body = response.body.length > 0 ? response.json() : {};
    } catch {
      body = {};
    }
    const fields = body as Record<string, unknown>;
    if (method === "GET" && response.status === 200 && new URL(url).pathname.endsWith(OPENID_CONFIGURATION))
      this.openIdConfiguration = body;
    if (response.status >= 400 && Array.isArray(fields.error_codes) && fields.error !== "authorization_pending") {
      this.firstEntraError ??= fields as { error_description?: string; error_codes?: number[] };
    }
    for (const key of ["access_token", "refresh_token", "id_token", "device_code"]) {
      if (typeof fields[key] === "string") this.http.redactor.add(fields[key] as string);
    }
    return { status: response.status, headers: response.headers, body: body as T };
  }
}

export class MsalTokenProvider implements TokenProvider {
  private publicClient: PublicClientApplication | undefined;
  private confidentialClient: ConfidentialClientApplication | undefined;
  private signedIn: AccountInfo | undefined;
  private readonly network: MsalNetworkClient;
  /** Token requests run one at a time: parallel reads must not each start an interactive sign-in. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Token requests on their way, by resource. */
  private readonly acquiring = new Map<string, Promise<string>>();
  /** Access tokens by resource, reused until two minutes before they expire. */
  private readonly issued = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly settings: AuthSettings,
    private readonly http: HttpClient,
  ) {
    this.network = new MsalNetworkClient(http);
  }

  private get context(): AadstsContext {
    return {
      who: this.settings.who ?? "admin",
      clientId: this.settings.clientId,
      authorityHost: this.settings.authorityHost,
      tenant: this.settings.tenant,
      resetCommand: this.settings.resetCommand,
    };
  }

  private get authority(): string {
    return `${this.settings.authorityHost}/${this.settings.tenant}`;
  }

  private configuration(authorityMetadata?: string): Configuration {
    const { settings } = this;
    return {
      auth: {
        clientId: settings.clientId,
        authority: this.authority,
        ...(authorityMetadata ? { authorityMetadata } : {}),
        ...(settings.customAuthority ? { knownAuthorities: [new URL(settings.authorityHost).host] } : {}),
        ...(settings.clientSecret ? { clientSecret: settings.clientSecret } : {}),
        ...(settings.clientCertificate ? { clientCertificate: settings.clientCertificate } : {}),
      },
      // Only delegated sign-ins are persisted: app-only tokens are cheap to get again, and a cached one
      // would hide a wrong or revoked client secret until it expires.
      cache: settings.cachePath && !this.isConfidential ? { cachePlugin: fileCachePlugin(settings.cachePath) } : undefined,
      system: {
        networkClient: this.network,
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (_level, message) => settings.trace?.(`msal: ${message}`),
        },
      },
    };
  }

  private get isConfidential(): boolean {
    return this.settings.method === "client-secret" || this.settings.method === "client-certificate";
  }

  /**
   * The same sign-in for another tenant (`--partner-center-tenant`: the Partner Center account may live in
   * another tenant than Dynamics, reference: partner-center §1.4); its tokens are issued by that tenant.
   */
  forTenant(tenant: string): MsalTokenProvider {
    return new MsalTokenProvider({ ...this.settings, tenant }, this.http);
  }

  account(): AccountInfo | undefined {
    return this.signedIn;
  }

  async getAccessToken(resource: string): Promise<string> {
    const fresh = this.issued.get(resource);
    if (fresh && fresh.expiresAt > Date.now() + 120_000) return fresh.token;
    // A caller that needs a token already on its way shares it, rather than queuing behind the next resource's.
    const pending = this.acquiring.get(resource);
    if (pending) return pending;
    const acquisition = this.queue.then(() => this.acquire(resource));
    this.acquiring.set(resource, acquisition);
    void acquisition.finally(() => this.acquiring.delete(resource)).catch(() => undefined);
    this.queue = acquisition.catch(() => undefined);
    return acquisition;
  }

  private async acquire(resource: string): Promise<string> {
    // Queued behind a sign-in that Ctrl+C ended: do not start another one.
    if (this.settings.signal?.aborted) throw this.settings.signal.reason;
    const fresh = this.issued.get(resource);
    if (fresh && fresh.expiresAt > Date.now() + 120_000) return fresh.token;
    const scopes = [`${resource}/.default`];
    let result: AuthenticationResult | null;
    this.network.resetErrors();
    try {
      result = this.isConfidential ? await this.clientCredentials(scopes) : await this.delegated(scopes);
    } catch (error) {
      if (this.settings.signal?.aborted) throw this.settings.signal.reason;
      const unreachable = this.network.networkFailure();
      if (unreachable) throw unreachable;
      const entra = this.network.entraError();
      throw signInErrorFrom(
        entra ? { errorNo: entra.error_codes?.[0], errorMessage: entra.error_description, cause: error } : error,
        this.context,
      );
    }
    if (!result?.accessToken) throw signInErrorFrom(new Error("no access token was returned"), this.context);
    this.http.redactor.add(result.accessToken);
    this.issued.set(resource, { token: result.accessToken, expiresAt: result.expiresOn?.getTime() ?? Date.now() + 300_000 });
    return result.accessToken;
  }

  private async clientCredentials(scopes: string[]): Promise<AuthenticationResult | null> {
    this.confidentialClient ??= new ConfidentialClientApplication(this.configuration());
    return this.confidentialClient.acquireTokenByClientCredential({ scopes });
  }

  private async delegated(scopes: string[]): Promise<AuthenticationResult | null> {
    const metadataPath = this.settings.cachePath && authorityMetadataPath(this.settings.cachePath);
    this.publicClient ??= new PublicClientApplication(
      this.configuration(metadataPath && (await keptAuthorityMetadata(metadataPath, this.authority))),
    );
    const result = await this.delegatedSignIn(scopes);
    const fetched = this.network.takeOpenIdConfiguration();
    if (metadataPath && result && fetched) await keepAuthorityMetadata(metadataPath, this.authority, fetched);
    return result;
  }

  private async delegatedSignIn(scopes: string[]): Promise<AuthenticationResult | null> {
    const client = this.publicClient!;
    if (this.settings.method === "password") {
      // Resource-owner password sign-in is deprecated for people; it is exactly what Partner Center does
      // with the Office 365 option, so verify does it to prove that sign-in works (graph-and-msal §C.6).
      const result = await client.acquireTokenByUsernamePassword({
        scopes,
        username: this.settings.username!,
        password: this.settings.password!,
      });
      this.signedIn = result?.account ?? undefined;
      return result;
    }
    const account = this.signedIn ?? (await this.cachedAccount());
    if (account) {
      try {
        const silent = await client.acquireTokenSilent({ account, scopes });
        this.signedIn = silent.account ?? account;
        return silent;
      } catch (error) {
        // No network: an interactive sign-in would meet the same unreachable host.
        if (this.network.networkFailure()) throw error;
        // An expired or revoked refresh token, or a resource needing consent: sign in again interactively.
        this.settings.trace?.(`silent sign-in failed, signing in interactively: ${(error as Error).message}`);
      }
    }
    const result = this.settings.method === "browser" ? await this.browserSignIn(scopes) : await this.deviceCodeSignIn(scopes);
    this.signedIn = result?.account ?? undefined;
    return result;
  }

  /**
   * MSAL polls the token endpoint on its own timer at the interval Entra sets, and takes
   * no AbortSignal; its documented stop is `DeviceCodeRequest.cancel = true`, read before each poll (graph-and-msal §C.3). So the
   * wait is raced against Ctrl+C, and MSAL is told to stop polling as well.
   */
  private deviceCodeSignIn(scopes: string[]): Promise<AuthenticationResult | null> {
    const request: DeviceCodeRequest = {
      scopes,
      deviceCodeCallback: (response) => this.settings.onDeviceCode(response.message),
    };
    return untilAborted(this.publicClient!.acquireTokenByDeviceCode(request), this.settings.signal, () => (request.cancel = true));
  }

  /** The loopback redirect waits for the admin in a browser, with no way to hand MSAL a signal: raced against Ctrl+C. */
  private browserSignIn(scopes: string[]): Promise<AuthenticationResult> {
    const signIn = this.publicClient!.acquireTokenInteractive({
      scopes,
      openBrowser: this.settings.openBrowser,
      successTemplate: "<h1>Signed in to crm-lead-setup.</h1><p>You can close this tab and return to the terminal.</p>",
      errorTemplate: "<h1>Sign-in failed.</h1><p>{error}</p><p>Return to the terminal for details.</p>",
    });
    return untilAborted(signIn, this.settings.signal);
  }

  /** An account from the cache that belongs to the requested tenant, if any. */
  private async cachedAccount(): Promise<AccountInfo | undefined> {
    const accounts = await this.publicClient!.getTokenCache().getAllAccounts();
    const tenant = this.settings.tenant.toLowerCase();
    // MSAL stores the account under its cache alias (login.windows.net for login.microsoftonline.com):
    // compare with every alias of the sign-in host, as MSAL's own silent flow does.
    const environments = signInCacheAliases(this.settings.authorityHost, this.settings.customAuthority);
    return accounts.find((a) => {
      if (!environments.includes(a.environment.toLowerCase())) return false;
      if (tenant === "organizations" || tenant === "common") return true;
      return a.tenantId.toLowerCase() === tenant || a.username.toLowerCase().endsWith(`@${tenant}`);
    });
  }
}

const OPENID_CONFIGURATION = "/.well-known/openid-configuration";

/**
 * MSAL fetches the sign-in server's OpenID configuration in every new process unless it has hard-coded
 * metadata for the authority (only Microsoft's own hosts with common/organizations/consumers), and keeps it
 * in memory for 24 hours (msal-common AUTHORITY_METADATA_REFRESH_TIME_SECONDS). A CLI is a new process each
 * time, so the document is kept beside the token cache for as long and handed back as `auth.authorityMetadata`
 * (msal-node Configuration; MSAL's performance guide, "Bypass authority metadata resolution"). It holds
 * endpoints only, never a token.
 */
const AUTHORITY_METADATA_TTL_MS = 24 * 3600 * 1000;

/** Beside the token cache, under a name of its own: logout's token caches are `msal-cache*.json`, and this is none. */
export function authorityMetadataPath(cachePath: string): string {
  const name = basename(cachePath);
  return join(dirname(cachePath), name.startsWith("msal-cache") ? name.replace("msal-cache", "msal-authority") : `msal-authority-${name}`);
}

async function keptAuthorityMetadata(path: string, authority: string): Promise<string | undefined> {
  try {
    const kept = JSON.parse(await readFile(path, "utf8")) as { authority?: string; fetchedAt?: number; openIdConfiguration?: unknown };
    const fresh = typeof kept.fetchedAt === "number" && Date.now() - kept.fetchedAt < AUTHORITY_METADATA_TTL_MS;
    return kept.authority === authority && fresh && kept.openIdConfiguration ? JSON.stringify(kept.openIdConfiguration) : undefined;
  } catch {
    // None kept yet, or unreadable: MSAL fetches it.
    return undefined;
  }
}

async function keepAuthorityMetadata(path: string, authority: string, openIdConfiguration: unknown): Promise<void> {
  await writePrivateFile(path, JSON.stringify({ authority, fetchedAt: Date.now(), openIdConfiguration }));
}
