import type { CommandContext } from "../context.js";
import type { StepResult } from "../steps/step.js";

/** Signs in once (Graph, then Dynamics from the same sign-in) and caches the tokens (0600). */
export async function run(context: CommandContext) {
  const session = await context.tenant();
  await session.tokens.getAccessToken(session.cloud.graphEndpoint);
  await session.tokens.getAccessToken(session.orgUrl);
  const account = session.tokens.account();
  const who = account ? `${account.username} (tenant ${account.tenantId})` : `application ${context.options.clientId ?? "from the sandbox"} (tenant ${session.tenant})`;
  const results: StepResult[] = [];
  context.io.out(`Signed in as ${who} for Microsoft Graph (${session.cloud.graphEndpoint}) and Dynamics 365 (${session.orgUrl}).`);
  if (account) context.io.out(context.io.style.dim("Tokens are cached for the next commands; `crm-lead-setup logout` removes them."));
  return { command: context.command, dryRun: false, results, partnerCenter: null, error: undefined, newSecrets: [] };
}
