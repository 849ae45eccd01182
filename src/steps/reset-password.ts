import { TenantNotReadyError } from "../errors.js";
import type { GraphApplication, GraphUser } from "../services/graph.js";
import { addSecret, DEFAULT_APP_NAME, DEFAULT_SECRET_EXPIRY_MONTHS, secretExpiry, serviceApp } from "./create-app.js";
import { setNewPassword } from "./password.js";
import { serviceUser } from "./service-user.js";
import type { GeneratedSecret, ServiceAppOutput, ServiceUserOutput, Step } from "./step.js";

/**
 * A new generated password for the service user (reference: graph-and-msal §A.9). Printed once; the old
 * one stops working.
 */
interface ResetState {
  userPrincipalName: string;
  current: GraphUser;
}

export type ResetPasswordOp = { kind: "reset-password"; user: GraphUser; keepPasswordExpiry: boolean; toOffers: boolean };

export function resetPasswordStep(inputs: {
  userName?: string;
  keepPasswordExpiry: boolean;
  /** `--offer`: connect-offer writes the new password into the offers right after (SPEC §7). */
  toOffers?: boolean;
}): Step<ResetState, ResetPasswordOp, ServiceUserOutput, string> {
  return {
    id: "reset-password",
    title: "Set a new password for the service user",

    async inspect(reads) {
      const found = await serviceUser(reads, inputs.userName);
      if (!found.current) {
        throw new TenantNotReadyError({
          code: "user-missing",
          message: `The service user ${found.userPrincipalName} does not exist.`,
          hint: "Run crm-lead-setup create-user (or init) first, or pass the right --user-name.",
        });
      }
      return { userPrincipalName: found.userPrincipalName, current: found.current };
    },

    plan(state) {
      return {
        ops: [
          {
            kind: "reset-password",
            user: state.current,
            keepPasswordExpiry: inputs.keepPasswordExpiry,
            toOffers: inputs.toOffers ?? false,
          },
        ],
        summary: `Will set a new password for ${state.userPrincipalName}`,
      };
    },

    describe(op) {
      // A user has one password: the old one stops at once, so the offers are read and planned before it is
      // set, and written right after. A lead Partner Center tries to deliver in between fails, and Microsoft
      // does not send missed leads again (partner-center §3, failure mode 8).
      const next = op.toOffers
        ? "the old one stops working at once; the offers get the new one right after, and a lead arriving in between may be lost"
        : "the old one stops working: paste the new one into Partner Center";
      return { action: "set", target: `a new generated password for ${op.user.userPrincipalName} (${next})` };
    },

    apply: (op, { writes }) => setNewPassword(writes, op.user, op.keepPasswordExpiry),

    summarize(state) {
      return { summary: `Set a new password for ${state.userPrincipalName}; it never expires and need not be changed at sign-in` };
    },

    output(state, [password]) {
      return {
        identity: "user",
        userPrincipalName: state.userPrincipalName,
        user: state.current,
        generatedPassword: password,
        neverShown: false,
      };
    },
  };
}

interface NewSecretState {
  app: Omit<ServiceAppOutput, "neverShown">;
  application: GraphApplication;
  months: number;
  expiresOn: Date;
}

export type NewSecretOp = {
  kind: "add-secret";
  toOffers: boolean;
  displayName: string;
  applicationObjectId: string;
  appId: string;
  months: number;
  expiresOn: Date;
};

/** The app identity's rotation: a new client secret (the old ones keep working until they expire or are removed). */
export function newSecretStep(inputs: {
  appName?: string;
  secretExpiryMonths?: number;
  /** `--offer`: connect-offer writes the new secret into the offers, then retire-secrets removes the older ones. */
  toOffers?: boolean;
}): Step<NewSecretState, NewSecretOp, ServiceAppOutput, GeneratedSecret> {
  return {
    id: "reset-password",
    title: "Add a new client secret to the app",

    async inspect(reads) {
      const app = await serviceApp(reads, inputs.appName ?? DEFAULT_APP_NAME);
      if (!app.application) {
        throw new TenantNotReadyError({
          code: "app-missing",
          message: `No app registration is named "${app.displayName}".`,
          hint: "Run crm-lead-setup create-app (or init --identity app) first, or pass the right --app-name.",
        });
      }
      const months = inputs.secretExpiryMonths ?? DEFAULT_SECRET_EXPIRY_MONTHS;
      return { app, application: app.application, months, expiresOn: secretExpiry(months, new Date(reads.clock.now())) };
    },

    plan(state) {
      const { application, app } = state;
      return {
        ops: [
          {
            kind: "add-secret",
            toOffers: inputs.toOffers ?? false,
            displayName: app.displayName,
            applicationObjectId: application.id,
            appId: application.appId,
            months: state.months,
            expiresOn: state.expiresOn,
          },
        ],
        summary: `Will add a new client secret to "${app.displayName}"`,
      };
    },

    describe(op) {
      const old = op.toOffers ? "; the older ones keep working until every offer holds this one" : "";
      return {
        action: "add",
        target: `a new client secret to "${op.displayName}", expiring ${op.expiresOn.toISOString().slice(0, 10)}${old}`,
      };
    },

    async apply(op, { writes }) {
      const secret = await addSecret(writes, op);
      // Bound for the offers: counted as delivered from now on. Whether Partner Center got it cannot be read
      // back (it answers secrets masked), and a later init must not remove, as never shown, a secret an
      // offer may hold. A copy that never reached an offer is removed by the next rotation (retire-secrets).
      if (op.toOffers)
        await writes.ledger.recordSecret({ orgUrl: (await writes.tenant()).orgUrl, appId: op.appId, keyId: secret.keyId }, true);
      return secret;
    },

    summarize(state, [secret]) {
      const older = inputs.toOffers
        ? "the older ones this tool created are removed once every offer holds it"
        : "older secrets keep working until they expire or you remove them in Entra";
      return { summary: `Added a new client secret to "${state.app.displayName}", expiring ${secret!.endDateTime.slice(0, 10)}; ${older}` };
    },

    output(state, [secret]) {
      return { ...state.app, generatedSecret: secret, neverShown: false };
    },
  };
}
