import { Command, CommanderError, Option } from "commander";
import { EXIT_CODE_HELP, ExitCode } from "./errors.js";
import { envNameOf, isBooleanSpec, parseBooleanEnvLenient, specsFor, type CommandName } from "./options.js";
import { COMMANDS } from "./commands/index.js";

/**
 * The commander program, built from the command declarations (src/commands/<name>.ts). Nothing heavy is
 * imported here; each action loads the command runner on demand, so `--help` and `--version` stay at
 * bare-Node start-up cost.
 */

/** The exit-code table, each meaning wrapped at words under its own column, as commander wraps the rest of the help. */
function exitCodeHelp(columns = process.stdout.columns || 80): string {
  const indent = " ".repeat(7);
  const width = Math.max(40, Math.min(columns, 100) - indent.length - 1);
  const wrap = (text: string) =>
    text
      .split(" ")
      .reduce<string[]>((rows, word) => {
        const last = rows.at(-1);
        if (last !== undefined && last.length + 1 + word.length <= width) rows[rows.length - 1] = `${last} ${word}`;
        else rows.push(word);
        return rows;
      }, [])
      .join(`\n${indent}`);
  return `\nExit codes:\n${EXIT_CODE_HELP.map(([code, text]) => `  ${String(code).padStart(3)}  ${wrap(text)}`).join("\n")}\n`;
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
    for (const option of spec.name === invoked ? specsFor(spec.options) : []) {
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
