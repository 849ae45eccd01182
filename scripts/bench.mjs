#!/usr/bin/env node
// The benchmark (`npm run bench`): measured here, never asserted by timed tests.
//   1. Cold start of `--help` and `--version` against a bare `node -e 0`: medians of alternating runs.
//   2. A command against the sandbox: wall time, HTTP requests the sandbox received, peak RSS.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSandbox } from "../dist/sandbox/server.js";
import { writeConnectionFile } from "../dist/sandbox-link.js";
import { appPaths } from "../dist/paths.js";

const root = resolve(import.meta.dirname, "..");
const bin = join(root, "bin", "crm-lead-setup.js");
const runs = Number(process.env.BENCH_RUNS ?? 21);
const warmups = 2;

function timeOnce(args, env = process.env) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, stdio: "ignore" });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status}`);
  return ms;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const cases = {
  "node -e 0": ["-e", "0"],
  "crm-lead-setup --help": [bin, "--help"],
  "crm-lead-setup --version": [bin, "--version"],
};
const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let i = 0; i < warmups; i++) for (const args of Object.values(cases)) timeOnce(args);
for (let i = 0; i < runs; i++) for (const [name, args] of Object.entries(cases)) samples[name].push(timeOnce(args));

const baseline = median(samples["node -e 0"]);
console.log(
  `Cold start (median of ${runs} alternating runs after ${warmups} warm-ups, ${process.version}, ${process.platform}/${process.arch})`,
);
for (const [name, values] of Object.entries(samples)) {
  const value = median(values);
  const ratio = name === "node -e 0" ? "" : `  ${(value / baseline).toFixed(2)}× bare node`;
  console.log(
    `  ${name.padEnd(28)} ${value.toFixed(1).padStart(7)} ms  (min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)})${ratio}`,
  );
}

/** A sandbox in this process and a fresh HOME whose connection file points at it. */
/** Dependent round trips: requests whose lifetimes overlap ran in parallel and count once. */
function roundTrips(requests) {
  const sorted = [...requests].sort((a, b) => a.at - b.at);
  let rounds = 0;
  let busyUntil = -Infinity;
  for (const r of sorted) {
    if (r.at >= busyUntil) rounds++;
    busyUntil = Math.max(busyUntil, r.doneAt ?? r.at);
  }
  return rounds;
}

async function sandboxSession(options = {}) {
  const home = mkdtempSync(join(tmpdir(), "cls-bench-"));
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_CACHE_HOME: join(home, ".cache") };
  for (const key of Object.keys(env)) if (key.startsWith("CRM_LEAD_SETUP_")) delete env[key];
  const sandbox = await startSandbox(options);
  await writeConnectionFile(appPaths(env), sandbox.connection);
  return {
    sandbox,
    async run(label, args) {
      sandbox.clearRequests();
      const rssFile = join(home, "rss.txt");
      const started = process.hrtime.bigint();
      // Asynchronous on purpose: the sandbox lives in this process and must keep answering.
      const child = spawn(process.execPath, ["--import", join(root, "scripts", "rss-probe.mjs"), bin, ...args], {
        env: { ...env, RSS_PROBE_FILE: rssFile },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const status = await new Promise((resolveExit) => child.on("close", resolveExit));
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (status !== 0) throw new Error(`${label} exited ${status}: ${stderr}`);
      const rssMb = Number(readFileSync(rssFile, "utf8")) / 1024;
      console.log(
        `  ${label.padEnd(52)} ${ms.toFixed(0).padStart(6)} ms  ${String(sandbox.requests.length).padStart(3)} HTTP requests  ${String(roundTrips(sandbox.requests)).padStart(3)} round trips  peak RSS ${rssMb.toFixed(1)} MB`,
      );
      return { ms, requests: sandbox.requests.length, rounds: roundTrips(sandbox.requests) };
    },
    async close() {
      await sandbox.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

console.log("\nAgainst the sandbox (a sandbox in this process; wall time includes Node start-up and the sandbox's own waits)");
for (const [label, args] of [
  ["download-solution --sandbox", ["download-solution", "--sandbox"]],
  ["login --sandbox (device code, Graph + Dynamics)", ["login", "--sandbox"]],
]) {
  const session = await sandboxSession();
  await session.run(label, args);
  await session.close();
}
const session = await sandboxSession();
const plain = await session.run("init --sandbox --yes (fresh tenant, device code)", ["init", "--sandbox", "--yes"]);
await session.run("init --sandbox --yes (second run: all unchanged)", ["init", "--sandbox", "--yes"]);
await session.close();

// The same with 50 ms added to every sandbox answer (sign-in included): what a distant tenant costs.
const latencyMs = 50;
const slow = await sandboxSession({ faults: { latencyMs, services: ["entra", "graph", "dataverse", "bap", "download"] } });
const { scenario } = slow.sandbox.state;
const result = await slow.run(`init --sandbox --yes with ${latencyMs} ms latency per answer`, ["init", "--sandbox", "--yes"]);
await slow.close();
const fixedWaits = scenario.importMs + scenario.userSyncMs;
const bound = 1.2 * result.rounds * latencyMs + fixedWaits;
console.log(
  `    ${result.rounds} dependent round trips × ${latencyMs} ms = ${result.rounds * latencyMs} ms; sandbox's fixed waits (import ${scenario.importMs} ms + user sync ${scenario.userSyncMs} ms) = ${fixedWaits} ms`,
);
console.log(
  `    wall ${result.ms.toFixed(0)} ms against 1.2 × round trips + fixed waits = ${bound.toFixed(0)} ms (${result.ms <= bound ? "within" : "over"})`,
);
const added = result.ms - plain.ms;
console.log(
  `    cost of the latency itself: ${added.toFixed(0)} ms over the run without it, ${(added / (result.rounds * latencyMs)).toFixed(2)}× the round trips × ${latencyMs} ms`,
);
