import { readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { StepFailedError, UsageError } from "../errors.js";
import { writePrivateFile } from "../auth/cache.js";
import { notLeadWriterWarning, PACKAGE_LIMITS, readSolutionPackage, type SolutionPackage } from "../solution/package.js";
import { formatBytes } from "../io.js";
import type { CommandContext } from "../context.js";
import type { Plan, Step } from "./step.js";

/**
 * Microsoft's "Microsoft Marketplace Lead Writer" managed solution. The current Partner Center page links
 * the first URL; the two older pages linked the others, tried in turn (reference: dataverse §1.1).
 */
export const LEAD_WRITER_URLS = [
  "https://referralsflowpackages.blob.core.windows.net/documentation/MicrosoftMarketplacesLeadIntegrationSolution_1_0_0_0_target_CRM_6.1_managed.zip",
  "https://mpsapiprodwus.blob.core.windows.net/documentation/MicrosoftMarketplacesLeadIntegrationSolution_1_0_0_0_target_CRM_6.1_managed.zip",
  "https://testdriveaccount.blob.core.windows.net/testdrivecon/MicrosoftMarketplacesLeadIntegrationSolution_1_0_0_0_target_CRM_6.1_managed.zip",
];

export type DownloadState =
  | { source: "file"; path: string; solution: SolutionPackage }
  | { source: "cache"; path: string; url: string; solution: SolutionPackage }
  | { source: "download"; urls: string[]; cachePath: string };

export function solutionDetails(solution: SolutionPackage, path: string, source: string): Record<string, unknown> {
  const warning = notLeadWriterWarning(solution);
  return {
    solution: { ...solution.manifest, sha256: solution.sha256, sizeBytes: solution.sizeBytes, path, source },
    ...(warning ? { warning } : {}),
  };
}

function describe(solution: SolutionPackage): string {
  const warning = notLeadWriterWarning(solution);
  return `${solution.manifest.uniqueName} ${solution.manifest.version} (${solution.manifest.managed ? "managed" : "unmanaged"}, publisher ${solution.manifest.publisher}), SHA-256 ${solution.sha256}${warning ? `. Warning: ${warning}` : ""}`;
}

/** The URLs to try: --solution-url alone, the sandbox's package, or Microsoft's three. */
function candidateUrls(context: CommandContext): string[] {
  if (context.options.solutionUrl) return [context.options.solutionUrl];
  if (context.sandbox) return [context.sandbox.downloadUrl];
  return LEAD_WRITER_URLS;
}

function cachePathFor(context: CommandContext, url: string): string {
  const fileName = basename(new URL(url).pathname) || "solution.zip";
  return join(context.paths.cacheDir, "solutions", fileName.replace(/[^A-Za-z0-9._-]/g, "_"));
}

export async function readSolutionFile(path: string, label: string): Promise<SolutionPackage> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error("not a regular file"), { code: "EISDIR" });
    size = info.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new UsageError({
      code: "solution-file-unreadable",
      message: `${label} ${path} cannot be read (${code}).`,
      hint: "Check the path; it must be the Lead Writer solution zip.",
    });
  }
  if (size > PACKAGE_LIMITS.maxPackageBytes) {
    throw new UsageError({
      code: "solution-too-large",
      message: `${label} ${path} is ${size} bytes, over the ${PACKAGE_LIMITS.maxPackageBytes}-byte limit for a solution package.`,
      hint: "Pass the Lead Writer solution zip, which is a few kilobytes.",
    });
  }
  return readSolutionPackage(await readFile(path), `${label} ${path}`);
}

export const downloadSolutionStep: Step<DownloadState> = {
  id: "download-solution",
  title: "Download the Lead Writer solution",
  after: [],

  async inspect(context) {
    if (context.options.solutionFile) {
      const solution = await readSolutionFile(context.options.solutionFile, "--solution-file");
      context.facts.solution = solution;
      return { source: "file", path: context.options.solutionFile, solution };
    }
    const urls = candidateUrls(context);
    for (const url of urls) {
      const path = cachePathFor(context, url);
      try {
        const solution = readSolutionPackage(await readFile(path), path);
        context.facts.solution = solution;
        return { source: "cache", path, url, solution };
      } catch {
        // Not cached, or the cached copy is damaged: it will be downloaded again.
      }
    }
    return { source: "download", urls, cachePath: cachePathFor(context, urls[0]!) };
  },

  plan(state): Plan {
    if (state.source === "file") {
      return {
        changes: [],
        summary: `Using ${state.path}: ${describe(state.solution)}`,
        details: solutionDetails(state.solution, state.path, "file"),
      };
    }
    if (state.source === "cache") {
      return {
        changes: [],
        summary: `Using the cached ${describe(state.solution)}`,
        details: solutionDetails(state.solution, state.path, "cache"),
      };
    }
    const host = new URL(state.urls[0]!).host;
    return {
      changes: [
        {
          action: "download",
          target: `solution package from ${host}${state.urls.length > 1 ? ` (${state.urls.length - 1} fall-back URLs)` : ""}`,
        },
      ],
      summary: `Will download the Lead Writer solution from ${host}`,
    };
  },

  async apply(context, state) {
    if (state.source !== "download") throw new Error("download-solution: nothing to apply");
    const failures: string[] = [];
    for (const url of state.urls) {
      const progress = await context.io.byteProgress(`Downloading ${basename(new URL(url).pathname)}`);
      let response;
      try {
        response = await context.http.send({
          service: "download",
          method: "GET",
          url,
          maxResponseBytes: PACKAGE_LIMITS.maxPackageBytes,
          onProgress: (received, total) => progress.update(received, total),
        });
      } catch (error) {
        failures.push(`${url}: ${(error as Error).message}`);
        continue;
      } finally {
        progress.end();
      }
      if (response.status !== 200) {
        failures.push(`${url}: HTTP ${response.status}`);
        continue;
      }
      const solution = readSolutionPackage(response.body, `The file downloaded from ${url}`);
      context.facts.solution = solution;
      const cachePath = cachePathFor(context, url);
      await writePrivateFile(cachePath, response.body);
      return {
        summary: `Downloaded ${describe(solution)}; ${formatBytes(solution.sizeBytes)} from ${new URL(url).host}`,
        details: solutionDetails(solution, cachePath, url),
      };
    }
    throw new StepFailedError({
      code: "solution-download-failed",
      message: `The Lead Writer solution could not be downloaded:\n  ${failures.join("\n  ")}`,
      hint: "Download it in a browser from the link on Microsoft's Partner Center lead-management page and pass it with --solution-file <path>.",
    });
  },
};
