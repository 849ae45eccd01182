import { UsageError } from "./errors.js";
import { parseCloudName, parseHttpsOrigin, type CloudName } from "./clouds.js";
import { parseFaults, parseScenario } from "./sandbox/switches.js";
import { parseContactEmails, parseOfferIds } from "./offer-options.js";
import {
  parseBooleanEnv,
  parseBooleanEnvLenient,
  parseDisplayName,
  parseGuid,
  parseGuidOrDomain,
  parseIntegerInRange,
  parseLicense,
  parseUsageLocation,
  parseUserPrincipalName,
  quoteInput,
} from "./validate.js";

/**
 * Every option is declared once here: its flag, its environment twin (CRM_LEAD_SETUP_<UPPER_SNAKE>), its
 * help text and its validator. Each command lists the options it reads in its own file
 * (src/commands/<name>.ts); commander and the environment lookup are built from the two.
 */

export const AUTH_METHODS = ["browser", "device-code", "client-secret", "client-certificate"] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
export const IDENTITIES = ["user", "app"] as const;
export type Identity = (typeof IDENTITIES)[number];

export interface CliOptions {
  orgUrl?: string;
  cloud?: CloudName;
  authorityHost?: string;
  graphEndpoint?: string;
  tenant?: string;
  auth?: AuthMethod;
  clientId?: string;
  clientCertificate?: string;
  identity?: Identity;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  verbose: boolean;
  sandbox: boolean;
  detailedExitcode: boolean;
  color: boolean;
  solutionFile?: string;
  solutionUrl?: string;
  userName?: string;
  displayName?: string;
  usageLocation?: string;
  license?: string;
  appName?: string;
  secretExpiryMonths?: number;
  syncTimeout?: number;
  warnDays?: number;
  keepPasswordExpiry: boolean;
  verify: boolean;
  secretStdin: boolean;
  forceSync: boolean;
  powerPlatformAudience?: string;
  includeSolution: boolean;
  scenario?: Record<string, unknown>;
  faults?: Record<string, unknown>;
  /** Partner Center offer IDs (SPEC §7), from a comma-separated or repeated --offer. */
  offer?: string[];
  contactEmail?: string[];
  partnerCenterTenant?: string;
}

export type OptionKey = keyof CliOptions;

/** Every command; each is declared in src/commands/<name>.ts and listed in src/commands/index.ts. */
export type CommandName =
  | "init"
  | "download-solution"
  | "import-solution"
  | "create-user"
  | "create-app"
  | "assign-role"
  | "patch-role"
  | "status"
  | "reset-password"
  | "verify"
  | "teardown"
  | "connect-offer"
  | "login"
  | "logout"
  | "sandbox";

export interface OptionSpec {
  key: OptionKey;
  /** commander flag syntax, e.g. `--org-url <url>`. */
  flags: string;
  description: string;
  /** Converts and checks a raw string; `source` names the flag or variable in messages. */
  parse?: (raw: string, source: string) => unknown;
  /** May be given more than once: the values are joined with commas before `parse` (--offer a --offer b). */
  repeatable?: boolean;
}

const oneOf =
  <T extends string>(values: readonly T[], what: string) =>
  (raw: string, source: string): T => {
    const value = raw.trim().toLowerCase() as T;
    if (!values.includes(value)) {
      throw new UsageError({
        code: `${what}-unknown`,
        message: `${source} ${quoteInput(raw)} is not a valid ${what}.`,
        hint: `Use one of: ${values.join(", ")}.`,
      });
    }
    return value;
  };

const httpsOrigin = (raw: string, source: string) => parseHttpsOrigin(raw, source).origin;

