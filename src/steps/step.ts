import type { CommandContext } from "../context.js";

/**
 * Every step is inspect (reads only) → plan (pure: what would change) → apply (exactly the planned
 * changes). `--dry-run` and `status` stop after the plan; a re-run after success plans nothing.
 */

export type StepId = "download-solution" | "import-solution" | "create-user" | "assign-role" | "patch-role";
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
}

export interface Applied {
  summary: string;
  details?: Record<string, unknown>;
}

export interface Step<State> {
  id: StepId;
  title: string;
  inspect(context: CommandContext): Promise<State>;
  plan(state: State): Plan;
  apply(context: CommandContext, state: State, plan: Plan): Promise<Applied>;
}

export interface StepResult {
  id: StepId;
  status: StepStatus;
  summary: string;
  changes: Change[];
  details?: Record<string, unknown>;
}
