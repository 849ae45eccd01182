import { describe, expect, it } from "vitest";
import { freshVirtualTenants } from "../in-process.js";
import { SANDBOX_OFFERS, type Sandbox } from "../../src/sandbox/server.js";

/**
 * connect-offer and `init --offer` (SPEC §7) against the sandbox's Product Ingestion API, in-process on a
 * virtual clock: the lead destination written into the offer's draft, one configure job for all offers,
 * every outcome with its exit code, and a re-run that resumes a running job instead of posting another.
 */
const fresh = freshVirtualTenants();

const ingestion = (sandbox: Sandbox) => sandbox.requests.filter((r) => r.path.startsWith("/rp/product-ingestion"));
const configurePosts = (sandbox: Sandbox) => ingestion(sandbox).filter((r) => r.method === "POST");
const APP = ["--sandbox", "--identity", "app", "--auth", "client-secret"];

describe("init --offer and connect-offer, in-process", () => {
  it("init --yes --identity app --offer sets the offer's lead destination; a second run changes nothing", async () => {
    const { sandbox, run } = await fresh({ scenario: { partnerCenterPollSeconds: 0 } });
    const before = sandbox.requests.length;
    const first = await run(["init", ...APP, "--yes", "--json", "--offer", SANDBOX_OFFERS.saas]);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: "" });
    const document = first.json as {
      steps: { id: string; status: string; changes: { target: string }[] }[];
      partnerCenter: { applicationId: string; directoryId: string; clientSecret: string; offers: unknown[] };
    };
    const { applicationId, directoryId, clientSecret, offers } = document.partnerCenter;
    const draft = sandbox.partnerCenter.offer(SANDBOX_OFFERS.saas).draftLeads;
    expect(draft.leadDestination).toBe("dynamics");
    expect(draft.dynamicsLeadConfiguration).toMatchObject({
      instanceUrl: sandbox.connection.orgUrl,
      authentication: "azureAD",
      applicationId,
      directoryId,
      applicationKey: clientSecret,
    });
    expect(offers).toEqual([
      {
        offerId: SANDBOX_OFFERS.saas,
        productId: `product/${sandbox.partnerCenter.offer(SANDBOX_OFFERS.saas).guid}`,
        status: "done",
        target: "draft",
      },
    ]);
    expect(configurePosts(sandbox)).toHaveLength(1);
    // The secret is never in a plan line or a step line: only in the partnerCenter values.
    expect(JSON.stringify(document.steps)).not.toContain(clientSecret);
    const added = ingestion(sandbox).map((r) => `${r.method} ${r.path.split("?")[0]!.replace(/[0-9a-f-]{36}/g, "<id>")}`);
    console.info(
      `init --offer added ${added.length} Product Ingestion requests (of ${sandbox.requests.length - before}): ${added.join(", ")}`,
    );

    const second = await run(["init", ...APP, "--yes", "--json", "--offer", SANDBOX_OFFERS.saas]);
    expect(second.code).toBe(0);
    const again = second.json as { steps: { id: string; status: string }[]; partnerCenter: { offers: { status: string }[] } };
    expect(again.steps.find((s) => s.id === "connect-offer")?.status).toBe("unchanged");
    expect(again.partnerCenter.offers.map((o) => o.status)).toEqual(["unchanged"]);
    expect(configurePosts(sandbox)).toHaveLength(1);
  });

  it("the user identity: office365 with the user name and the password this run generated", async () => {
    const { sandbox, run } = await fresh({ scenario: { partnerCenterPollSeconds: 0 } });
    const result = await run(["init", "--sandbox", "--auth", "client-secret", "--yes", "--json", "--offer", SANDBOX_OFFERS.dynamics]);
    expect(result.code).toBe(0);
    const { userName, password } = (result.json as { partnerCenter: { userName: string; password: string } }).partnerCenter;
    expect(sandbox.partnerCenter.offer(SANDBOX_OFFERS.dynamics).draftLeads).toEqual({
      leadDestination: "dynamics",
      dynamicsLeadConfiguration: { instanceUrl: sandbox.connection.orgUrl, authentication: "office365", username: userName, password },
    });
  });

  it("--dry-run sends only GETs to Partner Center and names the fields that will change, secret masked", async () => {
    const { sandbox, run } = await fresh();
    const dry = await run(["init", ...APP, "--dry-run", "--json", "--offer", SANDBOX_OFFERS.saas]);
    expect(dry.code).toBe(0);
    expect(ingestion(sandbox).length).toBeGreaterThan(0);
    expect(ingestion(sandbox).filter((r) => r.method !== "GET")).toEqual([]);
    const step = (dry.json as { steps: { id: string; status: string; changes: { target: string }[] }[] }).steps.find(
      (s) => s.id === "connect-offer",
    )!;
    expect(step.status).toBe("planned");
    const line = step.changes[0]!.target;
    expect(line).toContain(`offer ${SANDBOX_OFFERS.saas}`);
    expect(line).toContain("leadDestination httpsEndpoint → dynamics");
    expect(line).toContain(`instanceUrl ${sandbox.connection.orgUrl}`);
    expect(line).toContain("applicationKey (new value, hidden)");
    expect((dry.json as { partnerCenter: { offers: { status: string }[] } }).partnerCenter.offers[0]!.status).toBe("planned");
  });

  it("an unknown offer is exit 2 before anything changes anywhere, naming the offers the account can see", async () => {
    const { sandbox, run } = await fresh();
    const result = await run(["init", ...APP, "--yes", "--json", "--offer", "no-such-offer"]);
    expect(result.code).toBe(2);
    expect((result.json as { error: { message: string } }).error.message).toContain(SANDBOX_OFFERS.saas);
    expect(sandbox.mutatingRequests()).toEqual([]);
    expect(configurePosts(sandbox)).toEqual([]);
  });

  it("no Partner Center role is exit 4 before any change, naming User management and Manager", async () => {
    const { sandbox, run } = await fresh({ scenario: { partnerCenterRole: "none" } });
    const result = await run(["init", ...APP, "--yes", "--json", "--offer", SANDBOX_OFFERS.saas]);
    expect(result.code).toBe(4);
    expect((result.json as { error: { hint: string } }).error.hint).toMatch(/User management.*Manager/);
    expect(sandbox.mutatingRequests()).toEqual([]);
  });

  it("an offer being published is exit 5 (productLocked) and reported failed", async () => {
    const { sandbox, run } = await fresh({ scenario: { partnerCenterPollSeconds: 0 } });
    const result = await run(["init", ...APP, "--yes", "--json", "--offer", SANDBOX_OFFERS.publishing]);
    expect(result.code).toBe(5);
    const document = result.json as { error: { code: string }; partnerCenter: { offers: { status: string }[] } };
    expect(document.error.code).toBe("partner-center-offer-locked");
    expect(document.partnerCenter.offers.map((o) => o.status)).toEqual(["failed"]);
  });

  it("a failed job is exit 1 naming the offer and the error; a timeout is exit 5 and the re-run resumes that job (no other POST)", async () => {
    const {
      sandbox,
      run,
      cli,
      env: home,
    } = await fresh({ scenario: { partnerCenterPollSeconds: 0, partnerCenterNotSupportedTypes: ["dynamics365ForCustomerEngagement"] } });
    const failed = await run(["init", ...APP, "--yes", "--json", "--offer", `${SANDBOX_OFFERS.saas},${SANDBOX_OFFERS.dynamics}`]);
    expect(failed.code).toBe(1);
    const document = failed.json as { error: { message: string }; partnerCenter: { offers: { offerId: string; status: string }[] } };
    expect(document.error.message).toContain(`offer ${SANDBOX_OFFERS.dynamics}: notSupported`);
    expect(document.partnerCenter.offers).toEqual([
      expect.objectContaining({ offerId: SANDBOX_OFFERS.saas, status: "done" }),
      expect.objectContaining({ offerId: SANDBOX_OFFERS.dynamics, status: "failed" }),
    ]);
    expect(configurePosts(sandbox)).toHaveLength(1);

    sandbox.state.scenario.partnerCenterRunningPolls = 1000;
    sandbox.state.scenario.partnerCenterPollSeconds = 30;
    const secret = (failed.json as { partnerCenter: { clientSecret: string } }).partnerCenter.clientSecret;
    const env = { ...home, CRM_LEAD_SETUP_SERVICE_SECRET: secret };
    const args = [
      "connect-offer",
      ...APP,
      "--yes",
      "--json",
      "--offer",
      SANDBOX_OFFERS.saas,
      "--contact-email",
      "leads@contoso.com",
      "--sync-timeout",
      "60",
    ];
    const timedOut = await cli(args, env);
    expect(timedOut.code).toBe(5);
    expect((timedOut.json as { error: { code: string } }).error.code).toBe("partner-center-job-running");
    expect(configurePosts(sandbox)).toHaveLength(2);

    // Still running when the re-run looks (one more poll), done at the poll after.
    const running = [...sandbox.partnerCenter.jobs.values()].at(-1)!;
    expect(running.jobStatus).toBe("running");
    sandbox.state.scenario.partnerCenterRunningPolls = running.statusPolls + 1;
    sandbox.state.scenario.partnerCenterPollSeconds = 0;
    const resumed = await cli(args, env);
    expect(resumed.code).toBe(0);
    const step = (resumed.json as { steps: { id: string; changes: { action: string }[] }[] }).steps.find((s) => s.id === "connect-offer")!;
    expect(step.changes[0]!.action).toBe("wait");
    expect(configurePosts(sandbox)).toHaveLength(2);
    expect(sandbox.partnerCenter.offer(SANDBOX_OFFERS.saas).draftLeads.dynamicsLeadConfiguration).toMatchObject({
      contactEmail: ["leads@contoso.com"],
    });
  });

  it("Ctrl+C while the job runs is exit 130 and keeps the job; the re-run waits for it instead of posting another", async () => {
    const { sandbox, run } = await fresh({ scenario: { partnerCenterPollSeconds: 0, partnerCenterRunningPolls: 1000 } });
    let interrupt = () => undefined as void;
    const stop = sandbox.onRequest((entry) => {
      if (entry.method === "GET" && /\/configure\/[^/]+\/status/.test(entry.path)) interrupt();
    });
    const stopped = await run(["init", ...APP, "--yes", "--json", "--offer", SANDBOX_OFFERS.dynamics], {
      onStart: (controls) => (interrupt = controls.interrupt),
    });
    stop();
    expect(stopped.code).toBe(130);
    expect(configurePosts(sandbox)).toHaveLength(1);
    const job = [...sandbox.partnerCenter.jobs.values()][0]!;
    sandbox.state.scenario.partnerCenterRunningPolls = job.statusPolls + 1;
    const resumed = await run(["init", ...APP, "--yes", "--json", "--offer", SANDBOX_OFFERS.dynamics]);
    expect(resumed.code).toBe(0);
    const step = (resumed.json as { steps: { id: string; changes: { action: string }[] }[] }).steps.find((s) => s.id === "connect-offer")!;
    expect(step.changes.map((c) => c.action)).toEqual(["wait"]);
    expect(configurePosts(sandbox)).toHaveLength(1);
    expect(sandbox.partnerCenter.offer(SANDBOX_OFFERS.dynamics).draftLeads.leadDestination).toBe("dynamics");
  });

  it("connect-offer without a secret from this run or its sources is exit 2 naming them and reset-password --offer", async () => {
    const { sandbox, run } = await fresh({ scenario: { partnerCenterPollSeconds: 0 } });
    expect((await run(["init", ...APP, "--yes"])).code).toBe(0);
    const result = await run(["connect-offer", ...APP, "--yes", "--json", "--offer", SANDBOX_OFFERS.saas]);
    expect(result.code).toBe(2);
    const error = (result.json as { error: { message: string; hint: string } }).error;
    expect(error.hint).toContain("CRM_LEAD_SETUP_SERVICE_SECRET");
    expect(error.hint).toContain("--secret-stdin");
    expect(error.hint).toMatch(/`\S*crm-lead-setup reset-password --sandbox .*--identity app .*--offer contoso-lead-saas`/);
    expect(configurePosts(sandbox)).toEqual([]);
  });

  it("--partner-center-tenant signs in to that tenant for Partner Center (its own authority), before any change", async () => {
    const { sandbox, run } = await fresh({ scenario: { partnerCenterPollSeconds: 0 } });
    const authorities = () => new Set(sandbox.requests.filter((r) => r.service === "entra").map((r) => r.path.split("/")[1]));
    const same = await run([
      "init",
      ...APP,
      "--dry-run",
      "--json",
      "--offer",
      SANDBOX_OFFERS.saas,
      "--partner-center-tenant",
      sandbox.connection.tenantId,
    ]);
    expect(same.code).toBe(0);
    expect([...authorities()]).toEqual([sandbox.connection.tenantId]);
    const other = await run([
      "init",
      ...APP,
      "--yes",
      "--json",
      "--offer",
      SANDBOX_OFFERS.saas,
      "--partner-center-tenant",
      "fabrikam.onmicrosoft.com",
    ]);
    // The sandbox knows no such tenant: Entra's own refusal (AADSTS90002), exit 3, nothing changed.
    expect(authorities()).toContain("fabrikam.onmicrosoft.com");
    expect((other.json as { error: { code: string } }).error.code).toBe("aadsts-90002");
    expect(other.code).toBe(3);
    expect(sandbox.mutatingRequests()).toEqual([]);
  });

  it("--offer with --cloud gcchigh is exit 2 before signing in", async () => {
    const { run } = await fresh();
    const result = await run([
      "connect-offer",
      "--org-url",
      "https://contoso.crm.microsoftdynamics.us",
      "--cloud",
      "gcchigh",
      "--offer",
      SANDBOX_OFFERS.saas,
      "--json",
    ]);
    expect(result.code).toBe(2);
    expect((result.json as { error: { code: string } }).error.code).toBe("partner-center-cloud-unsupported");
  });
});
