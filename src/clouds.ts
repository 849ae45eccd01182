import { UsageError } from "./errors.js";
import { quoteInput } from "./validate.js";

/**
 * One table: cloud → Entra sign-in host, Graph root, Dynamics host suffixes, Power Platform admin (BAP) host
 * and scope. Source: reference/dataverse-and-partner-center.md §8 and reference/graph-and-msal.md §E.
 * GCC signs in and calls Graph on the commercial endpoints; only its Dynamics suffix (crm9) and BAP differ.
 *
 * The BAP token audience of GCC and GCC High is not documented as such, and Microsoft's own code disagrees:
 * the Terraform provider uses service.powerapps.us and high.service.apps.appsplatform.us; the PowerApps
 * admin PowerShell module (whose Add-AdminPowerAppsSyncUser makes the same addUser call) maps
 * gov.api.bap.microsoft.us → gov.service.powerapps.us and high.api.bap.microsoft.us → high.service.powerapps.us,
 * and Microsoft's SharePoint Migration Tool documentation lists exactly those pairs as required endpoints.
 * We follow the latter two (UNCONFIRMED against a real tenant); --power-platform-audience overrides it.
 */
export const CLOUD_NAMES = ["public", "gcc", "gcchigh", "dod", "china", "custom"] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

export interface CloudEndpoints {
  name: CloudName;
  /** Entra sign-in host, origin form: `https://login.microsoftonline.com`. */
  authorityHost: string;
  /** Graph root, origin form: `https://graph.microsoft.com`. */
  graphEndpoint: string;
  /** Host suffixes a Dynamics org URL may end with (a leading label is required before them). */
  dynamicsSuffixes: readonly RegExp[];
  /** Human form of the suffixes, for messages. */
  dynamicsSuffixText: string;
  bapEndpoint: string;
  bapScope: string;
}

type KnownCloud = Exclude<CloudName, "custom">;

export const CLOUDS: Readonly<Record<KnownCloud, CloudEndpoints>> = {
  public: {
    name: "public",
    authorityHost: "https://login.microsoftonline.com",
    graphEndpoint: "https://graph.microsoft.com",
    // crm, crm2 … crm21 except crm9 (GCC). New regions appear over time: accept any number but 9.
    dynamicsSuffixes: [/\.crm(?!9\.)(\d{0,2})\.dynamics\.com$/],
    dynamicsSuffixText: "*.crm.dynamics.com or *.crmN.dynamics.com",
    bapEndpoint: "https://api.bap.microsoft.com",
    bapScope: "https://service.powerapps.com/.default",
  },
  gcc: {
    name: "gcc",
    authorityHost: "https://login.microsoftonline.com",
    graphEndpoint: "https://graph.microsoft.com",
    dynamicsSuffixes: [/\.crm9\.dynamics\.com$/],
    dynamicsSuffixText: "*.crm9.dynamics.com",
    bapEndpoint: "https://gov.api.bap.microsoft.us",
    bapScope: "https://gov.service.powerapps.us/.default",
  },
  gcchigh: {
    name: "gcchigh",
    authorityHost: "https://login.microsoftonline.us",
    graphEndpoint: "https://graph.microsoft.us",
    dynamicsSuffixes: [/\.crm\.microsoftdynamics\.us$/],
    dynamicsSuffixText: "*.crm.microsoftdynamics.us",
    bapEndpoint: "https://high.api.bap.microsoft.us",
    bapScope: "https://high.service.powerapps.us/.default",
  },
  dod: {
    name: "dod",
    authorityHost: "https://login.microsoftonline.us",
    graphEndpoint: "https://dod-graph.microsoft.us",
    dynamicsSuffixes: [/\.crm\.appsplatform\.us$/],
    dynamicsSuffixText: "*.crm.appsplatform.us",
    bapEndpoint: "https://api.bap.appsplatform.us",
    bapScope: "https://service.apps.appsplatform.us/.default",
  },
  china: {
    name: "china",
    authorityHost: "https://login.chinacloudapi.cn",
    graphEndpoint: "https://microsoftgraph.chinacloudapi.cn",
    dynamicsSuffixes: [/\.crm\.dynamics\.cn$/],
    dynamicsSuffixText: "*.crm.dynamics.cn",
    bapEndpoint: "https://api.bap.partner.microsoftonline.cn",
    bapScope: "https://service.powerapps.cn/.default",
  },
};

