import { TenantNotReadyError, UsageError } from "../errors.js";
import { ServiceError } from "../services/service-error.js";
import type { GraphUser } from "../services/graph.js";
import { decideLicence, type LicenceDecision } from "./licences.js";
import { generatePassword, PASSWORD_NEVER_EXPIRES, policiesWith, setNewPassword } from "./password.js";
import { checkUserDomain, DEFAULT_DISPLAY_NAME, directoryFacts, serviceUser } from "./service-user.js";
import { writeOnce } from "./recovery.js";
import { known, sentence, type ServiceUserOutput, type Step, type StepPlan } from "./step.js";
import type { Reads, Writes } from "./ports.js";
import { isKnown } from "../catalogue.js";

export { PASSWORD_NEVER_EXPIRES, policiesWith } from "./password.js";

/**
 * The licensed service user Partner Center signs in as (reference: graph-and-msal §A.2–§A.7): created with
 * a usage location (so licensing cannot fail on it), no forced password change, a password that never
 * expires (Partner Center stops receiving leads when it does), and a Dynamics licence with a free seat,
 * checked while planning so that nothing is created when none is free. Never given a directory role.
 * An existing user of that name is adopted and brought into line.
 */

export interface CreateUserInputs {
  /** --user-name, or undefined for the default name in the tenant's default domain. */
  userName?: string;
  usageLocation?: string;
  license?: string;
  keepPasswordExpiry: boolean;
  displayName?: string;
  /**
   * Plan a new password when an earlier run created the user and was stopped before it showed the password
   * (only when someone confirms the plan: unattended, the summary says how to set one instead).
   */
  offerNeverShownReset: boolean;
}

export interface CreateUserState {
  orgUrl: string;
  userPrincipalName: string;
  current: GraphUser | undefined;
  usageLocation: string;
  licence: LicenceDecision;
  keepPasswordExpiry: boolean;
  displayName: string;
  /** The ledger says the password this tool set was never shown. */
  neverShown: boolean;
  offerNeverShownReset: boolean;
}

export type CreateUserOp =
  | { kind: "create-user"; userPrincipalName: string; usageLocation: string; keepPasswordExpiry: boolean; displayName: string }
  | { kind: "enable-user"; userId: string; userPrincipalName: string }
  | { kind: "set-usage-location"; userId: string; userPrincipalName: string; usageLocation: string }
  | { kind: "set-password-never-expires"; userId: string; userPrincipalName: string; passwordPolicies: string }
  | {
      kind: "assign-licence";
      userId: string | undefined;
      userPrincipalName: string;
      skuId: string;
      skuPartNumber: string;
      chosenByDefault: boolean;
      fresh: boolean;
    }
  | { kind: "reset-password"; user: GraphUser; keepPasswordExpiry: boolean };

/** What one op did: the user it created (and whether it holds our password), a field it set, a password. */
type UserDone =
  | { kind: "create-user"; user: GraphUser; password: string | undefined }
  | { kind: "update"; field: string }
  | { kind: "assign-licence"; skuPartNumber: string }
  | { kind: "reset-password"; password: string };

export function createUserStep(inputs: CreateUserInputs): Step<CreateUserState, CreateUserOp, ServiceUserOutput, UserDone> {
  return {
    id: "create-user",
    title: "Create the licensed service user",
    // Needs nothing from the solution: created while it imports, so the sync to Dynamics starts sooner.
    after: [],
    prefetch: (reads) => void serviceUser(reads, inputs.userName).catch(() => undefined),
    inspect: (reads) => inspectUser(reads, inputs),
    plan: planUser,
    describe: describeUserOp,
    apply: (op, { writes, progress, applied }) => applyUserOp(op, writes, applied, (line) => progress.trace(line)),

    summarize(state, applied) {
      const updated = applied.flatMap((d) => (d.kind === "update" ? [d.field] : []));
      const parts = applied.map((done) => {
        if (done.kind === "create-user")
          return done.password
            ? `created ${state.userPrincipalName}`
            : `adopted ${state.userPrincipalName}, which appeared while it was being created`;
        if (done.kind === "assign-licence") return `assigned ${done.skuPartNumber}`;
        if (done.kind === "reset-password") return "set a new password (the one generated when it was created was never shown)";
        return undefined;
      });
      if (updated.length > 0) parts.splice(0, 0, `updated ${state.userPrincipalName} (${updated.join(", ")})`);
      const output = userOutput(state, applied);
      return {
        summary: sentence(parts),
        details: { objectId: output.user?.id ?? null, passwordGenerated: output.generatedPassword !== undefined },
      };
    },

    output: userOutput,
  };
}

