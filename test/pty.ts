import { stripVTControlCharacters } from "node:util";
import type { IPty } from "@lydell/node-pty";
import xterm from "@xterm/headless";

/** Keys as a terminal sends them. */
export const KEYS = { up: "\x1b[A", down: "\x1b[B", space: " ", enter: "\r", ctrlC: "\x03" };

/** The CLI in a pseudo-terminal, as an admin would run it: the test reads the screen and types. */
export class Terminal {
  private output = "";
  private mark = 0;
  readonly exited: Promise<number>;

  constructor(readonly pty: IPty) {
    pty.onData((data) => (this.output += data));
    this.exited = new Promise((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
  }

  get screen(): string {
    return stripVTControlCharacters(this.output);
  }

  /** Waits until the text after the last match matches, then moves past it. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const started = Date.now();
    for (;;) {
      const rest = this.screen.slice(this.mark);
      const match = rest.match(pattern);
      if (match) {
        this.mark += (match.index ?? 0) + match[0].length;
        return match;
      }
      if (Date.now() - started > timeoutMs)
        throw new Error(`timed out waiting for ${pattern}; screen so far:\n${this.screen.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  type(keys: string): void {
    this.pty.write(keys);
  }

  /** What the terminal shows now, as a terminal emulator draws it: its non-empty lines. */
  async rendered(): Promise<string[]> {
    return (await this.rows()).map((row) => row.text).filter((line) => line.trim() !== "");
  }

  /** Every row of the emulated terminal, and whether the terminal wrapped into it (a line longer than the width). */
  async rows(): Promise<{ text: string; wrapped: boolean }[]> {
    const emulator = new xterm.Terminal({ cols: this.pty.cols, rows: this.pty.rows, allowProposedApi: true, scrollback: 1_000 });
    await new Promise<void>((resolve) => emulator.write(this.output, resolve));
    const rows: { text: string; wrapped: boolean }[] = [];
    for (let i = 0; i < emulator.buffer.active.length; i++) {
      const line = emulator.buffer.active.getLine(i)!;
      rows.push({ text: line.translateToString(true), wrapped: line.isWrapped });
    }
    emulator.dispose();
    return rows;
  }
}
