import { HttpFailure } from "../services/http.js";
import { ServiceError } from "../services/service-error.js";

/**
 * The one recovery path for writes whose outcome can be unknown (POST /users, POST /applications,
 * ImportSolutionAsync, the application user): such a write is never resent blindly (reference:
 * graph-and-msal §A.11, dataverse §7: a 5xx or a dropped connection may follow a write that was applied).
 * After an unknown outcome the tenant is looked at first; only when the write left nothing is it sent again.
 * The HTTP layer's retry policy has already handled refusals (429, "not replicated yet"); this adds no
 * schedule of its own: a lost write is looked for at once, and sent again at once.
 */

/** Whether a write may have been applied although no answer said so (a dropped connection, a 5xx). */
export function outcomeUnknown(error: unknown): boolean {
  return error instanceof HttpFailure || (error instanceof ServiceError && error.status >= 500);
}

export interface WriteOnce<T> {
  send: () => Promise<T>;
  /** What a write whose answer was lost left behind, if anything. */
  lookFor: () => Promise<T | undefined>;
  /** Sends at most this many times (default 3). */
  attempts?: number;
  /** Says that a lost write is being sent again. */
  trace?: (line: string) => void;
}

/** The write's result: its own answer (`answered`), or what a lost attempt left in the tenant (`found`). */
export async function writeOnce<T>(write: WriteOnce<T>): Promise<{ value: T; how: "answered" | "found" }> {
  const attempts = write.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await write.send(), how: "answered" };
    } catch (error) {
      if (!outcomeUnknown(error)) throw error;
      const found = await write.lookFor();
      if (found !== undefined) return { value: found, how: "found" };
      if (attempt >= attempts) throw error;
      write.trace?.(`the write failed without taking effect (${(error as Error).message}); sending it again`);
    }
  }
}
