import type { CommandFactory, CommandSpec, PrepareDeps } from "../command.js";
import { UsageError } from "../errors.js";
import { validateOrgUrl } from "../clouds.js";
import { CHANGE_OPTIONS, OFFER_OPTIONS, OUTPUT_OPTIONS, TENANT_OPTIONS, type CliOptions } from "../options.js";
import { parseUsageLocation, parseUserPrincipalName } from "../validate.js";
import type { Prompter } from "../prompter.js";
import type { TenantCommandDeps } from "../tenant-command.js";

/**
 * The wizard: asks only what it cannot discover (offering what it discovered as choices), shows the whole
 * plan, asks to confirm, applies every step in order and ends with the Partner Center values. Every
 * question has a flag and an environment twin; with no terminal, a missing answer is exit 2 naming the flags.
 * Its answers decide the steps' inputs; the options are never changed.
 */
export const command: CommandSpec = {
  name: "init",
  summary: "set everything up, step by step, and print what to paste into Partner Center",
  description:
    "The wizard: downloads and imports the Lead Writer solution, creates the service identity (a licensed user, or with --identity app the Entra app Partner Center recommends), gives it the Microsoft Marketplace Lead Writer role, widens the role's privileges, and prints the Partner Center values; with --offer it also writes them into those Partner Center offers. It asks only what it cannot discover, shows the whole plan and asks to confirm. Every question has a flag; --yes asks nothing.",
  examples: [
    "crm-lead-setup init --org-url https://contoso.crm4.dynamics.com",
    "crm-lead-setup init --org-url https://contoso.crm.dynamics.com --license DYN365_ENTERPRISE_SALES --usage-location US --yes",
    "crm-lead-setup init --sandbox --yes",
    "crm-lead-setup init --org-url https://contoso.crm4.dynamics.com --identity app --offer contoso-lead-saas",
    "crm-lead-setup init --org-url https://contoso.crm4.dynamics.com --dry-run --detailed-exitcode",
  ],
  options: [
    ...TENANT_OPTIONS,
    "identity",
    ...CHANGE_OPTIONS,
    ...OUTPUT_OPTIONS,
    "solutionFile",
    "solutionUrl",
    "userName",
    "displayName",
    "usageLocation",
    "license",
    "appName",
    "secretExpiryMonths",
    "syncTimeout",
    "keepPasswordExpiry",
    "verify",
    "secretStdin",
    "forceSync",
    "powerPlatformAudience",
    ...OFFER_OPTIONS,
  ],
  prepare,
  run,
};

/** The questions that need no tenant (the identity, the org URL): answered before anything connects, so the org URL is validated once. */
async function prepare(options: CliOptions, { io, prompter }: PrepareDeps): Promise<CliOptions> {
  const sandbox = options.sandbox;
  const needed = [
    !options.orgUrl && !sandbox && !io.canPrompt ? "--org-url" : undefined,
    !options.yes && !options.dryRun && !io.canPrompt ? "--yes" : undefined,
  ].filter((flag): flag is string => flag !== undefined);
  if (needed.length > 0) {
    throw new UsageError({
      code: "answers-missing",
      message: `init needs ${needed.join(" and ")}: there is no terminal to ask on.`,
      hint: `Pass ${needed.join(" and ")} (or the CRM_LEAD_SETUP_* variable of each); try --dry-run first to see the plan.`,
    });
  }
  if (!io.canPrompt) return options;
  const [ask, { promptValidator }] = await Promise.all([prompter(), import("../prompter.js")]);
  const identity =
    options.identity ??
    (await ask.select(
      "How will Partner Center sign in to your Dynamics?",
      [
        {
          name: "Office 365: a licensed user with a password",
          value: "user" as const,
          description: "The original Partner Center page; uses a Dynamics seat; blocked by MFA or Conditional Access on the account.",
        },
        {
          name: "Azure Active Directory: an app with a client secret",
          value: "app" as const,
          description: "What Partner Center recommends; no seat, no MFA conflict; the secret expires and is rotated with reset-password.",
        },
      ],
      "user",
    ));
  // The app identity asks nothing more: its name and secret lifetime have defaults and flags.
  if (identity === "app" || options.orgUrl || sandbox) return { ...options, identity };
  const answer = await ask.input("Dynamics 365 environment URL (e.g. https://contoso.crm4.dynamics.com):", {
    validate: promptValidator((raw) => validateOrgUrl(raw, options.cloud)),
  });
  return { ...options, identity, orgUrl: validateOrgUrl(answer, options.cloud).orgUrl };
}

async function run(factory: CommandFactory) {
  const [
    { runTenantCommand, tenantCommandDeps },
    { canOfferPasswordReset, connectOfferFor, identitySteps, requireOffersCloud, verifyFor },
  ] = await Promise.all([import("../tenant-command.js"), import("./command-steps.js")]);
  requireOffersCloud(factory.options);
  const deps = await tenantCommandDeps(factory);
  const ask = deps.io.canPrompt ? await deps.prompter() : undefined;
  const offer = ask && !deps.options.offer ? await askOffers(deps) : deps.options.offer;
  const asked = ask && deps.options.identity !== "app" ? await askQuestions(deps, ask) : deps.options;
  const options = { ...asked, offer };
  const steps = identitySteps(deps.link.sandbox, options, canOfferPasswordReset(deps));
  if (options.verify) steps.push(verifyFor(deps));
  if (options.offer?.length) steps.push(connectOfferFor(deps, options));
  // The summary's follow-up commands name what the wizard chose too (the offers, the user name), as flags would.
  return runTenantCommand({ ...deps, options }, { confirmDefault: true, partnerCenter: true, endsWithVerifyHint: !options.verify }, steps);
}