export const OPTION_SPECS: readonly OptionSpec[] = [
  {
    key: "orgUrl",
    flags: "--org-url <url>",
    description: "Dynamics 365 environment URL, e.g. https://contoso.crm4.dynamics.com (https, a Dynamics host of the cloud)",
  },
  {
    key: "cloud",
    flags: "--cloud <name>",
    parse: (raw, source) => parseCloudName(raw, source),
    description: "public (default, or derived from --org-url), gcc, gcchigh, dod, china, custom",
  },
  {
    key: "authorityHost",
    flags: "--authority-host <url>",
    parse: httpsOrigin,
    description: "Entra sign-in host (required with --cloud custom)",
  },
  {
    key: "graphEndpoint",
    flags: "--graph-endpoint <url>",
    parse: httpsOrigin,
    description: "Microsoft Graph root (required with --cloud custom)",
  },
  {
    key: "tenant",
    flags: "--tenant <id-or-domain>",
    parse: parseGuidOrDomain,
    description: "Entra tenant id or domain (default: organizations, then the signed-in account's tenant)",
  },
  {
    key: "auth",
    flags: "--auth <method>",
    parse: oneOf(AUTH_METHODS, "sign-in method"),
    description:
      "browser (default with a desktop), device-code (default otherwise), client-secret (CRM_LEAD_SETUP_CLIENT_SECRET), client-certificate",
  },
  {
    key: "clientId",
    flags: "--client-id <id>",
    parse: parseGuid,
    description: "application (client) id to sign in through (default: Microsoft Azure PowerShell public client)",
  },
  {
    key: "clientCertificate",
    flags: "--client-certificate <pem>",
    description: "path to a PEM file holding the certificate and private key, for --auth client-certificate",
  },
  {
    key: "identity",
    flags: "--identity <kind>",
    parse: oneOf(IDENTITIES, "identity"),
    description: "Partner Center authentication to set up: user (default) or app",
  },
  { key: "dryRun", flags: "--dry-run", description: "inspect and print the plan; change nothing" },
  { key: "yes", flags: "--yes", description: "ask nothing; a missing answer is an error naming its flag" },
  { key: "json", flags: "--json", description: "print one JSON document on stdout when the command ends" },
  { key: "verbose", flags: "--verbose", description: "trace every HTTP call on stderr (secrets redacted)" },
  {
    key: "sandbox",
    flags: "--sandbox",
    description: "use the emulated sandbox tenant (a running `crm-lead-setup sandbox`, else one started for this command)",
  },
  { key: "detailedExitcode", flags: "--detailed-exitcode", description: "with --dry-run or status: exit 10 when changes are pending" },
  { key: "color", flags: "--no-color", description: "no colour (also NO_COLOR, TERM=dumb, --json)" },

  { key: "solutionFile", flags: "--solution-file <path>", description: "use this Lead Writer solution zip instead of downloading it" },
  {
    key: "solutionUrl",
    flags: "--solution-url <url>",
    parse: (raw, source) => parseHttpsOrigin(raw, source).href,
    description: "download the solution from this https URL instead of Microsoft's",
  },
  {
    key: "userName",
    flags: "--user-name <upn>",
    parse: parseUserPrincipalName,
    description: "service user's UPN (default mp-leadwriter@<default domain>)",
  },
  { key: "displayName", flags: "--display-name <text>", parse: parseDisplayName, description: "service user's display name" },
  {
    key: "usageLocation",
    flags: "--usage-location <CC>",
    parse: parseUsageLocation,
    description: "ISO 3166 country code for the licence (default: the tenant's country)",
  },
  { key: "license", flags: "--license <sku>", parse: parseLicense, description: "licence: SKU part number or skuId" },
  { key: "appName", flags: "--app-name <text>", parse: parseDisplayName, description: "app registration name for --identity app" },
  {
    key: "secretExpiryMonths",
    flags: "--secret-expiry-months <n>",
    parse: (raw, source) => parseIntegerInRange(raw, source, 1, 24, "months"),
    description: "client secret lifetime (default 24)",
  },
  {
    key: "syncTimeout",
    flags: "--sync-timeout <seconds>",
    parse: (raw, source) => parseIntegerInRange(raw, source, 1, 86_400, "seconds"),
    description: "how long to wait for the user to appear in Dynamics, and for an import (default 600)",
  },
  {
    key: "warnDays",
    flags: "--warn-days <n>",
    parse: (raw, source) => parseIntegerInRange(raw, source, 0, 3650, "days"),
    description: "status: report the app's client secret when it expires within this many days (default 30)",
  },
  { key: "keepPasswordExpiry", flags: "--keep-password-expiry", description: "do not set DisablePasswordExpiration" },
  { key: "verify", flags: "--verify", description: "end init with verify (writes and deletes a test lead)" },
  { key: "secretStdin", flags: "--secret-stdin", description: "read the service identity's secret from standard input" },
  { key: "forceSync", flags: "--force-sync", description: "add the user to Dynamics through the Power Platform admin API" },
  {
    key: "powerPlatformAudience",
    flags: "--power-platform-audience <url>",
    parse: httpsOrigin,
    description: "token audience of the Power Platform admin API for --force-sync (default: the cloud's, see the README)",
  },
  { key: "includeSolution", flags: "--include-solution", description: "teardown also removes the solution" },
  {
    key: "offer",
    flags: "--offer <ids>",
    parse: (raw) => parseOfferIds([raw]),
    repeatable: true,
    description: "Partner Center offer IDs whose lead destination to set (comma-separated or repeated)",
  },
  {
    key: "contactEmail",
    flags: "--contact-email <list>",
    parse: (raw) => parseContactEmails([raw]),
    repeatable: true,
    description: "addresses Partner Center notifies of new leads (default: keep the offer's)",
  },
  {
    key: "partnerCenterTenant",
    flags: "--partner-center-tenant <id-or-domain>",
    parse: parseGuidOrDomain,
    description: "Entra tenant of the Partner Center account (default: the sign-in's tenant)",
  },
  {
    key: "scenario",
    flags: "--scenario <json>",
    parse: (raw, source) => parseScenario(parseJsonObject(raw, source), source),
    description:
      'tenant scenario, e.g. \'{"userBusinessUnit":"child","userSyncMs":5000,"seats":{"DYN365_ENTERPRISE_SALES":{"enabled":1,"consumed":1}}}\'',
  },
  {
    key: "faults",
    flags: "--faults <json>",
    parse: (raw, source) => parseFaults(parseJsonObject(raw, source), source),
    description: 'fault switches, e.g. \'{"throttleFirstCall":{"retryAfterSeconds":2},"errorRate":0.3}\'',
  },
];

