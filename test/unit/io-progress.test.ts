import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import xterm from "@xterm/headless";
import { IO, formatDuration } from "../../src/io.js";
import { liveSteps, renderError, renderPlan, wrapWords } from "../../src/render.js";
import { UsageError } from "../../src/errors.js";

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
    expect(lines).toEqual([
      "… Waiting for the sync",
      "… Waiting for the sync (still) (30s elapsed)",
      "… Waiting for the sync (still) (1m00s elapsed)",
      "✔ synced",
    ]);
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

  it("lists step results in plan order: a step that ends early keeps its line, with its result", async () => {
    const s = streams(true);
    const io = new IO(s, { json: false, verbose: false, colorFlag: false, yes: true });
    const live = liveSteps(io, [
      { id: "import-solution", title: "Import the Lead Writer solution" },
      { id: "create-user", title: "Create the licensed service user", after: [] },
    ]);
    live.onStep({ id: "import-solution", title: "Import the Lead Writer solution" }, "apply");
    live.onStep({ id: "create-user", title: "Create the licensed service user" }, "apply");
    live.onResult({ id: "create-user", status: "done", summary: "Created mp-leadwriter@contoso.com", changes: [] });
    const whileImporting = s.stderr.text();
    expect(s.stdout.text()).toBe("");
    live.onResult({ id: "import-solution", status: "done", summary: "Imported the solution", changes: [] });
    expect(s.stdout.text()).toBe(
      "✔ import-solution (done) Imported the solution\n✔ create-user (done) Created mp-leadwriter@contoso.com\n",
    );
    expect(await screen(whileImporting, 100)).toEqual([
      expect.stringMatching(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] import-solution: import the Lead Writer solution… 0s$/),
      "✔ create-user (done) Created mp-leadwriter@contoso.com",
    ]);
    expect(await screen(s.stderr.text(), 100)).toEqual([]);
  });

  const STEPS = [
    { id: "download-solution", title: "Download the Lead Writer solution", after: [] },
    { id: "import-solution", title: "Import the Lead Writer solution", after: ["download-solution"] },
    { id: "create-user", title: "Create the licensed service user", after: [] },
    { id: "assign-role", title: "Assign the Lead Writer role", after: ["import-solution", "create-user", "create-app"] }, // create-app is not in this run
  ];

  it("shows the steps that wait, and what they wait for (issue 11 §11)", async () => {
    const s = streams(true);
    const io = new IO(s, { json: false, verbose: false, colorFlag: false, yes: true });
    const live = liveSteps(io, STEPS);
    live.onStep(STEPS[0]!, "apply");
    live.onStep(STEPS[2]!, "apply");
    live.onResult({ id: "download-solution", status: "done", summary: "Downloaded", changes: [] });
    const lines = await screen(s.stderr.text(), 100);
    live.onResult({ id: "create-user", status: "done", summary: "Created", changes: [] });
    live.onResult({ id: "import-solution", status: "failed", summary: "Failed", changes: [] });
    live.onResult({ id: "assign-role", status: "skipped", summary: "Not run", changes: [] });
    expect(lines).toEqual([
      "◦ import-solution: waiting",
      expect.stringMatching(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] create-user: create the licensed service user… 0s$/),
      "◦ assign-role: waiting for import-solution, create-user",
    ]);
    expect(await screen(s.stderr.text(), 100)).toEqual([]);
  });

  it("gives a running step one line and one timer, showing what its own code reports (issue 11 §11)", async () => {
    vi.useFakeTimers();
    const s = streams(true);
    (s.stderr as unknown as { columns: number }).columns = 120;
    const io = new IO(s, { json: false, verbose: false, colorFlag: false, yes: true });
    const live = liveSteps(io, STEPS);
    live.onStep(STEPS[2]!, "apply");
    vi.advanceTimersByTime(3_000);
    let during = "";
    await live.within(STEPS[2]!, async () => {
      const wait = io.activity("Waiting for mp-leadwriter@contoso.com to sync from Entra ID to Dynamics…");
      vi.advanceTimersByTime(2_000);
      during = s.stderr.text();
      wait.end();
    });
    const bar = await live.within(STEPS[2]!, async () => io.byteProgress("Downloading lead-writer.zip"));
    bar.update(512, 2048);
    vi.advanceTimersByTime(200);
    const downloading = s.stderr.text();
    bar.end();
    live.onResult({ id: "create-user", status: "done", summary: "Created", changes: [] });
    vi.useRealTimers();
    const lines = await screen(during, 120);
    expect(lines.filter((line) => line.includes(" create-user:"))).toEqual([
      expect.stringMatching(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] create-user: Waiting for mp-leadwriter@contoso\.com to sync from Entra ID to Dynamics… 5s$/),
    ]);
    expect(lines).toHaveLength(4); // one line per step: three waiting, one running
    expect((await screen(downloading, 120)).filter((line) => line.includes(" create-user:"))).toEqual([
      expect.stringMatching(/create-user: Downloading lead-writer\.zip \[█{6}░{18}\] 25% 512 B\/2\.0 KB 5s$/),
    ]);
  });

  it("wraps plan and result lines at words with a hanging indent on a terminal, and not in a pipe (issue 11 §11)", async () => {
    const summary =
      "Will create mp-leadwriter@contoso.com (usage location US, password never expires, no forced password change, no admin role) with licence DYN365_ENTERPRISE_SALES";
    const preview = [
      { id: "create-user" as const, status: "planned" as const, summary, changes: [{ action: "create", target: `user ${summary}` }] },
    ];
    const s = streams(true);
    (s.stdout as unknown as { columns: number }).columns = 120;
    renderPlan(new IO(s, { json: false, verbose: false, colorFlag: true, yes: true }), preview);
    const rows = await screen(s.stdout.text(), 120);
    expect(rows).toEqual([
      "Plan:",
      "  + create-user: Will create mp-leadwriter@contoso.com (usage location US, password never expires, no forced password",
      "      change, no admin role) with licence DYN365_ENTERPRISE_SALES",
      "      create user Will create mp-leadwriter@contoso.com (usage location US, password never expires, no forced password",
      "        change, no admin role) with licence DYN365_ENTERPRISE_SALES",
    ]);
    const piped = streams(false);
    renderPlan(new IO(piped, { json: false, verbose: false, colorFlag: false, yes: true }), preview);
    expect(piped.stdout.text().split("\n")).toHaveLength(4);
    expect(wrapWords(`✔ download-solution (done) SHA-256 ${"f".repeat(64)}`, 40, 4).split("\n")).toEqual([
      "✔ download-solution (done) SHA-256",
      `    ${"f".repeat(35)}`,
      `    ${"f".repeat(29)}`,
    ]);
  });

  it("keeps a command in backticks on one line, so it can be copied whole (unless it is longer than a line)", () => {
    const note = "To prove it, run `npx crm-lead-setup verify --sandbox --user-name mp-leadwriter@contoso.com`: it writes a test lead.";
    const rows = wrapWords(note, 90, 0).split("\n");
    expect(rows).toEqual([
      "To prove it, run",
      "`npx crm-lead-setup verify --sandbox --user-name mp-leadwriter@contoso.com`: it writes a",
      "test lead.",
    ]);
    expect(
      wrapWords(note, 40, 0)
        .split("\n")
        .every((row) => row.length <= 39),
    ).toBe(true);
  });

  it("wraps an error and its hint at words on a narrow terminal", async () => {
    const s = streams(true);
    Object.assign(s.stderr, { columns: 40 });
    const io = new IO(s, { json: false, verbose: false, colorFlag: false, yes: true });
    renderError(
      io,
      new UsageError({
        code: "x",
        message: "Nothing was changed: the plan was declined.",
        hint: "Run teardown again and answer yes to apply it; --dry-run shows the plan without asking.",
      }),
    );
    const rows = await screen(s.stderr.text(), 40);
    // Joined again with spaces, the words read whole: the terminal broke no word.
    expect(rows.join(" ")).toBe(
      "Error: Nothing was changed: the plan was declined. Hint: Run teardown again and answer yes to apply it; --dry-run shows the plan without asking.",
    );
  });

  it("formats elapsed time as seconds, then minutes", () => {
    expect([formatDuration(4_200), formatDuration(65_000), formatDuration(600_000)]).toEqual(["4s", "1m05s", "10m00s"]);
  });
});
