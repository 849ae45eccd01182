import { afterEach, describe, expect, it } from "vitest";
import { freshVirtualTenants } from "../in-process.js";
import { SANDBOX_OFFERS } from "../../src/sandbox/server.js";

/**
 * Every request in flight listens to the run's AbortSignal (Ctrl+C ends it at once). A user-identity
 * `init --offer` has more than ten of them at a time, and Node then printed, on a real run's stderr,
 * "MaxListenersExceededWarning: Possible EventTarget memory leak detected. 11 abort listeners added to
 * [AbortSignal]" — a warning the admin cannot act on, and a false alarm: the listeners are removed when
 * each request ends.
 */
const fresh = freshVirtualTenants();
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);
afterEach(() => {
  process.off("warning", onWarning);
  warnings.length = 0;
});

describe("the run's AbortSignal", () => {
  it("carries as many listeners as requests in flight without Node's leak warning (user init --offer)", async () => {
    process.on("warning", onWarning);
    const { run } = await fresh({ scenario: { partnerCenterPollSeconds: 0 } });
    const result = await run([
      "init",
      "--sandbox",
      "--auth",
      "client-secret",
      "--yes",
      "--json",
      "--offer",
      SANDBOX_OFFERS.saas,
      "--usage-location",
      "US",
    ]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    // Node emits the warning on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message)).toEqual([]);
  });
});
