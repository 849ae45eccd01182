import { formatBytes, formatDuration } from "./format.js";
import { AsyncLocalStorage } from "node:async_hooks";
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

/** One line of the live region at the bottom of the terminal: a spinner or a byte bar. */
export interface LiveLine {
  /** The line's parts: `label` is shortened to fit the terminal's width; `prefix` and `suffix` are kept. */
  parts(frame: string): { prefix: string; label: string; suffix: string };
}

/**
 * The one line of a step that is applying. What the step's own code reports while it runs (an import's
 * progress, a wait for the sync, a download's bytes) is shown on this line, under the step's one timer,
 * instead of on a line of its own.
 */
export interface StepLine {
  /** What the step is doing now, when its code said so. */
  detail?: string;
  /** A byte bar or similar, drawn at the end of the line. */
  gauge?: () => string;
}

export class IO {
  readonly color: boolean;
  readonly style: ChalkInstance;
  readonly redactor = new Redactor();
  /**
   * On a terminal, everything in progress is drawn as a region of lines at the bottom (steps that run at
   * the same time each have one). Other output is written above it: the region is erased, the line
   * written, and the region drawn again.
   */
  private readonly live: LiveLine[] = [];
  private drawnLines = 0;
  private frame = 0;
  private ticker: NodeJS.Timeout | undefined;
  /** While a question is asked, the region is not drawn (the prompt owns the bottom of the terminal). */
  private asking = 0;
  /** The line of the step whose code is running (steps run at the same time, so it follows the async context). */
  private readonly currentStep = new AsyncLocalStorage<StepLine>();

  constructor(
    readonly streams: Streams,
    readonly settings: { json: boolean; verbose: boolean; colorFlag: boolean; yes: boolean },
  ) {
    this.color = decideColor({
      env: streams.env,
      colorFlag: settings.colorFlag,
      json: settings.json,
      isTTY: Boolean(streams.stderr.isTTY),
    });
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
    this.above(() => this.streams.stdout.write(`${this.redactor.redact(text)}\n`));
  }

  /** The one output allowed to show secrets generated in this run. */
  outWithSecrets(text: string, secrets: readonly string[]): void {
    this.above(() => this.streams.stdout.write(`${this.redactor.redact(text, secrets)}\n`));
  }

  /** A line on stderr regardless of mode: warnings, errors, the device-code instruction. */
  err(text: string): void {
    this.above(() => this.streams.stderr.write(`${this.redactor.redact(text)}\n`));
  }

  /** A progress line on stderr (human mode, or --json on a terminal). */
  info(text: string): void {
    if (this.showsProgress) this.err(text);
  }

  trace(line: string): void {
    if (this.settings.verbose) this.err(this.style.dim(line));
  }

  writeJson(document: unknown, secrets: readonly string[] = []): void {
    this.above(() => this.streams.stdout.write(`${this.redactor.redact(JSON.stringify(document, null, 2), secrets)}\n`));
  }

  /** Writes above the live region: erase it, write, draw it again. */
  private above(write: () => void): void {
    this.eraseLive();
    write();
    this.drawLive();
  }

  private eraseLive(): void {
    const erase = this.eraseSequence();
    if (erase) this.streams.stderr.write(erase);
  }

  private eraseSequence(): string {
    if (this.drawnLines === 0) return "";
    const erase = `\r\x1b[2K${"\x1b[1A\x1b[2K".repeat(this.drawnLines - 1)}`;
    this.drawnLines = 0;
    return erase;
  }

  /** Runs a question with the live region hidden, and draws it again afterwards. */
  async whileAsking<T>(ask: () => Promise<T>): Promise<T> {
    this.eraseLive();
    this.asking++;
    try {
      return await ask();
    } finally {
      this.asking--;
      this.drawLive();
    }
  }

  /** Draws the region; `erase` (the previous frame's erase sequence) goes in the same write, so no torn frame is ever seen. */
  private drawLive(erase = ""): void {
    if (this.live.length === 0 || this.asking > 0) {
      if (erase) this.streams.stderr.write(erase);
      return;
    }
    // A line that wrapped would break the erase: each is cut to the terminal's width.
    const width = Math.max(20, (this.streams.stderr.columns ?? 80) - 1);
    const frame = this.style.cyan(SPINNER_FRAMES[this.frame % SPINNER_FRAMES.length]!);
    const lines = this.live.map((line) => {
      const { prefix, label, suffix } = line.parts(frame);
      const room = width - visibleLength(prefix) - visibleLength(suffix) - 2;
      const text = this.redactor.redact(label);
      const shown = text.length > room ? `${text.slice(0, Math.max(0, room - 1))}…` : text;
      return suffix ? `${prefix} ${shown} ${suffix}` : `${prefix} ${shown}`;
    });
    this.streams.stderr.write(erase + lines.join("\n"));
    this.drawnLines = lines.length;
  }

