import { readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { StepFailedError, UsageError } from "../errors.js";
import { notLeadWriterWarning, PACKAGE_LIMITS, readSolutionPackage, type SolutionPackage } from "../solution/package.js";
import { formatBytes } from "../format.js";
import type { SolutionOutput, Step } from "./step.js";
import type { Progress, Reads, Writes } from "./ports.js";

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
  | { source: "download"; urls: string[]; fetched?: Fetched };

/** A package fetched while the run was still signing in and planning: cached when the step applies. */
interface Fetched {
  url: string;
  bytes: Buffer;
  solution: SolutionPackage;
}

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
export function candidateUrls(solutionUrl: string | undefined, sandboxDownloadUrl: string | undefined): string[] {
  if (solutionUrl) return [solutionUrl];
  if (sandboxDownloadUrl) return [sandboxDownloadUrl];
  return LEAD_WRITER_URLS;
}

/** Where a download from `url` is cached. */
export function cachePathFor(cacheDir: string, url: string): string {
  const fileName = basename(new URL(url).pathname) || "solution.zip";
  return join(cacheDir, "solutions", fileName.replace(/[^A-Za-z0-9._-]/g, "_"));
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

export interface DownloadInputs {
  /** --solution-file: used as is, nothing is downloaded. */
  solutionFile?: string;
  /** The URLs to try in turn (see candidateUrls). */
  urls: string[];
}

export type DownloadOp = { kind: "download"; urls: string[] };

/** Downloads a package in the apply phase: its summary and details. */
type Downloaded = { solution: SolutionPackage; url: string; cachePath: string };

/**
 * The first URL's package, fetched at once: it needs no token, so it downloads while the admin signs in and
 * the tenant is read, and the import is planned with its real version. Any failure leaves it to the apply
 * phase, which tries every URL and reports each failure.
 */
async function fetchEarly(reads: Reads, urls: string[]): Promise<Fetched | undefined> {
  try {
    for (const url of urls) if (await reads.solutions.cached(url)) return undefined;
    const url = urls[0]!;
    const response = await reads.solutions.fetch(url);
    if (response.status !== 200) return undefined;
    return { url, bytes: response.body, solution: readSolutionPackage(response.body, `The file downloaded from ${url}`) };
  } catch {
    return undefined;
  }
}

export function downloadSolutionStep(inputs: DownloadInputs): Step<DownloadState, DownloadOp, SolutionOutput, Downloaded> {
  let early: Promise<Fetched | undefined> | undefined;
  return {
    id: "download-solution",
    title: "Download the Lead Writer solution",
    after: [],
    prefetch(reads) {
      if (!inputs.solutionFile) early = fetchEarly(reads, inputs.urls);
    },

    async inspect(reads) {
      if (inputs.solutionFile) {
        const solution = await reads.solutions.fromFile(inputs.solutionFile, "--solution-file");
        return { source: "file", path: inputs.solutionFile, solution };
      }
      for (const url of inputs.urls) {
        const cached = await reads.solutions.cached(url);
        if (cached) return { source: "cache", path: cached.path, url, solution: cached.solution };
      }
      return { source: "download", urls: inputs.urls, fetched: await early };
    },

    plan(state) {
      if (state.source === "file") {
        return {
          ops: [],
          summary: `Using ${state.path}: ${describe(state.solution)}`,
          details: solutionDetails(state.solution, state.path, "file"),
        };
      }
      if (state.source === "cache") {
        return {
          ops: [],
          summary: `Using the cached ${describe(state.solution)}`,
          details: solutionDetails(state.solution, state.path, "cache"),
        };
      }
      const host = new URL(state.urls[0]!).host;
      return { ops: [{ kind: "download", urls: state.urls }], summary: `Will download the Lead Writer solution from ${host}` };
    },

    describe(op) {
      const host = new URL(op.urls[0]!).host;
      return {
        action: "download",
        target: `solution package from ${host}${op.urls.length > 1 ? ` (${op.urls.length - 1} fall-back URLs)` : ""}`,
      };
    },

    async apply(op, { writes, progress }) {
      const fetched = await early;
      if (fetched && fetched.url === op.urls[0])
        return { solution: fetched.solution, url: fetched.url, cachePath: await writes.solutions.cache(fetched.url, fetched.bytes) };
      return download(op.urls, writes, progress);
    },

    summarize(_state, [downloaded]) {
      const { solution, url, cachePath } = downloaded!;
      return {
        summary: `Downloaded ${describe(solution)}; ${formatBytes(solution.sizeBytes)} from ${new URL(url).host}`,
        details: solutionDetails(solution, cachePath, url),
      };
    },

    output(state, [downloaded]) {
      return { solution: state.source === "download" ? (downloaded?.solution ?? state.fetched?.solution) : state.solution };
    },
  };
}

/** Tries each URL in turn; keeps the first valid package in the cache. */
async function download(urls: string[], writes: Writes, progress: Progress): Promise<Downloaded> {
  const failures: string[] = [];
  for (const url of urls) {
    const bar = await progress.bytes(`Downloading ${basename(new URL(url).pathname)}`);
    let response;
    try {
      response = await writes.solutions.download(url, (received, total) => bar.update(received, total));
    } catch (error) {
      failures.push(`${url}: ${(error as Error).message}`);
      continue;
    } finally {
      bar.end();
    }
    if (response.status !== 200) {
      failures.push(`${url}: HTTP ${response.status}`);
      continue;
    }
    const solution = readSolutionPackage(response.body, `The file downloaded from ${url}`);
    return { solution, url, cachePath: await writes.solutions.cache(url, response.body) };
  }
  throw new StepFailedError({
    code: "solution-download-failed",
    message: `The Lead Writer solution could not be downloaded:\n  ${failures.join("\n  ")}`,
    hint: "Download it in a browser from the link on Microsoft's Partner Center lead-management page and pass it with --solution-file <path>.",
  });
}
