import { StepFailedError, TenantNotReadyError } from "../errors.js";
import { compareVersions } from "../solution/version.js";
import { DEPTHS, type Depth, type PrivilegeRow, type RolePrivilege, type RoleRow } from "../services/dataverse.js";
import { LEAD_WRITER_ROLE, REQUIRED_PRIVILEGES, type RequiredPrivilege } from "./lead-writer.js";
import { requireLeadWriterRoles } from "./assign-role.js";
import { remember, startEarly, type Plan, type Step, type StepId } from "./step.js";
import type { CommandContext } from "../context.js";

/**
 * Widens the Lead Writer role as the Partner Center page asks (reference: dataverse §1.7, §6.3): on the
 * root business unit's copy, User Entity UI Settings Create/Read/Write at Basic (Dynamics 8.2 and later)
 * and System Job Read/Write/AppendTo at Global, plus member privilege inheritance. Privilege ids are
 * looked up by name; only missing or shallower privileges are added; the result is read back.
 */

export interface PatchRoleState {
  rootRole: RoleRow | undefined;
  required: RequiredPrivilege[];
  privileges: PrivilegeRow[];
  current: RolePrivilege[];
  waitingFor: StepId[];
}

const deeper = (a: Depth, b: Depth) => DEPTHS.indexOf(a) > DEPTHS.indexOf(b);

/** The required privileges the role lacks, or holds at a shallower depth. */
export function missingPrivileges(required: readonly RequiredPrivilege[], current: readonly RolePrivilege[]): RequiredPrivilege[] {
  return required.filter((need) => {
    const have = current.find((p) => p.PrivilegeName.toLowerCase() === need.name.toLowerCase());
    return !have || deeper(need.depth, have.Depth);
  });
}

function allowsDepth(privilege: PrivilegeRow, depth: Depth): boolean {
  return { Basic: privilege.canbebasic, Local: privilege.canbelocal, Deep: privilege.canbedeep, Global: privilege.canbeglobal }[depth];
}

/** The rows of every privilege the role may need, looked up by name once per run (those the version needs are picked later). */
function privilegeRows(context: CommandContext): Promise<PrivilegeRow[]> {
  return remember(context, "privileges", async () =>
    (await context.tenant()).environment.privileges(REQUIRED_PRIVILEGES.map((p) => p.name)),
  );
}

export const patchRoleStep: Step<PatchRoleState> = {
  id: "patch-role",
  title: "Widen the Lead Writer role's privileges",
  after: ["import-solution"],
  prefetch: (context) => startEarly(() => privilegeRows(context)),

  async inspect(context) {
    const { environment } = await context.tenant();
    const { roles, pending } = await requireLeadWriterRoles(context);
    const rootRole = roles.find((r) => r._parentroleid_value === null);
    const version = context.facts.dynamicsVersion ?? (context.facts.dynamicsVersion = await environment.version());
    const required = REQUIRED_PRIVILEGES.filter((p) => !p.since || compareVersions(version, p.since) >= 0);
    const [privileges, current] = await Promise.all([
      privilegeRows(context),
      rootRole ? environment.rolePrivileges(rootRole.roleid) : Promise.resolve([]),
    ]);
    const unknown = required.filter((p) => !privileges.some((row) => row.name.toLowerCase() === p.name.toLowerCase()));
    if (unknown.length > 0) {
      throw new TenantNotReadyError({
        code: "privilege-unknown",
        message: `This environment has no privilege named ${unknown.map((p) => p.name).join(", ")}.`,
        hint: "Report this with the output of --verbose: the privilege names come from Microsoft's Partner Center instructions.",
      });
    }
    for (const need of required) {
      const row = privileges.find((p) => p.name.toLowerCase() === need.name.toLowerCase())!;
      if (!allowsDepth(row, need.depth)) {
        throw new TenantNotReadyError({
          code: "privilege-depth-unsupported",
          message: `${need.name} cannot be granted at ${need.depth} depth in this environment.`,
          hint: "Report this with the output of --verbose.",
        });
      }
    }
    return { rootRole, required, privileges, current, waitingFor: pending };
  },

  plan(state): Plan {
    const names = (list: RequiredPrivilege[]) => list.map((p) => `${p.name} (${p.depth})`).join(", ");
    if (!state.rootRole) {
      return {
        changes: [
          { action: "add", target: `privileges ${names(state.required)} to ${LEAD_WRITER_ROLE}` },
          { action: "set", target: "member privilege inheritance to Direct User (Basic) access level and Team privileges" },
        ],
        summary: `Will widen ${LEAD_WRITER_ROLE} once import-solution has created it`,
        dependsOn: state.waitingFor,
      };
    }
    const missing = missingPrivileges(state.required, state.current);
    const changes =
      missing.length > 0 ? [{ action: "add", target: `privileges ${names(missing)} to ${LEAD_WRITER_ROLE} (root business unit)` }] : [];
    if (state.rootRole.isinherited !== 1)
      changes.push({ action: "set", target: "member privilege inheritance to Direct User (Basic) access level and Team privileges" });
    const details = { roleId: state.rootRole.roleid, privileges: state.required.map((p) => ({ name: p.name, depth: p.depth })) };
    if (changes.length === 0)
      return {
        changes,
        summary: `${LEAD_WRITER_ROLE} has all ${state.required.length} privileges and member privilege inheritance`,
        details,
      };
    return { changes, summary: `Will widen ${LEAD_WRITER_ROLE}`, details, drift: state.current.length > 0 };
  },

  async apply(context, state) {
    const { environment } = await context.tenant();
    const role = state.rootRole!;
    const missing = missingPrivileges(state.required, state.current);
    if (missing.length > 0) {
      const ids = missing.map((p) => ({
        ...p,
        privilegeId: state.privileges.find((row) => row.name.toLowerCase() === p.name.toLowerCase())!.privilegeid,
      }));
      await environment.addPrivileges(role.roleid, role._businessunitid_value, ids);
    }
    // Inheritance is read back from the PATCH answer itself; the privileges with a read of the role
    // (reference: AddPrivilegesRole's exact semantics are UNCONFIRMED): the role must now hold each one.
    const inheritedNow = role.isinherited === 1 ? 1 : await environment.setMemberPrivilegeInheritance(role.roleid);
    const after = await environment.rolePrivileges(role.roleid);
    const stillMissing = missingPrivileges(state.required, after);
    const inherited = inheritedNow === 1;
    if (stillMissing.length > 0 || !inherited) {
      throw new StepFailedError({
        code: "role-readback-mismatch",
        message: `After the update, ${LEAD_WRITER_ROLE} still lacks ${[...stillMissing.map((p) => `${p.name} at ${p.depth}`), ...(inherited ? [] : ["member privilege inheritance"])].join(", ")}.`,
        hint: "Check the role in Power Platform admin center → Security roles, or re-run with --verbose.",
      });
    }
    const parts = [
      missing.length > 0 ? `added ${missing.length} privilege${missing.length === 1 ? "" : "s"}` : "",
      role.isinherited !== 1 ? "set member privilege inheritance" : "",
    ].filter(Boolean);
    return { summary: `${parts.join(" and ").replace(/^./, (c) => c.toUpperCase())} on ${LEAD_WRITER_ROLE}; read back and verified` };
  },
};
