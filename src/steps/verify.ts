import { SignInError, TenantNotReadyError } from "../errors.js";
import { ServiceError } from "../services/service-error.js";
import { isKnown } from "../catalogue.js";
import { serviceApp } from "./create-app.js";
import { currentServiceUser } from "./service-user.js";
import type { Step, Upstream } from "./step.js";
import type { Reads, ServiceIdentitySession, Writes } from "./ports.js";

/**
 * Proves that Partner Center will succeed (reference: dataverse §1.9, §9): signs in as the service
 * identity exactly as Partner Center does (the user's password, or the app's client secret), calls
 * WhoAmI, writes an MSFT_TEST_<timestamp> lead with leadsourcecode set, and deletes it again with the
 * admin identity (the Lead Writer role may not grant Delete). It succeeds only when the lead was written.
 */

interface VerifyState {
  identity: "user" | "app";
  /** The user's UPN, or the app's application (client) id. */
  principal: string;
  /** The service identity as --user-name or --app-name names it. */
  name: string;
  label: string;
  tenant: string;
  /** The secret create-user or create-app generated in this run, if any. */
  generated?: string;
  /** The earlier step of this run that is still to create or change the identity (and may generate its secret). */
  waitingFor?: "create-user" | "create-app";
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

export interface VerifyInputs {
  identity: "user" | "app";
  userName?: string;
  appName: string;
  /** The service identity's secret when this run did not generate it (the environment, stdin, or a question). */
  serviceSecret: (identity: "user" | "app", label: string) => Promise<string>;
  /** What to say when the identity is missing, when the command knows better than the default (a new sandbox). */
  missingIdentityHint?: string;
}

export type VerifyOp = {
  kind: "write-test-lead";
  identity: "user" | "app";
  principal: string;
  name: string;
  label: string;
  tenant: string;
  generated?: string;
};

export function verifyStep(inputs: VerifyInputs): Step<VerifyState, VerifyOp, undefined, { checks: string[]; testLead: string }> {
  return {
    id: "verify",
    title: "Write a test lead as the service identity",
    inspect: (reads, upstream) => inspectVerify(reads, upstream, inputs),

    plan(state) {
      return {
        ops: [
          {
            kind: "write-test-lead",
            identity: state.identity,
            principal: state.principal,
            name: state.name,
            label: state.label,
            tenant: state.tenant,
            generated: state.generated,
          },
        ],
        summary: `Will sign in as ${state.label} the way Partner Center does and write a test lead`,
        dependsOn: state.waitingFor ? [state.waitingFor] : undefined,
      };
    },

    describe: (op) => ({ action: "write", target: `a test lead MSFT_TEST_<timestamp> as ${op.label}, then delete it` }),

    async apply(op, { writes }) {
      const secret = op.generated ?? (await inputs.serviceSecret(op.identity, op.label));
      writes.secrets.keep(secret);
      const asService = await signIn(op, secret, writes);
      return writeTestLead(op, asService, writes);
    },

    summarize: (_state, [done]) => ({ summary: `${done!.checks.join("; ")}. Partner Center can write leads.`, details: done }),
    output: () => undefined,
  };
}

async function inspectVerify(reads: Reads, upstream: Upstream, inputs: VerifyInputs): Promise<VerifyState> {
  const { tenant } = await reads.tenant();
  if (inputs.identity === "app") {
    const earlier = upstream.get("create-app");
    const app = earlier?.output ?? (await serviceApp(reads, inputs.appName));
    if (!app.application && !earlier?.pending) {
      throw new TenantNotReadyError({
        code: "app-missing",
        message: `No app registration is named "${app.displayName}".`,
        hint: inputs.missingIdentityHint ?? "Run crm-lead-setup create-app (or init --identity app) first, or pass the right --app-name.",
      });
    }
    return {
      identity: "app",
      principal: app.application?.appId ?? "",
      name: app.displayName,
      label: `the app "${app.displayName}"`,
      tenant: app.directoryId,
      generated: earlier?.output.generatedSecret?.secretText,
      waitingFor: earlier?.pending ? "create-app" : undefined,
    };
  }
  const user = await currentServiceUser(reads, upstream, inputs.userName);
  if (!user.current && !user.pending) {
    throw new TenantNotReadyError({
      code: "user-missing",
      message: `The service user ${user.userPrincipalName} does not exist.`,
      hint: inputs.missingIdentityHint ?? "Run crm-lead-setup create-user (or init) first, or pass the right --user-name.",
    });
  }
  const generated = upstream.get("create-user")?.output.generatedPassword;
  const waitingFor = user.pending ? ("create-user" as const) : undefined;
  return {
    identity: "user",
    principal: user.userPrincipalName,
    name: user.userPrincipalName,
    label: user.userPrincipalName,
    tenant,
    generated,
    waitingFor,
  };
}

async function signIn(op: VerifyOp, secret: string, writes: Writes): Promise<ServiceIdentitySession> {
  try {
    return await writes.signInAs(
      op.identity === "app"
        ? { identity: "app", appId: op.principal, clientSecret: secret, directoryId: op.tenant, name: op.name }
        : { identity: "user", userPrincipalName: op.principal, password: secret, name: op.name },
    );
  } catch (error) {
    if (error instanceof SignInError)
      throw new SignInError({
        code: error.code,
        aadsts: error.aadsts,
        message: `Signing in as ${op.label} failed. ${error.message}`,
        hint: error.hint ?? "",
        cause: error,
      });
    throw error;
  }
}

async function writeTestLead(
  op: VerifyOp,
  asService: ServiceIdentitySession,
  writes: Writes,
): Promise<{ checks: string[]; testLead: string }> {
  const checks = [`signed in as ${op.label}`];
  const stamp = writes.clock.now();
  let leadId: string;
  try {
    const whoAmI = await asService.whoAmI();
    checks.push(`WhoAmI: system user ${whoAmI.UserId}`);
    leadId = await asService.createLead({
      subject: "MSFT_TEST crm-lead-setup verify",
      firstname: "MSFT_TEST",
      lastname: `MSFT_TEST_${stamp}`,
      companyname: "MSFT_TEST",
      emailaddress1: `MSFT_TEST_${stamp}@test.com`,
      leadsourcecode: 8,
    });
  } catch (error) {
    throw explainLeadFailure(error, op.label);
  }
  checks.push(`wrote lead MSFT_TEST_${stamp} (${leadId})`);
  try {
    await (await writes.tenant()).environment.deleteLead(leadId);
    checks.push("deleted it as the admin");
  } catch (error) {
    checks.push(`could not delete it (${(error as Error).message}): delete lead MSFT_TEST_${stamp} by hand`);
  }
  return { checks, testLead: `MSFT_TEST_${stamp}` };
}
