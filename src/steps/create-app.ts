import { TenantNotReadyError, UsageError } from "../errors.js";
import { recordApp, recordedAppId, recordSecret, secretRecord } from "../ledger.js";
import { HttpFailure } from "../services/http.js";
import { ServiceError } from "../services/service-error.js";
import { isKnown } from "../catalogue.js";
import type { CommandContext } from "../context.js";
import type { GraphApplication } from "../services/graph.js";
import type { Change, Plan, Step } from "./step.js";

/**
 * The authentication Partner Center recommends (reference: dataverse §1.5, §5.3): an Entra app registration
 * (multi-tenant, as the Partner Center page says, with the delegated Dynamics CRM user_impersonation
 * permission it lists), its service principal, a client secret with an expiry, and the Dataverse
 * application user in the root business unit. An app of that name is reused. A new secret is added only
 * when none was delivered; one added but never shown (the run was killed) is removed and replaced.
 */

export const DEFAULT_APP_NAME = "Microsoft Marketplace Lead Writer (Partner Center leads)";
export const DEFAULT_SECRET_EXPIRY_MONTHS = 24;
/** Dynamics CRM's app id, and its delegated user_impersonation permission (id from public code; UNCONFIRMED in reference/). */
const DYNAMICS_CRM_APP_ID = "00000007-0000-0000-c000-000000000000";
const USER_IMPERSONATION_SCOPE_ID = "78ce3f0f-a1ce-49c2-8cde-64b5c0896db4";

export interface CreateAppState {
  displayName: string;
  orgUrl: string;
  application: GraphApplication | undefined;
  hasServicePrincipal: boolean;
  applicationUser: { systemuserid: string; isdisabled: boolean } | undefined;
  /** A secret this tool added and showed, still valid: nothing to add. */
  secretDelivered: boolean;
  /** A secret this tool added in an interrupted run and never showed: to be removed. */
  undeliveredKeyId: string | undefined;
  expiryMonths: number;
}

export function secretExpiry(months: number, from = new Date()): Date {
  const end = new Date(from);
  end.setUTCMonth(end.getUTCMonth() + months);
  return end;
}

/** The app identity, read once per run and shared with assign-role. */
export async function serviceApp(context: CommandContext): Promise<NonNullable<CommandContext["facts"]["app"]>> {
  if (context.facts.app) return context.facts.app;
  const { applications, environment, directory } = await context.tenant();
  const displayName = context.options.appName ?? DEFAULT_APP_NAME;
  const [application, organization] = await Promise.all([findApplication(context, displayName), directory.organization()]);
  const [servicePrincipal, applicationUser] = application
    ? await Promise.all([applications.servicePrincipal(application.appId), environment.systemUserByApplicationId(application.appId)])
    : [undefined, undefined];
  context.facts.app = { displayName, application, servicePrincipal, applicationUser, directoryId: organization.id };
  return context.facts.app;
}

