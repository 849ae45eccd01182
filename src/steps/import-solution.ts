import { StepFailedError, StillRunningError, TenantNotReadyError } from "../errors.js";
import { compareVersions } from "../solution/version.js";
import { HttpFailure } from "../services/http.js";
import { ServiceError } from "../services/service-error.js";
import { isKnown } from "../catalogue.js";
import type { EnvironmentApi, ImportJob, InstalledSolution } from "../services/dataverse.js";
import type { SolutionPackage } from "../solution/package.js";
import type { CommandContext } from "../context.js";
import { formatDuration } from "../io.js";
import { LEAD_WRITER_ROLE } from "./lead-writer.js";
import { describeFailure, failingComponentsInJobData, parseFormattedImportResults, type ComponentOutcome } from "./import-results.js";
import { pollUntil, syncTimeoutSeconds } from "./wait.js";
import { remember, startEarly, type Plan, type Step } from "./step.js";

/**
 * Imports the Lead Writer solution with ImportSolutionAsync and watches the async operation until it
 * completes (reference: dataverse §4). Skips when the same or a higher managed version is installed;
 * watches an import already running rather than starting a second one; shows the import job's real
 * progress; on failure reports the failing component from RetrieveFormattedImportJobResults.
 */

export interface ImportState {
  /** Undefined while download-solution has yet to fetch it (dry run). */
  solution: SolutionPackage | undefined;
  installed: InstalledSolution | undefined;
  running: ImportJob | undefined;
}

const describe = (s: SolutionPackage) => `${s.manifest.uniqueName} ${s.manifest.version} (managed)`;

/** WhoAmI (the admin is a user of this environment), its version, and whether it has the lead table: once per run. */
export async function environmentChecks(context: CommandContext): Promise<{ version: string; hasLeadTable: boolean }> {
  return remember(context, "environment", async () => {
    const { environment } = await context.tenant();
    const [, version, hasLeadTable] = await Promise.all([environment.whoAmI(), environment.version(), environment.hasLeadTable()]);
    context.facts.dynamicsVersion = version;
    return { version, hasLeadTable };
  });
}

export const importSolutionStep: Step<ImportState> = {
  id: "import-solution",
  title: "Import the Lead Writer solution",
  after: ["download-solution"],
  prefetch: (context) => startEarly(() => environmentChecks(context)),

  async inspect(context) {
    const { environment } = await context.tenant();
    // The first step to read the environment: a failing WhoAmI (the admin is no user of it) is reported here.
    if (!(await environmentChecks(context)).hasLeadTable) {
      throw new TenantNotReadyError({
        code: "lead-table-missing",
        message: `The environment ${(await context.tenant()).orgUrl} has no lead table: Dynamics 365 Sales or Customer Service is not installed there.`,
        hint: "Point --org-url at the Dynamics 365 environment that should receive the leads.",
      });
    }
    const solution = context.facts.solution;
    if (!solution) return { solution: undefined, installed: undefined, running: undefined };
    const [installed, running] = await Promise.all([
      environment.findSolution(solution.manifest.uniqueName),
      environment.findRunningImport(solution.manifest.uniqueName),
    ]);
    return { solution, installed, running };
  },

  plan(state): Plan {
    const { solution, installed, running } = state;
    if (!solution) {
      return {
        changes: [{ action: "import", target: "the Lead Writer solution (its version is known after download-solution)" }],
        summary: "Will import the downloaded Lead Writer solution",
        dependsOn: ["download-solution"],
      };
    }
    const details = {
      solution: {
        uniqueName: solution.manifest.uniqueName,
        version: solution.manifest.version,
        installedVersion: installed?.version ?? null,
      },
    };
    if (installed && !installed.ismanaged) {
      throw new TenantNotReadyError({
        code: "solution-installed-unmanaged",
        message: `${installed.uniquename} ${installed.version} is installed as an unmanaged solution; the managed Lead Writer package cannot be imported over it.`,
        hint: "Delete the unmanaged solution in Power Apps (Solutions), then re-run.",
      });
    }
    if (installed && compareVersions(installed.version, solution.manifest.version) >= 0) {
      return { changes: [], summary: `${installed.uniquename} ${installed.version} is installed (managed)`, details };
    }
    if (running) {
      return {
        changes: [{ action: "wait for", target: `the running import of ${running.solutionname} (import job ${running.importjobid})` }],
        summary: `An import of ${running.solutionname} is running; will watch it`,
        details,
        drift: true,
      };
    }
    const upgrade = installed ? ` over ${installed.version}` : "";
    return {
      changes: [{ action: "import", target: `solution ${describe(solution)}${upgrade}` }],
      summary: `Will import ${describe(solution)}${upgrade}`,
      details,
    };
  },

  async apply(context, state) {
    const { environment } = await context.tenant();
    const solution = state.solution!;
    const started = Date.now();
    const running = state.running ? { importJobId: state.running.importjobid } : await startImport(context, environment, solution);
    if ("installed" in running) {
      return { summary: `${solution.manifest.uniqueName} ${running.installed} is installed (managed)` };
    }
    const importJobId = await watchImport(context, environment, solution, running);
    context.facts.leadWriterRoles = await environment.roles(LEAD_WRITER_ROLE);
    return {
      summary: `Imported ${describe(solution)} in ${formatDuration(Date.now() - started)} (import job ${importJobId ?? "unknown"})`,
      details: { importJobId },
    };
  },
};

