import { Command, CommanderError, Option } from "commander";
import { EXIT_CODE_HELP, ExitCode } from "./errors.js";
import { envNameOf, isBooleanSpec, parseBooleanEnvLenient, specsFor, type CommandName } from "./options.js";

/**
 * The commander program: commands and their options only. Nothing heavy is imported here; each action
 * loads the command runner on demand, so `--help` and `--version` stay at bare-Node start-up cost.
 */

interface CommandSpec {
  name: CommandName;
  summary: string;
  description: string;
  examples: string[];
}

const COMMANDS: readonly CommandSpec[] = [
  {
    name: "init",
    summary: "set everything up, step by step, and print what to paste into Partner Center",
    description:
      "The wizard: downloads and imports the Lead Writer solution, creates the licensed service user, gives it the Microsoft Marketplace Lead Writer role, widens the role's privileges, and prints the Partner Center values. It asks only what it cannot discover, shows the whole plan and asks to confirm. Every question has a flag; --yes asks nothing.",
    examples: [
      "crm-lead-setup init --org-url https://contoso.crm4.dynamics.com",
      "crm-lead-setup init --org-url https://contoso.crm.dynamics.com --license DYN365_ENTERPRISE_SALES --usage-location US --yes",
      "crm-lead-setup init --sandbox --yes",
      "crm-lead-setup init --org-url https://contoso.crm4.dynamics.com --dry-run --detailed-exitcode",
    ],
  },
  {
    name: "download-solution",
    summary: "download and check Microsoft's Lead Writer solution",
    description:
      'Downloads Microsoft\'s "Microsoft Marketplace Lead Writer" managed solution into the user cache (current URL first, then the two older ones), or checks the file given with --solution-file. Reads solution.xml and refuses anything that is not a managed Dynamics solution package. Prints the SHA-256.',
    examples: [
      "crm-lead-setup download-solution",
      "crm-lead-setup download-solution --solution-file ./MicrosoftMarketplacesLeadIntegrationSolution_1_0_0_0_target_CRM_6.1_managed.zip",
      "crm-lead-setup download-solution --sandbox --json",
    ],
  },
  {
    name: "import-solution",
    summary: "import the Lead Writer solution into Dynamics",
    description:
      "Imports the managed Lead Writer solution with ImportSolutionAsync and watches it to the end, showing the import job's progress. Skips it when the same or a higher version is installed; watches an import already running instead of starting another; on failure shows the failing component.",
    examples: [
      "crm-lead-setup import-solution --org-url https://contoso.crm4.dynamics.com",
      "crm-lead-setup import-solution --sandbox --solution-file ./lead-writer.zip --yes",
    ],
  },
  {
    name: "create-user",
    summary: "create the licensed service user Partner Center signs in as",
    description:
      "Creates the service user in Entra ID (default mp-leadwriter@<default domain>) with a usage location, no forced password change, a password that never expires and a generated password, and assigns a Dynamics licence with a free seat. An existing user of that name is adopted and brought into line. Never assigns an admin role.",
    examples: [
      "crm-lead-setup create-user --org-url https://contoso.crm4.dynamics.com --license DYN365_ENTERPRISE_SALES",
      "crm-lead-setup create-user --sandbox --user-name leads@contoso.com --usage-location GB --yes",
    ],
  },
  {
    name: "create-app",
    summary: "create the Entra app (the identity Partner Center recommends) and its Dynamics application user",
    description:
      "Creates an Entra app registration (accounts in any organizational directory, Dynamics CRM user_impersonation), its service principal, a client secret with an expiry (--secret-expiry-months, default 24), and the Dataverse application user in the root business unit. An app of that name is reused; a new secret is added only when none was delivered.",
    examples: [
      "crm-lead-setup create-app --org-url https://contoso.crm4.dynamics.com",
      'crm-lead-setup create-app --sandbox --app-name "Contoso lead writer" --secret-expiry-months 12 --yes',
    ],
  },
  {
    name: "assign-role",
    summary: "give the service user the Microsoft Marketplace Lead Writer role",
    description:
      "Waits (up to --sync-timeout) until the service user has synchronised from Entra ID into Dynamics, then assigns the copy of the Lead Writer role that belongs to the user's business unit.",
    examples: [
      "crm-lead-setup assign-role --org-url https://contoso.crm4.dynamics.com",
      "crm-lead-setup assign-role --sandbox --sync-timeout 1200 --yes",
    ],
  },
  {
    name: "patch-role",
    summary: "widen the Lead Writer role's privileges as Partner Center asks",
    description:
      "On the root business unit's copy of the role: User Entity UI Settings Create/Read/Write at user level, System Job Read/Write/Append To at organization level, and member privilege inheritance. Adds only what is missing and reads the role back.",
    examples: ["crm-lead-setup patch-role --org-url https://contoso.crm4.dynamics.com", "crm-lead-setup patch-role --sandbox --dry-run"],
  },
  {
    name: "reset-password",
    summary: "set a new generated password for the service user, shown once",
    description:
      "Sets a new generated password on the service user (no forced change, never expires) and prints it once in the Partner Center summary. The old password stops working: paste the new one into Partner Center.",
    examples: [
      "crm-lead-setup reset-password --org-url https://contoso.crm4.dynamics.com",
      "crm-lead-setup reset-password --sandbox --user-name leads@contoso.com --yes --json",
    ],
  },
  {
    name: "verify",
    summary: "prove Partner Center will succeed: sign in as the service identity and write a test lead",
    description:
      "Signs in as the service identity the way Partner Center does (the user's password, or the app's client secret), calls WhoAmI, writes an MSFT_TEST_<timestamp> lead with a lead source, and deletes it with your admin identity. The secret comes from CRM_LEAD_SETUP_SERVICE_PASSWORD (user) or CRM_LEAD_SETUP_SERVICE_SECRET (app), from standard input with --secret-stdin, or from a hidden question on a terminal. Exits 0 only when the lead was written.",
    examples: [
      "CRM_LEAD_SETUP_SERVICE_PASSWORD=… crm-lead-setup verify --org-url https://contoso.crm4.dynamics.com",
      'printf %s "$SECRET" | crm-lead-setup verify --identity app --secret-stdin --sandbox',
    ],
  },
  {
    name: "connect-offer",
    summary: "write the lead destination into Partner Center offers (no paste)",
    description:
      "Sets each offer's Customer leads destination to this Dynamics through Partner Center's Product Ingestion API (preview): one configure job for all offers, waited for up to --sync-timeout; a re-run resumes a job still running. Only the offer's draft changes: publish the offer in Partner Center for it to take effect. The signed-in identity needs the Manager role in Partner Center. The secret comes from this run, CRM_LEAD_SETUP_SERVICE_PASSWORD / CRM_LEAD_SETUP_SERVICE_SECRET, --secret-stdin, or a hidden question.",
    examples: [
      "CRM_LEAD_SETUP_SERVICE_SECRET=… crm-lead-setup connect-offer --org-url https://contoso.crm4.dynamics.com --identity app --offer contoso-lead-saas",
      "crm-lead-setup connect-offer --sandbox --identity app --offer contoso-lead-saas --dry-run",
    ],
  },
  {
    name: "teardown",
    summary: "remove what crm-lead-setup set up (the solution only with --include-solution)",
    description:
      "Removes the Lead Writer role from the service identity, then deletes the service user (user identity) or the app registration, its service principal and disables its Dynamics application user (app identity). With --include-solution it also deletes the Lead Writer solution and with it the role. Plans, asks to confirm, and does nothing twice.",
    examples: [
      "crm-lead-setup teardown --org-url https://contoso.crm4.dynamics.com --dry-run",
      "crm-lead-setup teardown --sandbox --identity app --include-solution --yes",
    ],
  },
  {
    name: "status",
    summary: "show every step as done, missing or drifted (changes nothing)",
    description: "Inspects the tenant for every step and reports it as done, missing or drifted. Read-only.",
    examples: [
      "crm-lead-setup status --org-url https://contoso.crm4.dynamics.com",
      "crm-lead-setup status --sandbox --json --detailed-exitcode",
    ],
  },
  {
    name: "login",
    summary: "sign in once and cache the tokens",
    description:
      "Signs in to Microsoft Graph and the Dynamics environment with one sign-in and caches the tokens in a file only you can read (0600).",
    examples: [
      "crm-lead-setup login --org-url https://contoso.crm4.dynamics.com",
      "crm-lead-setup login --org-url https://contoso.crm.dynamics.com --auth device-code",
    ],
  },
  {
    name: "logout",
    summary: "delete the cached tokens",
    description: "Deletes every token cache crm-lead-setup wrote.",
    examples: ["crm-lead-setup logout"],
  },
  {
    name: "sandbox",
    summary: "run the emulated tenant for step-by-step use",
    description:
      "Starts an emulated tenant (Entra ID, Microsoft Graph, Dataverse, Power Platform admin) on this machine over HTTPS with its own certificate authority, and keeps it running until Ctrl+C. Other commands use it with --sandbox.",
    examples: [
      "crm-lead-setup sandbox",
      `crm-lead-setup sandbox --scenario '{"userBusinessUnit":"child"}'`,
      `crm-lead-setup sandbox --faults '{"throttleFirstCall":{"retryAfterSeconds":1}}'`,
    ],
  },
];

