import type { SolutionPackage } from "../solution/package.js";
import type { GraphApplication, GraphUser } from "../services/graph.js";
import type { RoleRow, SystemUserRow } from "../services/dataverse.js";
import type { Progress, Reads, Writes } from "./ports.js";
import type { OfferDecision } from "../offers/lead-destination.js";
import type { ConfigureJobEnd } from "../offers/offer-outcomes.js";

/**
 * Every step is inspect (reads only) → plan (pure: the typed ops that would change the tenant) → apply
 * (executes exactly one planned op at a time). `--dry-run` and `status` stop after the plan; a re-run after
 * success plans nothing. The runner (`src/runner.ts`) owns everything that flows between steps: it hands each
 * step the outputs of the earlier ones (`Upstream`), never a shared bag of facts.
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
  | "connect-offer"
  | "retire-secrets"
  | "teardown";
export type StepStatus = "done" | "unchanged" | "planned" | "skipped" | "failed";

/** An op as a person reads it (the confirmation list, --dry-run) and as `--json` gives it (`change`). */
export interface Change {
  action: string;
  target: string;
}

export interface StepPlan<Op> {
  ops: Op[];
  /** Said when nothing is to change ("Using cached …"), or before applying ("Will download …"). */
  summary: string;
  /** A step that does not apply here, with the reason. */
  skipReason?: string;
  /** Facts worth reporting whatever happens (e.g. the package manifest), carried into the result. */
  details?: Record<string, unknown>;
  /** Earlier steps whose pending ops this plan assumed ("known after apply"): re-inspected before applying. */
  dependsOn?: StepId[];
  /** The object exists but differs from what it should be (for `status`: drifted rather than missing). */
  drift?: boolean;
}

/** What a step reports once its ops were applied. */
export interface Applied {
  summary: string;
  details?: Record<string, unknown>;
}

/**
 * What `apply` gets besides its op: the mutating calls, where to show progress, and what the earlier ops of
 * the same step produced (in plan order), e.g. the id of the user an earlier `create-user` op created.
 */
export interface ApplyScope<Done> {
  writes: Writes;
  progress: Progress;
  applied: readonly Done[];
}

/**
 * What later steps receive from an earlier one in the same run. `pending` while its ops are still to be
 * applied: the output then holds what was known when it was inspected (Terraform's "known after apply").
 */
export interface UpstreamEntry<Output> {
  pending: boolean;
  output: Output;
}

/** The outputs of the earlier steps of the run; a step that is not in the run has none. */
export interface Upstream {
  get<K extends keyof StepOutputs>(id: K): UpstreamEntry<StepOutputs[K]> | undefined;
  pending(id: StepId): boolean;
}

export interface Step<State, Op, Output = undefined, Done = unknown> {
  id: StepId;
  title: string;
  /**
   * The earlier steps of a run that must have ended before this one applies (those not in the run are
   * ignored). Without it, all earlier steps: a step runs alongside others only when it says so.
   */
  after?: StepId[];
  /**
   * Starts, in the background, the reads `inspect` will make that need nothing from earlier steps, so that
   * independent reads overlap while the steps are inspected one after another (`Reads.once` shares them).
   */
  prefetch?(reads: Reads): void;
  /**
   * Its ops do not depend on each other: the runner applies them all at once, so that their round trips
   * overlap (each still reports in plan order). Without it, one after another.
   */
  independentOps?: boolean;
  inspect(reads: Reads, upstream: Upstream): Promise<State>;
  plan(state: State): StepPlan<Op>;
  /** The one place an op becomes a human line: the confirmation list, --dry-run and the JSON `changes`. */
  describe(op: Op): Change;
  apply(op: Op, scope: ApplyScope<Done>): Promise<Done>;
  /** The step's result line, from its state and what its ops produced (in plan order). */
  summarize(state: State, applied: readonly Done[]): Applied;
  /** What later steps receive; with `applied` empty, what is known before (or without) applying. */
  output(state: State, applied: readonly Done[]): Output;
}

/** A step whose types the runner does not need to know. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStep = Step<any, any, any, any>;

/** The solution package, once read or downloaded (undefined while it is still to be downloaded). */
export interface SolutionOutput {
  solution: SolutionPackage | undefined;
}

/** The Lead Writer role's copies as the import left them (undefined: not read again after an import). */
export interface ImportOutput {
  leadWriterRoles: RoleRow[] | undefined;
}

/** The service user: found, created, or (pending) still to be created with this UPN. */
export interface ServiceUserOutput {
  identity: "user";
  userPrincipalName: string;
  user: GraphUser | undefined;
  /** A password set in this run: shown once, in the final summary. */
  generatedPassword?: string;
  /** The ledger says an earlier run set the password and never showed it. */
  neverShown: boolean;
}

/** A client secret generated in this run, with its key id and expiry: shown once, in the final summary. */
export interface GeneratedSecret {
  keyId: string;
  secretText: string;
  endDateTime: string;
}

/** The app identity: found, or (pending) to be created with this name. */
export interface ServiceAppOutput {
  identity: "app";
  displayName: string;
  application: GraphApplication | undefined;
  applicationUser: SystemUserRow | undefined;
  directoryId: string;
  generatedSecret?: GeneratedSecret;
  /** The ledger says a secret this tool added to the app was never shown. */
  neverShown: boolean;
}

export type ServiceIdentityOutput = ServiceUserOutput | ServiceAppOutput;

/** connect-offer's plan per offer and how its configure job ended (undefined: none ended in this run). */
export interface ConnectOfferOutput {
  offers: OfferDecision[];
  job: ConfigureJobEnd | undefined;
}

/** What each step hands on. */
export interface StepOutputs {
  "download-solution": SolutionOutput;
  "import-solution": ImportOutput;
  "create-user": ServiceUserOutput;
  "create-app": ServiceAppOutput;
  "reset-password": ServiceIdentityOutput;
  "assign-role": undefined;
  "patch-role": undefined;
  verify: undefined;
  "connect-offer": ConnectOfferOutput;
  "retire-secrets": undefined;
  teardown: undefined;
}

export interface StepResult {
  id: StepId;
  status: StepStatus;
  summary: string;
  changes: Change[];
  details?: Record<string, unknown>;
  drift?: boolean;
}

/** "created x, assigned y" → "Created x, assigned y". */
export function sentence(parts: readonly (string | undefined)[]): string {
  const text = parts.filter(Boolean).join(", ");
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

/** A value a pending plan could not know yet; applying an op that still lacks it is a bug of the runner. */
export function known<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not known: the plan should have been re-inspected before applying.`);
  return value;
}
