import { UsageError } from "../errors.js";
import type { GraphDomain, GraphOrganization, GraphUser, SubscribedSku } from "../services/graph.js";
import type { Reads } from "./ports.js";
import type { Upstream } from "./step.js";

/** The service user's default name: `mp-leadwriter@<default domain>`. */
export const DEFAULT_USER_LOCAL_PART = "mp-leadwriter";
export const DEFAULT_DISPLAY_NAME = "Microsoft Marketplace Lead Writer";

/** The domain new users get: the tenant's default if verified and managed, else its initial onmicrosoft domain. */
export function defaultDomain(domains: readonly GraphDomain[]): GraphDomain | undefined {
  const usable = domains.filter((d) => d.isVerified && d.authenticationType === "Managed");
  return usable.find((d) => d.isDefault) ?? usable.find((d) => d.isInitial) ?? usable[0];
}

/** Checks a UPN's domain against the tenant: verified, and managed (federated users need an on-premises identity). */
export function checkUserDomain(userPrincipalName: string, domains: readonly GraphDomain[]): void {
  const name = userPrincipalName.split("@")[1]!;
  const domain = domains.find((d) => d.id.toLowerCase() === name);
  const usable = domains
    .filter((d) => d.isVerified && d.authenticationType === "Managed")
    .map((d) => d.id)
    .join(", ");
  if (!domain || !domain.isVerified) {
    throw new UsageError({
      code: "user-domain-unverified",
      message: `--user-name ${userPrincipalName}: ${name} is not a verified domain of this tenant.`,
      hint: `Use one of: ${usable}.`,
    });
  }
  if (domain.authenticationType !== "Managed") {
    throw new UsageError({
      code: "user-domain-federated",
      message: `--user-name ${userPrincipalName}: ${name} is a federated domain; a cloud service account cannot be created there.`,
      hint: `Use a managed domain: ${usable}.`,
    });
  }
}

/** Organization, domains and licences, read once per run (the wizard's questions and create-user share them). */
export function directoryFacts(reads: Reads): Promise<DirectoryFacts> {
  return reads.once("directory", async () => {
    const { directory } = await reads.tenant();
    const [organization, domains, skus] = await Promise.all([directory.organization(), tenantDomains(reads), directory.subscribedSkus()]);
    return { organization, domains, skus };
  });
}

/** The tenant's domains, read once per run: the default UPN needs them alone, so the user lookup waits for nothing else. */
function tenantDomains(reads: Reads): Promise<GraphDomain[]> {
  return reads.once("domains", async () => (await reads.tenant()).directory.domains());
}

export interface DirectoryFacts {
  organization: GraphOrganization;
  domains: GraphDomain[];
  skus: SubscribedSku[];
}

/** The service user's UPN: --user-name, or the default name in the tenant's default domain. */
export async function serviceUserName(reads: Reads, userName: string | undefined): Promise<string> {
  if (userName) return userName;
  // The organization and the licences are read beside the domains, as before, not after the user lookup.
  void directoryFacts(reads).catch(() => undefined);
  const domain = defaultDomain(await tenantDomains(reads));
  if (!domain)
    throw new UsageError({
      code: "user-domain-none",
      message: "The tenant has no verified managed domain for the service user.",
      hint: "Verify a domain in the Entra admin center, or pass --user-name.",
    });
  return `${DEFAULT_USER_LOCAL_PART}@${domain.id}`;
}

/** The service user's UPN and its current state in Entra, read once per run. */
export async function serviceUser(
  reads: Reads,
  userName: string | undefined,
): Promise<{ userPrincipalName: string; current: GraphUser | undefined }> {
  const userPrincipalName = await serviceUserName(reads, userName);
  return reads.once(`user:${userPrincipalName.toLowerCase()}`, async () => ({
    userPrincipalName,
    current: await (await reads.tenant()).directory.findUser(userPrincipalName),
  }));
}

/**
 * The service user as this run knows it: an earlier step's output (the user it created or brought into line)
 * wins over the read made before that step applied.
 */
export async function currentServiceUser(
  reads: Reads,
  upstream: Upstream,
  userName: string | undefined,
): Promise<{ userPrincipalName: string; current: GraphUser | undefined; pending: boolean }> {
  const earlier = upstream.get("create-user");
  if (earlier) return { userPrincipalName: earlier.output.userPrincipalName, current: earlier.output.user, pending: earlier.pending };
  return { ...(await serviceUser(reads, userName)), pending: false };
}