/**
 * MSAL's cache aliases: MSAL records a signed-in account under its cloud's `preferred_cache` host, not the
 * host it signed in at (login.microsoftonline.com → login.windows.net; login.chinacloudapi.cn →
 * login.partner.microsoftonline.cn), and treats every alias of a group as the same cloud. These groups are
 * Entra's instance discovery answer (`GET https://login.microsoftonline.com/common/discovery/instance
 * ?api-version=1.1`, as recorded in public test fixtures) and msal-common's hardcoded copy of it
 * (`authority/AuthorityMetadata`, used instead of the network for these hosts).
 */
const SIGN_IN_ALIAS_GROUPS: readonly (readonly string[])[] = [
  ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
  ["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
  ["login.microsoftonline.us", "login.usgovcloudapi.net"],
  ["login.microsoftonline.de"],
  ["login-us.microsoftonline.com"],
];

/**
 * The hosts under which MSAL may have cached an account signed in at `authorityHost`. A host MSAL is told
 * to trust as a known authority (custom clouds, the plain sandbox) is its own only alias, as in MSAL.
 */
export function signInCacheAliases(authorityHost: string, knownAuthority: boolean): readonly string[] {
  const host = new URL(authorityHost).host.toLowerCase();
  if (knownAuthority) return [host];
  return SIGN_IN_ALIAS_GROUPS.find((group) => group.includes(host)) ?? [host];
}

export function isCloudName(value: string): value is CloudName {
  return (CLOUD_NAMES as readonly string[]).includes(value);
}

export function parseCloudName(value: string, source = "--cloud"): CloudName {
  const name = value.trim().toLowerCase();
  if (!isCloudName(name)) {
    throw new UsageError({
      code: "cloud-unknown",
      message: `${source} "${value}" is not a cloud this tool knows.`,
      hint: `Use one of: ${CLOUD_NAMES.join(", ")}.`,
    });
  }
  return name;
}

/** Which known cloud's Dynamics suffix the host matches, if any. */
export function cloudOfDynamicsHost(hostname: string): KnownCloud | undefined {
  const host = hostname.toLowerCase();
  for (const cloud of Object.values(CLOUDS)) {
    if (cloud.dynamicsSuffixes.some((suffix) => suffix.test(host))) return cloud.name as KnownCloud;
  }
  return undefined;
}

/**
 * Parses an https origin given by the user (org URL, authority host, Graph endpoint). Anything beyond the
 * origin is refused rather than silently dropped when it could change where tokens go (user-info), and
 * dropped with the origin kept when it is a harmless trailing path such as `/main.aspx`.
 */
export function parseHttpsOrigin(raw: string, option: string): URL {
  const value = raw.trim();
  let url: URL;
  try {
    url = new URL(value.includes("://") ? value : `https://${value}`);
  } catch {
    throw new UsageError({
      code: "url-malformed",
      message: `${option} ${quoteInput(raw)} is not a URL.`,
      hint: `Pass the address as https://host, e.g. ${option} https://contoso.crm4.dynamics.com`,
    });
  }
  if (url.protocol !== "https:") {
    throw new UsageError({
      code: "url-not-https",
      message: `${option} ${quoteInput(raw)} uses ${url.protocol.replace(":", "")}; tokens are only ever sent over https.`,
      hint: `Use https://${url.host}`,
    });
  }
  if (url.username || url.password) {
    throw new UsageError({
      code: "url-has-credentials",
      message: `${option} "${redactUrlCredentials(raw)}" contains a user name or password.`,
      hint: `Pass only the address, e.g. https://${url.host}`,
    });
  }
  return url;
}

function redactUrlCredentials(raw: string): string {
  return raw.replace(/\/\/[^@/]*@/, "//***@");
}

/** True for IPv4 and IPv6 literals: a Dynamics environment is always addressed by name. */
function isIpLiteral(hostname: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.startsWith("[");
}

/**
 * An environment URL is a bare https host: Dataverse's token resource is `https://<host>` (reference:
 * dataverse §8), so a port would end up in the token scope and a path, query or fragment means the value
 * was copied from somewhere else than the Environment URL field. Refused rather than guessed at. (The
 * sandbox's own URLs carry ports, but they are set internally and never pass through here.)
 */
function refuseBeyondHost(url: URL, raw: string): void {
  const extras = [
    url.port ? `a port (:${url.port})` : undefined,
    url.pathname !== "/" ? "a path" : undefined,
    url.search ? "a query" : undefined,
    url.hash || raw.trim().endsWith("#") ? "a fragment" : undefined,
  ].filter((extra): extra is string => extra !== undefined);
  if (extras.length === 0) return;
  throw new UsageError({
    code: "org-url-not-bare",
    message: `--org-url ${quoteInput(raw)} has ${extras.join(", ")} after the host; the environment URL is the host alone.`,
    hint: `Pass https://${url.hostname} (Power Platform admin center → Environments → your environment → Environment URL).`,
  });
}

export interface OrgUrlResult {
  /** Origin form, no trailing slash: `https://contoso.crm4.dynamics.com`. */
  orgUrl: string;
  /** The cloud the host belongs to (custom when the caller said so). */
  cloud: CloudName;
}

/**
 * SPEC §3: the org URL is normalised to its origin, must be https, and its host must belong to the chosen
 * cloud's Dynamics domains (tokens are never sent elsewhere) unless the cloud is custom. Without an
 * explicit cloud, the cloud is derived from the host suffix.
 */
export function validateOrgUrl(raw: string, explicitCloud: CloudName | undefined): OrgUrlResult {
  const url = parseHttpsOrigin(raw, "--org-url");
  refuseBeyondHost(url, raw);
  const host = url.hostname.toLowerCase();
  if (explicitCloud === "custom") return { orgUrl: url.origin, cloud: "custom" };
  if (isIpLiteral(host)) {
    throw new UsageError({
      code: "org-url-ip-literal",
      message: `--org-url ${quoteInput(raw)} is an IP address; a Dynamics environment is addressed by its host name.`,
      hint: "Copy the environment URL from the Power Platform admin center, e.g. https://contoso.crm4.dynamics.com",
    });
  }
  const hostCloud = cloudOfDynamicsHost(host);
  if (!hostCloud) {
    const expected = explicitCloud ? CLOUDS[explicitCloud].dynamicsSuffixText : "a Dynamics host such as *.crm4.dynamics.com";
    throw new UsageError({
      code: "org-url-not-dynamics",
      message: `--org-url ${quoteInput(raw)}: ${host} is not a Dynamics 365 environment host (expected ${expected}).`,
      hint: "Copy the environment URL from the Power Platform admin center, or pass --cloud custom with --authority-host and --graph-endpoint for a private endpoint.",
    });
  }
  if (explicitCloud && explicitCloud !== hostCloud) {
    throw new UsageError({
      code: "org-url-wrong-cloud",
      message: `--org-url ${quoteInput(raw)} belongs to the ${hostCloud} cloud, but --cloud is ${explicitCloud} (expected ${CLOUDS[explicitCloud].dynamicsSuffixText}).`,
      hint: `Drop --cloud (it is derived from the URL) or pass --cloud ${hostCloud}.`,
    });
  }
  return { orgUrl: url.origin, cloud: hostCloud };
}

export interface ResolvedCloud {
  name: CloudName;
  authorityHost: string;
  graphEndpoint: string;
  bapEndpoint: string | undefined;
  bapScope: string | undefined;
}

/** Endpoints for a cloud, with the --authority-host / --graph-endpoint overrides applied. */
export function resolveCloud(
  name: CloudName,
  overrides: { authorityHost?: string; graphEndpoint?: string; bapEndpoint?: string; bapScope?: string },
): ResolvedCloud {
  if (name === "custom") {
    const missing = [
      overrides.authorityHost ? undefined : "--authority-host",
      overrides.graphEndpoint ? undefined : "--graph-endpoint",
    ].filter(Boolean);
    if (missing.length > 0) {
      throw new UsageError({
        code: "custom-cloud-incomplete",
        message: `--cloud custom needs ${missing.join(" and ")}.`,
        hint: "Pass the Entra sign-in host and the Graph root, e.g. --authority-host https://login.example --graph-endpoint https://graph.example",
      });
    }
  }
  const base = name === "custom" ? undefined : CLOUDS[name];
  const origin = (value: string, option: string) => parseHttpsOrigin(value, option).origin;
  return {
    name,
    authorityHost: overrides.authorityHost ? origin(overrides.authorityHost, "--authority-host") : base!.authorityHost,
    graphEndpoint: overrides.graphEndpoint ? origin(overrides.graphEndpoint, "--graph-endpoint") : base!.graphEndpoint,
    bapEndpoint: overrides.bapEndpoint ?? base?.bapEndpoint,
    bapScope: overrides.bapScope ?? base?.bapScope,
  };
}
