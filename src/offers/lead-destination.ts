import { createHash } from "node:crypto";
import { UsageError } from "../errors.js";
import { isGuid } from "../validate.js";
import { CONFIGURE_SCHEMA, CUSTOMER_LEADS_SCHEMA, type ConfigureBody, type CustomerLeadsResource } from "../services/partner-center.js";

/**
 * The offer's lead destination as `connect-offer` wants it, compared with what Partner Center holds
 * (reference: partner-center §1.3). Pure: no I/O. Field names are the `dynamicsLeadConfiguration` ones of
 * the customer-leads schema; the UI's labels map to them as in §1.3's table.
 */

/** The service identity Partner Center signs in with, as the earlier steps set it up. */
export type LeadWriterIdentity = { kind: "app"; applicationId: string; directoryId: string } | { kind: "user"; username: string };

export interface DesiredLeadDestination {
  /** The Dynamics org URL (the dialog's "URL"). */
  instanceUrl: string;
  identity: LeadWriterIdentity;
  /** `--contact-email`; undefined keeps whatever the offer has. */
  contactEmail: string[] | undefined;
}

/** `dynamicsLeadConfiguration`: one branch per authentication (the schema's `oneOf`, §1.3). */
export type DynamicsLeadConfiguration =
  | {
      instanceUrl: string;
      authentication: "azureAD";
      applicationId: string;
      applicationKey: string;
      directoryId: string;
      contactEmail?: string[];
    }
  | { instanceUrl: string; authentication: "office365"; username: string; password: string; contactEmail?: string[] };

/** The fields compared; secrets are not among them, Partner Center answers them masked (§1.3 "Masked secrets"). */
export type DestinationField =
  "leadDestination" | "instanceUrl" | "authentication" | "applicationId" | "directoryId" | "username" | "contactEmail";
export type SecretField = "applicationKey" | "password";

/** What `status` reports for an offer. */
export type DestinationState =
  | { status: "connected" }
  /** Not a Dynamics destination at all (`none`, an HTTPS endpoint…), or no customer-leads resource. */
  | { status: "missing"; leadDestination: string | undefined }
  | { status: "drifted"; fields: DestinationField[] };

export interface OfferLeads {
  offerId: string;
  productGuid: string;
  /** The draft customer-leads resource from the resource tree; undefined when the offer has none. */
  current: CustomerLeadsResource | undefined;
}

export interface FieldChange {
  field: DestinationField | SecretField;
  /** Secrets are never carried: `from`/`to` stay undefined for them. */
  from?: string;
  to?: string;
}

/** One offer's plan: nothing to do, or a configure of its customer-leads resource. */
export interface OfferDecision {
  offerId: string;
  productGuid: string;
  state: DestinationState;
  /** Empty when the offer is already so and no new secret was generated in this run. */
  changes: FieldChange[];
  /** The customer-leads `$schema` to write back: the one the resource tree reported, else preview3. */
  schema: string;
  /** What Partner Center answered (secrets masked): its contact emails are kept when none are asked for. */
  current: CustomerLeadsResource | undefined;
}

const AUTHENTICATION = { app: "azureAD", user: "office365" } as const;
const DYNAMICS_CONFIGURATION = "dynamicsLeadConfiguration";

/** Origin form, lower-case host, no trailing slash: Partner Center may store what the admin typed. */
function sameUrl(a: string, b: string): boolean {
  const normal = (url: string) => {
    try {
      return new URL(url).origin.toLowerCase();
    } catch {
      return url.replace(/\/+$/, "").toLowerCase();
    }
  };
  return normal(a) === normal(b);
}

const sameText = (a: unknown, b: string) => typeof a === "string" && a.toLowerCase() === b.toLowerCase();
const emailSet = (list: unknown) =>
  Array.isArray(list) ? [...new Set(list.map((e) => String(e).trim().toLowerCase()))].sort().join(";") : "";

/** The non-secret fields of the desired destination, by name. */
function desiredFields(desired: DesiredLeadDestination): Partial<Record<DestinationField, string | string[]>> {
  const identity = desired.identity;
  return {
    leadDestination: "dynamics",
    instanceUrl: desired.instanceUrl,
    authentication: AUTHENTICATION[identity.kind],
    ...(identity.kind === "app"
      ? { applicationId: identity.applicationId, directoryId: identity.directoryId }
      : { username: identity.username }),
    ...(desired.contactEmail === undefined ? {} : { contactEmail: desired.contactEmail }),
  };
}

