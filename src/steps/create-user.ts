import { TenantNotReadyError, UsageError } from "../errors.js";
import { HttpFailure } from "../services/http.js";
import { ServiceError } from "../services/service-error.js";
import { isKnown } from "../catalogue.js";
import type { DirectoryApi, GraphUser } from "../services/graph.js";
import type { CommandContext } from "../context.js";
import { decideLicence, type LicenceDecision } from "./licences.js";
import { generatePassword } from "./password.js";
import { checkUserDomain, DEFAULT_DISPLAY_NAME, directoryFacts, serviceUser } from "./service-user.js";
import { recordPassword } from "../ledger.js";
import { startEarly, type Change, type Plan, type Step } from "./step.js";

/**
 * The licensed service user Partner Center signs in as (reference: graph-and-msal §A.2–§A.7): created with
 * a usage location (so licensing cannot fail on it), no forced password change, a password that never
 * expires (Partner Center stops receiving leads when it does), and a Dynamics licence with a free seat,
 * checked while planning so that nothing is created when none is free. Never given a directory role.
 * An existing user of that name is adopted and brought into line.
 */

export interface CreateUserState {
  userPrincipalName: string;
  current: GraphUser | undefined;
  usageLocation: string;
  licence: LicenceDecision;
  keepPasswordExpiry: boolean;
}

export const PASSWORD_NEVER_EXPIRES = "DisablePasswordExpiration";

export function policiesWith(current: string | null, add: string): string {
  const set = new Set(
    (current ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p && p !== "None"),
  );
  set.add(add);
  return [...set].join(", ");
}

/** What differs between the user and what Partner Center needs. */
function drift(state: CreateUserState): Change[] {
  const { current, userPrincipalName: upn } = state;
  const changes: Change[] = [];
  if (!current) return changes;
  if (!current.accountEnabled) changes.push({ action: "enable", target: `user ${upn} (it is disabled, so Partner Center cannot sign in)` });
  if (current.usageLocation !== state.usageLocation)
    changes.push({ action: "set", target: `usage location of ${upn} to ${state.usageLocation}` });
  if (!state.keepPasswordExpiry && !(current.passwordPolicies ?? "").includes(PASSWORD_NEVER_EXPIRES)) {
    changes.push({ action: "set", target: `password of ${upn} to never expire (${PASSWORD_NEVER_EXPIRES})` });
  }
  if (state.licence.assign) changes.push({ action: "assign", target: `licence ${state.licence.assign.skuPartNumber} to ${upn}` });
  return changes;
}

export const createUserStep: Step<CreateUserState> = {
  id: "create-user",
  title: "Create the licensed service user",
  // Needs nothing from the solution: created while it imports, so the sync to Dynamics starts sooner.
  after: [],
  prefetch: (context) => startEarly(() => serviceUser(context)),

  async inspect(context) {
    const { organization, domains, skus } = await directoryFacts(context);
    const { userPrincipalName, current } = await serviceUser(context);
    if (!current) checkUserDomain(userPrincipalName, domains);
    const usageLocation = context.options.usageLocation ?? current?.usageLocation ?? organization.countryLetterCode ?? undefined;
    if (!usageLocation) {
      throw new UsageError({
        code: "usage-location-missing",
        message: "The tenant has no country set, so the service user's usage location cannot be defaulted.",
        hint: "Pass --usage-location <two-letter country code>, e.g. --usage-location US.",
      });
    }
    const licence = decideLicence(skus, context.options.license, current?.assignedLicenses.map((l) => l.skuId) ?? []);
    return { userPrincipalName, current, usageLocation, licence, keepPasswordExpiry: context.options.keepPasswordExpiry };
  },

  plan(state): Plan {
    const { userPrincipalName: upn, licence } = state;
    const licenceName = (licence.assign ?? licence.held)?.skuPartNumber;
    const details = {
      userPrincipalName: upn,
      objectId: state.current?.id ?? null,
      usageLocation: state.usageLocation,
      licence: licenceName ?? null,
    };
    const chosen = licence.chosenByDefault ? " (the best Dynamics licence with a free seat; choose another with --license)" : "";
    if (!state.current) {
      const expiry = state.keepPasswordExpiry ? "password expiry kept (--keep-password-expiry)" : "password never expires";
      return {
        changes: [
          {
            action: "create",
            target: `user ${upn} (usage location ${state.usageLocation}, ${expiry}, no forced password change, no admin role)`,
          },
          { action: "assign", target: `licence ${licenceName}${chosen}` },
        ],
        summary: `Will create ${upn} with licence ${licenceName}`,
        details,
      };
    }
    const changes = drift(state);
    if (changes.length === 0) {
      return { changes, summary: `${upn} exists, enabled, licensed with ${licenceName}, usage location ${state.usageLocation}`, details };
    }
    return { changes, summary: `Will bring the existing user ${upn} into line`, details, drift: true };
  },

  async apply(context, state) {
    const { directory } = await context.tenant();
    const upn = state.userPrincipalName;
    let user = state.current;
    const done: string[] = [];
    if (!user) {
      const password = generatePassword();
      context.io.redactor.add(password);
      // Recorded before the user exists: a run killed once it does leaves "password never shown" on record.
      const orgUrl = (await context.tenant()).orgUrl;
      await recordPassword(context.paths, { orgUrl, userPrincipalName: upn, objectId: "" }, false);
      const created = await createUser(context, directory, state, password);
      user = created;
      if (created.passwordKnown) {
        context.facts.generatedPassword = password;
        await recordPassword(context.paths, { orgUrl, userPrincipalName: upn, objectId: created.id }, false);
        done.push(`created ${upn}`);
      } else {
        done.push(`adopted ${upn}, which appeared while it was being created`);
      }
    } else {
      const changes: Record<string, unknown> = {};
      if (!user.accountEnabled) changes.accountEnabled = true;
      if (user.usageLocation !== state.usageLocation) changes.usageLocation = state.usageLocation;
      if (!state.keepPasswordExpiry && !(user.passwordPolicies ?? "").includes(PASSWORD_NEVER_EXPIRES))
        changes.passwordPolicies = policiesWith(user.passwordPolicies, PASSWORD_NEVER_EXPIRES);
      if (Object.keys(changes).length > 0) {
        await directory.updateUser(user.id, changes);
        done.push(`updated ${upn} (${Object.keys(changes).join(", ")})`);
      }
    }
    if (state.licence.assign) {
      await assignLicenceAfterReplication(context, directory, user.id, state.licence.assign.skuId);
      done.push(`assigned ${state.licence.assign.skuPartNumber}`);
    }
    context.facts.user = { userPrincipalName: upn, current: { ...user, accountEnabled: true, usageLocation: state.usageLocation } };
    const sentence = done.join(", ");
    return {
      summary: `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}`,
      details: { objectId: user.id, passwordGenerated: context.facts.generatedPassword !== undefined },
    };
  },
};