/** An import being watched: its job id (unknown until the service says it) and, when this run started it, its async operation. */
interface WatchedImport {
  importJobId: string | undefined;
  asyncOperationId?: string;
  startedAt?: number;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Starts the import; a concurrent import is waited out, and a request whose fate is unknown is re-inspected.
 * The import job's id is the service's own ImportJobKey (reference: dataverse §4.3; nothing is sent for it).
 */
async function startImport(
  context: CommandContext,
  environment: EnvironmentApi,
  solution: SolutionPackage,
): Promise<WatchedImport | { installed: string }> {
  const name = solution.manifest.uniqueName;
  const deadline = context.clock.now() + syncTimeoutSeconds(context) * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await environment.importSolutionAsync(solution.bytes);
      const importJobKey = response.ImportJobKey && GUID.test(response.ImportJobKey) ? response.ImportJobKey.toLowerCase() : undefined;
      return { importJobId: importJobKey, asyncOperationId: response.AsyncOperationId, startedAt: context.clock.now() };
    } catch (error) {
      if (isKnown(error, "import-concurrent") && context.clock.now() < deadline) {
        // Another solution is being installed in this environment: Dataverse allows one at a time.
        const running = await environment.findRunningImport(name);
        if (running) return { importJobId: running.importjobid };
        context.io.info(`Another solution import is running in the environment; retrying in ${Math.min(30, 5 * attempt)} s.`);
        await context.clock.sleep(Math.min(30, 5 * attempt) * 1000, context.signal);
        continue;
      }
      if ((error instanceof HttpFailure || (error instanceof ServiceError && error.status >= 500)) && attempt < 3) {
        // The request may have reached the service: look before importing again (no blind resend).
        const running = await environment.findRunningImport(name);
        if (running) return { importJobId: running.importjobid };
        const installed = await environment.findSolution(name);
        if (installed && compareVersions(installed.version, solution.manifest.version) >= 0) return { installed: installed.version };
        context.io.trace(`starting the import failed without starting it (${(error as Error).message}); trying again`);
        continue;
      }
      throw error;
    }
  }
}

/**
 * When an import will likely end, from the import job's progress: the rate between the first and the
 * latest reading (the first being 0 % when this run started the import), projected to 100 %.
 */
export function importEta(readings: readonly { at: number; progress: number }[]): number | undefined {
  const first = readings[0];
  const last = readings.at(-1);
  if (!first || !last || last.at <= first.at || last.progress <= first.progress || last.progress >= 100) return undefined;
  const perMs = (last.progress - first.progress) / (last.at - first.at);
  return Math.round((100 - last.progress) / perMs);
}

