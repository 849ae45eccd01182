import type { Clock } from "./clock.js";
import type { TenantLink } from "./context.js";
import type { IO } from "./io.js";
import type { CliOptions, CommandName, OptionKey } from "./options.js";
import type { AppPaths } from "./paths.js";
import type { Prompter } from "./prompter.js";
import type { CommandOutcome } from "./render.js";

/**
 * What a command is: one declaration in src/commands/<name>.ts, read by the CLI shell. `cli.ts` builds its
 * help and options from it, `main.ts` runs it. A command file is loaded for `--help`, so it imports heavy
 * modules (steps, services, MSAL, prompts) only inside `run`, with `import()`.
 */
export interface CommandSpec {
  name: CommandName;
  summary: string;
  description: string;
  examples: readonly string[];
  /** The options it reads (keys into OPTION_SPECS): its --help lists these, and no other option is accepted. */
  options: readonly OptionKey[];
  /** It only ever inspects: --detailed-exitcode speaks for it as for a dry run (status). */
  inspectsOnly?: boolean;
  /** Questions that need no tenant, answered before anything connects: their answers are the options it runs with. */
  prepare?(options: CliOptions, deps: PrepareDeps): Promise<CliOptions>;
  /** Takes from the factory what it needs (as gh's NewCmd… fills its XOptions), and runs. */
  run(factory: CommandFactory): Promise<CommandResult>;
}

/** What a command's `prepare` may use: no tenant, no connection. */
export interface PrepareDeps {
  io: IO;
  prompter: () => Promise<Prompter>;
}

export type CommandResult = CommandOutcome & { changesPending?: boolean };

/**
 * Where a command takes its dependencies from (gh's cmdutil.Factory): each is made on first use, once per
 * run. A command hands on only the pieces it uses; steps never see any of it.
 */
export interface CommandFactory {
  readonly name: CommandName;
  /** Final: flags over environment, with the answers of the command's `prepare`. */
  readonly options: CliOptions;
  readonly io: IO;
  readonly paths: AppPaths;
  /** Aborted by Ctrl+C. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** The tenant (or sandbox) connection: validated, connected once, closed when the command ends. */
  link(): Promise<TenantLink>;
  /** The prompt library's questions, loaded once on first use. */
  prompter(): Promise<Prompter>;
}
