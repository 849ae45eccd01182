import type { CliError } from "./errors.js";
import type { CliOptions } from "./options.js";
import type { ServiceIdentityOutput, StepResult } from "./steps/step.js";

/**
 * What the Partner Center summary tells the admin to do next, as data (SPEC §3): whether the setup is
 * complete, the exact command that reaches the same tenant and service identity, and how to get a secret
 * that this run did not generate. Pure: the renderers and --json show what is decided here.
 */

/** The options that pick the tenant, the admin's sign-in and the service identity. */
export type FollowUpOptions = Partial<
  Pick<
    CliOptions,
    | "sandbox"
    | "orgUrl"
    | "cloud"
    | "authorityHost"
    | "graphEndpoint"
    | "tenant"
    | "auth"
    | "clientId"
    | "clientCertificate"
    | "identity"
    | "offer"
  >
>;

/** A value as a POSIX shell reads it back unchanged: bare when it is plain, else in single quotes. */
export function shellArgument(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * `crm-lead-setup <command>` with the flags that reach the same tenant (the sandbox, or the org URL and
 * the cloud's endpoints), sign in the same way (--auth, --client-id, --client-certificate: a pipeline
 * cannot answer a browser) and find the same service identity by name.
 */
export function followUpCommand(command: string, options: FollowUpOptions, identityName: string): string {
  const flags: [string, string | undefined][] = options.sandbox
    ? [["--sandbox", undefined]]
    : [
        ["--org-url", options.orgUrl],
        ["--cloud", options.cloud],
        ["--authority-host", options.authorityHost],
        ["--graph-endpoint", options.graphEndpoint],
        ["--tenant", options.tenant],
      ];
  flags.push(["--auth", options.auth], ["--client-id", options.clientId], ["--client-certificate", options.clientCertificate]);
  if (options.identity === "app") flags.push(["--identity", "app"], ["--app-name", identityName]);
  else flags.push(["--user-name", identityName]);
  const words = flags.flatMap(([flag, value]) => (flag === "--sandbox" ? [flag] : value === undefined ? [] : [flag, shellArgument(value)]));
  return ["crm-lead-setup", command, ...words].join(" ");
}

/** Every step ended well: nothing failed, was interrupted, timed out or was left unrun. */
export function setupComplete(results: readonly StepResult[], error: CliError | undefined): boolean {
  return error === undefined && results.every((r) => r.status !== "failed" && !(r.status === "skipped" && r.summary.startsWith("Not run")));
}

/** How to get a secret that this run did not generate (`partnerCenter.hint`). */
export function secretHint(facts: { identity: "user" | "app"; name: string; neverShown: boolean; command: string }): string {
  const run = `\`${facts.command}\``;
  if (facts.identity === "app") {
    return facts.neverShown
      ? `The client secret an earlier run added to "${facts.name}" was never shown: that run was interrupted. Run ${run} to add a new one.`
      : `The client secret was shown once, by the run that added it. If you no longer have it, run ${run} to add a new one (older secrets keep working until they expire).`;
  }
  return facts.neverShown
    ? `The password generated when ${facts.name} was created was never shown: the run that created it was interrupted. Run ${run} to set a new one.`
    : `The password was shown once, by the run that set it. If you no longer have it, run ${run} to set a new one (the old one stops working).`;
}

/** The sentence under the values (`partnerCenter.nextStep`): select Validate, or re-run first. */
export function nextStep(facts: { complete: boolean; secretShown: "password" | "client secret" | undefined; rerun: string }): string {
  if (!facts.complete) {
    const keep = facts.secretShown ? ` The ${facts.secretShown} is shown this once: keep it for Partner Center.` : "";
    return `Setup incomplete: re-run \`${facts.rerun}\` before you select Validate.${keep}`;
  }
  if (facts.secretShown === "password")
    return "The password is shown this once and never expires. Paste it now; then select Validate in Partner Center.";
  if (facts.secretShown === "client secret")
    return "The client secret is shown this once. Paste it now; then select Validate in Partner Center.";
  return "Paste these values, then select Validate in Partner Center.";
}

/** A generated secret the summary showed: the ledger records it as shown once the summary is written. */
export type ShownSecret =
  | { kind: "password"; orgUrl: string; userPrincipalName: string; objectId: string }
  | { kind: "client-secret"; orgUrl: string; appId: string; keyId: string };

export interface PartnerCenterSummary {
  values: Record<string, string | null>;
  notes: string[];
  shown: ShownSecret | undefined;
}

export interface SummaryFacts {
  command: string;
  options: FollowUpOptions & { verify?: boolean };
  orgUrl: string;
  /** The service identity as the run left it (create-user, create-app or reset-password's output). */
  identity: ServiceIdentityOutput | undefined;
  /** Every step ended well (see setupComplete). */
  complete: boolean;
  /** The command ends by saying how to prove the setup with verify, once it is complete (init without --verify). */
  endsWithVerifyHint: boolean;
  /** The note that replaces the verify hint when the tenant lived only for this command, if it did. */
  inCommandSandboxNote?: (verify: string) => string;
}

/**
 * The Partner Center dialog's values for the identity that was set up (reference: dataverse §1.4), the notes
 * under them, and the secret they show (if this run generated one). Pure: a function of the outcome.
 */
export function partnerCenterSummary(facts: SummaryFacts): PartnerCenterSummary | undefined {
  const { identity, complete } = facts;
  const name = identity?.identity === "app" ? identity.application && identity.displayName : identity?.user && identity.userPrincipalName;
  if (!identity || !name) return undefined;
  const notes: string[] = [];
  const sameTarget = { ...facts.options, orgUrl: facts.orgUrl };
  const rerun = followUpCommand(facts.command, sameTarget, name);
  const rotate = followUpCommand("reset-password", sameTarget, name);
  // SPEC §1: init writes no test lead unless asked; it says how to prove the setup instead, once it is complete.
  if (complete && facts.endsWithVerifyHint) {
    const verify = followUpCommand("verify", sameTarget, name);
    notes.push(
      facts.inCommandSandboxNote?.(verify) ??
        `To prove Partner Center can write leads, run \`${verify}\`: it signs in as the service identity and writes, then deletes, a test lead.`,
    );
  }
  const setup = complete ? "complete" : "incomplete";
  if (identity.identity === "app") {
    const application = identity.application!;
    const secret = identity.generatedSecret;
    // With offers, the rotation writes the new secret into them (SPEC §7): nothing to paste.
    const offers = facts.options.offer?.length ? facts.options.offer.join(",") : undefined;
    if (secret)
      notes.push(
        offers
          ? `The client secret expires on ${secret.endDateTime.slice(0, 10)}. Before then, run \`${rotate} --offer ${offers}\`: it writes the new one into the offers, then removes the old one.`
          : `The client secret expires on ${secret.endDateTime.slice(0, 10)}. Before then, run \`${rotate}\` and paste the new one into Partner Center.`,
      );
    const hint = secret ? undefined : secretHint({ identity: "app", name, neverShown: identity.neverShown, command: rotate });
    return {
      values: {
        url: facts.orgUrl,
        authentication: "Azure Active Directory",
        applicationId: application.appId,
        directoryId: identity.directoryId,
        clientSecret: secret?.secretText ?? null,
        ...(hint ? { hint } : {}),
        setup,
        nextStep: nextStep({ complete, secretShown: secret ? "client secret" : undefined, rerun }),
      },
      notes: hint ? [...notes, hint] : notes,
      shown: secret ? { kind: "client-secret", orgUrl: facts.orgUrl, appId: application.appId, keyId: secret.keyId } : undefined,
    };
  }
  const password = identity.generatedPassword;
  const hint = password ? undefined : secretHint({ identity: "user", name, neverShown: identity.neverShown, command: rotate });
  return {
    values: {
      url: facts.orgUrl,
      authentication: "Office 365",
      userName: name,
      password: password ?? null,
      ...(hint ? { hint } : {}),
      setup,
      nextStep: nextStep({ complete, secretShown: password ? "password" : undefined, rerun }),
    },
    notes: hint ? [...notes, hint] : notes,
    shown: password ? { kind: "password", orgUrl: facts.orgUrl, userPrincipalName: name, objectId: identity.user!.id } : undefined,
  };
}
