import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { UsageError } from "./errors.js";
import { parseHttpsOrigin, resolveCloud, validateOrgUrl, type ResolvedCloud } from "./clouds.js";
import type { AuthMethod, CliOptions } from "./options.js";
import type { IO } from "./io.js";
import { appPaths, type AppPaths } from "./paths.js";
import { HttpClient } from "./services/http.js";
import type { SandboxConnection } from "./sandbox/server.js";
import { findRunningSandbox, markCommandSandbox, sandboxBrowser } from "./sandbox-link.js";
import { systemClock, type Clock } from "./clock.js";
import type { ClientCertificate, MsalTokenProvider } from "./auth/msal.js";
import type { GraphApi } from "./services/graph.js";
import type { DataverseApi, EnvironmentApi } from "./services/dataverse.js";
import type { ApplicationsApi, DirectoryApi } from "./services/graph.js";
import type { ServiceCredentials, ServiceIdentitySession } from "./steps/ports.js";
import { followUpCommand } from "./summary.js";
import { wrapWords } from "./render.js";

/**
 * Options → the tenant link: the HTTP client, the sandbox (if any) and, on first use, the signed-in tenant
 * session with its Graph and Dataverse clients. Every input is validated here, before any tenant call.
 */

/** Microsoft Azure PowerShell's public client, which Dataverse documents for Web API access without an app registration. */
export const DEFAULT_CLIENT_ID = "1950a258-227b-4e31-a9cf-717495945fc2";
export const CLIENT_SECRET_ENV = "CRM_LEAD_SETUP_CLIENT_SECRET";

export interface TenantSession {
  orgUrl: string;
  cloud: ResolvedCloud;
  tenant: string;
  tokens: MsalTokenProvider;
  graph: GraphApi;
  dataverse: DataverseApi;
  /** Typed Graph calls for the directory (users, domains, licences). */
  directory: DirectoryApi;
  /** Typed Graph calls for app registrations and service principals. */
  applications: ApplicationsApi;
  /** Typed Dataverse calls for the environment (solutions, roles, users). */
  environment: EnvironmentApi;
  /** How the sign-in happens, and the token cache file (none for app-only sign-ins, which are not cached). */
  signIn: { method: AuthMethod; clientId: string; cachePath: string | undefined };
}

export interface AuthPlan {
  method: AuthMethod;
  clientId: string;
  tenant: string;
  clientSecret?: string;
  clientCertificate?: ClientCertificate;
}

/**
 * The connection a tenant command works through: the HTTP client (with the sandbox's CA, if any), the
 * sandbox, and on first use the signed-in tenant session. Options and IO stay with the command.
 */
export interface TenantLink {
  paths: AppPaths;
  signal: AbortSignal;
  /** Every wait of the run (back-off, polls, sync waits) runs on this clock. */
  clock: Clock;
  http: HttpClient;
  sandbox: SandboxConnection | undefined;
  /** Signs in (once) and returns the tenant session. */
  tenant(): Promise<TenantSession>;
  /** Keeps a secret out of every output. */
  keepSecret(secret: string): void;
  /** Signs in as the service identity exactly as Partner Center does (verify). */
  serviceSignIn(credentials: ServiceCredentials, session: TenantSession): Promise<ServiceIdentitySession>;
  close(): Promise<void>;
}

/** The default sign-in method: browser where one can be opened, device code otherwise (e.g. over SSH). */
export function defaultAuthMethod(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, sandbox: boolean): AuthMethod {
  if (sandbox) return "device-code";
  if (env.SSH_CONNECTION || env.SSH_TTY || env.CI) return "device-code";
  if (platform === "darwin" || platform === "win32") return "browser";
  return env.DISPLAY || env.WAYLAND_DISPLAY ? "browser" : "device-code";
}

