import { UsageError } from "../errors.js";
import type { CommandContext } from "../context.js";
import type { GraphDomain, GraphUser } from "../services/graph.js";
import { remember, type RunFacts } from "./step.js";

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
export async function directoryFacts(context: CommandContext): Promise<NonNullable<RunFacts["directory"]>> {
  return remember(context, "directory", async () => {
    const { directory } = await context.tenant();
    const [organization, domains, skus] = await Promise.all([directory.organization(), directory.domains(), directory.subscribedSkus()]);
    return { organization, domains, skus };
  });
}

/** The service user's UPN (from --user-name or the default) and its current state in Entra, read once per run. */
export async function serviceUser(context: CommandContext): Promise<{ userPrincipalName: string; current: GraphUser | undefined }> {
  return remember(context, "user", () => findServiceUser(context));
}

async function findServiceUser(context: CommandContext): Promise<{ userPrincipalName: string; current: GraphUser | undefined }> {
  let userPrincipalName = context.options.userName;
  if (!userPrincipalName) {
    const { domains } = await directoryFacts(context);
    const domain = defaultDomain(domains);
    if (!domain)
      throw new UsageError({
        code: "user-domain-none",
        message: "The tenant has no verified managed domain for the service user.",
        hint: "Verify a domain in the Entra admin center, or pass --user-name.",
      });
    userPrincipalName = `${DEFAULT_USER_LOCAL_PART}@${domain.id}`;
  }
  const { directory } = await context.tenant();
  return { userPrincipalName, current: await directory.findUser(userPrincipalName) };
}
