import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { IO, formatDuration } from "../../src/io.js";

function streams(tty: boolean) {
  const capture = (isTTY: boolean) => {
    const stream = new PassThrough() as PassThrough & { isTTY?: boolean; text: () => string };
    let text = "";
    stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
    stream.isTTY = isTTY;
    stream.text = () => text;
    return stream;
  };
  const stdout = capture(tty);
  const stderr = capture(tty);
  return { stdin: new PassThrough() as NodeJS.ReadableStream & { isTTY?: boolean }, stdout, stderr, env: {} };
}

afterEach(() => {
  vi.useRealTimers();
});

const flush = () => new Promise((r) => setImmediate(r));

describe("progress without a terminal", () => {
  it("prints one line when a wait starts and a keep-alive line every 30 s", async () => {
    vi.useFakeTimers();
    const s = streams(false);
    const io = new IO(s, { json: false, verbose: false, colorFlag: true, yes: true });
    const activity = io.activity("Waiting for the sync");
    activity.update("Waiting for the sync (still)");
    vi.advanceTimersByTime(61_000);
    activity.end("✔ synced");
    vi.useRealTimers();
    await flush();
    const lines = s.stderr.text().trim().split("\n");
    expect(lines).toEqual(["… Waiting for the sync", "… Waiting for the sync (still) (30s elapsed)", "… Waiting for the sync (still) (1m00s elapsed)", "✔ synced"]);
    expect(s.stderr.text()).not.toContain("\x1b[");
  });

  it("shows nothing in --json mode without a terminal, so stdout stays one document", async () => {
    const s = streams(false);
    const io = new IO(s, { json: true, verbose: false, colorFlag: true, yes: true });
    io.activity("Importing").end("done");
    io.out("human line");
    io.info("progress line");
    await flush();
    expect(s.stdout.text()).toBe("");
    expect(s.stderr.text()).toBe("");
  });
});

describe("progress on a terminal", () => {
  it("stacks spinners: the inner one draws, and the outer one resumes when it ends", async () => {
    vi.useFakeTimers();
    const s = streams(true);
    const io = new IO(s, { json: false, verbose: false, colorFlag: false, yes: true });
    const outer = io.activity("import-solution: importing");
    const inner = io.activity("Importing 42%");
    vi.advanceTimersByTime(350);
    const during = s.stderr.text();
    inner.end();
    vi.advanceTimersByTime(250);
    outer.end();
    vi.useRealTimers();
    await flush();
    const text = s.stderr.text();
    expect(during.lastIndexOf("Importing 42%")).toBeGreaterThan(during.lastIndexOf("import-solution: importing"));
    expect(text.slice(during.length)).toContain("import-solution: importing");
    expect(text).toMatch(/\r\x1b\[2K$/); // the line is cleared at the end
  });

  it("formats elapsed time as seconds, then minutes", () => {
    expect([formatDuration(4_200), formatDuration(65_000), formatDuration(600_000)]).toEqual(["4s", "1m05s", "10m00s"]);
  });
});
