/**
 * The one place where exit codes live (SPEC §3). Every failure the CLI reports is a CliError carrying a
 * stable kebab-case code, a message that names the input or the call, and a hint that says what to do.
 */

export const ExitCode = {
  Ok: 0,
  StepFailed: 1,
  Usage: 2,
  SignIn: 3,
  TenantNotReady: 4,
  TimedOut: 5,
  ChangesPending: 10,
  Interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Rendered verbatim in `--help`; kept beside the table so the two cannot drift. */
export const EXIT_CODE_HELP: ReadonlyArray<readonly [ExitCodeValue, string]> = [
  [ExitCode.Ok, "success (a dry-run included)"],
  [
    ExitCode.StepFailed,
    "a step failed (an API error that is not one of the cases below), a host could not be reached (the message names it and the cause: DNS, refused, TLS, proxy, timeout), or the confirmation was declined (nothing was changed)",
  ],
  [
    ExitCode.Usage,
    "usage or input error: bad flag value, unreadable or invalid file, a missing answer with no terminal; nothing was changed",
  ],
  [ExitCode.SignIn, "sign-in or consent failed (AADSTS…), with the code explained"],
  [
    ExitCode.TenantNotReady,
    "the tenant is not ready (no free seat, role missing, admin lacks a role); nothing was changed by the failing step",
  ],
  [ExitCode.TimedOut, "timed out waiting while the remote operation goes on; re-running resumes"],
  [ExitCode.ChangesPending, "only with --detailed-exitcode on --dry-run or status: changes are pending"],
  [ExitCode.Interrupted, "interrupted (Ctrl+C): what was done is reported, re-running resumes"],
];

export interface ErrorDetails {
  /** Stable identifier for scripts (`--json` carries it), e.g. `org-url-not-https`. */
  code: string;
  message: string;
  hint?: string;
  cause?: unknown;
  /** Facts about the failure for the failed step's `details` in `--json` (e.g. the failing components). */
  details?: Record<string, unknown>;
}

export class CliError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCodeValue;
  readonly details: Record<string, unknown> | undefined;

  constructor(exitCode: ExitCodeValue, details: ErrorDetails) {
    super(details.message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = details.code;
    this.hint = details.hint;
    this.exitCode = exitCode;
    this.details = details.details;
  }

  toJSON(): { code: string; message: string; hint: string | null } {
    return { code: this.code, message: this.message, hint: this.hint ?? null };
  }
}

/** Bad flag, environment value, answer or file. Raised before anything in the tenant changes. */
export class UsageError extends CliError {
  constructor(details: ErrorDetails) {
    super(ExitCode.Usage, details);
  }
}

/** Sign-in or consent failed. */
export class SignInError extends CliError {
  readonly aadsts: number | undefined;
  constructor(details: ErrorDetails & { aadsts?: number }) {
    super(ExitCode.SignIn, details);
    this.aadsts = details.aadsts;
  }
}

/** The tenant lacks something the step needs (seat, role, admin right), found while planning. */
export class TenantNotReadyError extends CliError {
  constructor(details: ErrorDetails) {
    super(ExitCode.TenantNotReady, details);
  }
}

/** A wait ran out while the remote operation continues; a re-run resumes it. */
export class StillRunningError extends CliError {
  constructor(details: ErrorDetails) {
    super(ExitCode.TimedOut, details);
  }
}

/** A step failed for a reason that is none of the above (an API error, a network failure). */
export class StepFailedError extends CliError {
  constructor(details: ErrorDetails) {
    super(ExitCode.StepFailed, details);
  }
}

export class InterruptedError extends CliError {
  constructor(message = "Interrupted.") {
    super(ExitCode.Interrupted, { code: "interrupted", message, hint: "Re-run the same command to resume." });
  }
}

/**
 * A failure that belongs to the whole command rather than to the step that happened to be inspecting: the
 * sign-in, or a host that could not be reached (`network-…`). While planning it is reported as the
 * command's error, never as a failed step (no step had started).
 */
export function belongsToCommand(error: CliError): boolean {
  return error instanceof SignInError || error.code.startsWith("network-");
}

/** Any unexpected exception becomes a step failure with its message; never a stack trace on screen. */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StepFailedError({ code: "unexpected-error", message, cause: error });
}