function userOutput(state: CreateUserState, applied: readonly UserDone[]): ServiceUserOutput {
  const created = applied.find((d) => d.kind === "create-user");
  const password = applied.map((d) => (d.kind === "create-user" || d.kind === "reset-password" ? d.password : undefined)).find(Boolean);
  const base = created?.user ?? state.current;
  return {
    identity: "user",
    userPrincipalName: state.userPrincipalName,
    // Once applied, the user is enabled with the usage location asked for.
    user: base && applied.length > 0 ? { ...base, accountEnabled: true, usageLocation: state.usageLocation } : base,
    generatedPassword: password,
    neverShown: password === undefined && state.neverShown,
  };
}

async function inspectUser(reads: Reads, inputs: CreateUserInputs): Promise<CreateUserState> {
  const [{ organization, domains, skus }, { userPrincipalName, current }, { orgUrl }] = await Promise.all([
    directoryFacts(reads),
    serviceUser(reads, inputs.userName),
    reads.tenant(),
  ]);
  if (!current) checkUserDomain(userPrincipalName, domains);
  const usageLocation = inputs.usageLocation ?? current?.usageLocation ?? organization.countryLetterCode ?? undefined;
  if (!usageLocation) {
    throw new UsageError({
      code: "usage-location-missing",
      message: "The tenant has no country set, so the service user's usage location cannot be defaulted.",
      hint: "Pass --usage-location <two-letter country code>, e.g. --usage-location US.",
    });
  }
  return {
    orgUrl,
    userPrincipalName,
    current,
    usageLocation,
    licence: decideLicence(skus, inputs.license, current?.assignedLicenses.map((l) => l.skuId) ?? []),
    keepPasswordExpiry: inputs.keepPasswordExpiry,
    displayName: inputs.displayName ?? DEFAULT_DISPLAY_NAME,
    neverShown: current ? await reads.ledger.passwordNeverShown(orgUrl, userPrincipalName) : false,
    offerNeverShownReset: inputs.offerNeverShownReset,
  };
}

/** What differs between an existing user and what Partner Center needs. */
function driftOps(state: CreateUserState, user: GraphUser): CreateUserOp[] {
  const who = { userId: user.id, userPrincipalName: state.userPrincipalName };
  const ops: CreateUserOp[] = [];
  if (!user.accountEnabled) ops.push({ kind: "enable-user", ...who });
  if (user.usageLocation !== state.usageLocation) ops.push({ kind: "set-usage-location", ...who, usageLocation: state.usageLocation });
  if (!state.keepPasswordExpiry && !(user.passwordPolicies ?? "").includes(PASSWORD_NEVER_EXPIRES))
    ops.push({ kind: "set-password-never-expires", ...who, passwordPolicies: policiesWith(user.passwordPolicies, PASSWORD_NEVER_EXPIRES) });
  return ops;
}

export function planUser(state: CreateUserState): StepPlan<CreateUserOp> {
  const { userPrincipalName: upn, licence } = state;
  const licenceName = (licence.assign ?? licence.held)?.skuPartNumber;
  const details = {
    userPrincipalName: upn,
    objectId: state.current?.id ?? null,
    usageLocation: state.usageLocation,
    licence: licenceName ?? null,
  };
  const assign = (userId: string | undefined, fresh: boolean): CreateUserOp[] =>
    licence.assign
      ? [
          {
            kind: "assign-licence",
            userId,
            userPrincipalName: upn,
            skuId: licence.assign.skuId,
            skuPartNumber: licence.assign.skuPartNumber,
            chosenByDefault: licence.chosenByDefault,
            fresh,
          },
        ]
      : [];
  if (!state.current) {
    const create: CreateUserOp = {
      kind: "create-user",
      userPrincipalName: upn,
      usageLocation: state.usageLocation,
      keepPasswordExpiry: state.keepPasswordExpiry,
      displayName: state.displayName,
    };
    return { ops: [create, ...assign(undefined, true)], summary: `Will create ${upn} with licence ${licenceName}`, details };
  }
  const ops = [...driftOps(state, state.current), ...assign(state.current.id, false)];
  if (state.neverShown && state.offerNeverShownReset)
    ops.push({ kind: "reset-password", user: state.current, keepPasswordExpiry: state.keepPasswordExpiry });
  if (ops.length === 0) {
    return { ops, summary: `${upn} exists, enabled, licensed with ${licenceName}, usage location ${state.usageLocation}`, details };
  }
  return { ops, summary: `Will bring the existing user ${upn} into line`, details, drift: true };
}

