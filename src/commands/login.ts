import type { CommandFactory, CommandSpec } from "../command.js";
import { OUTPUT_OPTIONS, TENANT_OPTIONS } from "../options.js";
import type { CommandOutcome } from "../render.js";

/**
 * Signs in once (Graph, then Dynamics from the same sign-in) and caches the tokens (0600). With --dry-run
 * it says how it would sign in and where the tokens would go, and signs in nowhere.
 */
export const command: CommandSpec = {
  name: "login",
  summary: "sign in once and cache the tokens",
  description:
    "Signs in to Microsoft Graph and the Dynamics environment with one sign-in and caches the tokens in a file only you can read (0600).",
  examples: [
    "crm-lead-setup login --org-url https://contoso.crm4.dynamics.com",
    "crm-lead-setup login --org-url https://contoso.crm.dynamics.com --auth device-code",
  ],
  options: [...TENANT_OPTIONS, "dryRun", ...OUTPUT_OPTIONS],
  run,
};

/** What login uses: the tenant link to sign in through; no prompter, no steps. */
type LoginDeps = Pick<CommandFactory, "name" | "io" | "options" | "link">;

async function run({ name, io, options, link }: LoginDeps): Promise<CommandOutcome> {
  const session = await (await link()).tenant();
  const { method, clientId, cachePath } = session.signIn;
  const where = `Microsoft Graph (${session.cloud.graphEndpoint}) and Dynamics 365 (${session.orgUrl})`;
  const outcome = { command: name, dryRun: options.dryRun, results: [], partnerCenter: null, error: undefined, newSecrets: [] };
  /** The `login` object of --json: what was (or would be) signed in to, and as whom. */
  const report = (
    account: { username: string; tenantId: string } | null | undefined,
    cacheFile: string | undefined,
    tenantId: string | null,
  ) => ({
    ...outcome,
    report: {
      login: {
        method,
        clientId,
        tenant: session.tenant,
        graph: session.cloud.graphEndpoint,
        dynamics: session.orgUrl,
        account: account?.username ?? null,
        tenantId,
        cacheFile: cacheFile ?? null,
      },
    },
  });
  if (options.dryRun) {
    io.out(
      `Would sign in with ${method} (client ${clientId}, tenant ${session.tenant}) to ${where}, and ${cachePath ? `cache the tokens in ${cachePath}` : "keep the app-only tokens in memory only"}.`,
    );
    return report(null, cachePath, null);
  }
  await session.tokens.getAccessToken(session.cloud.graphEndpoint);
  await session.tokens.getAccessToken(session.orgUrl);
  const account = session.tokens.account();
  const who = account ? `${account.username} (tenant ${account.tenantId})` : `application ${clientId} (tenant ${session.tenant})`;
  io.out(`Signed in as ${who} for ${where}.`);
  if (account && cachePath)
    io.out(io.style.dim(`Tokens are cached in ${cachePath} for the next commands; \`crm-lead-setup logout\` removes them.`));
  return report(account, account ? cachePath : undefined, account?.tenantId ?? session.tenant);
}
