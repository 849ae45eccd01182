import { Command, CommanderError, Option } from "commander";
import { EXIT_CODE_HELP, ExitCode } from "./errors.js";
import { envNameOf, isBooleanSpec, specsFor, type CommandName } from "./options.js";

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
    name: "download-solution",
    summary: "download and check Microsoft's Lead Writer solution",
    description:
      "Downloads Microsoft's \"Microsoft Marketplace Lead Writer\" managed solution into the user cache (current URL first, then the two older ones), or checks the file given with --solution-file. Reads solution.xml and refuses anything that is not a managed Dynamics solution package. Prints the SHA-256.",
    examples: [
      "crm-lead-setup download-solution",
      "crm-lead-setup download-solution --solution-file ./MicrosoftMarketplacesLeadIntegrationSolution_1_0_0_0_target_CRM_6.1_managed.zip",
      "crm-lead-setup download-solution --sandbox --json",
    ],
  },
  {
    name: "login",
    summary: "sign in once and cache the tokens",
    description: "Signs in to Microsoft Graph and the Dynamics environment with one sign-in and caches the tokens in a file only you can read (0600).",
    examples: ["crm-lead-setup login --org-url https://contoso.crm4.dynamics.com", "crm-lead-setup login --org-url https://contoso.crm.dynamics.com --auth device-code"],
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
    examples: ["crm-lead-setup sandbox", `crm-lead-setup sandbox --scenario '{"userBusinessUnit":"child"}'`, `crm-lead-setup sandbox --faults '{"throttleFirstCall":{"retryAfterSeconds":1}}'`],
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

export function buildProgram(argv: readonly string[] = process.argv): Command {
  // Only the invoked command needs its options declared: the root help lists commands alone, and
  // building the option objects of every command would cost start-up time for nothing.
  const invoked = invokedCommand(argv);
  const program = new Command("crm-lead-setup")
    .description("Sets up Microsoft commercial marketplace lead delivery into Dynamics 365, and prints what to paste into Partner Center.")
    .version(__CLI_VERSION__, "-V, --version")
    .showSuggestionAfterError(true)
    .addHelpText("after", `\nEvery option can also be set as CRM_LEAD_SETUP_<OPTION> (e.g. CRM_LEAD_SETUP_ORG_URL); a flag wins.\n${exitCodeHelp()}`);

  for (const spec of COMMANDS) {
    const command = program.command(spec.name).summary(spec.summary).description(spec.description);
    for (const option of spec.name === invoked ? specsFor(spec.name) : []) {
      const cliOption = new Option(option.flags, `${option.description} [env ${envNameOf(option)}]`);
      if (!isBooleanSpec(option)) cliOption.argParser((value: string) => value);
      command.addOption(cliOption);
    }
    command.addHelpText("after", `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join("\n")}\n${exitCodeHelp()}`);
    command.action(async (_options: Record<string, unknown>, self: Command) => {
      const { execute } = await import("./main.js");
      process.exitCode = await execute(spec.name, self.opts(), (key) => self.getOptionValueSource(key));
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
      return;
    }
    throw error;
  }
}
