import { randomBytes } from "node:crypto";
import { TenantNotReadyError, UsageError } from "../errors.js";
import { ServiceError } from "../services/service-error.js";
import type { GraphApplication, ServicePrincipal } from "../services/graph.js";
import type { SystemUserRow } from "../services/dataverse.js";
import { writeOnce } from "./recovery.js";
import { known, sentence, type GeneratedSecret, type ServiceAppOutput, type Step, type StepPlan } from "./step.js";
import type { Reads, TenantWrites, Writes } from "./ports.js";
import { isKnown } from "../catalogue.js";

/**
 * The authentication Partner Center recommends (reference: dataverse §1.5, §5.3): an Entra app registration
 * (multi-tenant, as the Partner Center page says, with the delegated Dynamics CRM user_impersonation
 * permission it lists), its service principal, a client secret with an expiry, and the Dataverse
 * application user in the root business unit. An app of that name is reused. A new secret is added only
 * when none was delivered; one added but never shown (the run was killed) is removed and replaced.
 */

export const DEFAULT_APP_NAME = "Microsoft Marketplace Lead Writer (Partner Center leads)";
export const DEFAULT_SECRET_EXPIRY_MONTHS = 24;
/** status reports the app's secret this many days before it expires (SPEC §1). */
export const DEFAULT_WARN_DAYS = 30;
const DAY_MS = 86_400_000;
/** Dynamics CRM's app id, and its delegated user_impersonation permission (id from public code; UNCONFIRMED in reference/). */
const DYNAMICS_CRM_APP_ID = "00000007-0000-0000-c000-000000000000";
const USER_IMPERSONATION_SCOPE_ID = "78ce3f0f-a1ce-49c2-8cde-64b5c0896db4";

export interface CreateAppState {
  displayName: string;
  orgUrl: string;
  directoryId: string;
  application: GraphApplication | undefined;
  hasServicePrincipal: boolean;
  applicationUser: SystemUserRow | undefined;
  /** A secret this tool added and showed, still valid: nothing to add. */
  secretDelivered: boolean;
  /** A secret this tool added in an interrupted run and never showed: to be removed. */
  undeliveredKeyId: string | undefined;
  /** Secrets an interrupted addPassword may have added (found by the marker recorded before it was sent). */
  interruptedKeyIds: string[];
  expiryMonths: number;
  /** When a secret added now would expire (read from the clock at inspection, so that the plan is pure). */
  expiresOn: Date;
  /** The secret that counts (the one this tool created, else the latest added) and how it stands. */
  currentSecret: { keyId: string; endDateTime: string; expired: boolean; expiresSoon: boolean } | undefined;
}

export type CreateAppOp =
  | { kind: "create-application"; displayName: string }
  | { kind: "create-service-principal"; displayName: string; appId: string | undefined }
  | { kind: "remove-secret"; applicationObjectId: string; keyId: string }
  | {
      kind: "add-secret";
      displayName: string;
      applicationObjectId: string | undefined;
      appId: string | undefined;
      months: number;
      expiresOn: Date;
      /** The secret it replaces, when that one expired or expires within the warning window. */
      replacing?: { endDateTime: string; expired: boolean };
    }
  | { kind: "create-application-user"; displayName: string; appId: string | undefined }
  | { kind: "enable-application-user"; displayName: string; systemUserId: string };

type AppDone =
  | { kind: "application"; application: GraphApplication }
  | { kind: "service-principal" }
  | { kind: "removed-secret" }
  | { kind: "secret"; secret: GeneratedSecret }
  | { kind: "application-user"; systemuserid: string; enabled: boolean };

export function secretExpiry(months: number, from = new Date()): Date {
  const end = new Date(from);
  end.setUTCMonth(end.getUTCMonth() + months);
  return end;
}

export const SECRET_DESCRIPTION = "Partner Center lead delivery (crm-lead-setup)";

/** The app identity, read once per run and shared with assign-role, reset-password and verify. */
export function serviceApp(
  reads: Reads,
  displayName: string,
): Promise<Omit<ServiceAppOutput, "neverShown"> & { servicePrincipal: ServicePrincipal | undefined }> {
  return reads.once(`app:${displayName}`, async () => {
    const { applications, environment, directory } = await reads.tenant();
    const [application, organization] = await Promise.all([findApplication(reads, displayName), directory.organization()]);
    const [servicePrincipal, applicationUser] = application
      ? await Promise.all([applications.servicePrincipal(application.appId), environment.systemUserByApplicationId(application.appId)])
      : [undefined, undefined];
    // An application user to create needs the root business unit: read now, not on the apply phase's chain.
    if (!applicationUser) void environment.rootBusinessUnitId().catch(() => undefined);
    return { identity: "app" as const, displayName, application, servicePrincipal, applicationUser, directoryId: organization.id };
  });
}