  private addLive(line: LiveLine): () => void {
    this.live.push(line);
    if (!this.ticker) {
      this.ticker = setInterval(() => {
        this.frame++;
        this.redrawLive();
      }, 100);
      this.ticker.unref();
    }
    this.eraseLive();
    this.drawLive();
    return () => {
      const index = this.live.indexOf(line);
      if (index < 0) return;
      this.eraseLive();
      this.live.splice(index, 1);
      if (this.live.length === 0) {
        clearInterval(this.ticker);
        this.ticker = undefined;
      }
      this.drawLive();
    };
  }

  /**
   * A line of the live region drawn by its owner (on a terminal; elsewhere nothing is shown), until the
   * returned function removes it.
   */
  liveLine(line: LiveLine): () => void {
    if (!this.showsProgress || !this.stderrIsTTY) return () => undefined;
    return this.addLive(line);
  }

  /** Draws the live region again now, after what its lines show has changed. */
  redrawLive(): void {
    if (this.drawnLines === 0 && this.live.length === 0) return;
    this.drawLive(this.eraseSequence());
  }

  /** Runs a step's code with `line` as its line: activities it starts are shown there (on a terminal). */
  withinStep<T>(line: StepLine, work: () => Promise<T>): Promise<T> {
    return this.showsProgress && this.stderrIsTTY ? this.currentStep.run(line, work) : work();
  }

  /** Width of the terminal stdout writes to, or undefined when it is not a terminal (then lines are not wrapped). */
  get outputColumns(): number | undefined {
    return this.streams.stdout.isTTY && this.streams.stdout.columns ? this.streams.stdout.columns : undefined;
  }

  /** Width of the terminal stderr writes to (errors and hints), or undefined when it is not a terminal. */
  get errorColumns(): number | undefined {
    return this.streams.stderr.isTTY && this.streams.stderr.columns ? this.streams.stderr.columns : undefined;
  }

  /**
   * A finished line kept in the live region (a step that ended before the steps listed above it) until
   * the returned function removes it. Without a terminal nothing is shown: the line is printed later.
   */
  holdLine(mark: string, text: string): () => void {
    if (!this.showsProgress || !this.stderrIsTTY) return () => undefined;
    return this.addLive({ parts: () => ({ prefix: mark, label: text, suffix: "" }) });
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
    const step = this.currentStep.getStore();
    if (step) {
      const show = (detail: string | undefined) => {
        step.detail = detail;
        this.redrawLive();
      };
      show(label);
      return {
        update: show,
        end: (line) => {
          show(undefined);
          if (line) this.err(line);
        },
      };
    }
    const remove = this.addLive({ parts: (frame) => ({ prefix: frame, label: current, suffix: this.style.dim(elapsed()) }) });
    return {
      update: (l) => void (current = l),
      end: (line) => {
        remove();
        if (line) this.err(line);
      },
    };
  }

  /** A byte progress bar for downloads: a line of the live region on a terminal (drawn by cli-progress's bar formatter), start and end lines otherwise. */
  async byteProgress(label: string): Promise<ByteProgress> {
    if (!this.showsProgress) return { update: () => undefined, end: () => undefined };
    if (!this.stderrIsTTY) {
      this.err(`… ${label}`);
      return { update: () => undefined, end: () => undefined };
    }
    const { Format, Presets } = (await import("cli-progress")).default;
    const barsize = 24;
    const barOptions = {
      barsize,
      barGlue: "",
      barCompleteString: Presets.shades_classic.barCompleteChar!.repeat(barsize + 1),
      barIncompleteString: Presets.shades_classic.barIncompleteChar!.repeat(barsize + 1),
    };
    let received = 0;
    let total: number | undefined;
    const gauge = () => {
      const fraction = total ? Math.min(1, received / total) : 0;
      const bar = total ? `[${Format.BarFormat(fraction, barOptions as never)}] ${Math.floor(fraction * 100)}%` : "";
      return `${bar} ${formatBytes(received)}/${total ? formatBytes(total) : "?"}`.trim();
    };
    const update = (bytes: number, size: number | undefined) => {
      received = bytes;
      total = size;
    };
    const step = this.currentStep.getStore();
    if (step) {
      Object.assign(step, { detail: label, gauge });
      this.redrawLive();
      return {
        update,
        end: () => {
          Object.assign(step, { detail: undefined, gauge: undefined });
          this.redrawLive();
        },
      };
    }
    const remove = this.addLive({ parts: (frame) => ({ prefix: frame, label, suffix: gauge() }) });
    return { update, end: remove };
  }
}

/** Length of a string as shown, without colour codes. */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "").length;
}

export { formatBytes, formatDuration };
