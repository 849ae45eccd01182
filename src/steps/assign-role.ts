import { StillRunningError, TenantNotReadyError } from "../errors.js";
import type { RoleRow, SystemUserRow } from "../services/dataverse.js";
import { LEAD_WRITER_ROLE } from "./lead-writer.js";
import { currentServiceUser } from "./service-user.js";
import { serviceApp } from "./create-app.js";
import { pollUntil, type WaitScope } from "./wait.js";
import { known, type Step, type StepId, type StepPlan, type Upstream } from "./step.js";
import type { Progress, Reads, Writes } from "./ports.js";

/**
 * Gives the service user the Lead Writer role (reference: dataverse §5.1, §6.1–§6.2): waits, within
 * --sync-timeout, until the Entra user has been synchronised into Dynamics and is enabled, then associates
 * the copy of the role that belongs to the user's business unit, unless it already has it.
 */

export interface AssignRoleInputs {
  identity: "user" | "app";
  userName?: string;
  appName: string;
  /** --force-sync: add the user through the Power Platform admin API rather than wait for the background sync. */
  forceSync: boolean;
  syncTimeoutSeconds: number;
}

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

/** The one op: the role for this principal, once it is in Dynamics (it may have to be waited for). */
export type AssignRoleOp = {
  kind: "assign-role";
  principal: string;
  identity: "user" | "app";
  objectId: string | undefined;
  systemUser: SystemUserRow | undefined;
  roles: RoleRow[];
  /** Earlier steps this op waits for (known after apply). */
  waitingFor: StepId[];
};

type Assigned = { systemUser: SystemUserRow; roleId: string };

/** Every business unit's copy of the Lead Writer role: as import-solution left them, or read once per run. */
export async function leadWriterRoles(reads: Reads, upstream?: Upstream): Promise<RoleRow[]> {
  const imported = upstream?.get("import-solution");
  if (imported && !imported.pending && imported.output.leadWriterRoles) return imported.output.leadWriterRoles;
  return reads.once("leadWriterRoles", async () => (await reads.tenant()).environment.roles(LEAD_WRITER_ROLE));
}

/** The Lead Writer role, or what will create it; otherwise the tenant is not ready (exit 4). */
export async function requireLeadWriterRoles(reads: Reads, upstream: Upstream): Promise<{ roles: RoleRow[]; pending: StepId[] }> {
  let roles = await leadWriterRoles(reads, upstream);
  if (roles.length > 0) return { roles, pending: [] };
  if (upstream.pending("import-solution")) return { roles, pending: ["import-solution"] };
  // The early read (a prefetch) may predate an import, left running by an interrupted run, that ended since.
  roles = await (await reads.tenant()).environment.roles(LEAD_WRITER_ROLE);
  if (roles.length > 0) return { roles, pending: [] };
  throw new TenantNotReadyError({
    code: "role-missing",
    message: `The "${LEAD_WRITER_ROLE}" security role does not exist in this environment: the Lead Writer solution is not imported.`,
    hint: "Run crm-lead-setup import-solution (or init) first.",
  });
}

export function assignRoleStep(inputs: AssignRoleInputs): Step<AssignRoleState, AssignRoleOp, undefined, Assigned> {
  return {
    id: "assign-role",
    title: "Give the user the Lead Writer role",
    // The user (or app) and the role must exist; the privileges are patch-role's, which runs alongside.
    after: ["import-solution", "create-user", "create-app"],
    prefetch: (reads) => void leadWriterRoles(reads).catch(() => undefined),
    inspect: (reads, upstream) =>
      inputs.identity === "app" ? inspectApp(reads, upstream, inputs.appName) : inspectUser(reads, upstream, inputs.userName),
    plan: planAssignRole,
    describe: describeAssignRole,
    apply: (op, { writes, progress }) => assignRole(op, writes, progress, inputs),
    summarize(state, [assigned]) {
      return {
        summary: `Assigned ${LEAD_WRITER_ROLE} to ${state.userPrincipalName} (the copy in its business unit)`,
        details: {
          systemUserId: assigned!.systemUser.systemuserid,
          businessUnitId: assigned!.systemUser._businessunitid_value,
          roleId: assigned!.roleId,
        },
      };
    },
    output: () => undefined,
  };
}