/** The app this tool recorded creating under this name, else the one app registration of that name. */
async function findApplication(context: CommandContext, displayName: string): Promise<GraphApplication | undefined> {
  const { applications, orgUrl } = await context.tenant();
  const appId = await recordedAppId(context.paths, orgUrl, displayName);
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

export const createAppStep: Step<CreateAppState> = {
  id: "create-app",
  title: "Create the app registration and its Dynamics application user",
  after: [],

  async inspect(context) {
    const { orgUrl } = await context.tenant();
    const app = await serviceApp(context);
    const record = app.application ? await secretRecord(context.paths, orgUrl, app.application.appId) : undefined;
    const now = Date.now();
    const credentials = app.application?.passwordCredentials.filter((c) => Date.parse(c.endDateTime) > now) ?? [];
    const recorded = credentials.find((c) => c.keyId === record?.keyId);
    return {
      displayName: app.displayName,
      orgUrl,
      application: app.application,
      hasServicePrincipal: app.servicePrincipal !== undefined,
      applicationUser: app.applicationUser,
      // Without a record on this machine, an app that already holds a valid secret is taken as delivered.
      secretDelivered: recorded ? record!.passwordShown : record === undefined && credentials.length > 0,
      undeliveredKeyId: recorded && !record!.passwordShown ? recorded.keyId : undefined,
      expiryMonths: context.options.secretExpiryMonths ?? DEFAULT_SECRET_EXPIRY_MONTHS,
    };
  },

  plan(state): Plan {
    const name = `"${state.displayName}"`;
    const changes: Change[] = [];
    if (!state.application)
      changes.push({
        action: "create",
        target: `app registration ${name} (accounts in any organizational directory, Dynamics CRM user_impersonation)`,
      });
    if (!state.hasServicePrincipal) changes.push({ action: "create", target: `the service principal of ${name}` });
    if (state.undeliveredKeyId)
      changes.push({
        action: "remove",
        target: `the client secret ${state.undeliveredKeyId}, which an interrupted run added but never showed`,
      });
    if (!state.secretDelivered)
      changes.push({
        action: "add",
        target: `a client secret to ${name}, expiring ${secretExpiry(state.expiryMonths).toISOString().slice(0, 10)} (${state.expiryMonths} months)`,
      });
    if (!state.applicationUser)
      changes.push({ action: "create", target: `the Dynamics application user of ${name} in the root business unit` });
    else if (state.applicationUser.isdisabled) changes.push({ action: "enable", target: `the Dynamics application user of ${name}` });
    const details = { displayName: state.displayName, applicationId: state.application?.appId ?? null };
    if (changes.length === 0)
      return {
        changes,
        summary: `App registration ${name} (${state.application!.appId}) has its service principal, a delivered secret and its Dynamics application user`,
        details,
      };
    return {
      changes,
      summary: state.application ? `Will complete the app identity ${name}` : `Will create the app identity ${name}`,
      details,
      drift: state.application !== undefined,
    };
  },

  async apply(context, state) {
    const { applications, environment } = await context.tenant();
    const done: string[] = [];
    let application = state.application;
    if (!application) {
      application = await createApplication(context, state.displayName);
      await recordApp(context.paths, { orgUrl: state.orgUrl, displayName: state.displayName, appId: application.appId });
      done.push(`created app registration ${application.appId}`);
    }
    if (!state.hasServicePrincipal) {
      try {
        await applications.createServicePrincipal(application.appId);
      } catch (error) {
        // Already there (a concurrent or interrupted run made it): that is the state we want.
        if (!(error instanceof ServiceError && error.status === 409)) throw error;
      }
      done.push("its service principal");
    }
    if (state.undeliveredKeyId) await applications.removePassword(application.id, state.undeliveredKeyId);
    if (!state.secretDelivered) {
      const secret = await applications.addPassword(
        application.id,
        "Partner Center lead delivery (crm-lead-setup)",
        secretExpiry(state.expiryMonths),
      );
      context.io.redactor.add(secret.secretText);
      context.facts.generatedSecret = { keyId: secret.keyId, secretText: secret.secretText, endDateTime: secret.endDateTime };
      await recordSecret(context.paths, { orgUrl: state.orgUrl, appId: application.appId, keyId: secret.keyId }, false);
      done.push(`a client secret expiring ${secret.endDateTime.slice(0, 10)}`);
    }
    let applicationUser = state.applicationUser;
    if (!applicationUser) {
      const rootBusinessUnit = await environment.rootBusinessUnitId();
      const systemuserid = await createApplicationUser(context, application.appId, rootBusinessUnit);
      applicationUser = { systemuserid, isdisabled: false };
      done.push("its Dynamics application user");
    } else if (applicationUser.isdisabled) {
      await environment.setSystemUserDisabled(applicationUser.systemuserid, false);
      done.push("re-enabled its Dynamics application user");
    }
    context.facts.app = {
      ...context.facts.app!,
      application,
      applicationUser: { ...(await environment.systemUserByApplicationId(application.appId))! },
    };
    const sentence = done.join(", ");
    return {
      summary: `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)} (${state.displayName})`,
      details: { applicationId: application.appId },
    };
  },
};

/** POST /applications is not idempotent: after an unknown outcome, look by name before trying again. */
async function createApplication(context: CommandContext, displayName: string): Promise<GraphApplication> {
  const { applications } = await context.tenant();
  const body = {
    displayName,
    signInAudience: "AzureADMultipleOrgs",
    requiredResourceAccess: [{ resourceAppId: DYNAMICS_CRM_APP_ID, resourceAccess: [{ id: USER_IMPERSONATION_SCOPE_ID, type: "Scope" }] }],
  };
  for (let attempt = 1; ; attempt++) {
    try {
      return await applications.create(body);
    } catch (error) {
      if (!(error instanceof HttpFailure || (error instanceof ServiceError && error.status >= 500)) || attempt >= 3) throw error;
      const [found] = await applications.byDisplayName(displayName);
      if (found) return found;
      await context.clock.sleep(1000 * attempt, context.signal);
    }
  }
}

/** Right after its service principal is created, Dynamics may not see the app yet (retried by the HTTP layer). */
async function createApplicationUser(context: CommandContext, appId: string, businessUnitId: string): Promise<string> {
  const { environment } = await context.tenant();
  try {
    return await environment.createApplicationUser(appId, businessUnitId);
  } catch (error) {
    if (isKnown(error, "dataverse-duplicate")) {
      const existing = await environment.systemUserByApplicationId(appId);
      if (existing) return existing.systemuserid;
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
