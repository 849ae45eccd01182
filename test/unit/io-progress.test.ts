import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import xterm from "@xterm/headless";
import { IO, formatDuration } from "../../src/io.js";
import { liveSteps } from "../../src/render.js";

const { Terminal } = xterm;

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

/** What a terminal of this width shows after receiving `text`: its non-empty lines (call with real timers). */
async function screen(text: string, cols: number): Promise<string[]> {
  // convertEol: a terminal's line discipline turns "\n" into "\r\n"; a pseudo-terminal does it for real.
  const terminal = new Terminal({ cols, rows: 30, allowProposedApi: true, convertEol: true });
  await new Promise<void>((resolve) => terminal.write(text, resolve));
  const lines: string[] = [];
  for (let i = 0; i < terminal.buffer.active.length; i++) lines.push(terminal.buffer.active.getLine(i)!.translateToString(true));
  terminal.dispose();
  return lines.filter((line) => line.trim() !== "");
}

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
  it("draws every running activity on its own line, writes other lines above them, and cuts lines to the width", async () => {
    vi.useFakeTimers();
    const s = streams(true);
    (s.stderr as unknown as { columns: number }).columns = 60;
    const io = new IO(s, { json: false, verbose: false, colorFlag: false, yes: true });
    const importing = io.activity("import-solution: importing the Lead Writer solution");
    const user = io.activity("create-user: creating the licensed service user, a label far too long for a 60-column terminal");
    vi.advanceTimersByTime(1_250);
    io.out("✔ download-solution (done)");
    const during = s.stderr.text();
    user.end();
    io.out("✔ create-user (done)");
    vi.advanceTimersByTime(250);
    const after = s.stderr.text();
    importing.end();
    vi.useRealTimers();
    // stdout and stderr are one terminal in use: the result lines are checked on stdout, the region on stderr.
    expect(s.stdout.text()).toBe("✔ download-solution (done)\n✔ create-user (done)\n");
    const duringScreen = await screen(during, 60);
    expect(duringScreen).toHaveLength(2);
    expect(duringScreen[0]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] import-solution: importing the Lead Writer solution 1s$/);
    expect(duringScreen[1]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] create-user: creating the licensed service user, a la… 1s$/);
    expect(duringScreen[1]!.length).toBe(59); // one column short of the width: the line never wraps
    expect(await screen(after, 60)).toEqual([expect.stringMatching(/ import-solution: importing the Lead Writer solution 1s$/)]);
    expect(await screen(s.stderr.text(), 60)).toEqual([]);
  });

  it("hides the region while a question is asked, and draws it again after", async () => {
    vi.useFakeTimers();
    const s = streams(true);
    const io = new IO(s, { json: false, verbose: false, colorFlag: false, yes: true });
    const activity = io.activity("patch-role: widening the role");
    let asked = "";
    let redrawnDuring = true;
    const answer = await io.whileAsking(async () => {
      asked = s.stderr.text();
      vi.advanceTimersByTime(500);
      redrawnDuring = s.stderr.text() !== asked;
      return "yes";
    });
    const afterwards = s.stderr.text();
    activity.end();
    vi.useRealTimers();
    expect(answer).toBe("yes");
    expect(redrawnDuring).toBe(false);
    expect(await screen(asked, 80)).toEqual([]);
    expect(await screen(afterwards, 80)).toEqual([expect.stringContaining("patch-role: widening the role")]);
  });

  it("draws the download's byte bar as a line of the region", async () => {
    const s = streams(true);
    const io = new IO(s, { json: false, verbose: false, colorFlag: false, yes: true });
    const bar = await io.byteProgress("Downloading lead-writer.zip");
    bar.update(512, 2048);
    const spinner = io.activity("create-user: creating the user");
    const lines = await screen(s.stderr.text(), 100);
    bar.end();
    spinner.end();
    expect(lines[0]).toMatch(/Downloading lead-writer\.zip \[█{6}░{18}\] 25% 512 B\/2\.0 KB$/);
    expect(lines[1]).toContain("create-user: creating the user");
    expect(await screen(s.stderr.text(), 100)).toEqual([]);
  });

  it("lists step results in plan order: a step that ends early waits in the region, with its result", async () => {
    const s = streams(true);
    const io = new IO(s, { json: false, verbose: false, colorFlag: false, yes: true });
    const live = liveSteps(io, ["import-solution", "create-user"]);
    live.onStep({ id: "import-solution", title: "Import the Lead Writer solution" }, "apply");
    live.onStep({ id: "create-user", title: "Create the licensed service user" }, "apply");
    live.onResult({ id: "create-user", status: "done", summary: "Created mp-leadwriter@contoso.com", changes: [] });
    const whileImporting = s.stderr.text();
    expect(s.stdout.text()).toBe("");
    live.onResult({ id: "import-solution", status: "done", summary: "Imported the solution", changes: [] });
    expect(s.stdout.text()).toBe("✔ import-solution (done) Imported the solution\n✔ create-user (done) Created mp-leadwriter@contoso.com\n");
    expect(await screen(whileImporting, 100)).toEqual([expect.stringMatching(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] import-solution: import the Lead Writer solution… 0s$/), "✔ create-user (done) Created mp-leadwriter@contoso.com"]);
    expect(await screen(s.stderr.text(), 100)).toEqual([]);
  });

  it("formats elapsed time as seconds, then minutes", () => {
    expect([formatDuration(4_200), formatDuration(65_000), formatDuration(600_000)]).toEqual(["4s", "1m05s", "10m00s"]);
  });
});