async function inspectApp(reads: Reads, upstream: Upstream, appName: string): Promise<AssignRoleState> {
  const earlier = upstream.get("create-app");
  const app = earlier?.output ?? (await serviceApp(reads, appName));
  const waitingFor: StepId[] = [];
  let systemUser = app.applicationUser;
  // Made (or re-enabled) by create-app in this run: read again for its business unit and roles.
  if (!systemUser && earlier && !earlier.pending && app.application)
    systemUser = await (await reads.tenant()).environment.systemUserByApplicationId(app.application.appId);
  if (!systemUser) {
    if (!earlier?.pending) {
      throw new TenantNotReadyError({
        code: "app-missing",
        message: `The app identity "${app.displayName}" has no Dynamics application user.`,
        hint: "Run crm-lead-setup create-app (or init --identity app) first, or pass the right --app-name.",
      });
    }
    waitingFor.push("create-app");
  }
  const { roles, pending } = await requireLeadWriterRoles(reads, upstream);
  return {
    userPrincipalName: `the application user of "${app.displayName}"`,
    kind: "app",
    objectId: app.application?.appId,
    systemUser,
    roles,
    waitingFor: [...waitingFor, ...pending],
  };
}

async function inspectUser(reads: Reads, upstream: Upstream, userName: string | undefined): Promise<AssignRoleState> {
  const { userPrincipalName, current, pending: userPending } = await currentServiceUser(reads, upstream, userName);
  const waitingFor: StepId[] = [];
  if (!current) {
    if (!userPending) {
      throw new TenantNotReadyError({
        code: "user-missing",
        message: `The service user ${userPrincipalName} does not exist.`,
        hint: "Run crm-lead-setup create-user (or init) first, or pass the right --user-name.",
      });
    }
    waitingFor.push("create-user");
  }
  const { roles, pending } = await requireLeadWriterRoles(reads, upstream);
  waitingFor.push(...pending);
  const { environment } = await reads.tenant();
  const systemUser = current ? await environment.systemUserByObjectId(current.id) : undefined;
  return { userPrincipalName, kind: "user", objectId: current?.id, systemUser, roles, waitingFor };
}

function roleCopyFor(roles: readonly RoleRow[], systemUser: SystemUserRow, who: string): RoleRow {
  const roleCopy = roles.find((r) => r._businessunitid_value === systemUser._businessunitid_value);
  if (!roleCopy) {
    throw new TenantNotReadyError({
      code: "role-missing-in-business-unit",
      message: `The role ${LEAD_WRITER_ROLE} has no copy in business unit ${systemUser._businessunitid_value} of ${who}.`,
      hint: "Re-import the Lead Writer solution (crm-lead-setup import-solution), then re-run.",
    });
  }
  return roleCopy;
}

export function planAssignRole(state: AssignRoleState): StepPlan<AssignRoleOp> {
  const op: AssignRoleOp = {
    kind: "assign-role",
    principal: state.userPrincipalName,
    identity: state.kind,
    objectId: state.objectId,
    systemUser: state.systemUser,
    roles: state.roles,
    waitingFor: state.waitingFor,
  };
  const target = `role ${LEAD_WRITER_ROLE} to ${state.userPrincipalName}`;
  if (state.waitingFor.length > 0) return { ops: [op], summary: `Will assign ${target}`, dependsOn: state.waitingFor };
  const systemUser = state.systemUser;
  if (!systemUser) return { ops: [op], summary: `Will wait for ${state.userPrincipalName} to reach Dynamics, then assign the role` };
  const roleCopy = roleCopyFor(state.roles, systemUser, state.userPrincipalName);
  const details = { systemUserId: systemUser.systemuserid, businessUnitId: systemUser._businessunitid_value, roleId: roleCopy.roleid };
  if (systemUser.systemuserroles_association?.some((r) => r.roleid === roleCopy.roleid)) {
    return { ops: [], summary: `${state.userPrincipalName} has the ${LEAD_WRITER_ROLE} role`, details };
  }
  return { ops: [op], summary: `Will assign ${target}`, details };
}

export function describeAssignRole(op: AssignRoleOp): { action: string; target: string } {
  const target = `role ${LEAD_WRITER_ROLE} to ${op.principal}`;
  if (op.waitingFor.length > 0) {
    const have = op.waitingFor.length > 1 ? "have" : "has";
    return { action: "assign", target: `${target} (once ${op.waitingFor.join(" and ")} ${have} run and the user has synced to Dynamics)` };
  }
  if (!op.systemUser) return { action: "assign", target: `${target} (after the user syncs from Entra ID to Dynamics)` };
  return { action: "assign", target: `${target} (the copy in the user's business unit)` };
}

