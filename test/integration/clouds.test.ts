import { describe, expect, it } from "vitest";
import type { SandboxCloud } from "../../src/sandbox/server.js";
import { expectConfigured, passwordSignIn, printedPassword } from "../helpers.js";
import { freshVirtualTenants } from "../in-process.js";

/**
 * Sovereign clouds (issue 5): the sandbox poses as each cloud's real hosts (its own list, independent of
 * the CLI's table), and the whole wizard runs through the CLI's cloud table and org-URL rules, as against
 * a real tenant of that cloud. Every request must reach the host the cloud uses for that service.
 * In-process on a virtual clock. (Moved from test/e2e/clouds.test.ts with every assertion kept.)
 */
const fresh = freshVirtualTenants();

const EXPECTED_HOSTS: Record<SandboxCloud, Record<string, string>> = {
  public: {
    entra: "login.microsoftonline.com",
    graph: "graph.microsoft.com",
    dataverse: "contoso.crm4.dynamics.com",
    bap: "api.bap.microsoft.com",
  },
  gcc: {
    entra: "login.microsoftonline.com",
    graph: "graph.microsoft.com",
    dataverse: "agency.crm9.dynamics.com",
    bap: "gov.api.bap.microsoft.us",
  },
  gcchigh: {
    entra: "login.microsoftonline.us",
    graph: "graph.microsoft.us",
    dataverse: "agency.crm.microsoftdynamics.us",
    bap: "high.api.bap.microsoft.us",
  },
  dod: {
    entra: "login.microsoftonline.us",
    graph: "dod-graph.microsoft.us",
    dataverse: "agency.crm.appsplatform.us",
    bap: "api.bap.appsplatform.us",
  },
  china: {
    entra: "login.chinacloudapi.cn",
    graph: "microsoftgraph.chinacloudapi.cn",
    dataverse: "contoso.crm.dynamics.cn",
    bap: "api.bap.partner.microsoftonline.cn",
  },
};

describe("the wizard against each cloud's hosts", () => {
  it.each(Object.keys(EXPECTED_HOSTS) as SandboxCloud[])("%s", async (cloud) => {
    const { sandbox, run: cli } = await fresh({ cloud, scenario: { userSyncMs: 600_000 } });
    // Device-code sign-in through MSAL at the cloud's authority; --force-sync reaches the cloud's Power Platform API.
    const run = await cli(["init", "--sandbox", "--yes", "--force-sync"]);
    expect(run.stderr).not.toMatch(/Error:/);
    expect(run.code).toBe(0);
    const upn = "mp-leadwriter@contoso.com";
    expectConfigured(sandbox, { userName: upn });
    expect(await passwordSignIn(sandbox, upn, printedPassword(run.stdout)!)).toBe(200);
    expect(run.stdout).toContain(`│ URL             https://${EXPECTED_HOSTS[cloud].dataverse} `);
    const hostsByService = new Map<string, Set<string>>();
    for (const request of sandbox.requests) {
      if (request.service === "download") continue;
      hostsByService.set(request.service, (hostsByService.get(request.service) ?? new Set()).add(request.host));
    }
    for (const [service, host] of Object.entries(EXPECTED_HOSTS[cloud])) {
      // MSAL itself prefers login.partner.microsoftonline.cn, an alias of China's sign-in host.
      const allowed = service === "entra" && cloud === "china" ? [host, "login.partner.microsoftonline.cn"] : [host];
      const seen = [...(hostsByService.get(service) ?? [])];
      expect(seen.length).toBeGreaterThan(0);
      for (const h of seen) expect(allowed).toContain(h);
    }
  });
});
