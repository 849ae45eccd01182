import { SignInError } from "../errors.js";

/**
 * AADSTS codes translated into what happened and what to do (SPEC §3; reference: graph-and-msal §C.6).
 * `who` says whose sign-in failed: the admin running the tool, or the service identity `verify` tests.
 */
export interface AadstsContext {
  who: "admin" | "service";
  clientId: string;
  authorityHost: string;
  tenant: string;
  /** The exact `reset-password` command for the service identity (its tenant, sign-in and name). */
  resetCommand?: string;
}

interface Explanation {
  message: string;
  hint: string;
}

type Explain = (context: AadstsContext) => Explanation;

interface AadstsEntry {
  codes: readonly number[];
  admin: Explanation | Explain;
  /** For the service identity `verify` signs in as; the admin's explanation when absent. */
  service?: Explanation | Explain;
}

/** The service identity signs in with its password, as Partner Center does: what blocks one blocks both. */
const PASSWORD_SIGN_IN_BLOCKED: Explanation = {
  message:
    "Multi-factor authentication or Conditional Access blocks this account's password sign-in, so Partner Center cannot sign in with it either.",
  hint: "Use --identity app (recommended by Partner Center), or exclude this service account from MFA / Conditional Access.",
};

const resetCommand = (context: AadstsContext) => `\`${context.resetCommand ?? "crm-lead-setup reset-password"}\``;

/** A tenant-less authority (organizations, common) has no consent page of its own: the admin fills in theirs. */
function adminConsentUrl(context: AadstsContext): string {
  const tenant = context.tenant === "organizations" || context.tenant === "common" ? "<your-tenant>" : context.tenant;
  return `${context.authorityHost}/${tenant}/adminconsent?client_id=${context.clientId}`;
}

const AADSTS_TABLE: readonly AadstsEntry[] = [
  {
    codes: [50076, 50079, 50072, 50074],
    admin: {
      message: "Multi-factor authentication is required for this sign-in, and the chosen method cannot perform it.",
      hint: "Sign in interactively with --auth browser or --auth device-code.",
    },
    service: PASSWORD_SIGN_IN_BLOCKED,
  },
  {
    codes: [53003],
    admin: {
      message: "A Conditional Access policy blocked the sign-in (policies often block the device-code flow).",
      hint: "Try --auth browser from a compliant device, or ask your Entra admin to allow this sign-in.",
    },
    service: PASSWORD_SIGN_IN_BLOCKED,
  },
  {
    codes: [530035],
    admin: {
      message: "Security defaults blocked the sign-in.",
      hint: "Sign in with --auth browser and complete multi-factor authentication.",
    },
    service: {
      message:
        "Security defaults block this account's password sign-in (legacy authentication), so Partner Center cannot sign in with it either.",
      hint: "Use --identity app, which security defaults do not block.",
    },
  },
  {
    codes: [65001],
    admin: (context) => ({
      message: `The application ${context.clientId} has not been granted consent in this tenant.`,
      hint: `An admin can grant consent at ${adminConsentUrl(context)}, then re-run.`,
    }),
  },
  {
    codes: [65002],
    admin: (context) => ({
      message: `The client ${context.clientId} is a Microsoft first-party app that is not pre-authorised for this resource.`,
      hint: "Pass --client-id of your own app registration (see the README's permission list).",
    }),
  },
  {
    codes: [700016],
    admin: (context) => ({
      message: `The application (client) id ${context.clientId} is not registered in tenant ${context.tenant}.`,
      hint: "Check --client-id and --tenant; to use your own registration see the README.",
    }),
  },
  {
    codes: [7000218],
    admin: (context) => ({
      message: `The app registration ${context.clientId} does not allow public client flows (device code, password).`,
      hint: "In Entra admin center → App registrations → Authentication, set 'Allow public client flows' to Yes, or use --auth browser.",
    }),
    service: (context) => ({
      message: `verify signs the service user in with its password through ${context.clientId}, a client that does not allow public client flows.`,
      hint: "Allow public client flows on that registration (Entra admin center → App registrations → Authentication), or run verify without --client-id to use Microsoft's public client.",
    }),
  },
  {
    // 7000222: the secret is right but expired.
    codes: [7000215, 7000222],
    admin: (context) => ({
      message: `The client secret of application ${context.clientId} is invalid or expired.`,
      hint: "Create a new secret (crm-lead-setup reset-password --identity app, or the Entra admin center) and use its value, not its id.",
    }),
  },
  {
    codes: [700027],
    admin: {
      message: "The certificate client assertion was refused: the certificate is not registered on the app, or has expired.",
      hint: "Upload the certificate to the app registration (Certificates & secrets) or pass the right --client-certificate.",
    },
  },
  {
    codes: [7000229],
    admin: (context) => ({
      message: `Application ${context.clientId} has no service principal in the tenant.`,
      hint: "Create it (crm-lead-setup create-app does) or have an admin consent to the app.",
    }),
  },
  {
    codes: [90002],
    admin: (context) => ({
      message: `Tenant '${context.tenant}' was not found in this cloud.`,
      hint: "Check --tenant (a tenant id or verified domain) and --cloud.",
    }),
  },
  {
    codes: [50126],
    admin: { message: "The user name or password is wrong.", hint: "Check the account and password." },
    service: (context) => ({
      message: "The user name or password is wrong.",
      hint: `Set the service password again with ${resetCommand(context)} and update Partner Center.`,
    }),
  },
  { codes: [50034], admin: { message: "The account does not exist in this tenant.", hint: "Check the user name and --tenant." } },
  {
    codes: [50055],
    admin: (context) => ({
      message: "The account's password has expired.",
      hint: `Run ${resetCommand(context)} (it also sets DisablePasswordExpiration) and paste the new password into Partner Center.`,
    }),
  },
  {
    codes: [50057],
    admin: {
      message: "The account is disabled in Entra ID.",
      hint: "Enable the account in the Entra admin center, or re-run crm-lead-setup create-user.",
    },
  },
  {
    codes: [50053],
    admin: (context) => ({
      message: "The account is locked after too many failed sign-ins.",
      hint: `Wait, then reset the password with ${resetCommand(context)}.`,
    }),
  },
  {
    codes: [500011],
    admin: {
      message: "The resource (Dynamics 365 or Graph) is not provisioned in this tenant, or the org URL belongs to another tenant.",
      hint: "Check --org-url and --tenant.",
    },
  },
  {
    codes: [70011],
    admin: {
      message: "The sign-in request asked for an invalid scope.",
      hint: "Check --org-url; for a custom cloud, check --graph-endpoint.",
    },
  },
];