export function readClientCertificate(path: string): ClientCertificate {
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError({
      code: "client-certificate-unreadable",
      message: `--client-certificate ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
      hint: "Pass the path of a PEM file holding the certificate and its private key.",
    });
  }
  const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const key = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(pem)?.[0];
  if (!certificate || !key) {
    throw new UsageError({
      code: "client-certificate-invalid",
      message: `--client-certificate ${path} must hold both a CERTIFICATE and a PRIVATE KEY block.`,
      hint: "Concatenate the certificate and its unencrypted private key into one PEM file.",
    });
  }
  try {
    const x509 = new X509Certificate(certificate);
    const privateKey = createPrivateKey(key).export({ format: "pem", type: "pkcs8" }).toString();
    return { thumbprintSha256: x509.fingerprint256.replace(/:/g, ""), privateKey, x5c: certificate };
  } catch (error) {
    throw new UsageError({
      code: "client-certificate-invalid",
      message: `--client-certificate ${path} cannot be read as a certificate and key (${(error as Error).message}).`,
      hint: "Check that the PEM file is not encrypted or truncated.",
    });
  }
}

/** Validates the sign-in inputs (SPEC §3): secrets come only from the environment, never from flags. */
export function planAuth(
  options: CliOptions,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  sandbox: SandboxConnection | undefined,
): AuthPlan {
  const method = options.auth ?? defaultAuthMethod(env, platform, sandbox !== undefined);
  const clientId =
    options.clientId ??
    (method === "client-secret" || method === "client-certificate" ? sandbox?.automationClientId : undefined) ??
    DEFAULT_CLIENT_ID;
  const tenant = options.tenant ?? sandbox?.tenantId ?? "organizations";
  const plan: AuthPlan = { method, clientId, tenant };
  if (method === "client-secret" || method === "client-certificate") {
    if (tenant === "organizations" || tenant === "common") {
      throw new UsageError({
        code: "tenant-required",
        message: `--auth ${method} needs a specific tenant.`,
        hint: "Pass --tenant <tenant id or verified domain>.",
      });
    }
    if (!options.clientId && !sandbox) {
      throw new UsageError({
        code: "client-id-required",
        message: `--auth ${method} needs the app registration's --client-id.`,
        hint: "Pass --client-id <application (client) id>.",
      });
    }
  }
  if (method === "client-secret") {
    // Against the sandbox, its automation app's secret comes from the 0600 connection file, so that
    // `--sandbox --auth client-secret` works without handling a secret at all.
    const secret = env[CLIENT_SECRET_ENV] ?? (sandbox && !options.clientId ? sandbox.automationClientSecret : undefined);
    if (!secret) {
      throw new UsageError({
        code: "client-secret-missing",
        message: `--auth client-secret reads the secret from ${CLIENT_SECRET_ENV}, which is not set.`,
        hint: `Set ${CLIENT_SECRET_ENV} in the environment (never on the command line).`,
      });
    }
    plan.clientSecret = secret;
  }
  if (method === "client-certificate") {
    if (!options.clientCertificate) {
      throw new UsageError({
        code: "client-certificate-missing",
        message: "--auth client-certificate needs --client-certificate <pem>.",
        hint: "Pass the path of a PEM file with the certificate and its private key.",
      });
    }
    plan.clientCertificate = readClientCertificate(options.clientCertificate);
  }
  return plan;
}

