import { SignInError, TenantNotReadyError, UsageError } from "../errors.js";
import { DEFAULT_CLIENT_ID, type CommandContext } from "../context.js";
import { inquirerPrompter } from "../prompter.js";
import { ServiceError } from "../services/service-error.js";
import { isKnown } from "../catalogue.js";
import { serviceApp } from "./create-app.js";
import { serviceUser } from "./service-user.js";
import type { Plan, Step } from "./step.js";
import { isInCommandSandbox, KEEP_A_SANDBOX_RUNNING } from "../sandbox-link.js";
import { followUpCommand } from "../summary.js";

/** A sandbox started inside this command is new and empty: what an earlier command set up is not there. */
function missingIdentityHint(context: CommandContext, otherwise: string): string {
  if (!isInCommandSandbox(context.sandbox)) return otherwise;
  return `No \`crm-lead-setup sandbox\` is running, so this command started a new, empty sandbox tenant: what an earlier --sandbox command set up ended with it. To keep one, ${KEEP_A_SANDBOX_RUNNING}.`;
}

/**
 * Proves that Partner Center will succeed (reference: dataverse §1.9, §9): signs in as the service
 * identity exactly as Partner Center does (the user's password, or the app's client secret), calls
 * WhoAmI, writes an MSFT_TEST_<timestamp> lead with leadsourcecode set, and deletes it again with the
 * admin identity (the Lead Writer role may not grant Delete). It succeeds only when the lead was written.
 */

export const SERVICE_PASSWORD_ENV = "CRM_LEAD_SETUP_SERVICE_PASSWORD";
export const SERVICE_SECRET_ENV = "CRM_LEAD_SETUP_SERVICE_SECRET";

interface VerifyState {
  identity: "user" | "app";
  /** The user's UPN, or the app's application (client) id. */
  principal: string;
  /** The service identity as --user-name or --app-name names it. */
  name: string;
  label: string;
  tenant: string;
}

/** The service identity's secret: generated in this run, else the environment, standard input, or a hidden question. */
async function serviceSecret(context: CommandContext, identity: "user" | "app", label: string): Promise<string> {
  const generated = identity === "app" ? context.facts.generatedSecret?.secretText : context.facts.generatedPassword;
  if (generated) return generated;
  const envName = identity === "app" ? SERVICE_SECRET_ENV : SERVICE_PASSWORD_ENV;
  const fromEnv = context.io.streams.env[envName];
  if (fromEnv) {
    context.io.redactor.add(fromEnv);
    return fromEnv;
  }
  if (context.options.secretStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of context.io.streams.stdin) chunks.push(Buffer.from(chunk as Buffer));
    const value = Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
    if (!value)
      throw new UsageError({
        code: "secret-stdin-empty",
        message: "--secret-stdin was given, but standard input was empty.",
        hint: `Pipe the ${identity === "app" ? "client secret" : "password"} in, e.g. printf %s "$SECRET" | crm-lead-setup verify --secret-stdin`,
      });
    context.io.redactor.add(value);
    return value;
  }
  if (context.io.canPrompt) {
    const value = await (
      await inquirerPrompter(context.io, context.signal)
    ).secret(`${identity === "app" ? "Client secret" : "Password"} of ${label}:`);
    context.io.redactor.add(value);
    return value;
  }
  throw new UsageError({
    code: "service-secret-missing",
    message: `verify signs in as ${label} and needs its ${identity === "app" ? "client secret" : "password"}, which this run did not generate.`,
    hint: `Set ${envName}, or pass --secret-stdin and pipe it in, or run in a terminal to be asked. Secrets are never taken as option values.`,
  });
}

/**
 * The client the service user's password sign-in goes through. Entra refuses a password grant to a
 * confidential client unless the request carries that client's own secret or certificate (AADSTS7000218;
 * learn.microsoft.com/entra/identity-platform/v2-oauth-ropc). An admin signed in with --auth client-secret or
 * client-certificate has named such a client, usually one holding application permissions only, so the
 * user signs in through the default public client instead: it needs no consent for the user's own
 * Dynamics access, and the admin app's credential never travels with another identity's password.
 */
function passwordGrantClientId(context: CommandContext): string {
  const adminIsConfidential = context.options.auth === "client-secret" || context.options.auth === "client-certificate";
  const publicClient = context.sandbox?.publicClientId ?? DEFAULT_CLIENT_ID;
  return adminIsConfidential ? publicClient : (context.options.clientId ?? publicClient);
}

