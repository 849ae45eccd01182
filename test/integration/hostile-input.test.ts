import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
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
 * The hostile-input matrix (issue 4): every case ends with exit 2 (bad input) or 4 (tenant not ready),
 * a message that names the input, a hint that says what to do, and not one mutating request. The CLI runs
 * in-process (test/in-process.ts): bad input needs no process of its own. (Moved from test/e2e with every
 * assertion kept.)
 */
const { env } = tempHome();
const clock = new VirtualClock();
const runCli = (args: string[], runEnv: NodeJS.ProcessEnv) => runInProcess(args, runEnv, { clock });
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await sandboxFor(env, { clock });
});
afterAll(() => sandbox.close());

const dir = mkdtempSync(join(tmpdir(), "cls-hostile-"));
function zipFile(name: string, build: (zip: AdmZip) => void, base = buildSandboxSolutionZip()): string {
  const zip = new AdmZip(base);
  build(zip);
  const path = join(dir, name);
  writeFileSync(path, zip.toBuffer());
  return path;
}
function traversalZip(): string {
  const zip = new AdmZip(buildSandboxSolutionZip());
  zip.addFile("XXXXXXXXXXXXXXXX", Buffer.from("x"));
  const bytes = zip.toBuffer();
  for (let at = bytes.indexOf("XXXXXXXXXXXXXXXX"); at >= 0; at = bytes.indexOf("XXXXXXXXXXXXXXXX"))
    bytes.write("../../etc/cron.d", at, "latin1");
  const path = join(dir, "traversal.zip");
  writeFileSync(path, bytes);
  return path;
}
const oversize = join(dir, "oversize.zip");
writeFileSync(oversize, "");
truncateSync(oversize, 64 * 1024 * 1024);
const randomBytes = join(dir, "random.zip");
writeFileSync(randomBytes, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));

const SANDBOX = ["init", "--sandbox", "--yes", "--auth", "client-secret"];
type Case = [label: string, args: string[], exit: number, message: RegExp];

