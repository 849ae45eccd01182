import { describe, expect, it } from "vitest";
import { PassThrough, Readable } from "node:stream";
import { connectTenant } from "../../src/context.js";
import { IO } from "../../src/io.js";
import { OPTION_SPECS, resolveOptions } from "../../src/options.js";
import { freshTenants } from "../helpers.js";

/**
 * Token requests run one at a time (an interactive sign-in must not start twice), but a call that needs a
 * token already being fetched shares that fetch: it does not queue behind another resource's token.
 */
const fresh = freshTenants();

describe("the token provider", () => {
  it("hands a resource's token to every caller waiting for it, without waiting for the next resource's", async () => {
    const { env, sandbox } = await fresh();
    const streams = { stdin: Readable.from([]), stdout: new PassThrough(), stderr: new PassThrough(), env };
    const io = new IO(streams, { json: true, verbose: false, colorFlag: false, yes: true });
    const parsed = { sandbox: true, auth: "device-code", yes: true };
    const options = resolveOptions(
      OPTION_SPECS.map((spec) => spec.key),
      parsed,
      (key) => (key in parsed ? "cli" : undefined),
      env,
    );
    const context = await connectTenant("init", options, io, new AbortController().signal);
    try {
      const { tokens, orgUrl, cloud } = await context.tenant();
      const tokenRequests = () => sandbox.requests.filter((r) => r.path.split("?")[0]!.endsWith("/oauth2/v2.0/token")).length;
      const first = tokens.getAccessToken(orgUrl);
      const graph = tokens.getAccessToken(cloud.graphEndpoint);
      const again = tokens.getAccessToken(orgUrl);
      await again;
      // Only the Dynamics token's own request has reached Entra: the Graph token is fetched after it.
      expect(tokenRequests()).toBe(1);
      expect(await first).toBe(await again);
      await graph;
    } finally {
      await context.close();
    }
  });
});