/** The app this tool recorded creating under this name, else the one app registration of that name. */
async function findApplication(reads: Reads, displayName: string): Promise<GraphApplication | undefined> {
  const { applications, orgUrl } = await reads.tenant();
  const appId = await reads.ledger.recordedAppId(orgUrl, displayName);
  const recorded = appId ? await applications.byAppId(appId) : undefined;
  if (recorded) return recorded;
  const found = await applications.byDisplayName(displayName);
  if (found.length > 1) {
    throw new UsageError({
      code: "app-name-ambiguous",
      message: `${found.length} app registrations are named "${displayName}" (${found.map((a) => a.appId).join(", ")}).`,
      hint: "Pass --app-name with a name only one app registration has.",
    });
  }
  return found[0];
}

export interface CreateAppInputs {
  /** --app-name, or undefined for the default name. */
  appName?: string;
  secretExpiryMonths?: number;
  /**
   * status only: a secret that expires within this many days counts as drift, planned as a new secret
   * (SPEC §1). init passes none: it keeps a valid secret, since a new one would have to reach Partner Center.
   */
  warnDays?: number;
}

export function createAppStep(inputs: CreateAppInputs): Step<CreateAppState, CreateAppOp, ServiceAppOutput, AppDone> {
  return {
    id: "create-app",
    title: "Create the app registration and its Dynamics application user",
    after: [],
    prefetch: (reads) => void serviceApp(reads, inputs.appName ?? DEFAULT_APP_NAME).catch(() => undefined),
    inspect: (reads) => inspectApp(reads, inputs),
    plan: planApp,
    describe: describeAppOp,
    apply: (op, { writes, applied }) => applyAppOp(op, writes, applied),

    summarize(state, applied) {
      const parts = applied.map((done) => {
        if (done.kind === "application") return `created app registration ${done.application.appId}`;
        if (done.kind === "service-principal") return "its service principal";
        if (done.kind === "secret") return `a client secret expiring ${done.secret.endDateTime.slice(0, 10)}`;
        if (done.kind === "application-user")
          return done.enabled ? "re-enabled its Dynamics application user" : "its Dynamics application user";
        return undefined;
      });
      const application = applied.find((d) => d.kind === "application")?.application ?? state.application;
      return { summary: `${sentence(parts)} (${state.displayName})`, details: { applicationId: application?.appId ?? null } };
    },

    output(state, applied) {
      const application = applied.find((d) => d.kind === "application")?.application ?? state.application;
      const secret = applied.find((d) => d.kind === "secret")?.secret;
      const appUserChanged = applied.some((d) => d.kind === "application-user");
      return {
        identity: "app",
        displayName: state.displayName,
        application,
        // A new or re-enabled application user is read again by whoever needs its roles (assign-role).
        applicationUser: appUserChanged ? undefined : state.applicationUser,
        directoryId: state.directoryId,
        generatedSecret: secret,
        neverShown: secret === undefined && state.undeliveredKeyId !== undefined,
      };
    },
  };
}

async function inspectApp(reads: Reads, inputs: CreateAppInputs): Promise<CreateAppState> {
  const { orgUrl } = await reads.tenant();
  const app = await serviceApp(reads, inputs.appName ?? DEFAULT_APP_NAME);
  const record = app.application ? await reads.ledger.secretRecord(orgUrl, app.application.appId) : undefined;
  const now = reads.clock.now();
  const credentials = app.application?.passwordCredentials.filter((c) => Date.parse(c.endDateTime) > now) ?? [];
  const recorded = credentials.find((c) => c.keyId === record?.keyId);
  const expiryMonths = inputs.secretExpiryMonths ?? DEFAULT_SECRET_EXPIRY_MONTHS;
  return {
    displayName: app.displayName,
    orgUrl,
    directoryId: app.directoryId,
    application: app.application,
    hasServicePrincipal: app.servicePrincipal !== undefined,
    applicationUser: app.applicationUser,
    // Without a record on this machine, an app that already holds a valid secret is taken as delivered.
    secretDelivered: recorded ? record!.passwordShown : record === undefined && credentials.length > 0,
    undeliveredKeyId: recorded && !record!.passwordShown ? recorded.keyId : undefined,
    interruptedKeyIds: (app.application?.passwordCredentials ?? [])
      .filter((c) => record?.pendingMarker !== undefined && c.displayName === record.pendingMarker && c.keyId !== record.keyId)
      .map((c) => c.keyId),
    expiryMonths,
    expiresOn: secretExpiry(expiryMonths, new Date(now)),
    currentSecret: secretStanding(app.application?.passwordCredentials ?? [], record?.keyId, now, inputs.warnDays),
  };
}

