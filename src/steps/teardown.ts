import type { InstalledSolution, SystemUserRow } from "../services/dataverse.js";
import type { GraphApplication, GraphUser, ServicePrincipal } from "../services/graph.js";
import { ServiceError } from "../services/service-error.js";
import { serviceApp } from "./create-app.js";
import { LEAD_WRITER_ROLE } from "./lead-writer.js";
import { serviceUser } from "./service-user.js";
import { leadWriterRoles } from "./assign-role.js";
import { sentence, type Change, type Step, type StepPlan, type Upstream } from "./step.js";
import type { Reads, Writes } from "./ports.js";
import { UsageError } from "../errors.js";
import { downloadSolutionStep, type DownloadInputs } from "./download-solution.js";

/**
 * Removes what the tool set up, for the chosen identity: the Lead Writer role's association, then the user
 * (Entra keeps it 30 days in Deleted users), or the app registration, its service principal and its
 * Dynamics application user (Dataverse never deletes application users: it is disabled); the solution,
 * and with it the role, only with --include-solution. Planned, confirmed and idempotent like every step.
 */

export interface TeardownState {
  identity: "user" | "app";
  user: GraphUser | undefined;
  userPrincipalName: string;
  app: { application: GraphApplication | undefined; servicePrincipal: ServicePrincipal | undefined; displayName: string };
  systemUser: SystemUserRow | undefined;
  /** The Lead Writer role copies the service identity holds. */
  heldRoleIds: string[];
  solution: InstalledSolution | undefined;
  createdHere: boolean;
}

/** Solutions every environment has; never the Lead Writer solution, never deleted. */
const PREDEFINED_SOLUTIONS = new Set(["active", "default", "system", "basic"]);

/**
 * The installed Lead Writer solution, found by the unique name in the package's manifest (--solution-file or
 * the cached download). Not by the role's solutionid: once patch-role has changed the managed role, that names
 * the unmanaged "Active" solution (its top layer), and deleting by it would hit the wrong solution. Without a
 * package, the role's solutionid is trusted only when it names a managed solution other than the predefined ones.
 */
async function leadWriterSolution(reads: Reads, upstream: Upstream, source: DownloadInputs): Promise<InstalledSolution | undefined> {
  const { environment } = await reads.tenant();
  const solutionPackage = await downloadSolutionStep(source).inspect(reads, upstream);
  if (solutionPackage.source !== "download") return environment.findSolution(solutionPackage.solution.manifest.uniqueName);
  const roles = await leadWriterRoles(reads);
  if (roles.length === 0) return undefined;
  const solutionId = roles.find((r) => r.solutionid)?.solutionid;
  const solution = solutionId ? await environment.solutionById(solutionId) : undefined;
  if (solution?.ismanaged && !PREDEFINED_SOLUTIONS.has(solution.uniquename.toLowerCase())) return solution;
  throw new UsageError({
    code: "solution-package-needed",
    message: `--include-solution cannot tell which solution is the Lead Writer solution: no solution package is cached, and the ${LEAD_WRITER_ROLE} role names ${solution ? `the ${solution.uniquename} solution` : "no solution"}.`,
    hint: "Pass --solution-file with the Lead Writer solution zip (or run download-solution first), then re-run teardown.",
  });
}

export interface TeardownInputs {
  identity: "user" | "app";
  userName?: string;
  appName: string;
  includeSolution: boolean;
  /** Where the package that names the solution is found (--solution-file, or the cached download). */
  solution: DownloadInputs;
}

export type TeardownOp =
  | { kind: "remove-role"; systemUserId: string; roleIds: string[]; who: string }
  | { kind: "delete-user"; userId: string; userPrincipalName: string; createdHere: boolean }
  | { kind: "disable-application-user"; systemUserId: string; who: string }
  | { kind: "delete-service-principal"; servicePrincipalId: string; displayName: string }
  | { kind: "delete-application"; applicationObjectId: string; appId: string; displayName: string }
  | { kind: "delete-solution"; solutionId: string; uniqueName: string; version: string };

export function teardownStep(inputs: TeardownInputs): Step<TeardownState, TeardownOp, undefined, string | undefined> {
  return {
    id: "teardown",
    title: "Remove what crm-lead-setup set up",
    inspect: (reads, upstream) => inspectTeardown(reads, upstream, inputs),
    plan: planTeardown,
    describe: describeTeardownOp,
    apply: (op, { writes }) => applyTeardownOp(op, writes),
    summarize: (_state, applied) => ({ summary: sentence(applied) }),
    output: () => undefined,
  };
}

