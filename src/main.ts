import { setMaxListeners } from "node:events";
import { CliError, ExitCode, InterruptedError, toCliError, UsageError } from "./errors.js";
import { IO, type Streams } from "./io.js";
import { envNameOf, OPTION_SPECS, parseBooleanEnvLenient, resolveOptions, type CliOptions, type CommandName } from "./options.js";
import { connectTenant, type TenantLink } from "./context.js";
import { COMMANDS } from "./commands/index.js";
import type { CommandFactory, CommandSpec } from "./command.js";
import { appPaths } from "./paths.js";
import { inquirerPrompter, type Prompter } from "./prompter.js";
import { renderError, renderHuman, renderJson, type CommandOutcome } from "./render.js";
import { recordShown } from "./ledger.js";
import { systemClock, type Clock } from "./clock.js";

/**
 * Runs one command: resolves options (flags over environment), hands the command its factory, runs it,
 * renders its outcome for people or as JSON, and turns the outcome into the exit code. Ctrl+C aborts the
 * run's signal; what was done is reported and the exit code is 130.
 */

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

const once = <T>(make: () => Promise<T>): (() => Promise<T>) => {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
};

function commandFactory(
  spec: CommandSpec,
  options: CliOptions,
  io: IO,
  signal: AbortSignal,
  clock: Clock,
  prompter: () => Promise<Prompter>,
  link: () => Promise<TenantLink>,
): CommandFactory {
  return { name: spec.name, options, io, paths: appPaths(io.streams.env), signal, clock, link, prompter };
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

  const spec = COMMANDS.find((declared) => declared.name === command)!;
  let options: CliOptions;
  try {
    options = resolveOptions(spec.options, parsed, sourceOf, streams.env);
  } catch (error) {
    return fail(toCliError(error));
  }

  const controller = new AbortController();
  // Every request in flight and every wait listens to the run's signal, so that Ctrl+C ends them at once: more
  // than Node's default of ten at a time is normal here, not a leak (each listener goes when its request ends).
  setMaxListeners(0, controller.signal);
  const onSignal = () => controller.abort(new InterruptedError("Interrupted (Ctrl+C)."));
  const stopListening = runtime.onInterrupt(onSignal);
  const prompter = once(() => inquirerPrompter(io, controller.signal));
  let link: Promise<TenantLink> | undefined;
  try {
    if (spec.prepare) options = await spec.prepare(options, { io, prompter });
    const factory = commandFactory(
      spec,
      options,
      io,
      controller.signal,
      runtime.clock,
      prompter,
      () => (link ??= connectTenant(command, options, io, controller.signal, runtime.clock)),
    );
    const outcome = await spec.run(factory);
    if (io.json) {
      if (!outcome.jsonWritten) writeJson(io, outcome);
    } else {
      renderHuman(io, outcome);
      if (outcome.error) renderError(io, outcome.error);
    }
    // Recorded only once the summary that shows the secret has been written.
    if (outcome.secretShown) await recordShown(factory.paths, outcome.secretShown);
    if (outcome.error) return outcome.error.exitCode;
    // --detailed-exitcode speaks for a dry run, and for status, which only ever inspects.
    if (options.detailedExitcode && (options.dryRun || spec.inspectsOnly) && outcome.changesPending) return ExitCode.ChangesPending;
    return ExitCode.Ok;
  } catch (error) {
    const failure = controller.signal.aborted ? toCliError(controller.signal.reason) : toCliError(error);
    if (!(failure instanceof UsageError) && options.verbose && error instanceof Error && error.stack) io.trace(error.stack);
    return fail(failure, options.dryRun);
  } finally {
    stopListening();
    await link?.then((connected) => connected.close()).catch(() => undefined);
  }
}