async function assignRole(op: AssignRoleOp, writes: Writes, progress: Progress, inputs: AssignRoleInputs): Promise<Assigned> {
  const { environment } = await writes.tenant();
  const objectId = known(op.objectId, "The principal's id");
  let systemUser = op.identity === "app" ? (op.systemUser ?? (await environment.systemUserByApplicationId(objectId))) : op.systemUser;
  if (op.identity === "app" && !systemUser) {
    throw new TenantNotReadyError({
      code: "app-missing",
      message: `${op.principal} does not exist in Dynamics.`,
      hint: "Run crm-lead-setup create-app, then re-run.",
    });
  }
  if (!systemUser || systemUser.isdisabled) systemUser = await syncedUser(objectId, op.principal, writes, progress, inputs);
  const roles = op.roles.length > 0 ? op.roles : await environment.roles(LEAD_WRITER_ROLE);
  const roleCopy = roleCopyFor(roles, systemUser, op.principal);
  if (!systemUser.systemuserroles_association?.some((r) => r.roleid === roleCopy.roleid)) {
    await environment.associateRole(systemUser.systemuserid, roleCopy.roleid);
  }
  return { systemUser, roleId: roleCopy.roleid };
}

/** The user once it is an enabled user of Dynamics: waited for, forced with --force-sync, or (asked) forced after the wait. */
async function syncedUser(
  objectId: string,
  label: string,
  writes: Writes,
  progress: Progress,
  inputs: AssignRoleInputs,
): Promise<SystemUserRow> {
  const started = writes.clock.now();
  const wait: WaitScope = { clock: writes.clock, signal: writes.signal, timeoutSeconds: inputs.syncTimeoutSeconds };
  if (inputs.forceSync) await forceSync(objectId, label, writes, progress, wait);
  let systemUser = await waitForSync(objectId, label, writes, progress, wait);
  if (
    !systemUser &&
    !inputs.forceSync &&
    (await writes.ask?.(
      `${label} has not reached Dynamics yet. Add it now through the Power Platform admin API (needs a Power Platform administrator)?`,
    ))
  ) {
    await forceSync(objectId, label, writes, progress, wait);
    systemUser = await waitForSync(objectId, label, writes, progress, wait);
  }
  if (!systemUser) {
    throw new StillRunningError({
      code: "user-not-synced",
      message: `${label} has not reached Dynamics after ${inputs.syncTimeoutSeconds} s (Entra ID synchronises licensed users within minutes, sometimes longer).`,
      hint: "Re-run the same command to keep waiting, raise --sync-timeout, or add --force-sync to add the user through the Power Platform admin API.",
    });
  }
  progress.trace(`${label} synced after ${Math.round((writes.clock.now() - started) / 1000)} s`);
  return systemUser;
}

/** Polls (within --sync-timeout) until the Entra user is an enabled user of the Dynamics environment. */
async function waitForSync(
  objectId: string,
  label: string,
  writes: Writes,
  progress: Progress,
  wait: WaitScope,
): Promise<SystemUserRow | undefined> {
  const { environment } = await writes.tenant();
  const activity = progress.activity(`Waiting for ${label} to sync from Entra ID to Dynamics…`);
  try {
    // The inspection just looked, and a sync takes a while: the first poll comes after half a second.
    return await pollUntil(wait, { initialDelayMs: 500 }, async () => {
      const found = await environment.systemUserByObjectId(objectId);
      return found && !found.isdisabled ? found : undefined;
    });
  } finally {
    activity.end();
  }
}

/**
 * --force-sync: the Power Platform admin API adds the user to the environment at once (dataverse §5.2).
 * While Entra has not finished propagating the licence it answers "unlicensed": asked again on the one
 * poll schedule, within --sync-timeout.
 */
async function forceSync(objectId: string, label: string, writes: Writes, progress: Progress, wait: WaitScope): Promise<void> {
  const admin = await writes.powerPlatform();
  const activity = progress.activity(`Adding ${label} to Dynamics through the Power Platform admin API…`);
  try {
    const added = await pollUntil(wait, {}, async () => {
      if ((await admin.addUser(objectId)) === "added") return true;
      activity.update(`Adding ${label} to Dynamics: the licence is still propagating, trying again…`);
      return undefined;
    });
    if (!added) {
      throw new StillRunningError({
        code: "user-not-licensed-yet",
        message: `The Power Platform admin API still reports ${label} as not licensed after ${wait.timeoutSeconds} s (Entra is propagating the licence).`,
        hint: "Re-run the same command in a few minutes.",
      });
    }
  } finally {
    activity.end();
  }
}
