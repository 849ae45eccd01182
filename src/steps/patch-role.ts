import { StepFailedError, TenantNotReadyError } from "../errors.js";
import { compareVersions } from "../solution/version.js";
import { DEPTHS, type Depth, type PrivilegeRow, type RolePrivilege, type RoleRow } from "../services/dataverse.js";
import { LEAD_WRITER_ROLE, REQUIRED_PRIVILEGES, type RequiredPrivilege } from "./lead-writer.js";
import { leadWriterRoles, requireLeadWriterRoles } from "./assign-role.js";
import { dynamicsVersion } from "./import-solution.js";
import { known, type Step, type StepId, type StepPlan, type Upstream } from "./step.js";
import type { Reads } from "./ports.js";

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

/**
 * The privileges a role holds, read once per run and role: only inspect reads them this way (the read-back
 * after AddPrivilegesRole goes to the tenant again), and a role that an import makes in this run has a new id.
 */
function currentPrivileges(reads: Reads, roleId: string): Promise<RolePrivilege[]> {
  return reads.once(`rolePrivileges:${roleId}`, async () => (await reads.tenant()).environment.rolePrivileges(roleId));
}

/** The rows of every privilege the role may need, looked up by name once per run (those the version needs are picked later). */
function privilegeRows(reads: Reads): Promise<PrivilegeRow[]> {
  return reads.once("privileges", async () => (await reads.tenant()).environment.privileges(REQUIRED_PRIVILEGES.map((p) => p.name)));
}

export type PatchRoleOp =
  | {
      kind: "add-privileges";
      roleId: string | undefined;
      businessUnitId: string | undefined;
      privileges: (RequiredPrivilege & { privilegeId?: string })[];
      rootBusinessUnit: boolean;
    }
  | { kind: "set-inheritance"; roleId: string | undefined };

type Patched = { kind: PatchRoleOp["kind"]; count: number };

export function patchRoleStep(): Step<PatchRoleState, PatchRoleOp, undefined, Patched> {
  return {
    id: "patch-role",
    title: "Widen the Lead Writer role's privileges",
    after: ["import-solution"],
    // AddPrivilegesRole and the isinherited PATCH touch different things of one role; that Dataverse never
    // refuses the two at the same moment (a concurrency conflict on the role) is UNCONFIRMED.
    independentOps: true,
    prefetch(reads) {
      void privilegeRows(reads).catch(() => undefined);
      // The root copy's privileges as soon as the role is known: beside the other steps' reads, not after them.
      void leadWriterRoles(reads)
        .then((roles) => roles.find((r) => r._parentroleid_value === null))
        .then((root) => root && currentPrivileges(reads, root.roleid))
        .catch(() => undefined);
    },
    inspect: inspectRole,
    plan: planPatchRole,
    describe: describePatchRoleOp,
    apply: async (op, { writes }) => {
      const { environment } = await writes.tenant();
      const roleId = known(op.roleId, "The Lead Writer role");
      if (op.kind === "add-privileges") {
        const privileges = op.privileges.map((p) => ({ ...p, privilegeId: known(p.privilegeId, `The id of ${p.name}`) }));
        // Read back (reference: AddPrivilegesRole's exact semantics are UNCONFIRMED): the role must now hold
        // each one. The read rides in the same $batch, after the action, so it costs no round trip of its own.
        const after = await environment.addPrivilegesAndReadBack(roleId, known(op.businessUnitId, "The role's business unit"), privileges);
        const stillMissing = missingPrivileges(op.privileges, after);
        if (stillMissing.length > 0) throw readbackMismatch(stillMissing.map((p) => `${p.name} at ${p.depth}`));
        return { kind: op.kind, count: op.privileges.length };
      }
      // Inheritance is read back from the PATCH answer itself.
      if ((await environment.setMemberPrivilegeInheritance(roleId)) !== 1) throw readbackMismatch(["member privilege inheritance"]);
      return { kind: op.kind, count: 1 };
    },
    summarize(_state, applied) {
      const added = applied.find((d) => d.kind === "add-privileges")?.count ?? 0;
      const parts = [
        added > 0 ? `added ${added} privilege${added === 1 ? "" : "s"}` : "",
        applied.some((d) => d.kind === "set-inheritance") ? "set member privilege inheritance" : "",
      ].filter(Boolean);
      return { summary: `${parts.join(" and ").replace(/^./, (c) => c.toUpperCase())} on ${LEAD_WRITER_ROLE}; read back and verified` };
    },
    output: () => undefined,
  };
}

function readbackMismatch(lacking: string[]): StepFailedError {
  return new StepFailedError({
    code: "role-readback-mismatch",
    message: `After the update, ${LEAD_WRITER_ROLE} still lacks ${lacking.join(", ")}.`,
    hint: "Check the role in Power Platform admin center → Security roles, or re-run with --verbose.",
  });
}

async function inspectRole(reads: Reads, upstream: Upstream): Promise<PatchRoleState> {
  const { environment } = await reads.tenant();
  const { roles, pending } = await requireLeadWriterRoles(reads, upstream);
  const rootRole = roles.find((r) => r._parentroleid_value === null);
  const version = await dynamicsVersion(reads);
  const required = REQUIRED_PRIVILEGES.filter((p) => !p.since || compareVersions(version, p.since) >= 0);
  const [privileges, current] = await Promise.all([
    privilegeRows(reads),
    rootRole ? currentPrivileges(reads, rootRole.roleid) : Promise.resolve([]),
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
}

export function planPatchRole(state: PatchRoleState): StepPlan<PatchRoleOp> {
  const withIds = (list: RequiredPrivilege[]) =>
    list.map((p) => ({ ...p, privilegeId: state.privileges.find((row) => row.name.toLowerCase() === p.name.toLowerCase())?.privilegeid }));
  const role = state.rootRole;
  if (!role) {
    return {
      ops: [
        {
          kind: "add-privileges",
          roleId: undefined,
          businessUnitId: undefined,
          privileges: withIds(state.required),
          rootBusinessUnit: false,
        },
        { kind: "set-inheritance", roleId: undefined },
      ],
      summary: `Will widen ${LEAD_WRITER_ROLE} once import-solution has created it`,
      dependsOn: state.waitingFor,
    };
  }
  const missing = missingPrivileges(state.required, state.current);
  const ops: PatchRoleOp[] =
    missing.length > 0
      ? [
          {
            kind: "add-privileges",
            roleId: role.roleid,
            businessUnitId: role._businessunitid_value,
            privileges: withIds(missing),
            rootBusinessUnit: true,
          },
        ]
      : [];
  if (role.isinherited !== 1) ops.push({ kind: "set-inheritance", roleId: role.roleid });
  const details = { roleId: role.roleid, privileges: state.required.map((p) => ({ name: p.name, depth: p.depth })) };
  if (ops.length === 0)
    return { ops, summary: `${LEAD_WRITER_ROLE} has all ${state.required.length} privileges and member privilege inheritance`, details };
  return { ops, summary: `Will widen ${LEAD_WRITER_ROLE}`, details, drift: state.current.length > 0 };
}

export function describePatchRoleOp(op: PatchRoleOp): { action: string; target: string } {
  if (op.kind === "set-inheritance")
    return { action: "set", target: "member privilege inheritance to Direct User (Basic) access level and Team privileges" };
  const names = op.privileges.map((p) => `${p.name} (${p.depth})`).join(", ");
  return { action: "add", target: `privileges ${names} to ${LEAD_WRITER_ROLE}${op.rootBusinessUnit ? " (root business unit)" : ""}` };
}
