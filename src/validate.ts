import { UsageError } from "./errors.js";

/**
 * Validators shared by flags, environment variables and typed answers: the same check, the same message.
 * `source` names where the value came from (`--user-name`, `CRM_LEAD_SETUP_USER_NAME`, or the question).
 */

/** How much of a value typed by the user a message quotes back: a pasted 5,000-character value is not echoed whole. */
export const ECHO_LIMIT = 60;

/** A user's value as it is shown back: the first {@link ECHO_LIMIT} characters, then "…". */
export function shortenInput(raw: string): string {
  const chars = [...raw];
  return chars.length > ECHO_LIMIT ? `${chars.slice(0, ECHO_LIMIT).join("")}…` : raw;
}

/** A user's value quoted in a message, shortened. */
export const quoteInput = (raw: string): string => `"${shortenInput(raw)}"`;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (value: string): boolean => GUID.test(value);

/** ISO 3166-1 alpha-2, the form Graph's `usageLocation` takes (reference: graph-and-msal §A.2). */
const ISO_3166_ALPHA2 = new Set(
  (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO " +
    "JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR " +
    "MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO " +
    "RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV " +
    "TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
  ).split(" "),
);

export function parseUsageLocation(raw: string, source: string): string {
  const code = raw.trim().toUpperCase();
  if (!ISO_3166_ALPHA2.has(code)) {
    throw new UsageError({
      code: "usage-location-invalid",
      message: `${source} ${quoteInput(raw)} is not a two-letter ISO 3166 country code.`,
      hint: "Use the country where the service account is used, e.g. US, GB, DE or JP.",
    });
  }
  return code;
}

/** The characters Entra allows before the @ of a UPN, said one way wherever a message or question names them. */
export const UPN_LOCAL_CHARACTERS = "letters, digits and ' . - _ ! # ^ ~";

/**
 * Entra UPN rules (reference: graph-and-msal §A.2): local part ≤ 64 of `A-Z a-z 0-9 ' . - _ ! # ^ ~`, no dot
 * before the @, domain ≤ 48, total ≤ 113, ASCII only.
 */
export function parseUserPrincipalName(raw: string, source: string): string {
  const upn = raw.trim();
  const fail = (
    why: string,
    hint = `Use the form name@yourdomain.com: up to 64 ${UPN_LOCAL_CHARACTERS} before the @, not starting or ending with a dot.`,
  ) => {
    throw new UsageError({
      code: "user-name-invalid",
      message: `${source} ${quoteInput(raw)} is not a valid user principal name: ${why}.`,
      hint,
    });
  };
  const at = upn.indexOf("@");
  if (at <= 0 || at !== upn.lastIndexOf("@")) fail("it needs exactly one @ with a name before it");
  const local = upn.slice(0, at);
  const domain = upn.slice(at + 1);
  if (!/^[A-Za-z0-9'._\-!#^~]+$/.test(local)) fail(`the part before @ may only hold ${UPN_LOCAL_CHARACTERS}`);
  if (local.startsWith(".") || local.endsWith(".")) fail("the part before @ may not start or end with a dot");
  if (local.length > 64) fail("the part before @ is longer than 64 characters");
  parseDomainName(domain, source);
  if (domain.length > 48) fail("the domain is longer than 48 characters");
  if (upn.length > 113) fail("it is longer than 113 characters");
  return `${local}@${domain.toLowerCase()}`;
}

export function parseDomainName(raw: string, source: string): string {
  const domain = raw.trim().toLowerCase();
  const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
  const labels = domain.split(".");
  if (labels.length < 2 || !labels.every((l) => label.test(l)) || /^\d+$/.test(labels.at(-1)!)) {
    throw new UsageError({
      code: "domain-invalid",
      message: `${source}: ${quoteInput(raw)} is not a valid domain name.`,
      hint: "Use a verified domain of the tenant, e.g. contoso.onmicrosoft.com",
    });
  }
  return domain;
}

/** A licence is named by its SKU part number (DYN365_ENTERPRISE_SALES) or its skuId GUID. */
export function parseLicense(raw: string, source: string): string {
  const value = raw.trim();
  if (isGuid(value) || /^[A-Za-z0-9_]{2,80}$/.test(value)) return value;
  throw new UsageError({
    code: "license-invalid",
    message: `${source} ${quoteInput(raw)} is neither a SKU part number nor a skuId.`,
    hint: "Pass e.g. DYN365_ENTERPRISE_SALES or its skuId GUID; run `crm-lead-setup create-user --dry-run` to list the licences with free seats.",
  });
}

export function parseIntegerInRange(raw: string, source: string, min: number, max: number, unit: string): number {
  const value = raw.trim();
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError({
      code: "number-out-of-range",
      message: `${source} ${quoteInput(raw)} must be a whole number of ${unit} from ${min} to ${max}.`,
      hint: `Pass e.g. ${source.startsWith("--") ? `${source} ` : ""}${Math.min(Math.max(min, 1) * 10, max)}`,
    });
  }
  return Number(value);
}

export function parseGuidOrDomain(raw: string, source: string): string {
  const value = raw.trim();
  if (isGuid(value) || value === "organizations" || value === "common") return value.toLowerCase();
  return parseDomainName(value, source);
}

export function parseGuid(raw: string, source: string): string {
  const value = raw.trim();
  if (!isGuid(value)) {
    throw new UsageError({
      code: "guid-invalid",
      message: `${source} ${quoteInput(raw)} is not a GUID.`,
      hint: "Pass the id as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.",
    });
  }
  return value.toLowerCase();
}

export function parseDisplayName(raw: string, source: string): string {
  const value = raw.trim();
  if (value.length === 0 || value.length > 256 || /[\u0000-\u001f]/.test(value)) {
    throw new UsageError({
      code: "display-name-invalid",
      message: `${source} must be 1 to 256 printable characters.`,
      hint: 'Pass e.g. "Marketplace Lead Writer".',
    });
  }
  return value;
}

/** Booleans from the environment: the usual spellings, anything else is an error rather than a guess. */
export function parseBooleanEnv(raw: string, source: string): boolean {
  const value = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["", "0", "false", "no", "off"].includes(value)) return false;
  throw new UsageError({
    code: "boolean-invalid",
    message: `${source}=${quoteInput(raw)} is not a boolean.`,
    hint: `Set ${source} to 1 or 0.`,
  });
}

/** For reading output-mode switches before validation: anything unrecognised counts as off. */
export function parseBooleanEnvLenient(raw: string | undefined): boolean {
  return raw !== undefined && ["1", "true", "yes", "on"].includes(raw.trim().toLowerCase());
}
