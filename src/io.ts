import { Chalk, type ChalkInstance } from "chalk";
import { Redactor } from "./redact.js";

/**
 * Streams, terminal detection, colour and progress in one place (the gh `iostreams` idea). No other module
 * reads `process.stdout.isTTY` or the colour variables. Human results go to stdout; progress, prompts and
 * --verbose traces go to stderr; with --json stdout holds only the final JSON document. Everything written
 * passes through the redactor.
 */

export interface Streams {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

export interface ColorInputs {
  env: NodeJS.ProcessEnv;
  /** false when --no-color was given. */
  colorFlag: boolean;
  json: boolean;
  isTTY: boolean;
}

/**
 * SPEC §3: --no-color, --json, a non-empty NO_COLOR and TERM=dumb turn colour off; FORCE_COLOR forces it on
 * (over NO_COLOR, TERM=dumb and a pipe, but not over an explicit --no-color or --json). chalk alone ignores
 * NO_COLOR, so the decision is made here once and handed to chalk as a level.
 */
export function decideColor({ env, colorFlag, json, isTTY }: ColorInputs): boolean {
  if (json || !colorFlag) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "") return !["0", "false"].includes(force.toLowerCase());
  if (env.NO_COLOR) return false;
  if (env.TERM === "dumb") return false;
  return isTTY;
}

export interface Activity {
  /** Replaces the label (e.g. "Importing… 42 %"). */
  update(label: string): void;
  /** Ends the activity; `line` is printed as its final state. */
  end(line?: string): void;
}

export interface ByteProgress {
  update(received: number, total: number | undefined): void;
  end(): void;
}

const SPINNER_FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const KEEPALIVE_MS = 30_000;

export class IO {
  readonly color: boolean;
  readonly style: ChalkInstance;
  readonly redactor = new Redactor();
  /** Live spinners, innermost last: only the innermost draws; ending it lets the one below resume. */
  private readonly spinners: { clear(): void; draw(): void }[] = [];

  constructor(
    readonly streams: Streams,
    readonly settings: { json: boolean; verbose: boolean; colorFlag: boolean; yes: boolean },
  ) {
    this.color = decideColor({ env: streams.env, colorFlag: settings.colorFlag, json: settings.json, isTTY: Boolean(streams.stderr.isTTY) });
    this.style = new Chalk({ level: this.color ? 1 : 0 });
  }

  get json(): boolean {
    return this.settings.json;
  }

  get stderrIsTTY(): boolean {
    return Boolean(this.streams.stderr.isTTY);
  }

  /** Questions may be asked only with a terminal on both ends and neither --yes nor --json (SPEC §3). */
  get canPrompt(): boolean {
    return Boolean(this.streams.stdin.isTTY && this.streams.stdout.isTTY) && !this.settings.yes && !this.settings.json;
  }

  /** Progress lines are shown in human mode, and in --json mode only on a terminal. */
  private get showsProgress(): boolean {
    return !this.settings.json || this.stderrIsTTY;
  }

  /** A human result line on stdout (nothing in --json mode). */
  out(text: string): void {
    if (this.settings.json) return;
    this.spinners.at(-1)?.clear();
    this.streams.stdout.write(`${this.redactor.redact(text)}\n`);
  }

  /** The one output allowed to show secrets generated in this run. */
  outWithSecrets(text: string, secrets: readonly string[]): void {
    this.streams.stdout.write(`${this.redactor.redact(text, secrets)}\n`);
  }

  /** A line on stderr regardless of mode: warnings, errors, the device-code instruction. */
  err(text: string): void {
    this.spinners.at(-1)?.clear();
    this.streams.stderr.write(`${this.redactor.redact(text)}\n`);
  }

  /** A progress line on stderr (human mode, or --json on a terminal). */
  info(text: string): void {
    if (this.showsProgress) this.err(text);
  }

  trace(line: string): void {
    if (this.settings.verbose) this.err(this.style.dim(line));
  }

  writeJson(document: unknown, secrets: readonly string[] = []): void {
    this.streams.stdout.write(`${this.redactor.redact(JSON.stringify(document, null, 2), secrets)}\n`);
  }

  /**
   * A spinner with elapsed time on a terminal; without one, a line when it starts and a keep-alive line at
   * least every 30 s, so CI logs show the tool is waiting, not stuck.
   */
  activity(label: string): Activity {
    const started = Date.now();
    const elapsed = () => formatDuration(Date.now() - started);
    let current = label;
    if (!this.showsProgress) return { update: (l) => void (current = l), end: () => undefined };
    if (!this.stderrIsTTY) {
      this.err(`… ${label}`);
      const timer = setInterval(() => this.err(`… ${current} (${elapsed()} elapsed)`), KEEPALIVE_MS);
      timer.unref();
      return {
        update: (l) => void (current = l),
        end: (line) => {
          clearInterval(timer);
          if (line) this.err(line);
        },
      };
    }
    let frame = 0;
    const spinner = {
      draw: () => {
        this.streams.stderr.write(`\r\x1b[2K${this.style.cyan(SPINNER_FRAMES[frame++ % SPINNER_FRAMES.length])} ${this.redactor.redact(current)} ${this.style.dim(elapsed())}`);
      },
      clear: () => this.streams.stderr.write("\r\x1b[2K"),
    };
    const timer = setInterval(() => {
      if (this.spinners.at(-1) === spinner) spinner.draw();
    }, 100);
    timer.unref();
    this.spinners.push(spinner);
    spinner.draw();
    return {
      update: (l) => void (current = l),
      end: (line) => {
        clearInterval(timer);
        spinner.clear();
        const index = this.spinners.indexOf(spinner);
        if (index >= 0) this.spinners.splice(index, 1);
        if (line) this.err(line);
        this.spinners.at(-1)?.draw();
      },
    };
  }

  /** A byte progress bar for downloads on a terminal (cli-progress); start and end lines otherwise. */
  async byteProgress(label: string): Promise<ByteProgress> {
    if (!this.showsProgress) return { update: () => undefined, end: () => undefined };
    if (!this.stderrIsTTY) {
      this.err(`… ${label}`);
      return { update: () => undefined, end: () => undefined };
    }
    const { SingleBar, Presets } = (await import("cli-progress")).default;
    const bar = new SingleBar(
      {
        stream: this.streams.stderr as NodeJS.WritableStream as never,
        format: `${label} [{bar}] {percentage}% {received}/{totalText}`,
        hideCursor: true,
        clearOnComplete: true,
        barsize: 24,
      },
      Presets.shades_classic,
    );
    let started = false;
    return {
      update: (received, total) => {
        const payload = { received: formatBytes(received), totalText: total ? formatBytes(total) : "?" };
        if (!started) {
          bar.start(total ?? Math.max(received, 1), received, payload);
          started = true;
        } else {
          if (total === undefined) bar.setTotal(Math.max(received, 1));
          bar.update(received, payload);
        }
      },
      end: () => {
        if (started) bar.stop();
      },
    };
  }
}

export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
