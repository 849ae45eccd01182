import type { CommandContext } from "../context.js";
import type { SolutionPackage } from "../solution/package.js";
import type { GraphApplication, GraphDomain, GraphOrganization, GraphUser, ServicePrincipal, SubscribedSku } from "../services/graph.js";
import type { PrivilegeRow, RoleRow, SystemUserRow } from "../services/dataverse.js";

/**
 * Every step is inspect (reads only) → plan (pure: what would change) → apply (exactly the planned
 * changes). `--dry-run` and `status` stop after the plan; a re-run after success plans nothing.
 */

export type StepId =
  | "download-solution"
  | "import-solution"
  | "create-user"
  | "create-app"
  | "assign-role"
  | "patch-role"
  | "reset-password"
  | "verify"
  | "teardown";
export type StepStatus = "done" | "unchanged" | "planned" | "skipped" | "failed";

export interface Change {
  action: string;
  target: string;
}

export interface Plan {
  changes: Change[];
  /** Said when nothing is to change ("Using cached …"), or before applying ("Will download …"). */
  summary: string;
  /** A step that does not apply here, with the reason. */
  skipReason?: string;
  /** Facts worth reporting whatever happens (e.g. the package manifest), carried into the result. */
  details?: Record<string, unknown>;
  /** Earlier steps whose pending changes this plan assumed ("known after apply"): re-inspected before applying. */
  dependsOn?: StepId[];
  /** The object exists but differs from what it should be (for `status`: drifted rather than missing). */
  drift?: boolean;
}

export interface Applied {
  summary: string;
  details?: Record<string, unknown>;
}

export interface Step<State> {
  id: StepId;
  title: string;
  /**
   * The earlier steps of a run that must have ended before this one applies (those not in the run are
   * ignored). Without it, all earlier steps: a step runs alongside others only when it says so.
   */
  after?: StepId[];
  /**
   * Starts, in the background, the reads `inspect` will make that need nothing from earlier steps, so that
   * independent reads overlap while the steps are inspected one after another. Inspect
   * awaits the same requests (`remember`); a failed read is read again, and its error reported, by inspect.
   */
  prefetch?(context: CommandContext): void;
  inspect(context: CommandContext): Promise<State>;
  plan(state: State, context: CommandContext): Plan;
  apply(context: CommandContext, state: State, plan: Plan): Promise<Applied>;
}

/** The facts read from the tenant once per run (see `remember`). */
export type RememberedFact = "environment" | "leadWriterRoles" | "privileges" | "directory" | "user";

/**
 * A fact read once per run and kept in `facts`. The first call starts the read; later calls (a prefetch
 * and an inspect, or two steps) share it. A read that failed is forgotten, so the next call tries again;
 * a fact a step set itself (the user it created, the roles after the import) wins over the read.
 */
export function remember<K extends RememberedFact>(
  context: CommandContext,
  key: K,
  read: () => Promise<NonNullable<RunFacts[K]>>,
): Promise<NonNullable<RunFacts[K]>> {
  const known = context.facts[key];
  if (known !== undefined) return Promise.resolve(known as NonNullable<RunFacts[K]>);
  const lookups = (context.facts.lookups ??= new Map());
  let request = lookups.get(key) as Promise<NonNullable<RunFacts[K]>> | undefined;
  if (!request) {
    request = read().then((value) => ((context.facts[key] as RunFacts[K]) = value));
    lookups.set(key, request);
    request.catch(() => lookups.delete(key));
  }
  return request;
}

/** Starts a read for a prefetch: its failure is left for inspect to meet again. */
export function startEarly(read: () => Promise<unknown>): void {
  read().catch(() => undefined);
}

export interface StepResult {
  id: StepId;
  status: StepStatus;
  summary: string;
  changes: Change[];
  details?: Record<string, unknown>;
  drift?: boolean;
}

/**
 * What steps learn and hand on within one run. A step that plans changes is `pending`, so later steps
 * can plan around what it will create instead of failing on its absence.
 */
export interface RunFacts {
  pending: Set<StepId>;
  /** Reads in flight or done within the run (see `remember`). */
  lookups?: Map<string, Promise<unknown>>;
  solution?: SolutionPackage;
  /** The environment's identity checks (WhoAmI, version, lead table), made once per run. */
  environment?: { version: string; hasLeadTable: boolean };
  dynamicsVersion?: string;
  leadWriterRoles?: RoleRow[];
  privileges?: PrivilegeRow[];
  directory?: { organization: GraphOrganization; domains: GraphDomain[]; skus: SubscribedSku[] };
  /** The service user: found, or (pending) to be created with this UPN. */
  user?: { userPrincipalName: string; current: GraphUser | undefined };
  /** A password generated in this run: shown once, in the final summary. */
  generatedPassword?: string;
  /** The app identity: found, or (pending) to be created with this name. */
  app?: {
    displayName: string;
    application: GraphApplication | undefined;
    servicePrincipal: ServicePrincipal | undefined;
    applicationUser: SystemUserRow | undefined;
    directoryId: string;
  };
  /** A client secret generated in this run, with its key id and expiry: shown once, in the final summary. */
  generatedSecret?: { keyId: string; secretText: string; endDateTime: string };
}
