import { StepFailedError, StillRunningError, TenantNotReadyError } from "../errors.js";
import { compareVersions } from "../solution/version.js";
import { ServiceError } from "../services/service-error.js";
import type { AsyncOperation, ImportJob, InstalledSolution, RoleRow } from "../services/dataverse.js";
import type { SolutionPackage } from "../solution/package.js";
import { formatDuration } from "../format.js";
import { LEAD_WRITER_ROLE } from "./lead-writer.js";
import { describeFailure, failingComponentsInJobData, parseFormattedImportResults, type ComponentOutcome } from "./import-results.js";
import { pollUntil, type WaitScope } from "./wait.js";
import { writeOnce } from "./recovery.js";
import { known, type ImportOutput, type Step, type StepPlan } from "./step.js";
import type { Progress, Reads, TenantWrites } from "./ports.js";
import { isKnown } from "../catalogue.js";

/**
 * Imports the Lead Writer solution with ImportSolutionAsync and watches the async operation until it
 * completes (reference: dataverse §4). Skips when the same or a higher managed version is installed;
 * watches an import already running rather than starting a second one; shows the import job's real
 * progress; on failure reports the failing component from RetrieveFormattedImportJobResults.
 */

export interface ImportState {
  /** Undefined while download-solution has yet to fetch it. */
  solution: SolutionPackage | undefined;
  installed: InstalledSolution | undefined;
  running: ImportJob | undefined;
}

export type ImportOp =
  | { kind: "import"; solution: SolutionPackage | undefined; over: string | undefined }
  | { kind: "watch"; solution: SolutionPackage; importJobId: string; solutionName: string };

interface Imported {
  summary: string;
  importJobId?: string | undefined;
  leadWriterRoles?: RoleRow[];
}

const describeSolution = (s: SolutionPackage) => `${s.manifest.uniqueName} ${s.manifest.version} (managed)`;

/** The environment's Dynamics version, read once per run. */
export function dynamicsVersion(reads: Reads): Promise<string> {
  return reads.once("version", async () => (await reads.tenant()).environment.version());
}

/** WhoAmI (the admin is a user of this environment), its version, and whether it has the lead table: once per run. */
export function environmentChecks(reads: Reads): Promise<{ version: string; hasLeadTable: boolean }> {
  return reads.once("environment", async () => {
    const { environment } = await reads.tenant();
    const [, version, hasLeadTable] = await Promise.all([environment.whoAmI(), dynamicsVersion(reads), environment.hasLeadTable()]);
    return { version, hasLeadTable };
  });
}

export function importSolutionStep(inputs: { syncTimeoutSeconds: number }): Step<ImportState, ImportOp, ImportOutput, Imported> {
  return {
    id: "import-solution",
    title: "Import the Lead Writer solution",
    after: ["download-solution"],
    prefetch: (reads) => void environmentChecks(reads).catch(() => undefined),

    async inspect(reads, upstream) {
      const { environment, orgUrl } = await reads.tenant();
      // The package is download-solution's output: known when read from a file or the cache, else after it ran.
      const solution = upstream.get("download-solution")?.output.solution;
      // Planned beside WhoAmI: the installed and the running import are read in the same round trip.
      const found = solution
        ? Promise.all([environment.findSolution(solution.manifest.uniqueName), environment.findRunningImport(solution.manifest.uniqueName)])
        : undefined;
      found?.catch(() => undefined);
      // The first step to read the environment: a failing WhoAmI (the admin is no user of it) is reported here.
      if (!(await environmentChecks(reads)).hasLeadTable) {
        throw new TenantNotReadyError({
          code: "lead-table-missing",
          message: `The environment ${orgUrl} has no lead table: Dynamics 365 Sales or Customer Service is not installed there.`,
          hint: "Point --org-url at the Dynamics 365 environment that should receive the leads.",
        });
      }
      if (!solution || !found) return { solution: undefined, installed: undefined, running: undefined };
      const [installed, running] = await found;
      return { solution, installed, running };
    },

    plan: planImport,

    describe(op) {
      if (op.kind === "watch")
        return { action: "wait for", target: `the running import of ${op.solutionName} (import job ${op.importJobId})` };
      if (!op.solution) return { action: "import", target: "the Lead Writer solution (its version is known after download-solution)" };
      return { action: "import", target: `solution ${describeSolution(op.solution)}${op.over ? ` over ${op.over}` : ""}` };
    },

    async apply(op, { writes, progress }) {
      const { environment } = await writes.tenant();
      const solution = known(op.solution, "The solution package");
      const started = writes.clock.now();
      const wait: WaitScope = { clock: writes.clock, signal: writes.signal, timeoutSeconds: inputs.syncTimeoutSeconds };
      const running = op.kind === "watch" ? { importJobId: op.importJobId } : await startImport(environment, solution, wait, progress);
      // An import whose answer was lost may have run to its end meanwhile: the role exists now either way.
      if ("installed" in running)
        return {
          summary: `${solution.manifest.uniqueName} ${running.installed} is installed (managed)`,
          leadWriterRoles: await environment.roles(LEAD_WRITER_ROLE),
        };
      const { importJobId, roles } = await watchImport(environment, solution, running, wait, progress);
      return {
        summary: `Imported ${describeSolution(solution)} in ${formatDuration(writes.clock.now() - started)} (import job ${importJobId ?? "unknown"})`,
        importJobId,
        // Read beside the look that saw the import end; a read that came just before the role was committed is made again.
        leadWriterRoles: roles.length > 0 ? roles : await environment.roles(LEAD_WRITER_ROLE),
      };
    },

    summarize(_state, [imported]) {
      return { summary: imported!.summary, details: "importJobId" in imported! ? { importJobId: imported!.importJobId } : undefined };
    },

    output(_state, [imported]) {
      return { leadWriterRoles: imported?.leadWriterRoles };
    },
  };
}