/** MSAL's own error codes (msal-common, msal-node), for sign-in failures that carry no AADSTS code. */
const MSAL_ERRORS: Readonly<Record<string, Explain>> = {
  endpoints_resolution_error: (context) => ({
    message: `Could not reach or trust the sign-in endpoint ${context.authorityHost}.`,
    hint: "Check --cloud / --authority-host and the network; behind a TLS-inspecting proxy set NODE_EXTRA_CA_CERTS to its CA.",
  }),
  user_timeout_reached: () => ({
    message: "The sign-in was not completed in time.",
    hint: "Run the command again and finish the sign-in in the browser.",
  }),
  device_code_expired: () => ({
    message: "The device code expired before the sign-in was completed.",
    hint: "Run the command again and enter the new code within 15 minutes.",
  }),
  device_code_polling_cancelled: () => ({ message: "The device-code sign-in was cancelled.", hint: "Run the command again." }),
};

export function explainAadsts(code: number, context: AadstsContext): Explanation {
  const entry = AADSTS_TABLE.find((candidate) => candidate.codes.includes(code));
  const explanation = entry && (context.who === "service" ? (entry.service ?? entry.admin) : entry.admin);
  if (explanation === undefined) {
    return {
      message: `Sign-in failed with AADSTS${code}.`,
      hint: `Look the code up at https://login.microsoftonline.com/error?code=${code}`,
    };
  }
  return typeof explanation === "function" ? explanation(context) : explanation;
}

/** Builds a SignInError from an MSAL/Entra error, reading the AADSTS code from its fields or text. */
export function signInErrorFrom(error: unknown, context: AadstsContext): SignInError {
  const err = error as { errorNo?: string | number; errorCode?: string; errorMessage?: string; message?: string };
  const text = `${err.errorMessage ?? ""} ${err.message ?? ""}`;
  const code = Number(err.errorNo ?? /AADSTS(\d+)/.exec(text)?.[1] ?? NaN);
  if (!Number.isNaN(code) && code > 0) {
    const explained = explainAadsts(code, context);
    return new SignInError({
      code: `aadsts-${code}`,
      aadsts: code,
      message: `AADSTS${code}: ${explained.message}`,
      hint: explained.hint,
      cause: error,
    });
  }
  const match = Object.hasOwn(MSAL_ERRORS, err.errorCode ?? "") ? MSAL_ERRORS[err.errorCode!]!(context) : undefined;
  return new SignInError({
    code: `sign-in-${err.errorCode ?? "failed"}`,
    message: match?.message ?? `Sign-in failed: ${err.errorMessage ?? err.message ?? String(error)}`,
    hint: match?.hint ?? "Run with --verbose to see the sign-in requests.",
    cause: error,
  });
}