async function inspectTeardown(reads: Reads, upstream: Upstream, inputs: TeardownInputs): Promise<TeardownState> {
  const { environment, orgUrl } = await reads.tenant();
  const roles = await leadWriterRoles(reads);
  const { identity } = inputs;
  let user: { userPrincipalName: string; current: GraphUser | undefined } = { userPrincipalName: "", current: undefined };
  let app: TeardownState["app"] = { application: undefined, servicePrincipal: undefined, displayName: "" };
  let systemUser: SystemUserRow | undefined;
  if (identity === "app") {
    const found = await serviceApp(reads, inputs.appName);
    app = { application: found.application, servicePrincipal: found.servicePrincipal, displayName: found.displayName };
    systemUser = found.applicationUser;
  } else {
    user = await serviceUser(reads, inputs.userName);
    systemUser = user.current ? await environment.systemUserByObjectId(user.current.id) : undefined;
  }
  const heldRoleIds = (systemUser?.systemuserroles_association ?? [])
    .map((r) => r.roleid)
    .filter((id) => roles.some((r) => r.roleid === id));
  return {
    identity,
    user: user.current,
    userPrincipalName: user.userPrincipalName,
    app,
    systemUser,
    heldRoleIds,
    solution: inputs.includeSolution ? await leadWriterSolution(reads, upstream, inputs.solution) : undefined,
    createdHere: identity === "user" && user.current ? await reads.ledger.createdUser(orgUrl, user.userPrincipalName) : true,
  };
}

export function planTeardown(state: TeardownState): StepPlan<TeardownOp> {
  const ops: TeardownOp[] = [];
  const who = state.identity === "app" ? `the application user of "${state.app.displayName}"` : state.userPrincipalName;
  if (state.heldRoleIds.length > 0)
    ops.push({ kind: "remove-role", systemUserId: state.systemUser!.systemuserid, roleIds: state.heldRoleIds, who });
  if (state.identity === "user" && state.user)
    ops.push({ kind: "delete-user", userId: state.user.id, userPrincipalName: state.userPrincipalName, createdHere: state.createdHere });
  if (state.identity === "app") {
    if (state.systemUser && !state.systemUser.isdisabled)
      ops.push({ kind: "disable-application-user", systemUserId: state.systemUser.systemuserid, who });
    if (state.app.servicePrincipal)
      ops.push({ kind: "delete-service-principal", servicePrincipalId: state.app.servicePrincipal.id, displayName: state.app.displayName });
    if (state.app.application)
      ops.push({
        kind: "delete-application",
        applicationObjectId: state.app.application.id,
        appId: state.app.application.appId,
        displayName: state.app.displayName,
      });
  }
  if (state.solution)
    ops.push({
      kind: "delete-solution",
      solutionId: state.solution.solutionid,
      uniqueName: state.solution.uniquename,
      version: state.solution.version,
    });
  if (ops.length === 0) return { ops, summary: "Nothing left to remove" };
  return { ops, summary: `Will remove ${ops.length} thing${ops.length === 1 ? "" : "s"} crm-lead-setup set up` };
}

export function describeTeardownOp(op: TeardownOp): Change {
  switch (op.kind) {
    case "remove-role":
      return { action: "remove", target: `role ${LEAD_WRITER_ROLE} from ${op.who}` };
    case "delete-user": {
      const note = op.createdHere ? "" : " (not created by crm-lead-setup on this machine: check it is the service account)";
      return {
        action: "delete",
        target: `user ${op.userPrincipalName}, freeing its licence (kept 30 days in Entra's Deleted users)${note}`,
      };
    }
    case "disable-application-user":
      return { action: "disable", target: `${op.who} (Dynamics keeps application users)` };
    case "delete-service-principal":
      return { action: "delete", target: `the service principal of "${op.displayName}"` };
    case "delete-application":
      return { action: "delete", target: `app registration "${op.displayName}" (${op.appId}), with its client secrets` };
    case "delete-solution":
      return { action: "delete", target: `solution ${op.uniqueName} ${op.version}, and with it the ${LEAD_WRITER_ROLE} role` };
  }
}

/** Already gone (another run, or an admin by hand): that is the state we want. */
async function gone(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof ServiceError && error.status === 404)) throw error;
  }
}

/** Applies one removal; returns what the summary says of it (nothing, for the service principal). */
async function applyTeardownOp(op: TeardownOp, writes: Writes): Promise<string | undefined> {
  const { environment, directory, applications } = await writes.tenant();
  switch (op.kind) {
    case "remove-role":
      for (const roleId of op.roleIds) await environment.removeRole(op.systemUserId, roleId);
      return "removed the role";
    case "delete-user":
      await gone(() => directory.deleteUser(op.userId));
      return `deleted ${op.userPrincipalName}`;
    case "disable-application-user":
      await environment.setSystemUserDisabled(op.systemUserId, true);
      return "disabled the application user";
    case "delete-service-principal":
      await gone(() => applications.deleteServicePrincipal(op.servicePrincipalId));
      return undefined;
    case "delete-application":
      await gone(() => applications.delete(op.applicationObjectId));
      return `deleted app registration "${op.displayName}"`;
    case "delete-solution":
      await gone(() => environment.deleteSolution(op.solutionId));
      return `deleted solution ${op.uniqueName}`;
  }
}