export function planImport(state: ImportState): StepPlan<ImportOp> {
  const { solution, installed, running } = state;
  if (!solution) {
    return {
      ops: [{ kind: "import", solution: undefined, over: undefined }],
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
    return { ops: [], summary: `${installed.uniquename} ${installed.version} is installed (managed)`, details };
  }
  if (running) {
    return {
      ops: [{ kind: "watch", solution, importJobId: running.importjobid, solutionName: running.solutionname }],
      summary: `An import of ${running.solutionname} is running; will watch it`,
      details,
      drift: true,
    };
  }
  const upgrade = installed ? ` over ${installed.version}` : "";
  return {
    ops: [{ kind: "import", solution, over: installed?.version }],
    summary: `Will import ${describeSolution(solution)}${upgrade}`,
    details,
  };
}

/** An import being watched: its job id (unknown until the service says it) and, when this run started it, its async operation. */
interface WatchedImport {
  importJobId: string | undefined;
  asyncOperationId?: string;
  startedAt?: number;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Starts the import. Dataverse runs one solution import at a time ("a previous [Import] is running"): a
 * refusal for that reason is waited out on the one poll schedule, within --sync-timeout, and abortable; a
 * request whose fate is unknown is looked for before it is sent again (`writeOnce`). The import job's id is
 * the service's own ImportJobKey (reference: dataverse §4.3; nothing is sent for it).
 */
async function startImport(
  environment: TenantWrites["environment"],
  solution: SolutionPackage,
  wait: WaitScope,
  progress: Progress,
): Promise<WatchedImport | { installed: string }> {
  const name = solution.manifest.uniqueName;
  let busy: ServiceError | undefined;
  const started = await pollUntil(wait, {}, async () => {
    try {
      return (
        await writeOnce<WatchedImport | { installed: string }>({
          send: async () => {
            const response = await environment.importSolutionAsync(solution.bytes);
            const importJobKey =
              response.ImportJobKey && GUID.test(response.ImportJobKey) ? response.ImportJobKey.toLowerCase() : undefined;
            return { importJobId: importJobKey, asyncOperationId: response.AsyncOperationId, startedAt: wait.clock.now() };
          },
          lookFor: async () => {
            const running = await environment.findRunningImport(name);
            if (running) return { importJobId: running.importjobid };
            const installed = await environment.findSolution(name);
            return installed && compareVersions(installed.version, solution.manifest.version) >= 0
              ? { installed: installed.version }
              : undefined;
          },
          trace: (line) => progress.trace(`starting the import: ${line}`),
        })
      ).value;
    } catch (error) {
      if (!(error instanceof ServiceError && isKnown(error, "import-concurrent"))) throw error;
      busy = error;
      // Another solution is being installed in this environment: ours may be the one (started by another run).
      const running = await environment.findRunningImport(name);
      if (running) return { importJobId: running.importjobid };
      progress.info("Another solution import is running in the environment; trying again shortly.");
      return undefined;
    }
  });
  // Still busy when the wait ran out: the refusal itself says why (the catalogue's import-concurrent).
  if (!started) throw busy!;
  return started;
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
  environment: TenantWrites["environment"],
  solution: SolutionPackage,
  watched: WatchedImport,
  wait: WaitScope,
  progress: Progress,
): Promise<{ importJobId: string | undefined; roles: RoleRow[] }> {
  const name = `${solution.manifest.uniqueName} ${solution.manifest.version}`;
  const activity = progress.activity(`Importing ${name}…`);
  const readings: { at: number; progress: number }[] = watched.startedAt === undefined ? [] : [{ at: watched.startedAt, progress: 0 }];
  let importJobId = watched.importJobId;
  let rolesAtLastLook: RoleRow[] = [];
  try {
    // An import is never done the moment it starts: the first look comes after a short wait; later looks
    // come when the progress so far says it will be done, or on the back-off schedule if that is sooner.
    const outcome = await pollUntil(wait, { initialDelayMs: 250, estimateMs: () => importEta(readings) }, async () => {
      // Without an ImportJobKey the job is found by the solution it imports.
      importJobId ??= (await environment.findRunningImport(solution.manifest.uniqueName))?.importjobid;
      const { operation, job, roles } = await lookAtImport(environment, watched.asyncOperationId, importJobId);
      rolesAtLastLook = roles;
      if (job && typeof job.progress === "number") readings.push({ at: wait.clock.now(), progress: job.progress });
      activity.update(
        job ? `Importing ${name}… ${job.progress}% (import job progress)` : `Importing ${name}… (waiting for the import job to start)`,
      );
      if (operation?.statecode === 3)
        return { succeeded: operation.statuscode === 30, message: operation.friendlymessage ?? operation.message };
      // The job's completedon ends the wait, as in Microsoft's Import-CrmSolution (reference: dataverse §4.4);
      // whether it succeeded is then read from the installed version.
      return job?.completedon ? { succeeded: undefined, message: operation?.friendlymessage ?? null } : undefined;
    });
    if (!outcome) {
      throw new StillRunningError({
        code: "import-still-running",
        message: `The import of ${name} is still running after ${wait.timeoutSeconds} s (import job ${importJobId ?? "not started yet"}).`,
        hint: "Re-run the same command: it watches the running import instead of starting another. Raise --sync-timeout to wait longer.",
      });
    }
    // Watching an import started elsewhere: success is the solution being installed at this version.
    const succeeded =
      outcome.succeeded ??
      compareVersions((await environment.findSolution(solution.manifest.uniqueName))?.version ?? "0", solution.manifest.version) >= 0;
    if (!succeeded) throw await importFailedError(environment, name, importJobId, outcome.message);
    activity.end();
    return { importJobId, roles: rolesAtLastLook };
  } catch (error) {
    activity.end();
    throw error;
  }
}

/**
 * One look at a running import: its async operation and its import job side by side, one round trip
 * (reference: dataverse §4.4: the async operation says how it ended, the job says how far it is, and can
 * fail before the job even starts). The Lead Writer role's copies are read in the same round, so that the
 * look that sees the import end already holds them; a solution import commits its components together, so
 * a read beside that look sees all copies or none (UNCONFIRMED: none is handled by reading again).
 */
async function lookAtImport(
  environment: TenantWrites["environment"],
  asyncOperationId: string | undefined,
  importJobId: string | undefined,
): Promise<{ operation: AsyncOperation | undefined; job: ImportJob | undefined; roles: RoleRow[] }> {
  const [operation, job, roles] = await Promise.all([
    asyncOperationId ? environment.asyncOperation(asyncOperationId) : undefined,
    importJobId
      ? environment.importJob(importJobId).catch((error: unknown) => {
          // The import job row appears a moment after the async operation starts.
          if (error instanceof ServiceError && error.status === 404) return undefined;
          throw error;
        })
      : undefined,
    environment.roles(LEAD_WRITER_ROLE),
  ]);
  return { operation, job, roles };
}

/**
 * The failing components, from the formatted results (the Excel spreadsheet) or else the job's data XML,
 * each named with its type, error code and text, in the message and in the step's details.
 */
async function importFailedError(
  environment: TenantWrites["environment"],
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
