import { CliError, ExitCode, InterruptedError, toCliError, UsageError } from "./errors.js";
import { IO, type Streams } from "./io.js";
import { envNameOf, OPTION_SPECS, parseBooleanEnvLenient, resolveOptions, type CliOptions, type CommandName } from "./options.js";
import { createContext, type CommandContext } from "./context.js";
import { renderError, renderHuman, renderJson, type CommandOutcome } from "./render.js";
import { recordShown } from "./ledger.js";
import { systemClock, type Clock } from "./clock.js";

/**
 * Runs one command: resolves options (flags over environment), builds the context, runs the command,
 * renders its outcome for people or as JSON, and turns the outcome into the exit code. Ctrl+C aborts the
 * run's signal; what was done is reported and the exit code is 130.
 */

export interface CommandModule {
  /** Questions that need no tenant, answered before the context is built (init's identity and org URL). */
  prepare?(options: CliOptions, io: IO, signal: AbortSignal): Promise<CliOptions>;
  run(context: CommandContext): Promise<CommandOutcome & { changesPending?: boolean }>;
  /** The command only ever inspects: --detailed-exitcode speaks for it as for a dry run (status). */
  inspectsOnly?: boolean;
}

const COMMAND_MODULES: Record<CommandName, () => Promise<CommandModule>> = {
  init: () => import("./commands/init.js"),
  "download-solution": () => import("./commands/download-solution.js"),
  "import-solution": () => import("./commands/import-solution.js"),
  "create-user": () => import("./commands/create-user.js"),
  "create-app": () => import("./commands/create-app.js"),
  "assign-role": () => import("./commands/assign-role.js"),
  "patch-role": () => import("./commands/patch-role.js"),
  "reset-password": () => import("./commands/reset-password.js"),
  status: () => import("./commands/status.js"),
  verify: () => import("./commands/verify.js"),
  teardown: () => import("./commands/teardown.js"),
  "connect-offer": () => import("./commands/connect-offer.js"),
  login: () => import("./commands/login.js"),
  logout: () => import("./commands/logout.js"),
  sandbox: () => import("./commands/sandbox.js"),
};

/** What a run takes from the process, injected so that a test can run the CLI inside its own process. */
export interface Runtime {
  clock: Clock;
  /** Calls `onInterrupt` on each Ctrl+C until the returned function is called. */
  onInterrupt(onInterrupt: () => void): () => void;
}

const processRuntime: Runtime = {
  clock: systemClock,
  onInterrupt: (handler) => {
    // A second Ctrl+C while the first is being honoured ends the process at once.
    let presses = 0;
    const listener = () => (++presses > 1 ? process.exit(ExitCode.Interrupted) : handler());
    process.on("SIGINT", listener);
    return () => process.off("SIGINT", listener);
  },
};

function flagOrEnv(parsed: Record<string, unknown>, key: "json" | "verbose" | "yes", env: NodeJS.ProcessEnv): boolean {
  if (parsed[key] === true) return true;
  const spec = OPTION_SPECS.find((s) => s.key === key)!;
  return parseBooleanEnvLenient(env[envNameOf(spec)]);
}

/**
 * The --json document; when stderr is a terminal, a failure is also one line there, so that a person who
 * sent stdout to a file (`--json > out.json`) sees what went wrong.
 */
function writeJson(io: IO, outcome: CommandOutcome): void {
  renderJson(io, outcome);
  if (outcome.error && io.stderrIsTTY) io.err(`Error (${outcome.error.code}): ${outcome.error.message}`.replace(/\s*\n\s*/g, " "));
}

export async function execute(
  command: CommandName,
  parsed: Record<string, unknown>,
  sourceOf: (key: string) => string | undefined,
  streams: Streams = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env },
  runtime: Runtime = processRuntime,
): Promise<number> {
  // Output mode is needed to report even an invalid option, so read it leniently first.
  const io = new IO(streams, {
    json: flagOrEnv(parsed, "json", streams.env),
    verbose: flagOrEnv(parsed, "verbose", streams.env),
    yes: flagOrEnv(parsed, "yes", streams.env),
    colorFlag: parsed.color !== false,
  });
  const fail = (error: CliError, dryRun = false): number => {
    if (io.json) writeJson(io, { command, dryRun, results: [], partnerCenter: null, error, newSecrets: [] });
    else renderError(io, error);
    return error.exitCode;
  };

  let options: CliOptions;
  try {
    options = resolveOptions(command, parsed, sourceOf, streams.env);
  } catch (error) {
    return fail(toCliError(error));
  }

  const controller = new AbortController();
  const onSignal = () => controller.abort(new InterruptedError("Interrupted (Ctrl+C)."));
  const stopListening = runtime.onInterrupt(onSignal);
  let context: CommandContext | undefined;
  try {
    const module = await COMMAND_MODULES[command]();
    if (module.prepare) options = await module.prepare(options, io, controller.signal);
    context = await createContext(command, options, io, controller.signal, runtime.clock);
    const outcome = await module.run(context);
    if (io.json) {
      if (!outcome.jsonWritten) writeJson(io, outcome);
    } else {
      renderHuman(io, outcome);
      if (outcome.error) renderError(io, outcome.error);
    }
    // Recorded only once the summary that shows the secret has been written.
    if (outcome.secretShown) await recordShown(context.paths, outcome.secretShown);
    if (outcome.error) return outcome.error.exitCode;
    // --detailed-exitcode speaks for a dry run, and for status, which only ever inspects.
    if (options.detailedExitcode && (options.dryRun || module.inspectsOnly) && outcome.changesPending) return ExitCode.ChangesPending;
    return ExitCode.Ok;
  } catch (error) {
    const failure = controller.signal.aborted ? toCliError(controller.signal.reason) : toCliError(error);
    if (!(failure instanceof UsageError) && options.verbose && error instanceof Error && error.stack) io.trace(error.stack);
    return fail(failure, options.dryRun);
  } finally {
    stopListening();
    await context?.close();
  }
}