/**
 * POST /users is not idempotent, so it is never resent blindly: when its fate is unknown (dropped
 * connection, 5xx), the user is looked up instead. Created by that request, it has our password.
 */
async function createUser(
  context: CommandContext,
  directory: DirectoryApi,
  state: CreateUserState,
  password: string,
): Promise<GraphUser & { passwordKnown: boolean }> {
  const upn = state.userPrincipalName;
  const local = upn.split("@")[0]!;
  const body = {
    accountEnabled: true,
    displayName: context.options.displayName ?? DEFAULT_DISPLAY_NAME,
    mailNickname: local.replace(/[^A-Za-z0-9._-]/g, "") || "leadwriter",
    userPrincipalName: upn,
    usageLocation: state.usageLocation,
    ...(state.keepPasswordExpiry ? {} : { passwordPolicies: PASSWORD_NEVER_EXPIRES }),
    passwordProfile: { password, forceChangePasswordNextSignIn: false, forceChangePasswordNextSignInWithMfa: false },
  };
  // Bounded: each unknown outcome is looked at before the next attempt, so no duplicate can result.
  for (let attempt = 1; ; attempt++) {
    try {
      return { ...(await directory.createUser(body)), passwordKnown: true };
    } catch (error) {
      const unknownOutcome = error instanceof HttpFailure || (error instanceof ServiceError && error.status >= 500);
      const conflict = isKnown(error, "graph-user-name-taken");
      if (!unknownOutcome && !conflict) throw error;
      const found = await directory.findUser(upn);
      // Found after an unknown outcome: our request created it, with our password.
      if (found) return { ...found, passwordKnown: unknownOutcome };
      if (conflict) {
        throw new TenantNotReadyError({
          code: "user-name-taken",
          message: `${upn} is held by another object (often a deleted user still in the recycle bin for 30 days).`,
          hint: "Restore or permanently delete it in Entra admin center → Users → Deleted users, or pass another --user-name.",
        });
      }
      if (attempt >= 3) throw error;
      context.io.trace(`creating ${upn} failed without creating it (${(error as Error).message}); trying again`);
      await context.clock.sleep(1000 * attempt, context.signal);
    }
  }
}

/** A user just created may not be visible everywhere for a few seconds: 404s are retried (graph-and-msal §A.4). */
async function assignLicenceAfterReplication(
  context: CommandContext,
  directory: DirectoryApi,
  userId: string,
  skuId: string,
): Promise<void> {
  const delays = [0.5, 1, 2, 4, 8, 16, 30];
  for (let attempt = 0; ; attempt++) {
    try {
      await directory.assignLicense(userId, skuId);
      return;
    } catch (error) {
      if (!(error instanceof ServiceError && error.status === 404) || attempt >= delays.length) throw error;
      context.io.trace(`user ${userId} not replicated yet; retrying the licence in ${delays[attempt]} s`);
      await context.clock.sleep(delays[attempt]! * 1000, context.signal);
    }
  }
}