/**
 * The secret Partner Center most likely holds: the one this tool created (its key id is in the ledger),
 * else the one added last. Graph lists expired secrets too (they stay until removed), so expiry is read here.
 */
export function secretStanding(
  credentials: GraphApplication["passwordCredentials"],
  recordedKeyId: string | undefined,
  now: number,
  warnDays: number | undefined,
): CreateAppState["currentSecret"] {
  const addedAt = (c: (typeof credentials)[number]) => Date.parse(c.startDateTime ?? c.endDateTime);
  const counted = credentials.find((c) => c.keyId === recordedKeyId) ?? [...credentials].sort((a, b) => addedAt(b) - addedAt(a))[0];
  if (!counted) return undefined;
  const end = Date.parse(counted.endDateTime);
  return {
    keyId: counted.keyId,
    endDateTime: counted.endDateTime,
    expired: end <= now,
    expiresSoon: warnDays !== undefined && end > now && end <= now + warnDays * DAY_MS,
  };
}

export function planApp(state: CreateAppState): StepPlan<CreateAppOp> {
  const { displayName, application } = state;
  const ops: CreateAppOp[] = [];
  if (!application) ops.push({ kind: "create-application", displayName });
  if (!state.hasServicePrincipal) ops.push({ kind: "create-service-principal", displayName, appId: application?.appId });
  for (const keyId of [state.undeliveredKeyId, ...state.interruptedKeyIds].filter((id): id is string => id !== undefined))
    ops.push({ kind: "remove-secret", applicationObjectId: application!.id, keyId });
  const current = state.currentSecret;
  const replacing =
    current && (current.expired || current.expiresSoon) ? { endDateTime: current.endDateTime, expired: current.expired } : undefined;
  if (!state.secretDelivered || (replacing && !replacing.expired))
    ops.push({
      kind: "add-secret",
      displayName,
      applicationObjectId: application?.id,
      appId: application?.appId,
      months: state.expiryMonths,
      expiresOn: state.expiresOn,
      ...(replacing ? { replacing } : {}),
    });
  if (!state.applicationUser) ops.push({ kind: "create-application-user", displayName, appId: application?.appId });
  else if (state.applicationUser.isdisabled)
    ops.push({ kind: "enable-application-user", displayName, systemUserId: state.applicationUser.systemuserid });
  const details = { displayName, applicationId: application?.appId ?? null };
  const name = `"${displayName}"`;
  const expiry = current ? `; its client secret ${current.expired ? "expired" : "expires"} on ${current.endDateTime.slice(0, 10)}` : "";
  if (ops.length === 0)
    return {
      ops,
      summary: `App registration ${name} (${application!.appId}) has its service principal, a delivered secret and its Dynamics application user${expiry}`,
      details,
    };
  return {
    ops,
    summary: (application ? `Will complete the app identity ${name}` : `Will create the app identity ${name}`) + (replacing ? expiry : ""),
    details,
    drift: application !== undefined,
  };
}

export function describeAppOp(op: CreateAppOp): { action: string; target: string } {
  switch (op.kind) {
    case "create-application":
      return {
        action: "create",
        target: `app registration "${op.displayName}" (accounts in any organizational directory, Dynamics CRM user_impersonation)`,
      };
    case "create-service-principal":
      return { action: "create", target: `the service principal of "${op.displayName}"` };
    case "remove-secret":
      return { action: "remove", target: `the client secret ${op.keyId}, which an interrupted run added but never showed` };
    case "add-secret": {
      const current = op.replacing
        ? ` (the current one ${op.replacing.expired ? "expired" : "expires"} on ${op.replacing.endDateTime.slice(0, 10)})`
        : "";
      return {
        action: "add",
        target: `a ${current ? "new " : ""}client secret to "${op.displayName}"${current}, expiring ${op.expiresOn.toISOString().slice(0, 10)} (${op.months} months)`,
      };
    }
    case "create-application-user":
      return { action: "create", target: `the Dynamics application user of "${op.displayName}" in the root business unit` };
    case "enable-application-user":
      return { action: "enable", target: `the Dynamics application user of "${op.displayName}"` };
  }
}