function openSystemBrowser(url: string, io: IO): Promise<void> {
  io.err(`Opening your browser to sign in. If it does not open, visit:\n  ${url}`);
  const [command, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", "", url.replace(/&/g, "^&")]]
        : ["xdg-open", [url]];
  try {
    spawn(command as string, args as string[], { stdio: "ignore", detached: true })
      .on("error", () => undefined)
      .unref();
  } catch {
    // The URL is printed above; the admin can open it by hand.
  }
  return Promise.resolve();
}

/** --sandbox supplies its own endpoints: flags that name others contradict it. */
function checkSandboxFlags(options: CliOptions): void {
  if (!options.sandbox) return;
  const conflicting = (["orgUrl", "cloud", "authorityHost", "graphEndpoint"] as const).filter((key) => options[key] !== undefined);
  if (conflicting.length > 0) {
    const flags = conflicting.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(", ");
    throw new UsageError({
      code: "sandbox-conflict",
      message: `--sandbox cannot be combined with ${flags}: the sandbox supplies its own endpoints.`,
      hint: `Drop ${flags}, or drop --sandbox to use a real tenant.`,
    });
  }
}

/** The running `crm-lead-setup sandbox`, or one started inside this command (closed with it). */
async function connectSandbox(paths: AppPaths, io: IO, cleanups: (() => Promise<void>)[], clock: Clock): Promise<SandboxConnection> {
  const running = await findRunningSandbox(paths);
  if (running) return running;
  const { startSandbox } = await import("./sandbox/server.js");
  const started = await startSandbox({ clock });
  markCommandSandbox(started.connection);
  cleanups.push(() => started.close());
  io.info(io.style.dim("No running `crm-lead-setup sandbox` found: started a sandbox tenant inside this command."));
  return started.connection;
}

/**
 * The endpoints a session talks to. A sandbox posing as a cloud is reached through the cloud's own table
 * and the org URL's suffix rule, exactly as a real tenant of that cloud; only the connections are routed
 * to the sandbox.
 */
function sessionEndpoints(
  sandbox: SandboxConnection | undefined,
  cloud: ResolvedCloud | undefined,
  bapScope: string | undefined,
): ResolvedCloud {
  if (!sandbox) return cloud!;
  if (sandbox.cloud) return resolveCloud(validateOrgUrl(sandbox.orgUrl, sandbox.cloud).cloud, { bapScope });
  return {
    name: "custom",
    authorityHost: sandbox.loginOrigin,
    graphEndpoint: sandbox.graphOrigin,
    bapEndpoint: sandbox.bapOrigin,
    bapScope: `${sandbox.bapOrigin}/.default`,
  };
}

interface SessionInputs {
  options: CliOptions;
  io: IO;
  paths: AppPaths;
  http: HttpClient;
  auth: AuthPlan;
  sandbox: SandboxConnection | undefined;
  orgUrl: string;
  endpoints: ResolvedCloud;
}

/** Builds the signed-in session's clients (the sign-in itself happens on the first token request). */
async function openSession({ options, io, paths, http, auth, sandbox, orgUrl, endpoints }: SessionInputs): Promise<TenantSession> {
  const [{ MsalTokenProvider }, { GraphApi, DirectoryApi, ApplicationsApi }, { DataverseApi, EnvironmentApi }] = await Promise.all([
    import("./auth/msal.js"),
    import("./services/graph.js"),
    import("./services/dataverse.js"),
  ]);
  const cachePath = join(paths.configDir, sandbox ? `msal-cache-sandbox-${sandbox.instanceId}.json` : "msal-cache.json");
  const tokens = new MsalTokenProvider(
    {
      ...auth,
      authorityHost: endpoints.authorityHost,
      customAuthority: endpoints.name === "custom",
      cachePath,
      openBrowser: sandbox ? (url) => sandboxBrowser(http, url) : (url) => openSystemBrowser(url, io),
      // The device-code instruction is always shown: nobody can sign in without it (SPEC §3). On a terminal it wraps
      // at words, so that the URL and the code are never cut in two.
      onDeviceCode: (message) => io.err(wrapWords(message, io.errorColumns, 0)),
      trace: options.verbose ? (line) => io.trace(line) : undefined,
    },
    http,
  );
  const graph = new GraphApi(http, endpoints.graphEndpoint, tokens);
  const dataverse = new DataverseApi(http, orgUrl, tokens);
  const appOnly = auth.method === "client-secret" || auth.method === "client-certificate";
  return {
    orgUrl,
    cloud: endpoints,
    tenant: auth.tenant,
    tokens,
    graph,
    dataverse,
    directory: new DirectoryApi(graph),
    applications: new ApplicationsApi(graph),
    environment: new EnvironmentApi(dataverse),
    signIn: { method: auth.method, clientId: auth.clientId, cachePath: appOnly ? undefined : cachePath },
  };
}

export async function connectTenant(
  command: string,
  options: CliOptions,
  io: IO,
  signal: AbortSignal,
  clock: Clock = systemClock,
): Promise<TenantLink> {
  const env = io.streams.env;
  const paths = appPaths(env);
  const cleanups: (() => Promise<void>)[] = [];
  checkSandboxFlags(options);
  // Validated once, before anything else happens: the wizard's answers are in the options already.
  const powerPlatformScope = options.powerPlatformAudience ? `${options.powerPlatformAudience}/.default` : undefined;
  const orgUrlChoice = options.orgUrl ? validateOrgUrl(options.orgUrl, options.cloud) : undefined;
  const cloud = options.sandbox
    ? undefined
    : resolveCloud(orgUrlChoice?.cloud ?? options.cloud ?? "public", {
        authorityHost: options.authorityHost,
        graphEndpoint: options.graphEndpoint,
        bapScope: powerPlatformScope,
      });
  if (options.solutionUrl) parseHttpsOrigin(options.solutionUrl, "--solution-url");

  const sandbox = options.sandbox ? await connectSandbox(paths, io, cleanups, clock) : undefined;
  let auth: AuthPlan;
  try {
    auth = planAuth(options, env, process.platform, sandbox);
  } catch (error) {
    // The sign-in inputs are checked against the sandbox's own app: one started for this command is
    // closed again, or its listeners would keep the process alive after the usage error.
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw error;
  }
  const http = new HttpClient({
    onlyCaPem: sandbox?.caPem,
    connectTo: sandbox?.connectTo,
    redactor: io.redactor,
    trace: options.verbose ? (line) => io.trace(line) : undefined,
    signal,
    clock,
  });
  io.redactor.add(auth.clientSecret);
  cleanups.push(() => http.close());

  let session: Promise<TenantSession> | undefined;
  const tenant = async (): Promise<TenantSession> => {
    const orgUrl = sandbox?.orgUrl ?? orgUrlChoice?.orgUrl;
    if (!orgUrl) {
      throw new UsageError({
        code: "org-url-missing",
        message: `${command} needs the Dynamics environment URL: --org-url (or CRM_LEAD_SETUP_ORG_URL).`,
        hint: "Pass e.g. --org-url https://contoso.crm4.dynamics.com, or try the emulated tenant with --sandbox.",
      });
    }
    return openSession({
      options,
      io,
      paths,
      http,
      auth,
      sandbox,
      orgUrl,
      endpoints: sessionEndpoints(sandbox, cloud, powerPlatformScope),
    });
  };

  return {
    paths,
    signal,
    clock,
    http,
    sandbox,
    tenant: () => (session ??= tenant()),
    keepSecret: (secret) => io.redactor.add(secret),
    serviceSignIn: serviceSignIn({ options, sandbox, http, io }),
    close: async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    },
  };
}