function differs(field: DestinationField, current: unknown, wanted: string | string[]): boolean {
  if (field === "contactEmail") return emailSet(current) !== emailSet(wanted);
  if (field === "instanceUrl") return typeof current !== "string" || !sameUrl(current, wanted as string);
  // Ids and user names are case-insensitive in Entra; the enum values compare the same way harmlessly.
  return !sameText(current, wanted as string);
}

/**
 * What a configure job sets, without its secret: `secretId` names the secret's version (an app secret's
 * key id, the time a password was set), never its value. A job kept from an earlier run is resumed only
 * when it sets the same (pending-jobs.ts).
 */
export function destinationFingerprint(desired: DesiredLeadDestination, secretId: string): string {
  const fields = Object.entries(desiredFields(desired)).sort(([a], [b]) => a.localeCompare(b));
  return createHash("sha256")
    .update(JSON.stringify([fields, secretId]))
    .digest("hex")
    .slice(0, 32);
}

/** Connected, missing, or drifted naming each differing field. */
export function compareDestination(current: CustomerLeadsResource | undefined, desired: DesiredLeadDestination): DestinationState {
  if (!current || current.leadDestination !== "dynamics") return { status: "missing", leadDestination: current?.leadDestination };
  const configuration = (current[DYNAMICS_CONFIGURATION] ?? {}) as Record<string, unknown>;
  const fields = (Object.entries(desiredFields(desired)) as [DestinationField, string | string[]][])
    .filter(([field]) => field !== "leadDestination")
    .filter(([field, wanted]) => differs(field, configuration[field], wanted))
    .map(([field]) => field);
  return fields.length === 0 ? { status: "connected" } : { status: "drifted", fields };
}

const shown = (value: unknown): string | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value.join(";") : String(value);

/**
 * The plan of one offer. A secret generated in this run is always a change: Partner Center answers
 * secrets masked, so the stored one cannot be compared, and it is the old one.
 */
export function decideOffer(offer: OfferLeads, desired: DesiredLeadDestination, secretGeneratedThisRun: boolean): OfferDecision {
  const state = compareDestination(offer.current, desired);
  const configuration = (offer.current?.[DYNAMICS_CONFIGURATION] ?? {}) as Record<string, unknown>;
  const secretField: SecretField = desired.identity.kind === "app" ? "applicationKey" : "password";
  const changes: FieldChange[] = [];
  if (state.status === "missing") {
    changes.push({ field: "leadDestination", from: offer.current?.leadDestination, to: "dynamics" });
  }
  if (state.status !== "connected") {
    const wanted = Object.entries(desiredFields(desired)) as [DestinationField, string | string[]][];
    for (const [field, value] of wanted) {
      if (field === "leadDestination") continue;
      if (state.status === "drifted" && !state.fields.includes(field)) continue;
      changes.push({ field, from: shown(configuration[field]), to: shown(value) });
    }
  }
  // A change of any other field sends the whole configuration again, secret included (never masked back:
  // that a masked value keeps the stored secret is UNCONFIRMED, §1.3).
  if (changes.length > 0 || secretGeneratedThisRun) changes.push({ field: secretField });
  return {
    offerId: offer.offerId,
    productGuid: offer.productGuid,
    state,
    changes,
    schema: offer.current && String(offer.current.$schema).includes("/customer-leads/") ? offer.current.$schema : CUSTOMER_LEADS_SCHEMA,
    current: offer.current,
  };
}

/** The plan line of an offer's change: the fields that will change, secrets masked. */
export function describeOfferChange(decision: OfferDecision): { action: string; target: string } {
  const fields = decision.changes.map((change) =>
    change.field === "applicationKey" || change.field === "password"
      ? `${change.field} (new value, hidden)`
      : change.from === undefined
        ? `${change.field} ${change.to ?? ""}`.trimEnd()
        : `${change.field} ${change.from} → ${change.to ?? "(none)"}`,
  );
  return { action: "configure", target: `lead destination of offer ${decision.offerId}: ${fields.join(", ")}` };
}

