import { afterEach, describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/server.js";
import { runCli, sandboxFor, tempHome } from "../helpers.js";

/**
 * `verify` as the service user when the admin signed in with a confidential client (issue 10 point 1):
 * the user's password grant must not go out with the admin app's id and no credential, which Entra
 * refuses (AADSTS7000218). The admin's own app registration is named explicitly, as in a CI pipeline.
 */
const sandboxes: Sandbox[] = [];
afterEach(async () => {
  for (const sandbox of sandboxes.splice(0)) await sandbox.close();
});

describe("verify with --auth client-secret", () => {
  it("signs the service user in and writes the test lead", async () => {
    const { env } = tempHome();
    const sandbox = await sandboxFor(env);
    sandboxes.push(sandbox);
    const ci = { ...env, CRM_LEAD_SETUP_CLIENT_SECRET: sandbox.connection.automationClientSecret };
    const admin = ["--sandbox", "--yes", "--auth", "client-secret", "--client-id", sandbox.connection.automationClientId, "--tenant", sandbox.connection.tenantId];

    const init = await runCli(["init", ...admin, "--json"], ci);
    expect(init.code).toBe(0);
    const password = JSON.parse(init.stdout).partnerCenter.password as string;

    sandbox.clearRequests();
    const verify = await runCli(["verify", ...admin, "--json"], { ...ci, CRM_LEAD_SETUP_SERVICE_PASSWORD: password });
    const result = JSON.parse(verify.stdout);
    expect(result.error).toBeNull();
    expect(verify.code).toBe(0);
    expect(result.steps.find((s: { id: string }) => s.id === "verify").summary).toMatch(/wrote lead MSFT_TEST_\d+/);
    const lead = sandbox.requests.find((r) => r.service === "dataverse" && r.method === "POST" && r.path.includes("/leads"));
    expect(lead?.status).toBe(201);
    expect(verify.stdout + verify.stderr).not.toContain(password);
  });
});