function exitCodeHelp(): string {
  return `\nExit codes:\n${EXIT_CODE_HELP.map(([code, text]) => `  ${String(code).padStart(3)}  ${text}`).join("\n")}\n`;
}

/** Injected by the bundler (scripts/build.mjs) from package.json. */
declare const __CLI_VERSION__: string;

/** The command named on the command line (`x --help`, `help x`), if any. */
function invokedCommand(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((word) => !word.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

/** Runs one parsed command: `main.execute` with the process's streams and exit code, or a test's in-process runner. */
export type CommandRunner = (
  command: CommandName,
  parsed: Record<string, unknown>,
  sourceOf: (key: string) => string | undefined,
) => Promise<void>;

const runAsThisProcess: CommandRunner = async (command, parsed, sourceOf) => {
  const { execute } = await import("./main.js");
  process.exitCode = await execute(command, parsed, sourceOf);
};

export function buildProgram(argv: readonly string[] = process.argv, run: CommandRunner = runAsThisProcess): Command {
  // Only the invoked command needs its options declared: the root help lists commands alone, and
  // building the option objects of every command would cost start-up time for nothing.
  const invoked = invokedCommand(argv);
  const program = new Command("crm-lead-setup")
    .description("Sets up Microsoft commercial marketplace lead delivery into Dynamics 365, and prints what to paste into Partner Center.")
    .version(__CLI_VERSION__, "-V, --version")
    .showSuggestionAfterError(true)
    .addHelpText(
      "after",
      `\nEvery option can also be set as CRM_LEAD_SETUP_<OPTION> (e.g. CRM_LEAD_SETUP_ORG_URL); a flag wins.\n${exitCodeHelp()}`,
    );

  for (const spec of COMMANDS) {
    const command = program.command(spec.name).summary(spec.summary).description(spec.description);
    for (const option of spec.name === invoked ? specsFor(spec.name) : []) {
      const cliOption = new Option(option.flags, `${option.description} [env ${envNameOf(option)}]`);
      if (option.repeatable)
        cliOption.argParser((value: string, previous: string | undefined) => (previous === undefined ? value : `${previous},${value}`));
      else if (!isBooleanSpec(option)) cliOption.argParser((value: string) => value);
      command.addOption(cliOption);
    }
    command.addHelpText("after", `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join("\n")}\n${exitCodeHelp()}`);
    command.action(async (_options: Record<string, unknown>, self: Command) => {
      await run(spec.name, self.opts(), (key) => self.getOptionValueSource(key));
    });
  }
  return program;
}

/** Usage errors from commander (unknown option, missing argument) exit 2, like every other usage error. */
export async function main(argv: string[]): Promise<void> {
  // `crm-lead-setup --help | head` closes the pipe early: that is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const program = buildProgram(argv);
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      const isHelp = error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help";
      process.exitCode = isHelp ? ExitCode.Ok : ExitCode.Usage;
      // SPEC §3: with --json, stdout holds one document whatever happens, usage errors included.
      const json = argv.includes("--json") || parseBooleanEnvLenient(process.env.CRM_LEAD_SETUP_JSON);
      if (!isHelp && json) {
        const command = program.commands.find((c) => argv.includes(c.name()))?.name() ?? null;
        const message = error.message.replace(/^error: /, "");
        const document = {
          ok: false,
          command,
          dryRun: false,
          steps: [],
          partnerCenter: null,
          error: {
            code: `usage-${error.code.replace(/^commander\./, "")}`,
            message,
            hint: `Run crm-lead-setup ${command ?? ""} --help for the options.`.replace("  ", " "),
          },
        };
        process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
      }
      return;
    }
    throw error;
  }
}
