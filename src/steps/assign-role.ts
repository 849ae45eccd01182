import { StillRunningError, TenantNotReadyError } from "../errors.js";
import type { RoleRow, SystemUserRow } from "../services/dataverse.js";
import { LEAD_WRITER_ROLE } from "./lead-writer.js";
import { serviceUser } from "./service-user.js";
import { serviceApp } from "./create-app.js";
import { inquirerPrompter } from "../prompter.js";
import type { SystemUserRow as SyncedUser } from "../services/dataverse.js";
import { pollUntil, syncTimeoutSeconds } from "./wait.js";
import { remember, startEarly, type Plan, type Step, type StepId } from "./step.js";
import type { CommandContext } from "../context.js";

/**
 * Gives the service user the Lead Writer role (reference: dataverse §5.1, §6.1–§6.2): waits, within
 * --sync-timeout, until the Entra user has been synchronised into Dynamics and is enabled, then associates
 * the copy of the role that belongs to the user's business unit, unless it already has it.
 */

export interface AssignRoleState {
  /** Who gets the role: the service user's UPN, or the app's application user. */
  userPrincipalName: string;
  kind: "user" | "app";
  /** The Entra object id (user) or the application id (app). */
  objectId: string | undefined;
  systemUser: SystemUserRow | undefined;
  roles: RoleRow[];
  waitingFor: StepId[];
}

/** Every business unit's copy of the Lead Writer role, read once per run. */
export async function leadWriterRoles(context: CommandContext): Promise<RoleRow[]> {
  return remember(context, "leadWriterRoles", async () => (await context.tenant()).environment.roles(LEAD_WRITER_ROLE));
}

/** The Lead Writer role, or what will create it; otherwise the tenant is not ready (exit 4). */
export async function requireLeadWriterRoles(context: CommandContext): Promise<{ roles: RoleRow[]; pending: StepId[] }> {
  const roles = await leadWriterRoles(context);
  if (roles.length > 0) return { roles, pending: [] };
  if (context.facts.pending.has("import-solution")) return { roles, pending: ["import-solution"] };
  throw new TenantNotReadyError({
    code: "role-missing",
    message: `The "${LEAD_WRITER_ROLE}" security role does not exist in this environment: the Lead Writer solution is not imported.`,
    hint: "Run crm-lead-setup import-solution (or init) first.",
  });
}

export const assignRoleStep: Step<AssignRoleState> = {
  id: "assign-role",
  title: "Give the user the Lead Writer role",
  // The user (or app) and the role must exist; the privileges are patch-role's, which runs alongside.
  after: ["import-solution", "create-user", "create-app"],
  prefetch: (context) => startEarly(() => leadWriterRoles(context)),

  async inspect(context) {
    if (context.options.identity === "app") {
      const app = await serviceApp(context);
      const waitingFor: StepId[] = [];
      if (!app.applicationUser) {
        if (!context.facts.pending.has("create-app")) {
          throw new TenantNotReadyError({
            code: "app-missing",
            message: `The app identity "${app.displayName}" has no Dynamics application user.`,
            hint: "Run crm-lead-setup create-app (or init --identity app) first, or pass the right --app-name.",
          });
        }
        waitingFor.push("create-app");
      }
      const { roles, pending } = await requireLeadWriterRoles(context);
      return {
        userPrincipalName: `the application user of "${app.displayName}"`,
        kind: "app",
        objectId: app.application?.appId,
        systemUser: app.applicationUser,
        roles,
        waitingFor: [...waitingFor, ...pending],
      };
    }
    const { userPrincipalName, current } = await serviceUser(context);
    const waitingFor: StepId[] = [];
    if (!current) {
      if (!context.facts.pending.has("create-user")) {
        throw new TenantNotReadyError({
          code: "user-missing",
          message: `The service user ${userPrincipalName} does not exist.`,
          hint: "Run crm-lead-setup create-user (or init) first, or pass the right --user-name.",
        });
      }
      waitingFor.push("create-user");
    }
    const { roles, pending } = await requireLeadWriterRoles(context);
    waitingFor.push(...pending);
    const { environment } = await context.tenant();
    const systemUser = current ? await environment.systemUserByObjectId(current.id) : undefined;
    return { userPrincipalName, kind: "user", objectId: current?.id, systemUser, roles, waitingFor };
  },

  plan(state): Plan {
    const target = `role ${LEAD_WRITER_ROLE} to ${state.userPrincipalName}`;
    if (state.waitingFor.length > 0) {
      return {
        changes: [
          {
            action: "assign",
            target: `${target} (once ${state.waitingFor.join(" and ")} ${state.waitingFor.length > 1 ? "have" : "has"} run and the user has synced to Dynamics)`,
          },
        ],
        summary: `Will assign ${target}`,
        dependsOn: state.waitingFor,
      };
    }
    const systemUser = state.systemUser;
    if (!systemUser) {
      return {
        changes: [{ action: "assign", target: `${target} (after the user syncs from Entra ID to Dynamics)` }],
        summary: `Will wait for ${state.userPrincipalName} to reach Dynamics, then assign the role`,
      };
    }
    const roleCopy = state.roles.find((r) => r._businessunitid_value === systemUser._businessunitid_value);
    if (!roleCopy) {
      throw new TenantNotReadyError({
        code: "role-missing-in-business-unit",
        message: `The role ${LEAD_WRITER_ROLE} has no copy in business unit ${systemUser._businessunitid_value} of ${state.userPrincipalName}.`,
        hint: "Re-import the Lead Writer solution (crm-lead-setup import-solution), then re-run.",
      });
    }
    const details = { systemUserId: systemUser.systemuserid, businessUnitId: systemUser._businessunitid_value, roleId: roleCopy.roleid };
    if (systemUser.systemuserroles_association?.some((r) => r.roleid === roleCopy.roleid)) {
      return { changes: [], summary: `${state.userPrincipalName} has the ${LEAD_WRITER_ROLE} role`, details };
    }
    return {
      changes: [{ action: "assign", target: `${target} (the copy in the user's business unit)` }],
      summary: `Will assign ${target}`,
      details,
    };
  },

  async apply(context, state) {
    const { environment } = await context.tenant();
    const objectId = state.objectId!;
    let systemUser =
      state.kind === "app" ? (state.systemUser ?? (await environment.systemUserByApplicationId(objectId))) : state.systemUser;
    if (state.kind === "app" && !systemUser) {
      throw new TenantNotReadyError({
        code: "app-missing",
        message: `${state.userPrincipalName} does not exist in Dynamics.`,
        hint: "Run crm-lead-setup create-app, then re-run.",
      });
    }
    if (!systemUser || systemUser.isdisabled) {
      const started = context.clock.now();
      if (context.options.forceSync) await forceSync(context, objectId, state.userPrincipalName);
      systemUser = await waitForSync(context, objectId, state.userPrincipalName);
      if (!systemUser && context.io.canPrompt && !context.options.forceSync) {
        const ask = await inquirerPrompter(context.io, context.signal);
        if (
          await ask.confirm(
            `${state.userPrincipalName} has not reached Dynamics yet. Add it now through the Power Platform admin API (needs a Power Platform administrator)?`,
            true,
          )
        ) {
          await forceSync(context, objectId, state.userPrincipalName);
          systemUser = await waitForSync(context, objectId, state.userPrincipalName);
        }
      }
      if (!systemUser) {
        throw new StillRunningError({
          code: "user-not-synced",
          message: `${state.userPrincipalName} has not reached Dynamics after ${syncTimeoutSeconds(context)} s (Entra ID synchronises licensed users within minutes, sometimes longer).`,
          hint: "Re-run the same command to keep waiting, raise --sync-timeout, or add --force-sync to add the user through the Power Platform admin API.",
        });
      }
      context.io.trace(`${state.userPrincipalName} synced after ${Math.round((context.clock.now() - started) / 1000)} s`);
    }
    const roles = state.roles.length > 0 ? state.roles : await environment.roles(LEAD_WRITER_ROLE);
    const roleCopy = roles.find((r) => r._businessunitid_value === systemUser._businessunitid_value);
    if (!roleCopy) {
      throw new TenantNotReadyError({
        code: "role-missing-in-business-unit",
        message: `The role ${LEAD_WRITER_ROLE} has no copy in business unit ${systemUser._businessunitid_value}.`,
        hint: "Re-import the Lead Writer solution, then re-run.",
      });
    }
    if (!systemUser.systemuserroles_association?.some((r) => r.roleid === roleCopy.roleid)) {
      await environment.associateRole(systemUser.systemuserid, roleCopy.roleid);
    }
    return {
      summary: `Assigned ${LEAD_WRITER_ROLE} to ${state.userPrincipalName} (the copy in its business unit)`,
      details: { systemUserId: systemUser.systemuserid, businessUnitId: systemUser._businessunitid_value, roleId: roleCopy.roleid },
    };
  },
};