/**
 * The offers whose lead destination to write (SPEC §7): a multi-select of those the Partner Center account
 * can see, none meaning none. An identity with no Partner Center role is told so in one line, and not asked.
 */
async function askOffers({ io, link, prompter, options }: TenantCommandDeps): Promise<string[] | undefined> {
  // Partner Center is commercial-cloud only: a sovereign cloud has nothing to list.
  if (!PARTNER_CENTER_CLOUDS.has((await link.tenant()).cloud.name)) return undefined;
  const [{ commandReads }, { TenantNotReadyError }] = await Promise.all([import("../tenant-ports.js"), import("../errors.js")]);
  io.info(io.style.dim("Reading the Partner Center offers…"));
  let offers;
  try {
    offers = await (await commandReads(link, options).partnerCenter()).api.listProducts();
  } catch (error) {
    if (!(error instanceof TenantNotReadyError)) throw error;
    io.info(
      io.style.yellow(
        "Partner Center refused to list the offers: the signed-in identity has no role there (Manager, under Account settings → User management). Skipping the offers.",
      ),
    );
    return undefined;
  }
  if (offers.length === 0) return undefined;
  const chosen = await (
    await prompter()
  ).checkbox(
    "Partner Center offers to send leads to (Space selects, Enter goes on; none: paste the values yourself):",
    offers.map((offer) => ({ name: offer.offerId, value: offer.offerId, description: offer.alias ?? offer.type })),
  );
  return chosen.length > 0 ? chosen : undefined;
}

const PARTNER_CENTER_CLOUDS = new Set(["public", "gcc", "custom"]);

/** The questions about the tenant (the service user's name, licence, usage location): their answers, over the options. */
async function askQuestions({ io, options, link }: TenantCommandDeps, ask: Prompter): Promise<CliOptions> {
  const [
    { promptValidator },
    { describeLicence, dynamicsLicences },
    { defaultDomain, DEFAULT_USER_LOCAL_PART, directoryFacts, serviceUser },
    { commandReads },
  ] = await Promise.all([
    import("../prompter.js"),
    import("../steps/licences.js"),
    import("../steps/service-user.js"),
    import("../tenant-ports.js"),
  ]);
  const answers: Partial<CliOptions> = {};
  io.info(io.style.dim("Reading the tenant (domains, licences, the service user)…"));
  // The same once-per-run reads the steps make: a wizard's read is not made again while planning.
  const reads = commandReads(link, options);
  const { organization, domains, skus } = await directoryFacts(reads);

  if (!options.userName) {
    const usable = domains.filter((d) => d.isVerified && d.authenticationType === "Managed");
    const fallback = defaultDomain(domains);
    const domain =
      usable.length > 1
        ? await ask.select(
            "Domain of the service user:",
            usable.map((d) => ({
              name: d.id,
              value: d.id,
              description: d.isDefault ? "the tenant's default domain" : d.isInitial ? "the initial onmicrosoft.com domain" : undefined,
            })),
            fallback?.id,
          )
        : fallback?.id;
    const local = await ask.input(`Service user name (the part before @${domain}):`, {
      default: DEFAULT_USER_LOCAL_PART,
      validate: promptValidator((raw) => userNameAnswer(raw, domain!)),
    });
    answers.userName = userNameAnswer(local, domain!);
  }
  const { current } = await serviceUser(reads, answers.userName ?? options.userName);
  const holdsDynamics = dynamicsLicences(skus).some((o) => current?.assignedLicenses.some((l) => l.skuId === o.skuId));
  if (!options.license && !holdsDynamics) {
    const withSeats = dynamicsLicences(skus).filter((o) => o.free > 0);
    if (withSeats.length > 1) {
      answers.license = await ask.select(
        "Licence for the service user (you are charged for the seat):",
        withSeats.map((o) => ({ name: describeLicence(o), value: o.skuPartNumber })),
        withSeats[0]!.skuPartNumber,
      );
    }
  }
  if (!options.usageLocation && !current?.usageLocation) {
    const answer = await ask.input("Usage location (two-letter country code, needed for licensing):", {
      default: organization.countryLetterCode ?? undefined,
      validate: promptValidator((raw) => parseUsageLocation(raw, "The usage location")),
    });
    answers.usageLocation = parseUsageLocation(answer, "The usage location");
  }
  return { ...options, ...answers };
}

/**
 * The service user's name as typed at the question that asks for the part before @<domain>: a whole
 * address in that domain is taken as it is, one in another domain is refused with the rule.
 */
export function userNameAnswer(raw: string, domain: string): string {
  const typed = raw.trim();
  const at = typed.indexOf("@");
  if (at < 0) return parseUserPrincipalName(`${typed}@${domain}`, "The user name");
  if (typed.slice(at + 1).toLowerCase() === domain.toLowerCase()) return parseUserPrincipalName(typed, "The user name");
  throw new UsageError({
    code: "user-name-domain",
    message: `The user name "${typed}" is in another domain than ${domain}.`,
    hint: `Type only the part before @${domain}, e.g. mp-leadwriter (choose the domain at the question before).`,
  });
}
