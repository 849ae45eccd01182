// Preloaded by the benchmark with `node --import`: records the process's peak resident set size at exit.
import { writeFileSync } from "node:fs";

process.on("exit", () => {
  if (process.env.RSS_PROBE_FILE) writeFileSync(process.env.RSS_PROBE_FILE, String(process.resourceUsage().maxRSS));
});