/** Polls (within --sync-timeout) until the Entra user is an enabled user of the Dynamics environment. */
async function waitForSync(context: CommandContext, objectId: string, label: string): Promise<SyncedUser | undefined> {
  const { environment } = await context.tenant();
  const activity = context.io.activity(`Waiting for ${label} to sync from Entra ID to Dynamics…`);
  try {
    // The inspection just looked, and a sync takes a while: the first poll comes after half a second.
    return await pollUntil(context, { initialDelayMs: 500 }, async () => {
      const found = await environment.systemUserByObjectId(objectId);
      return found && !found.isdisabled ? found : undefined;
    });
  } finally {
    activity.end();
  }
}

/**
 * --force-sync: the Power Platform admin API adds the user to the environment at once (dataverse §5.2),
 * retried every 10 s while Entra has not finished propagating the licence, within --sync-timeout.
 */
async function forceSync(context: CommandContext, objectId: string, label: string): Promise<void> {
  const session = await context.tenant();
  const { PowerPlatformAdminApi } = await import("../services/power-platform.js");
  if (!session.cloud.bapEndpoint || !session.cloud.bapScope) {
    throw new TenantNotReadyError({
      code: "power-platform-unknown",
      message: "This cloud has no known Power Platform admin endpoint.",
      hint: "Leave out --force-sync and let the background sync run.",
    });
  }
  const admin = new PowerPlatformAdminApi(context.http, session.cloud.bapEndpoint, session.cloud.bapScope, session.tokens);
  const environmentName = await admin.environmentName(session.orgUrl);
  const deadline = context.clock.now() + syncTimeoutSeconds(context) * 1000;
  const activity = context.io.activity(`Adding ${label} to Dynamics through the Power Platform admin API…`);
  try {
    while ((await admin.addUser(environmentName, objectId)) === "unlicensed") {
      if (context.clock.now() + 10_000 > deadline) {
        throw new StillRunningError({
          code: "user-not-licensed-yet",
          message: `The Power Platform admin API still reports ${label} as not licensed after ${syncTimeoutSeconds(context)} s (Entra is propagating the licence).`,
          hint: "Re-run the same command in a few minutes.",
        });
      }
      activity.update(`Adding ${label} to Dynamics: the licence is still propagating, retrying in 10 s…`);
      await context.clock.sleep(10_000, context.signal);
    }
  } finally {
    activity.end();
  }
}