export function describeUserOp(op: CreateUserOp): { action: string; target: string } {
  switch (op.kind) {
    case "create-user": {
      const expiry = op.keepPasswordExpiry ? "password expiry kept (--keep-password-expiry)" : "password never expires";
      return {
        action: "create",
        target: `user ${op.userPrincipalName} (usage location ${op.usageLocation}, ${expiry}, no forced password change, no admin role)`,
      };
    }
    case "enable-user":
      return { action: "enable", target: `user ${op.userPrincipalName} (it is disabled, so Partner Center cannot sign in)` };
    case "set-usage-location":
      return { action: "set", target: `usage location of ${op.userPrincipalName} to ${op.usageLocation}` };
    case "set-password-never-expires":
      return { action: "set", target: `password of ${op.userPrincipalName} to never expire (${PASSWORD_NEVER_EXPIRES})` };
    case "assign-licence": {
      const chosen = op.chosenByDefault ? " (the best Dynamics licence with a free seat; choose another with --license)" : "";
      return {
        action: "assign",
        target: op.fresh ? `licence ${op.skuPartNumber}${chosen}` : `licence ${op.skuPartNumber} to ${op.userPrincipalName}`,
      };
    }
    case "reset-password":
      return {
        action: "set",
        target: `a new generated password for ${op.user.userPrincipalName} (the one generated when it was created was never shown: the run that created it was interrupted)`,
      };
  }
}

async function applyUserOp(
  op: CreateUserOp,
  writes: Writes,
  applied: readonly UserDone[],
  trace: (line: string) => void,
): Promise<UserDone> {
  const { directory } = await writes.tenant();
  switch (op.kind) {
    case "create-user":
      return createUser(op, writes, trace);
    case "enable-user":
      await directory.updateUser(op.userId, { accountEnabled: true });
      return { kind: "update", field: "accountEnabled" };
    case "set-usage-location":
      await directory.updateUser(op.userId, { usageLocation: op.usageLocation });
      return { kind: "update", field: "usageLocation" };
    case "set-password-never-expires":
      await directory.updateUser(op.userId, { passwordPolicies: op.passwordPolicies });
      return { kind: "update", field: "passwordPolicies" };
    case "assign-licence": {
      // A user just created may not be visible everywhere yet: the HTTP layer's one retry policy resends
      // the (idempotent) assignment while Graph says it is not replicated (graph-and-msal §A.4).
      const created = applied.find((d) => d.kind === "create-user");
      await directory.assignLicense(known(op.userId ?? created?.user.id, "The new user's id"), op.skuId);
      return { kind: "assign-licence", skuPartNumber: op.skuPartNumber };
    }
    case "reset-password":
      return { kind: "reset-password", password: await setNewPassword(writes, op.user, op.keepPasswordExpiry) };
  }
}

/**
 * POST /users is not idempotent, so it is never resent blindly (`writeOnce`): after an unknown outcome the
 * user is looked up instead; found then, our request created it, with our password. A user name already
 * held is adopted when it is a user of that name, else it is held by a deleted object (graph-and-msal §A.3).
 */
async function createUser(
  op: Extract<CreateUserOp, { kind: "create-user" }>,
  writes: Writes,
  trace: (line: string) => void,
): Promise<UserDone> {
  const { directory, orgUrl } = await writes.tenant();
  const upn = op.userPrincipalName;
  const password = generatePassword();
  writes.secrets.keep(password);
  // Recorded before the user exists: a run killed once it does leaves "password never shown" on record.
  await writes.ledger.recordPassword({ orgUrl, userPrincipalName: upn, objectId: "" }, false);
  const body = {
    accountEnabled: true,
    displayName: op.displayName,
    mailNickname: upn.split("@")[0]!.replace(/[^A-Za-z0-9._-]/g, "") || "leadwriter",
    userPrincipalName: upn,
    usageLocation: op.usageLocation,
    ...(op.keepPasswordExpiry ? {} : { passwordPolicies: PASSWORD_NEVER_EXPIRES }),
    passwordProfile: { password, forceChangePasswordNextSignIn: false, forceChangePasswordNextSignInWithMfa: false },
  };
  try {
    const { value: user } = await writeOnce({ send: () => directory.createUser(body), lookFor: () => directory.findUser(upn), trace });
    await writes.ledger.recordPassword({ orgUrl, userPrincipalName: upn, objectId: user.id }, false);
    return { kind: "create-user", user, password };
  } catch (error) {
    if (!isKnown(error, "graph-user-name-taken")) throw error;
    const found = await directory.findUser(upn);
    if (found) return { kind: "create-user", user: found, password: undefined };
    throw new TenantNotReadyError({
      code: "user-name-taken",
      message: `${upn} is held by another object (often a deleted user still in the recycle bin for 30 days).`,
      hint: "Restore or permanently delete it in Entra admin center → Users → Deleted users, or pass another --user-name.",
    });
  }
}