/**
 * The client the service user's password sign-in goes through. Entra refuses a password grant to a
 * confidential client unless the request carries that client's own secret or certificate (AADSTS7000218;
 * learn.microsoft.com/entra/identity-platform/v2-oauth-ropc). An admin signed in with --auth client-secret or
 * client-certificate has named such a client, usually one holding application permissions only, so the
 * user signs in through the default public client instead: it needs no consent for the user's own
 * Dynamics access, and the admin app's credential never travels with another identity's password.
 */
function passwordGrantClientId(options: CliOptions, sandbox: SandboxConnection | undefined): string {
  const adminIsConfidential = options.auth === "client-secret" || options.auth === "client-certificate";
  const publicClient = sandbox?.publicClientId ?? DEFAULT_CLIENT_ID;
  return adminIsConfidential ? publicClient : (options.clientId ?? publicClient);
}

interface ServiceSignInInputs {
  options: CliOptions;
  sandbox: SandboxConnection | undefined;
  http: HttpClient;
  io: IO;
}

/** Signs in as the service identity exactly as Partner Center does (verify), through the same HTTP client. */
function serviceSignIn(context: ServiceSignInInputs): TenantLink["serviceSignIn"] {
  return async (credentials, session) => {
    const { options, sandbox, http, io } = context;
    const [{ MsalTokenProvider }, { DataverseApi, EnvironmentApi }] = await Promise.all([
      import("./auth/msal.js"),
      import("./services/dataverse.js"),
    ]);
    const asService = new MsalTokenProvider(
      {
        ...(credentials.identity === "app"
          ? {
              method: "client-secret" as const,
              clientId: credentials.appId,
              clientSecret: credentials.clientSecret,
              tenant: credentials.directoryId,
            }
          : {
              method: "password" as const,
              clientId: passwordGrantClientId(options, sandbox),
              username: credentials.userPrincipalName,
              password: credentials.password,
              tenant: session.tenant === "organizations" ? credentials.userPrincipalName.split("@")[1]! : session.tenant,
            }),
        who: "service",
        resetCommand: followUpCommand("reset-password", { ...options, orgUrl: session.orgUrl }, credentials.name),
        authorityHost: session.cloud.authorityHost,
        customAuthority: session.cloud.name === "custom",
        openBrowser: async () => undefined,
        onDeviceCode: () => undefined,
        trace: options.verbose ? (line) => io.trace(line) : undefined,
      },
      http,
    );
    await asService.getAccessToken(session.orgUrl);
    return new EnvironmentApi(new DataverseApi(http, session.orgUrl, asService));
  };
}
