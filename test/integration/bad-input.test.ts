import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AdmZip from "adm-zip";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/server.js";
import { buildSandboxSolutionZip } from "../../src/sandbox/solution-zip.js";
import { sandboxFor, tempHome } from "../helpers.js";
import { runInProcess } from "../in-process.js";
import { VirtualClock } from "../virtual-clock.js";

/**
 * Bad input exits 2 before any change (SPEC §3), in-process: nothing here needs a process of its own.
 * (Moved from test/e2e/bad-input.test.ts with every assertion kept; the --json error document, read from a
 * real process's stdout, stays there.)
 */
const { env } = tempHome();
const clock = new VirtualClock();
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await sandboxFor(env, { clock });
});
afterAll(() => sandbox.close());

const runCli = (args: string[], environment: NodeJS.ProcessEnv) => runInProcess(args, environment, { clock });

describe("bad input exits 2, names the input and the fix, and touches no tenant", () => {
  it.each([
    [
      ["--org-url", "http://contoso.crm.dynamics.com"],
      /--org-url "http:\/\/contoso\.crm\.dynamics\.com" uses http/,
      /Use https:\/\/contoso\.crm\.dynamics\.com/,
    ],
    [
      ["--org-url", "https://contoso.crm4.dynamics.com", "--cloud", "gcchigh"],
      /belongs to the public cloud, but --cloud is gcchigh/,
      /Drop --cloud/,
    ],
    [["--org-url", "https://contoso.example.com"], /is not a Dynamics 365 environment host/, /Power Platform admin center/],
    [["--cloud", "azure-germany"], /--cloud "azure-germany" is not a cloud this tool knows/, /public, gcc, gcchigh, dod, china, custom/],
    [["--cloud", "custom"], /--cloud custom needs --authority-host and --graph-endpoint/, /--authority-host https:/],
    [
      ["--auth", "client-secret", "--tenant", "contoso.onmicrosoft.com", "--client-id", "11111111-2222-3333-4444-555555555555"],
      /reads the secret from CRM_LEAD_SETUP_CLIENT_SECRET, which is not set/,
      /never on the command line/,
    ],
    [
      [
        "--auth",
        "client-certificate",
        "--tenant",
        "contoso.com",
        "--client-id",
        "11111111-2222-3333-4444-555555555555",
        "--client-certificate",
        "/nonexistent.pem",
      ],
      /--client-certificate \/nonexistent\.pem cannot be read/,
      /PEM file/,
    ],
    [["--client-id", "not-a-guid"], /--client-id "not-a-guid" is not a GUID/, /xxxxxxxx-/],
    [["--sandbox", "--org-url", "https://contoso.crm.dynamics.com"], /--sandbox cannot be combined with --org-url/, /Drop --org-url/],
  ])("%j", async (args, message, hint) => {
    const run = await runCli(["status", ...args], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(hint);
    expect(run.stdout).toBe("");
  });

  it("names the environment variable when it is the bad input", async () => {
    const run = await runCli(["status"], { ...env, CRM_LEAD_SETUP_ORG_URL: "ftp://contoso.crm.dynamics.com" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/CRM_LEAD_SETUP_ORG_URL|--org-url "ftp:/);
  });

  const dir = mkdtempSync(join(tmpdir(), "cls-bad-zips-"));
  const file = (name: string, bytes: Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  const noManifest = new AdmZip();
  noManifest.addFile("readme.txt", Buffer.from("hello"));
  const bomb = new AdmZip(buildSandboxSolutionZip());
  bomb.addFile("bomb.bin", Buffer.alloc(16 * 1024 * 1024));
  const xxe = new AdmZip(buildSandboxSolutionZip());
  xxe.addFile(
    "solution.xml",
    Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ImportExportXml>&e;</ImportExportXml>'),
  );

  it.each([
    ["random.zip", Buffer.from("definitely not a zip file"), /not a zip file/],
    ["empty.zip", Buffer.alloc(0), /the file is empty/],
    ["no-manifest.zip", noManifest.toBuffer(), /no solution\.xml/],
    ["unmanaged.zip", buildSandboxSolutionZip({ managed: false }), /is an unmanaged solution/],
    ["bomb.zip", bomb.toBuffer(), /zip bomb/],
    ["xxe.zip", xxe.toBuffer(), /DTD or entities/],
  ])("refuses --solution-file %s", async (name, bytes, reason) => {
    sandbox.clearRequests();
    const path = file(name, bytes);
    const run = await runCli(["download-solution", "--sandbox", "--solution-file", path], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(path);
    expect(run.stderr).toMatch(reason);
    expect(run.stderr).toMatch(/Hint: /);
    expect(sandbox.requests).toEqual([]);
  });

  it("warns when a managed --solution-file is not the Lead Writer, naming the roles it holds (issue 11 §10)", async () => {
    const other = new AdmZip(buildSandboxSolutionZip());
    other.addFile(
      "customizations.xml",
      Buffer.from(
        '<?xml version="1.0" encoding="utf-8"?><ImportExportXml><Roles><Role id="{6f1e2a3b-0000-4000-8000-000000000001}" name="Contoso Sales Manager"><RolePrivileges /></Role></Roles></ImportExportXml>',
      ),
    );
    const run = await runCli(["download-solution", "--sandbox", "--solution-file", file("other.zip", other.toBuffer())], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /Warning: CrmLeadSetupSandboxLeadWriter 1\.0\.0\.0 does not look like the Lead Writer solution: it has no "Microsoft Marketplace Lead Writer" role \(it defines "Contoso Sales Manager"\)/,
    );
  });

  it("accepts a valid --solution-file as unchanged", async () => {
    const run = await runCli(
      ["download-solution", "--sandbox", "--json", "--solution-file", file("good.zip", buildSandboxSolutionZip())],
      env,
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).steps[0]).toMatchObject({ status: "unchanged", details: { solution: { source: "file" } } });
  });
});