const EMAIL = /^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$/;
/** How Partner Center answers a secret (cloudpub's `*********`, §1.3); never sent back as if it were one. */
const MASKED = /^\*+$/;

function invalid(field: string, problem: string, fix: string): never {
  throw new UsageError({ code: "lead-destination-invalid", message: `The lead destination's ${field} ${problem}.`, hint: fix });
}

/**
 * `dynamicsLeadConfiguration` for the identity and its secret, checked against the schema's limits
 * (§1.3: uuid formats, username 1–128, password 1–256, applicationKey 1–2048, https URL, emails), so
 * that a body the schema forbids is never sent. `contactEmail` falls back to what the offer already has.
 */
export function leadConfiguration(
  desired: DesiredLeadDestination,
  secret: string,
  current?: CustomerLeadsResource,
): DynamicsLeadConfiguration {
  if (!/^https:\/\/[^\s/]+/.test(desired.instanceUrl))
    invalid("URL", `${desired.instanceUrl} is not an https URL`, "Pass the Dynamics org URL with --org-url.");
  // The addresses Partner Center notifies stay what they were, whichever destination the offer had before
  // (each `<destination>LeadConfiguration` carries its own `contactEmail`), unless --contact-email says otherwise.
  const kept =
    current?.leadDestination && current.leadDestination !== "none"
      ? (current[`${current.leadDestination}LeadConfiguration`] as { contactEmail?: unknown } | undefined)?.contactEmail
      : undefined;
  const contactEmail = desired.contactEmail ?? (Array.isArray(kept) ? kept.map(String) : undefined);
  const bad = contactEmail?.find((email) => !EMAIL.test(email));
  if (bad !== undefined) invalid("contact email", `"${bad}" is not an email address`, "Pass --contact-email a@contoso.com,b@contoso.com.");
  const identity = desired.identity;
  const limit = identity.kind === "app" ? 2048 : 256;
  if (secret.length === 0 || secret.length > limit || MASKED.test(secret))
    invalid(
      identity.kind === "app" ? "client secret" : "password",
      `must be 1 to ${limit} characters (and not a masked value)`,
      identity.kind === "app" ? "Generate a new secret with reset-password --offer." : "Set a new password with reset-password --offer.",
    );
  const email = contactEmail === undefined ? {} : { contactEmail };
  if (identity.kind === "user") {
    if (identity.username.length < 1 || identity.username.length > 128)
      invalid("user name", "must be 1 to 128 characters", "Pass a shorter --user-name.");
    return { instanceUrl: desired.instanceUrl, authentication: "office365", username: identity.username, password: secret, ...email };
  }
  for (const [field, value] of [
    ["application (client) ID", identity.applicationId],
    ["directory ID", identity.directoryId],
  ] as const)
    if (!isGuid(value)) invalid(field, `${value} is not a GUID`, "Re-run create-app; the ids come from Entra.");
  return {
    instanceUrl: desired.instanceUrl,
    authentication: "azureAD",
    applicationId: identity.applicationId,
    applicationKey: secret,
    directoryId: identity.directoryId,
    ...email,
  };
}

export interface OfferConfiguration {
  decision: OfferDecision;
  configuration: DynamicsLeadConfiguration;
}

/** One configure body for every offer that changes (SPEC: one job for all offers). */
export function configureBody(offers: readonly OfferConfiguration[]): ConfigureBody {
  return {
    $schema: CONFIGURE_SCHEMA,
    resources: offers.map(({ decision, configuration }) => ({
      $schema: decision.schema,
      id: `customer-leads/${decision.productGuid}`,
      product: `product/${decision.productGuid}`,
      leadDestination: "dynamics",
      [DYNAMICS_CONFIGURATION]: configuration,
    })),
  };
}

/**
 * The one configure body of a plan: every offer that changes, with the identity's secret; undefined when
 * no offer changes (nothing is posted).
 */
export function configureBodyFor(
  decisions: readonly OfferDecision[],
  desired: DesiredLeadDestination,
  secret: string,
): ConfigureBody | undefined {
  const changing = decisions.filter((decision) => decision.changes.length > 0);
  if (changing.length === 0) return undefined;
  return configureBody(changing.map((decision) => ({ decision, configuration: leadConfiguration(desired, secret, decision.current) })));
}
