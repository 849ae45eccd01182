import { createdUser } from "../ledger.js";
import type { InstalledSolution, SystemUserRow } from "../services/dataverse.js";
import type { GraphApplication, GraphUser, ServicePrincipal } from "../services/graph.js";
import { ServiceError } from "../services/service-error.js";
import { serviceApp } from "./create-app.js";
import { LEAD_WRITER_ROLE } from "./lead-writer.js";
import { serviceUser } from "./service-user.js";
import { leadWriterRoles } from "./assign-role.js";
import type { Change, Plan, Step } from "./step.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../errors.js";
import { downloadSolutionStep } from "./download-solution.js";

/**
 * Removes what the tool set up, for the chosen identity: the Lead Writer role's association, then the user
 * (Entra keeps it 30 days in Deleted users), or the app registration, its service principal and its
 * Dynamics application user (Dataverse never deletes application users: it is disabled); the solution,
 * and with it the role, only with --include-solution. Planned, confirmed and idempotent like every step.
 */

interface TeardownState {
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
async function leadWriterSolution(context: CommandContext): Promise<InstalledSolution | undefined> {
  const { environment } = await context.tenant();
  const solutionPackage = await downloadSolutionStep.inspect(context);
  if (solutionPackage.source !== "download") return environment.findSolution(solutionPackage.solution.manifest.uniqueName);
  const roles = await leadWriterRoles(context);
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

export const teardownStep: Step<TeardownState> = {
  id: "teardown",
  title: "Remove what crm-lead-setup set up",

  async inspect(context) {
    const { environment, orgUrl } = await context.tenant();
    const identity = context.options.identity === "app" ? "app" : "user";
    const roles = await leadWriterRoles(context);
    let user: { userPrincipalName: string; current: GraphUser | undefined } = { userPrincipalName: "", current: undefined };
    let app: TeardownState["app"] = { application: undefined, servicePrincipal: undefined, displayName: "" };
    let systemUser: SystemUserRow | undefined;
    if (identity === "app") {
      const found = await serviceApp(context);
      app = { application: found.application, servicePrincipal: found.servicePrincipal, displayName: found.displayName };
      systemUser = found.applicationUser;
    } else {
      user = await serviceUser(context);
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
      solution: context.options.includeSolution ? await leadWriterSolution(context) : undefined,
      createdHere: identity === "user" && user.current ? await createdUser(context.paths, orgUrl, user.userPrincipalName) : true,
    };
  },

  plan(state): Plan {
    const changes: Change[] = [];
    const who = state.identity === "app" ? `the application user of "${state.app.displayName}"` : state.userPrincipalName;
    if (state.heldRoleIds.length > 0) changes.push({ action: "remove", target: `role ${LEAD_WRITER_ROLE} from ${who}` });
    if (state.identity === "user" && state.user) {
      const note = state.createdHere ? "" : " (not created by crm-lead-setup on this machine: check it is the service account)";
      changes.push({
        action: "delete",
        target: `user ${state.userPrincipalName}, freeing its licence (kept 30 days in Entra's Deleted users)${note}`,
      });
    }
    if (state.identity === "app") {
      if (state.systemUser && !state.systemUser.isdisabled)
        changes.push({ action: "disable", target: `${who} (Dynamics keeps application users)` });
      if (state.app.servicePrincipal) changes.push({ action: "delete", target: `the service principal of "${state.app.displayName}"` });
      if (state.app.application)
        changes.push({
          action: "delete",
          target: `app registration "${state.app.displayName}" (${state.app.application.appId}), with its client secrets`,
        });
    }
    if (state.solution)
      changes.push({
        action: "delete",
        target: `solution ${state.solution.uniquename} ${state.solution.version}, and with it the ${LEAD_WRITER_ROLE} role`,
      });
    if (changes.length === 0) return { changes, summary: "Nothing left to remove" };
    return { changes, summary: `Will remove ${changes.length} thing${changes.length === 1 ? "" : "s"} crm-lead-setup set up` };
  },

  async apply(context, state) {
    const { environment, directory, applications } = await context.tenant();
    const done: string[] = [];
    const gone = async (action: () => Promise<void>) => {
      try {
        await action();
      } catch (error) {
        // Already gone (another run, or an admin by hand): that is the state we want.
        if (!(error instanceof ServiceError && error.status === 404)) throw error;
      }
    };
    for (const roleId of state.heldRoleIds) await environment.removeRole(state.systemUser!.systemuserid, roleId);
    if (state.heldRoleIds.length > 0) done.push("removed the role");
    if (state.identity === "user" && state.user) {
      await gone(() => directory.deleteUser(state.user!.id));
      done.push(`deleted ${state.userPrincipalName}`);
    }
    if (state.identity === "app") {
      if (state.systemUser && !state.systemUser.isdisabled) {
        await environment.setSystemUserDisabled(state.systemUser.systemuserid, true);
        done.push("disabled the application user");
      }
      if (state.app.servicePrincipal) await gone(() => applications.deleteServicePrincipal(state.app.servicePrincipal!.id));
      if (state.app.application) {
        await gone(() => applications.delete(state.app.application!.id));
        done.push(`deleted app registration "${state.app.displayName}"`);
      }
    }
    if (state.solution) {
      await gone(() => environment.deleteSolution(state.solution!.solutionid));
      done.push(`deleted solution ${state.solution.uniquename}`);
    }
    const sentence = done.join(", ");
    return { summary: `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}` };
  },
};
