import type { CommandContext } from "../context.js";
import type { CommandOutcome } from "../render.js";

/**
 * Signs in once (Graph, then Dynamics from the same sign-in) and caches the tokens (0600). With --dry-run
 * it says how it would sign in and where the tokens would go, and signs in nowhere.
 */
export async function run(context: CommandContext): Promise<CommandOutcome> {
  const { io, options } = context;
  const session = await context.tenant();
  const { method, clientId, cachePath } = session.signIn;
  const where = `Microsoft Graph (${session.cloud.graphEndpoint}) and Dynamics 365 (${session.orgUrl})`;
  const outcome = { command: context.command, dryRun: options.dryRun, results: [], partnerCenter: null, error: undefined, newSecrets: [] };
  if (options.dryRun) {
    io.out(
      `Would sign in with ${method} (client ${clientId}, tenant ${session.tenant}) to ${where}, and ${cachePath ? `cache the tokens in ${cachePath}` : "keep the app-only tokens in memory only"}.`,
    );
    return {
      ...outcome,
      report: {
        login: {
          method,
          clientId,
          tenant: session.tenant,
          graph: session.cloud.graphEndpoint,
          dynamics: session.orgUrl,
          account: null,
          tenantId: null,
          cacheFile: cachePath ?? null,
        },
      },
    };
  }
  await session.tokens.getAccessToken(session.cloud.graphEndpoint);
  await session.tokens.getAccessToken(session.orgUrl);
  const account = session.tokens.account();
  const who = account ? `${account.username} (tenant ${account.tenantId})` : `application ${clientId} (tenant ${session.tenant})`;
  io.out(`Signed in as ${who} for ${where}.`);
  if (account && cachePath)
    io.out(io.style.dim(`Tokens are cached in ${cachePath} for the next commands; \`crm-lead-setup logout\` removes them.`));
  return {
    ...outcome,
    report: {
      login: {
        method,
        clientId,
        tenant: session.tenant,
        graph: session.cloud.graphEndpoint,
        dynamics: session.orgUrl,
        account: account?.username ?? null,
        tenantId: account?.tenantId ?? session.tenant,
        cacheFile: account ? (cachePath ?? null) : null,
      },
    },
  };
}
