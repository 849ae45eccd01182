import { UsageError } from "../errors.js";
import type { FaultConfig } from "./faults.js";
import type { SandboxCloud, SandboxScenario } from "./state.js";
import type { ProductType } from "./partner-center-state.js";

/**
 * Checks the sandbox's `--scenario` and `--faults` JSON against the switches the sandbox knows (the types
 * SandboxScenario in state.ts and FaultConfig in faults.ts): a misspelt key or a value of the wrong type
 * would otherwise be ignored, and a manual test would run against a tenant other than the one asked for.
 * Kept free of the sandbox's heavy modules: the option table uses it when the command line is parsed.
 */

/** Checks one value; returns what is wrong with it ("a number from 0 to 1"), or undefined when it is right. */
type Rule = (value: unknown) => string | undefined;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const wholeNumber =
  (min: number, max = Number.MAX_SAFE_INTEGER): Rule =>
  (value) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max
      ? undefined
      : `a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}`;
const share: Rule = (value) => (typeof value === "number" && value >= 0 && value <= 1 ? undefined : "a number from 0 to 1");
const oneOf =
  (values: readonly string[]): Rule =>
  (value) =>
    typeof value === "string" && values.includes(value) ? undefined : `one of ${values.join(", ")}`;
const text: Rule = (value) => (typeof value === "string" && value.length > 0 ? undefined : "a non-empty string");
const listOf =
  (item: Rule, what: string): Rule =>
  (value) =>
    Array.isArray(value) && value.every((entry) => item(entry) === undefined) ? undefined : `a list of ${what}`;
const objectOf =
  (rules: Record<string, Rule>, required: readonly string[]): Rule =>
  (value) => {
    const keys = Object.keys(rules);
    const shape = `an object {${keys.map((k) => `"${k}"${required.includes(k) ? "" : "?"}`).join(", ")}}`;
    if (!isRecord(value)) return shape;
    if (required.some((k) => !(k in value))) return shape;
    for (const [key, entry] of Object.entries(value)) {
      const rule = rules[key];
      const wrong = rule ? rule(entry) : shape;
      if (wrong) return rule ? `${shape} whose "${key}" is ${wrong}` : shape;
    }
    return undefined;
  };
const mapOf =
  (item: Rule, what: string): Rule =>
  (value) =>
    isRecord(value) && Object.values(value).every((entry) => item(entry) === undefined) ? undefined : `an object mapping ${what}`;

const SANDBOX_CLOUDS: readonly SandboxCloud[] = ["public", "gcc", "gcchigh", "dod", "china"];
const SERVICES = ["entra", "graph", "dataverse", "bap", "download"] as const;
const PRODUCT_TYPES: readonly ProductType[] = [
  "softwareAsAService",
  "dynamics365ForCustomerEngagement",
  "azureApplication",
  "consultingService",
];

/** Scenario keys that are options of the sandbox as a whole rather than of its tenant (see SandboxOptions). */
export interface SandboxWideSwitches {
  cloud?: SandboxCloud;
  /** Added to every answer of every service, sign-in included: a tenant this far away. */
  latencyMs?: number;
}

const SCENARIO_RULES: Record<keyof SandboxScenario | keyof SandboxWideSwitches, Rule> = {
  userBusinessUnit: oneOf(["root", "child"]),
  userSyncMs: wholeNumber(0),
  importMs: wholeNumber(0),
  deviceCodePendingPolls: wholeNumber(0, 1_000),
  dynamicsVersion: (value) =>
    typeof value === "string" && /^\d+(\.\d+){1,3}$/.test(value) ? undefined : 'a version such as "9.2.25103.00172"',
  seats: mapOf(
    objectOf({ enabled: wholeNumber(0), consumed: wholeNumber(0) }, ["enabled", "consumed"]),
    'SKU part numbers to {"enabled": n, "consumed": n}',
  ),
  cloud: oneOf(SANDBOX_CLOUDS),
  latencyMs: wholeNumber(0, 600_000),
  pageSize: wholeNumber(0, 1_000),
  partnerCenterRole: oneOf(["Manager", "Developer", "none"]),
  partnerCenterPollSeconds: wholeNumber(0, 3_600),
  partnerCenterRunningPolls: wholeNumber(0, 1_000),
  partnerCenterNotSupportedTypes: listOf(oneOf(PRODUCT_TYPES), PRODUCT_TYPES.join(", ")),
};

const FAULT_RULES: Record<keyof FaultConfig, Rule> = {
  throttleFirstCall: objectOf({ retryAfterSeconds: wholeNumber(0, 3_600) }, ["retryAfterSeconds"]),
  errorRate: share,
  errorStatuses: listOf(wholeNumber(400, 599), "HTTP statuses from 400 to 599"),
  dropRate: share,
  replication404s: wholeNumber(0, 1_000),
  appReplicationMisses: wholeNumber(0, 1_000),
  lostAnswers: listOf(
    (value) => (typeof value === "string" && /^(GET|POST|PATCH|PUT|DELETE) \/\S+$/.test(value) ? undefined : "a request"),
    'requests such as "POST /addPassword"',
  ),
  latencyMs: wholeNumber(0, 600_000),
  signInError: objectOf({ aadsts: wholeNumber(1), users: listOf(text, "user names") }, ["aadsts"]),
  importFailure: objectOf({ component: text, message: text, componentType: text, errorCode: text }, ["component", "message"]),
  concurrentImportBusy: wholeNumber(0, 1_000),
  services: listOf(oneOf(SERVICES), SERVICES.join(", ")),
  seed: wholeNumber(0),
};

function check<T>(value: Record<string, unknown>, rules: Record<string, Rule>, source: string): T {
  const allowed = Object.keys(rules).join(", ");
  for (const [key, entry] of Object.entries(value)) {
    const rule = rules[key];
    if (!rule) {
      throw new UsageError({
        code: "sandbox-switch-unknown",
        message: `${source} has an unknown key "${key.slice(0, 60)}".`,
        hint: `Allowed keys: ${allowed}.`,
      });
    }
    const wrong = rule(entry);
    if (wrong) {
      throw new UsageError({
        code: "sandbox-switch-invalid",
        message: `${source} "${key}" must be ${wrong}, not ${JSON.stringify(entry)?.slice(0, 60) ?? "undefined"}.`,
        hint: `Allowed keys: ${allowed}.`,
      });
    }
  }
  return value as T;
}

export function parseScenario(value: Record<string, unknown>, source: string): Partial<SandboxScenario> & SandboxWideSwitches {
  return check(value, SCENARIO_RULES, source);
}

export function parseFaults(value: Record<string, unknown>, source: string): FaultConfig {
  return check(value, FAULT_RULES, source);
}