/** Dynamics' answers to the test lead, turned into what to do (reference: dataverse §1.9). */
function explainLeadFailure(error: unknown, label: string): unknown {
  if (!(error instanceof ServiceError)) return error;
  if (isKnown(error, "dataverse-no-roles")) {
    return new TenantNotReadyError({
      code: "verify-no-role",
      message: `${label} has no security role in Dynamics ("SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user").`,
      hint: "Run crm-lead-setup assign-role, then verify again.",
    });
  }
  if (isKnown(error, "dataverse-lead-create-refused")) {
    return new TenantNotReadyError({
      code: "verify-no-lead-privilege",
      message: `${label} may not create leads with a lead source ("User does not have create permissions for the leadsourcecode attribute").`,
      hint: "Run crm-lead-setup assign-role and patch-role (the Lead Writer role grants it), then verify again.",
    });
  }
  if (isKnown(error, "dataverse-not-a-member")) {
    return new TenantNotReadyError({
      code: "verify-not-in-dynamics",
      message: `${label} signed in but is not a user of this Dynamics environment.`,
      hint: "Run crm-lead-setup assign-role (it waits for the sync), then verify again.",
    });
  }
  return error;
}

export const verifyStep: Step<VerifyState> = {
  id: "verify",
  title: "Write a test lead as the service identity",

  async inspect(context) {
    const session = await context.tenant();
    if (context.options.identity === "app") {
      const app = await serviceApp(context);
      if (!app.application && !context.facts.pending.has("create-app")) {
        throw new TenantNotReadyError({
          code: "app-missing",
          message: `No app registration is named "${app.displayName}".`,
          hint: missingIdentityHint(context, "Run crm-lead-setup create-app (or init --identity app) first, or pass the right --app-name."),
        });
      }
      return {
        identity: "app",
        principal: app.application?.appId ?? "",
        name: app.displayName,
        label: `the app "${app.displayName}"`,
        tenant: app.directoryId,
      };
    }
    const user = await serviceUser(context);
    if (!user.current && !context.facts.pending.has("create-user")) {
      throw new TenantNotReadyError({
        code: "user-missing",
        message: `The service user ${user.userPrincipalName} does not exist.`,
        hint: missingIdentityHint(context, "Run crm-lead-setup create-user (or init) first, or pass the right --user-name."),
      });
    }
    return {
      identity: "user",
      principal: user.userPrincipalName,
      name: user.userPrincipalName,
      label: user.userPrincipalName,
      tenant: session.tenant,
    };
  },

  plan(state): Plan {
    return {
      changes: [{ action: "write", target: `a test lead MSFT_TEST_<timestamp> as ${state.label}, then delete it` }],
      summary: `Will sign in as ${state.label} the way Partner Center does and write a test lead`,
      dependsOn: state.principal ? undefined : ["create-app"],
    };
  },

  async apply(context, state) {
    const session = await context.tenant();
    const secret = await serviceSecret(context, state.identity, state.label);
    const [{ MsalTokenProvider }, { DataverseApi, EnvironmentApi }] = await Promise.all([
      import("../auth/msal.js"),
      import("../services/dataverse.js"),
    ]);
    const asService = new MsalTokenProvider(
      {
        ...(state.identity === "app"
          ? { method: "client-secret" as const, clientId: state.principal, clientSecret: secret, tenant: state.tenant }
          : {
              method: "password" as const,
              clientId: passwordGrantClientId(context),
              username: state.principal,
              password: secret,
              tenant: session.tenant === "organizations" ? state.principal.split("@")[1]! : session.tenant,
            }),
        who: "service",
        resetCommand: followUpCommand("reset-password", { ...context.options, orgUrl: session.orgUrl }, state.name),
        authorityHost: session.cloud.authorityHost,
        customAuthority: session.cloud.name === "custom",
        openBrowser: async () => undefined,
        onDeviceCode: () => undefined,
        trace: context.options.verbose ? (line) => context.io.trace(line) : undefined,
      },
      context.http,
    );
    const checks: string[] = [];
    try {
      await asService.getAccessToken(session.orgUrl);
    } catch (error) {
      if (error instanceof SignInError)
        throw new SignInError({
          code: error.code,
          aadsts: error.aadsts,
          message: `Signing in as ${state.label} failed. ${error.message}`,
          hint: error.hint ?? "",
          cause: error,
        });
      throw error;
    }
    checks.push(`signed in as ${state.label}`);
    const environment = new EnvironmentApi(new DataverseApi(context.http, session.orgUrl, asService));
    const stamp = Date.now();
    let leadId: string;
    try {
      const whoAmI = await environment.whoAmI();
      checks.push(`WhoAmI: system user ${whoAmI.UserId}`);
      leadId = await environment.createLead({
        subject: "MSFT_TEST crm-lead-setup verify",
        firstname: "MSFT_TEST",
        lastname: `MSFT_TEST_${stamp}`,
        companyname: "MSFT_TEST",
        emailaddress1: `MSFT_TEST_${stamp}@test.com`,
        leadsourcecode: 8,
      });
    } catch (error) {
      throw explainLeadFailure(error, state.label);
    }
    checks.push(`wrote lead MSFT_TEST_${stamp} (${leadId})`);
    try {
      await session.environment.deleteLead(leadId);
      checks.push("deleted it as the admin");
    } catch (error) {
      checks.push(`could not delete it (${(error as Error).message}): delete lead MSFT_TEST_${stamp} by hand`);
    }
    return { summary: `${checks.join("; ")}. Partner Center can write leads.`, details: { checks, testLead: `MSFT_TEST_${stamp}` } };
  },
};