function parseJsonObject(raw: string, source: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw);
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UsageError({
    code: "json-invalid",
    message: `${source} must be a JSON object.`,
    hint: `Quote it for your shell, e.g. ${source} '{"userSyncMs":2000}'`,
  });
}

export { parseBooleanEnvLenient };

export function envNameOf(spec: OptionSpec): string {
  const long = spec.flags.match(/--(?:no-)?([a-z0-9-]+)/)![1]!;
  const name = spec.flags.startsWith("--no-") ? `no-${long}` : long;
  return `CRM_LEAD_SETUP_${name.replace(/-/g, "_").toUpperCase()}`;
}

export function isBooleanSpec(spec: OptionSpec): boolean {
  return !spec.flags.includes("<");
}

/** Where a command connects: a Microsoft cloud's tenant, or the sandbox. */
export const TENANT_OPTIONS: readonly OptionKey[] = [
  "orgUrl",
  "cloud",
  "authorityHost",
  "graphEndpoint",
  "tenant",
  "auth",
  "clientId",
  "clientCertificate",
  "sandbox",
];
export const OUTPUT_OPTIONS: readonly OptionKey[] = ["json", "verbose", "color"];
/** A command that plans changes: it can show the plan only, and asks before applying it. */
export const CHANGE_OPTIONS: readonly OptionKey[] = ["dryRun", "detailedExitcode", "yes"];
/** A tenant-changing command about the service identity: sign-in, which identity and its name, plan, output. */
export const IDENTITY_COMMAND_OPTIONS: readonly OptionKey[] = [
  ...TENANT_OPTIONS,
  "identity",
  ...CHANGE_OPTIONS,
  ...OUTPUT_OPTIONS,
  "userName",
  "appName",
];
/** Where the lead destination goes in Partner Center (SPEC §7). */
export const OFFER_OPTIONS: readonly OptionKey[] = ["offer", "contactEmail", "partnerCenterTenant"];

/**
 * SPEC §3: each command takes exactly the options it reads (declared in its own file, src/commands/<name>.ts),
 * so its --help lists nothing it would ignore; an option a command does not read is an unknown option there
 * (exit 2).
 */
export function specsFor(keys: readonly OptionKey[]): OptionSpec[] {
  return keys.map((key) => OPTION_SPECS.find((spec) => spec.key === key)!);
}

/**
 * Merges what commander parsed (flags) with the environment: a flag beats its environment twin. Each raw
 * string goes through the option's validator with the right source named in any error.
 */
export function resolveOptions(
  reads: readonly OptionKey[],
  parsed: Record<string, unknown>,
  sourceOf: (key: string) => string | undefined,
  env: NodeJS.ProcessEnv,
): CliOptions {
  // Switches a command does not read are off, so that no code has to ask which command it is.
  const result: Record<string, unknown> = Object.fromEntries(
    OPTION_SPECS.filter(isBooleanSpec).map((spec) => [spec.key, spec.key === "color"]),
  );
  for (const spec of specsFor(reads)) {
    const envName = envNameOf(spec);
    const fromCli = sourceOf(spec.key) === "cli";
    const envRaw = env[envName];
    if (isBooleanSpec(spec)) {
      if (spec.key === "color") {
        // `--no-color` sets color=false; CRM_LEAD_SETUP_NO_COLOR=1 does the same.
        result.color = fromCli ? parsed.color !== false : !(envRaw !== undefined && parseBooleanEnv(envRaw, envName));
      } else {
        result[spec.key] = fromCli ? parsed[spec.key] === true : envRaw !== undefined && parseBooleanEnv(envRaw, envName);
      }
      continue;
    }
    const flagName = spec.flags.split(" ")[0]!;
    let raw: string | undefined;
    let source: string;
    if (fromCli && typeof parsed[spec.key] === "string") {
      raw = parsed[spec.key] as string;
      source = flagName;
    } else if (envRaw !== undefined && envRaw !== "") {
      raw = envRaw;
      source = envName;
    } else {
      continue;
    }
    result[spec.key] = spec.parse ? spec.parse(raw, source) : raw;
  }
  return result as unknown as CliOptions;
}