/** Watches the import until it ends; returns its import job id. */
async function watchImport(
  context: CommandContext,
  environment: EnvironmentApi,
  solution: SolutionPackage,
  watched: WatchedImport,
): Promise<string | undefined> {
  const name = `${solution.manifest.uniqueName} ${solution.manifest.version}`;
  const activity = context.io.activity(`Importing ${name}…`);
  const readings: { at: number; progress: number }[] = watched.startedAt === undefined ? [] : [{ at: watched.startedAt, progress: 0 }];
  let importJobId = watched.importJobId;
  try {
    // An import is never done the moment it starts: the first look comes after a short wait; later looks
    // come when the progress so far says it will be done, or on the back-off schedule if that is sooner.
    const outcome = await pollUntil(context, { initialDelayMs: 250, estimateMs: () => importEta(readings) }, async () => {
      const operation = watched.asyncOperationId ? await environment.asyncOperation(watched.asyncOperationId) : undefined;
      // The import job's progress is read only while the import runs: a finished one needs no bar.
      const running = !operation || operation.statecode !== 3;
      // Without an ImportJobKey the job is found by the solution it imports.
      importJobId ??= running ? (await environment.findRunningImport(solution.manifest.uniqueName))?.importjobid : undefined;
      const job =
        running && importJobId
          ? await environment.importJob(importJobId).catch((error: unknown) => {
              // The import job row appears a moment after the async operation starts.
              if (error instanceof ServiceError && error.status === 404) return undefined;
              throw error;
            })
          : undefined;
      if (job && typeof job.progress === "number") readings.push({ at: context.clock.now(), progress: job.progress });
      activity.update(
        job ? `Importing ${name}… ${job.progress}% (import job progress)` : `Importing ${name}… (waiting for the import job to start)`,
      );
      if (operation)
        return operation.statecode === 3
          ? { succeeded: operation.statuscode === 30, message: operation.friendlymessage ?? operation.message }
          : undefined;
      return job?.completedon ? { succeeded: undefined, message: null } : undefined;
    });
    if (!outcome) {
      throw new StillRunningError({
        code: "import-still-running",
        message: `The import of ${name} is still running after ${syncTimeoutSeconds(context)} s (import job ${importJobId ?? "not started yet"}).`,
        hint: "Re-run the same command: it watches the running import instead of starting another. Raise --sync-timeout to wait longer.",
      });
    }
    // Watching an import started elsewhere: success is the solution being installed at this version.
    const succeeded =
      outcome.succeeded ??
      compareVersions((await environment.findSolution(solution.manifest.uniqueName))?.version ?? "0", solution.manifest.version) >= 0;
    if (!succeeded) throw await importFailedError(environment, name, importJobId, outcome.message);
    activity.end();
    return importJobId;
  } catch (error) {
    activity.end();
    throw error;
  }
}

/**
 * The failing components, from the formatted results (the Excel spreadsheet) or else the job's data XML,
 * each named with its type, error code and text, in the message and in the step's details.
 */
async function importFailedError(
  environment: EnvironmentApi,
  name: string,
  importJobId: string | undefined,
  reason: string | null,
): Promise<StepFailedError> {
  let failures: ComponentOutcome[] = [];
  if (importJobId) {
    failures = parseFormattedImportResults(await environment.formattedImportResults(importJobId).catch(() => "")).filter((c) => c.failed);
    if (failures.length === 0) failures = failingComponentsInJobData(await environment.importJobData(importJobId).catch(() => ""));
  }
  return new StepFailedError({
    code: "import-failed",
    message: `The import of ${name} failed${failures.length ? `:\n  ${failures.map(describeFailure).join("\n  ")}` : `: ${reason ?? "no reason given"}`}`,
    hint: `See Power Apps → Solutions → Solution history${importJobId ? ` for import job ${importJobId}` : ""}; fix the cause and re-run.`,
    details: {
      importJobId: importJobId ?? null,
      failedComponents: failures.map(({ name: component, type, errorCode, description }) => ({
        name: component,
        type,
        errorCode,
        description,
      })),
    },
  });
}
