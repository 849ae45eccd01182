import { TenantNotReadyError, UsageError } from "../errors.js";
import { validateOrgUrl } from "../clouds.js";
import type { CommandContext } from "../context.js";
import { inquirerPrompter, promptValidator, type Prompter } from "../prompter.js";
import { parseUsageLocation, parseUserPrincipalName } from "../validate.js";
import { describeLicence, dynamicsLicences } from "../steps/licences.js";
import { defaultDomain, DEFAULT_USER_LOCAL_PART, directoryFacts, serviceUser } from "../steps/service-user.js";
import type { CliOptions } from "../options.js";
import type { IO } from "../io.js";
import { runTenantCommand } from "../tenant-command.js";
import { canOfferPasswordReset, connectOfferFor, identitySteps, requireOffersCloud, verifyFor } from "./command-steps.js";
import { commandReads } from "../tenant-ports.js";

/**
 * The wizard: asks only what it cannot discover (offering what it discovered as choices), shows the whole
 * plan, asks to confirm, applies every step in order and ends with the Partner Center values. Every
 * question has a flag and an environment twin; with no terminal, a missing answer is exit 2 naming the flags.
 */
/** The questions that need no tenant (the identity, the org URL): answered before the context exists, so it validates the org URL once. */
export async function prepare(options: CliOptions, io: IO, signal: AbortSignal): Promise<CliOptions> {
  const sandbox = options.sandbox;
  const needed = [
    !options.orgUrl && !sandbox && !io.canPrompt ? "--org-url" : undefined,
    !options.yes && !options.dryRun && !io.canPrompt ? "--yes" : undefined,
  ].filter((flag): flag is string => flag !== undefined);
  if (needed.length > 0) {
    throw new UsageError({
      code: "answers-missing",
      message: `init needs ${needed.join(" and ")}: there is no terminal to ask on.`,
      hint: `Pass ${needed.join(" and ")} (or their CRM_LEAD_SETUP_* variables); try --dry-run first to see the plan.`,
    });
  }
  if (!io.canPrompt) return options;
  const ask = await inquirerPrompter(io, signal);
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

/**
 * The wizard: asks only what it cannot discover (offering what it discovered as choices), shows the whole
 * plan, asks to confirm, applies every step in order and ends with the Partner Center values. Every
 * question has a flag and an environment twin; with no terminal, a missing answer is exit 2 naming the flags.
 * Its answers decide the steps' inputs; the options are never changed.
 */
export async function run(context: CommandContext, prompter?: Prompter) {
  const { io } = context;
  const ask = io.canPrompt ? (prompter ?? (await inquirerPrompter(io, context.signal))) : undefined;
  requireOffersCloud(context.options);
  const offer = ask && !context.options.offer ? await askOffers(context, ask) : context.options.offer;
  const asked = ask && context.options.identity !== "app" ? await askQuestions(context, ask) : context.options;
  const options = { ...asked, offer };
  const steps = identitySteps(context, options, canOfferPasswordReset(context));
  if (options.verify) steps.push(verifyFor(context, async () => ask!));
  if (options.offer?.length) steps.push(connectOfferFor(context, async () => ask!, options));
  return runTenantCommand(context, { confirmDefault: true, partnerCenter: true, endsWithVerifyHint: !options.verify }, steps, ask);
}

/**
 * The offers whose lead destination to write (SPEC §7): a multi-select of those the Partner Center account
 * can see, none meaning none. An identity with no Partner Center role is told so in one line, and not asked.
 */
async function askOffers(context: CommandContext, ask: Prompter): Promise<string[] | undefined> {
  const { io } = context;
  // Partner Center is commercial-cloud only: a sovereign cloud has nothing to list.
  if (!PARTNER_CENTER_CLOUDS.has((await context.tenant()).cloud.name)) return undefined;
  io.info(io.style.dim("Reading the Partner Center offers…"));
  let offers;
  try {
    offers = await (await commandReads(context).partnerCenter()).api.listProducts();
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
  const chosen = await ask.checkbox(
    "Partner Center offers to send leads to (Space selects, Enter goes on; none: paste the values yourself):",
    offers.map((offer) => ({ name: offer.offerId, value: offer.offerId, description: offer.alias ?? offer.type })),
  );
  return chosen.length > 0 ? chosen : undefined;
}

const PARTNER_CENTER_CLOUDS = new Set(["public", "gcc", "custom"]);

/** The questions about the tenant (the service user's name, licence, usage location): their answers, over the options. */
async function askQuestions(context: CommandContext, ask: Prompter): Promise<CliOptions> {
  const { io } = context;
  const answers: Partial<CliOptions> = {};
  const options = context.options;
  io.info(io.style.dim("Reading the tenant (domains, licences, the service user)…"));
  // The same once-per-run reads the steps make: a wizard's read is not made again while planning.
  const reads = commandReads(context);
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
      validate: promptValidator((raw) => parseUserPrincipalName(`${raw}@${domain}`, "The user name")),
    });
    answers.userName = parseUserPrincipalName(`${local}@${domain}`, "The user name");
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