const CASES: Case[] = [
  // Org URLs (without the sandbox: validated before any sign-in or request)
  [
    "org URL over http",
    ["init", "--yes", "--org-url", "http://contoso.crm.dynamics.com"],
    2,
    /--org-url "http:\/\/contoso\.crm\.dynamics\.com" uses http/,
  ],
  [
    "org URL with user info",
    ["init", "--yes", "--org-url", "https://user:pw@contoso.crm.dynamics.com"],
    2,
    /contains a user name or password/,
  ],
  ["org URL as an IP literal", ["init", "--yes", "--org-url", "https://52.1.2.3"], 2, /is an IP address/],
  [
    "org URL of another cloud",
    ["init", "--yes", "--org-url", "https://agency.crm9.dynamics.com", "--cloud", "public"],
    2,
    /belongs to the gcc cloud, but --cloud is public/,
  ],
  [
    "org URL look-alike suffix",
    ["init", "--yes", "--org-url", "https://contoso.crm.dynamics.com.evil.example"],
    2,
    /is not a Dynamics 365 environment host/,
  ],
  [
    "org URL look-alike letters",
    ["init", "--yes", "--org-url", "https://contoso.crm.dynаmics.com"],
    2,
    /is not a Dynamics 365 environment host/,
  ],
  ["org URL that is not a URL", ["init", "--yes", "--org-url", "https://"], 2, /--org-url "https:\/\/" is not a URL/],
  // Clouds
  ["unknown cloud", ["init", "--yes", "--cloud", "azure-stack"], 2, /--cloud "azure-stack" is not a cloud this tool knows/],
  [
    "custom cloud without hosts",
    ["init", "--yes", "--cloud", "custom", "--org-url", "https://crm.example"],
    2,
    /--cloud custom needs --authority-host and --graph-endpoint/,
  ],
  // UPNs
  [
    "UPN with a space",
    [...SANDBOX, "--user-name", "lead writer@contoso.com"],
    2,
    /--user-name "lead writer@contoso\.com" is not a valid user principal name/,
  ],
  ["UPN without @", [...SANDBOX, "--user-name", "leadwriter"], 2, /needs exactly one @/],
  ["UPN too long", [...SANDBOX, "--user-name", `${"a".repeat(65)}@contoso.com`], 2, /longer than 64 characters/],
  [
    "UPN on an unverified domain",
    [...SANDBOX, "--user-name", "lw@contoso-pending.net"],
    2,
    /contoso-pending\.net is not a verified domain of this tenant/,
  ],
  [
    "UPN on a federated domain",
    [...SANDBOX, "--user-name", "lw@fabrikam-federated.com"],
    2,
    /fabrikam-federated\.com is a federated domain/,
  ],
  ["UPN on a foreign domain", [...SANDBOX, "--user-name", "lw@example.org"], 2, /example\.org is not a verified domain of this tenant/],
  // Usage locations
  ["usage location USA", [...SANDBOX, "--usage-location", "USA"], 2, /--usage-location "USA" is not a two-letter ISO 3166 country code/],
  ["usage location UK", [...SANDBOX, "--usage-location", "UK"], 2, /--usage-location "UK" is not a two-letter ISO 3166 country code/],
  ["usage location digits", [...SANDBOX, "--usage-location", "12"], 2, /is not a two-letter ISO 3166 country code/],
  // Licences
  ["unknown licence", [...SANDBOX, "--license", "DYN365_NOT_A_THING"], 2, /--license DYN365_NOT_A_THING is not a licence of this tenant/],
  ["licence without Dynamics", [...SANDBOX, "--license", "ENTERPRISEPACK"], 2, /does not include Dynamics 365 Customer Engagement/],
  ["company licence", [...SANDBOX, "--license", "CRMSTORAGE"], 2, /applies to the company/],
  ["licence with no seat", [...SANDBOX, "--license", "D365_SALES_PRO"], 4, /has no free seat/],
  ["licence that is not a name", [...SANDBOX, "--license", "Sales; DROP"], 2, /neither a SKU part number nor a skuId/],
  // Solution files
  [
    "random bytes as the solution",
    [...SANDBOX, "--solution-file", randomBytes],
    2,
    /random\.zip is not a usable solution package: it is not a zip file/,
  ],
  ["a missing solution file", [...SANDBOX, "--solution-file", join(dir, "absent.zip")], 2, /absent\.zip cannot be read \(ENOENT\)/],
  ["an oversize solution file", [...SANDBOX, "--solution-file", oversize], 2, /oversize\.zip is 67108864 bytes, over the/],
  ["traversal entry names", [...SANDBOX, "--solution-file", traversalZip()], 2, /unsafe path/],
  [
    "a huge entry count",
    [
      ...SANDBOX,
      "--solution-file",
      zipFile("many.zip", (z) => {
        for (let i = 0; i < 5001; i++) z.addFile(`e/${i}`, Buffer.from(""));
      }),
    ],
    2,
    /5004 entries, over the limit of 5000/,
  ],
  [
    "an unmanaged solution",
    [...SANDBOX, "--solution-file", zipFile("unmanaged.zip", () => undefined, buildSandboxSolutionZip({ managed: false }))],
    2,
    /is an unmanaged solution/,
  ],
  [
    "external entities",
    [
      ...SANDBOX,
      "--solution-file",
      zipFile("xxe.zip", (z) =>
        z.addFile(
          "solution.xml",
          Buffer.from('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/shadow">]><ImportExportXml>&x;</ImportExportXml>'),
        ),
      ),
    ],
    2,
    /DTD or entities/,
  ],
  // Timeouts
  ["negative timeout", [...SANDBOX, "--sync-timeout=-5"], 2, /--sync-timeout "-5" must be a whole number of seconds from 1 to 86400/],
  ["zero timeout", [...SANDBOX, "--sync-timeout", "0"], 2, /--sync-timeout "0" must be a whole number/],
  ["timeout that is not a number", [...SANDBOX, "--sync-timeout", "soon"], 2, /--sync-timeout "soon" must be a whole number/],
  ["fractional timeout", [...SANDBOX, "--sync-timeout", "1.5"], 2, /--sync-timeout "1\.5" must be a whole number/],
  // Conflicting or incomplete flags
  [
    "--sandbox with --org-url",
    [...SANDBOX, "--org-url", "https://contoso.crm.dynamics.com"],
    2,
    /--sandbox cannot be combined with --org-url/,
  ],
  ["--sandbox with --cloud", [...SANDBOX, "--cloud", "gcc"], 2, /--sandbox cannot be combined with --cloud/],
  [
    "client certificate without a file",
    ["init", "--sandbox", "--yes", "--auth", "client-certificate"],
    2,
    /--auth client-certificate needs --client-certificate <pem>/,
  ],
  [
    "a secret lifetime over 24 months",
    [...SANDBOX, "--identity", "app", "--secret-expiry-months", "36"],
    2,
    /--secret-expiry-months "36" must be a whole number of months from 1 to 24/,
  ],
  ["an unknown identity", [...SANDBOX, "--identity", "robot"], 2, /--identity "robot" is not a valid identity/],
  ["a bad boolean in the environment", [...SANDBOX], 2, /CRM_LEAD_SETUP_DRY_RUN="perhaps" is not a boolean/],
];

describe("hostile input", () => {
  it.each(CASES)("%s", async (label, args, exit, message) => {
    sandbox.clearRequests();
    const runEnv = label.includes("environment") ? { ...env, CRM_LEAD_SETUP_DRY_RUN: "perhaps" } : env;
    const run = await runCli(args, runEnv);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(exit);
    expect(run.stderr).toMatch(/\nHint: \S/);
    expect(run.stdout).not.toMatch(/✔/);
    expect(sandbox.mutatingRequests()).toEqual([]);
    expect(run.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/);
  });

  it("refuses an org URL with a path, query or fragment instead of guessing (issue 11 §10)", async () => {
    const run = await runCli(
      [
        "status",
        "--org-url",
        "https://contoso.crm4.dynamics.com/main.aspx?appid=1#x",
        "--json",
        "--auth",
        "client-secret",
        "--tenant",
        "contoso.com",
        "--client-id",
        "11111111-2222-3333-4444-555555555555",
      ],
      env,
    );
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error.code).toBe("org-url-not-bare");
  });
});
