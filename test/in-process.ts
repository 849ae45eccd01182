import { Readable, Writable } from "node:stream";
import { CommanderError } from "commander";
import { buildProgram } from "../src/cli.js";
import { execute, type Runtime } from "../src/main.js";
import { ExitCode } from "../src/errors.js";
import { VirtualClock } from "./virtual-clock.js";
import { SharedClock } from "./shared-clock.js";
import { freshTenants, type CliRun } from "./helpers.js";
import type { SandboxOptions } from "../src/sandbox/server.js";
import type { Clock } from "../src/clock.js";

/**
 * The real CLI (commander program → `main.execute` → context → steps → render) run inside the test
 * process: injected streams (captured, no terminal), the test's environment (its own HOME), a virtual
 * clock shared with an in-process sandbox, and Ctrl+C delivered by the test. Nothing process-wide is
 * touched: no SIGINT handler, no `process.exitCode`, no `process.env`. What needs a real process (signals,
 * a kill mid-run, a pseudo-terminal, cold start) stays in test/e2e.
 */

export interface InProcessRun extends CliRun {
  /** The --json document on stdout, when there is one. */
  json: unknown;
}

export interface InProcessOptions {
  /** A VirtualClock shared with an in-process sandbox; the system clock beside a sandbox that runs in real time. */
  clock: Clock;
  input?: string;
  /** Called once the run has started: `interrupt()` is a Ctrl+C. */
  onStart?: (controls: { interrupt(): void }) => void;
}

class Capture extends Writable {
  text = "";
  readonly isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export async function runInProcess(args: string[], env: NodeJS.ProcessEnv, options: InProcessOptions): Promise<InProcessRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = Readable.from([options.input ?? ""]) as Readable & { isTTY?: boolean };
  const interruptHandlers = new Set<() => void>();
  const runtime: Runtime = {
    clock: options.clock,
    onInterrupt: (handler) => {
      interruptHandlers.add(handler);
      return () => interruptHandlers.delete(handler);
    },
  };
  let code: number | null = null;
  const argv = ["node", "crm-lead-setup", ...args];
  const program = buildProgram(argv, async (command, parsed, sourceOf) => {
    options.onStart?.({ interrupt: () => interruptHandlers.forEach((handler) => handler()) });
    code = await execute(command, parsed, sourceOf, { stdin, stdout, stderr, env }, runtime);
  });
  program.exitOverride().configureOutput({ writeOut: (text) => stdout.write(text), writeErr: (text) => stderr.write(text) });
  for (const command of program.commands)
    command.exitOverride().configureOutput({ writeOut: (t) => stdout.write(t), writeErr: (t) => stderr.write(t) });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    code = error.code === "commander.helpDisplayed" || error.code === "commander.version" ? ExitCode.Ok : ExitCode.Usage;
  }
  return { code, signal: null, stdout: stdout.text, stderr: stderr.text, json: parseJson(stdout.text) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Runs the same command until it succeeds (re-running converges), at most `times`; returns every run. */
export async function runInProcessUntilSuccess(
  args: string[],
  env: NodeJS.ProcessEnv,
  times: number,
  options: InProcessOptions,
): Promise<InProcessRun[]> {
  const runs: InProcessRun[] = [];
  while (runs.length < times) {
    const run = await runInProcess(args, env, options);
    runs.push(run);
    if (run.code === 0) break;
  }
  return runs;
}

/**
 * For a test file whose tests each want a fresh HOME and a sandbox tenant of their own on one virtual
 * clock: `run` runs the CLI in-process on that clock. Call once at the top level.
 */
export function freshVirtualTenants() {
  const fresh = freshTenants();
  return async (sandboxOptions: Omit<SandboxOptions, "clock"> = {}) => {
    const clock = new VirtualClock();
    const tenant = await fresh({ ...sandboxOptions, clock });
    return {
      ...tenant,
      clock,
      run: (args: string[], more: Omit<InProcessOptions, "clock"> = {}) => runInProcess(args, tenant.env, { clock, ...more }),
      /** The same, with test/helpers.ts runCli's signature: another environment (e.g. a secret in it) and stdin. */
      cli: (args: string[], env: NodeJS.ProcessEnv = tenant.env, more: { input?: string } = {}) =>
        runInProcess(args, env, { clock, ...more }),
      runUntilSuccess: (args: string[], times: number) => runInProcessUntilSuccess(args, tenant.env, times, { clock }),
    };
  };
}

/**
 * For a test file whose tests spawn the CLI where a real process matters (a SIGKILL, the output a secrets
 * scan reads) and run the rest (set-up, the re-run after a kill) in-process: each test a fresh HOME and a
 * sandbox tenant on a SharedClock, so the in-process runs' waits cost no real time while the spawned
 * process's waits pass in real time. Call once at the top level.
 */
export function freshSharedTenants() {
  const fresh = freshTenants();
  return async (sandboxOptions: Omit<SandboxOptions, "clock"> = {}) => {
    const clock = new SharedClock();
    const tenant = await fresh({ ...sandboxOptions, clock });
    return {
      ...tenant,
      clock,
      run: (args: string[], more: Omit<InProcessOptions, "clock"> = {}) => runInProcess(args, tenant.env, { clock, ...more }),
    };
  };
}