async function applyAppOp(op: CreateAppOp, writes: Writes, applied: readonly AppDone[]): Promise<AppDone> {
  const { applications, environment, orgUrl } = await writes.tenant();
  const created = applied.find((d) => d.kind === "application")?.application;
  switch (op.kind) {
    case "create-application": {
      const application = await createApplication(applications, op.displayName);
      await writes.ledger.recordApp({ orgUrl, displayName: op.displayName, appId: application.appId });
      return { kind: "application", application };
    }
    case "create-service-principal":
      try {
        await applications.createServicePrincipal(known(op.appId ?? created?.appId, "The app's id"));
      } catch (error) {
        // Already there (a concurrent or interrupted run made it): that is the state we want.
        if (!(error instanceof ServiceError && error.status === 409)) throw error;
      }
      return { kind: "service-principal" };
    case "remove-secret":
      await applications.removePassword(op.applicationObjectId, op.keyId);
      return { kind: "removed-secret" };
    case "add-secret": {
      const secret = await addSecret(writes, {
        applicationObjectId: known(op.applicationObjectId ?? created?.id, "The app's object id"),
        appId: known(op.appId ?? created?.appId, "The app's id"),
        months: op.months,
      });
      return { kind: "secret", secret };
    }
    case "create-application-user": {
      const appId = known(op.appId ?? created?.appId, "The app's id");
      return { kind: "application-user", systemuserid: await createApplicationUser(environment, appId), enabled: false };
    }
    case "enable-application-user":
      await environment.setSystemUserDisabled(op.systemUserId, false);
      return { kind: "application-user", systemuserid: op.systemUserId, enabled: true };
  }
}

/**
 * Adds a client secret, kept from every log, and recorded (by key id) as not yet shown. The Graph client
 * itself recovers an addPassword whose answer was lost (it marks, looks and removes before resending).
 */
export async function addSecret(
  writes: Writes,
  app: { applicationObjectId: string; appId: string; months: number },
): Promise<GeneratedSecret> {
  const { applications, orgUrl } = await writes.tenant();
  // Recorded before it is sent: a run stopped before the answer leaves a secret nobody saw, found by this.
  const marker = `${SECRET_DESCRIPTION} ${randomBytes(4).toString("hex")}`;
  await writes.ledger.recordSecretPending({ orgUrl, appId: app.appId, marker });
  const secret = await applications.addPassword(app.applicationObjectId, secretExpiry(app.months, new Date(writes.clock.now())), marker);
  writes.secrets.keep(secret.secretText);
  await writes.ledger.recordSecret({ orgUrl, appId: app.appId, keyId: secret.keyId }, false);
  return { keyId: secret.keyId, secretText: secret.secretText, endDateTime: secret.endDateTime };
}

/** POST /applications is not idempotent: after an unknown outcome, look by name before sending again. */
async function createApplication(applications: TenantWrites["applications"], displayName: string): Promise<GraphApplication> {
  const body = {
    displayName,
    signInAudience: "AzureADMultipleOrgs",
    requiredResourceAccess: [{ resourceAppId: DYNAMICS_CRM_APP_ID, resourceAccess: [{ id: USER_IMPERSONATION_SCOPE_ID, type: "Scope" }] }],
  };
  return (
    await writeOnce({ send: () => applications.create(body), lookFor: async () => (await applications.byDisplayName(displayName))[0] })
  ).value;
}

/**
 * Right after its service principal is created, Dynamics may not see the app yet (retried by the HTTP
 * layer). The create is not idempotent: after an unknown outcome, or a duplicate (0x80040237), the
 * application user is looked for.
 */
async function createApplicationUser(environment: TenantWrites["environment"], appId: string): Promise<string> {
  const lookFor = async () => (await environment.systemUserByApplicationId(appId))?.systemuserid;
  try {
    const rootBusinessUnit = await environment.rootBusinessUnitId();
    return (await writeOnce({ send: () => environment.createApplicationUser(appId, rootBusinessUnit), lookFor })).value;
  } catch (error) {
    if (isKnown(error, "dataverse-duplicate")) {
      const existing = await lookFor();
      if (existing) return existing;
    }
    if (isKnown(error, "dataverse-application-not-in-tenant")) {
      throw new TenantNotReadyError({
        code: "app-not-visible-in-dynamics",
        message: `Dynamics does not see the app ${appId} yet.`,
        hint: "Wait a few minutes and re-run: the app registration is already made.",
      });
    }
    throw error;
  }
}
