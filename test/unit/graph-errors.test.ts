import { describe, expect, it } from "vitest";
import { SignInError } from "../../src/errors.js";
import { Redactor } from "../../src/redact.js";
import { GraphApi } from "../../src/services/graph.js";
import { HttpClient, HttpFailure } from "../../src/services/http.js";

/**
 * The Graph SDK wraps whatever its middleware throws into GraphError(-1, code = the class name): the
 * wizard once said "GET /organization failed: -1 SignInError". What was thrown below comes out unchanged.
 */
describe("GraphApi reports failures below the SDK as they were raised", () => {
  it.each([
    [
      "a host that could not be reached",
      new HttpFailure(
        { method: "GET", url: "https://login.nowhere.invalid/x" },
        "Could not reach login.nowhere.invalid: connection failed (ENOTFOUND: getaddrinfo ENOTFOUND login.nowhere.invalid).",
        undefined,
        "ENOTFOUND",
      ),
    ],
    ["a sign-in failure", new SignInError({ code: "aadsts-50076", message: "AADSTS50076: MFA required." })],
  ])("%s", async (_what, thrown) => {
    const http = new HttpClient({ redactor: new Redactor() });
    const graph = new GraphApi(http, "https://graph.nowhere.invalid", {
      getAccessToken: () => Promise.reject(thrown),
      account: () => undefined,
    });
    const failure = await graph.get("/organization").catch((error: unknown) => error);
    expect(failure).toBe(thrown);
    await http.close();
  });
});
