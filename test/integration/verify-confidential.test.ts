import { describe, expect, it } from "vitest";
import { readClientCertificate } from "../../src/context.js";
import type { Sandbox } from "../../src/sandbox/server.js";
import { makeCertificate } from "../certificates.js";
import { freshVirtualTenants } from "../in-process.js";

/**
 * `verify` as the service user when the admin signed in with a confidential client (issue 10 point 1):
 * the user's password grant must not go out with the admin app's id and no credential, which Entra
 * refuses (AADSTS7000218). The admin's own app registration is named explicitly, as in a CI pipeline.
 * In-process on a virtual clock. (Moved from test/e2e/verify-confidential.test.ts with every assertion kept.)
 */
const fresh = freshVirtualTenants();

/** The admin's sign-in flags and environment for a confidential client: the sandbox's automation app. */
async function pipelineSignIn(sandbox: Sandbox, method: "client-secret" | "client-certificate", env: NodeJS.ProcessEnv) {
  const common = [
    "--sandbox",
    "--yes",
    "--auth",
    method,
    "--client-id",
    sandbox.connection.automationClientId,
    "--tenant",
    sandbox.connection.tenantId,
  ];
  if (method === "client-secret")
    return { args: common, env: { ...env, CRM_LEAD_SETUP_CLIENT_SECRET: sandbox.connection.automationClientSecret } };
  const pemPath = await makeCertificate("pipeline");
  const certificate = readClientCertificate(pemPath);
  const app = [...sandbox.state.applications.values()].find((a) => a.appId === sandbox.connection.automationClientId)!;
  app.certificates.push({ thumbprintSha256: certificate.thumbprintSha256.toUpperCase(), certPem: certificate.x5c });
  return { args: [...common, "--client-certificate", pemPath], env };
}

describe("verify when the admin signed in with a confidential client", () => {
  it.each(["client-secret", "client-certificate"] as const)(
    "--auth %s: signs the service user in and writes the test lead",
    async (method) => {
      const { env, sandbox, cli } = await fresh();
      const admin = await pipelineSignIn(sandbox, method, env);

      const init = await cli(["init", ...admin.args, "--json"], admin.env);
      expect(init.code).toBe(0);
      const password = JSON.parse(init.stdout).partnerCenter.password as string;

      sandbox.clearRequests();
      const verify = await cli(["verify", ...admin.args, "--json"], { ...admin.env, CRM_LEAD_SETUP_SERVICE_PASSWORD: password });
      const result = JSON.parse(verify.stdout);
      expect(result.error).toBeNull();
      expect(verify.code).toBe(0);
      expect(result.steps.find((s: { id: string }) => s.id === "verify").summary).toMatch(/wrote lead MSFT_TEST_\d+/);
      const lead = sandbox.requests.find((r) => r.service === "dataverse" && r.method === "POST" && r.path.includes("/leads"));
      expect(lead?.status).toBe(201);
      expect(verify.stdout + verify.stderr).not.toContain(password);
    },
  );
});
