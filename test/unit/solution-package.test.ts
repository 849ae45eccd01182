import { createHash } from "node:crypto";
import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AdmZip from "adm-zip";
import { describe, expect, it } from "vitest";
import { notLeadWriterWarning, PACKAGE_LIMITS, readSolutionPackage } from "../../src/solution/package.js";
import { readSolutionFile } from "../../src/steps/download-solution.js";
import { buildSandboxSolutionZip } from "../../src/sandbox/solution-zip.js";
import { UsageError } from "../../src/errors.js";

const good = buildSandboxSolutionZip();
const solutionXml = new AdmZip(good).getEntry("solution.xml")!.getData().toString("utf8");

function zipWith(entries: Record<string, string | Buffer>): Buffer {
  const zip = new AdmZip();
  for (const [name, content] of Object.entries(entries)) zip.addFile(name, Buffer.isBuffer(content) ? content : Buffer.from(content));
  return zip.toBuffer();
}

function expectRejected(bytes: Buffer, code: string, message: RegExp): void {
  try {
    readSolutionPackage(bytes, "pkg.zip");
    expect.unreachable("the package was accepted");
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).code).toBe(code);
    expect((error as UsageError).message).toMatch(/^pkg\.zip is not a usable solution package: /);
    expect((error as UsageError).message).toMatch(message);
    expect((error as UsageError).hint).toBeTruthy();
  }
}

/** A managed package like the sandbox's, whose customizations.xml defines these roles instead of the Lead Writer's. */
function managedWithRoles(roles: string[]): Buffer {
  const customizations = `<?xml version="1.0" encoding="utf-8"?><ImportExportXml><Roles>${roles.map((name, i) => `<Role id="{00000000-0000-4000-8000-00000000000${i}}" name="${name}"><RolePrivileges /></Role>`).join("")}</Roles></ImportExportXml>`;
  return zipWith({ "solution.xml": solutionXml, "customizations.xml": customizations });
}

describe("the Lead Writer check (issue 11 §10)", () => {
  it("finds the Lead Writer role in the sandbox's package", () => {
    const solution = readSolutionPackage(good, "pkg.zip");
    expect(solution.roles).toEqual(["Microsoft Marketplace Lead Writer"]);
    expect(notLeadWriterWarning(solution)).toBeUndefined();
  });

  it("warns about a managed package without the role, naming the roles it has", () => {
    const solution = readSolutionPackage(managedWithRoles(["Sales Manager", "Field Agent"]), "pkg.zip");
    expect(notLeadWriterWarning(solution)).toBe(
      'CrmLeadSetupSandboxLeadWriter 1.0.0.0 does not look like the Lead Writer solution: it has no "Microsoft Marketplace Lead Writer" role (it defines "Sales Manager", "Field Agent"), so assign-role will find no role to assign.',
    );
    expect(notLeadWriterWarning(readSolutionPackage(managedWithRoles([]), "pkg.zip"))).toMatch(/\(it defines no security role\)/);
    expect(
      notLeadWriterWarning(
        readSolutionPackage(zipWith({ "solution.xml": solutionXml, "customizations.xml": "<ImportExportXml><Roles>" }), "pkg.zip"),
      ),
    ).toMatch(/\(its customizations\.xml could not be read\)/);
  });
});

describe("reading a solution package", () => {
  it("reads the manifest and hashes the bytes", () => {
    const solution = readSolutionPackage(good, "pkg.zip");
    expect(solution.manifest).toEqual({
      uniqueName: "CrmLeadSetupSandboxLeadWriter",
      friendlyName: "Marketplace Lead Writer (crm-lead-setup sandbox package, not Microsoft's file)",
      version: "1.0.0.0",
      managed: true,
      publisher: "crmleadsetupsandbox",
    });
    expect(solution.sha256).toBe(createHash("sha256").update(good).digest("hex"));
    expect(buildSandboxSolutionZip().equals(good)).toBe(true);
  });

  it("refuses an empty file", () => expectRejected(Buffer.alloc(0), "solution-empty", /empty/));
  it("refuses random bytes", () => expectRejected(Buffer.from("this is not a zip at all, just text"), "solution-not-zip", /not a zip/));
  it("refuses a truncated zip", () => expectRejected(good.subarray(0, 200), "solution-not-zip", /cannot be read|not a zip/));
  it("refuses a zip without solution.xml", () =>
    expectRejected(zipWith({ "customizations.xml": "<x/>", "readme.txt": "hi" }), "solution-no-manifest", /no solution\.xml/));
  it("refuses a zip without customizations.xml", () =>
    expectRejected(zipWith({ "solution.xml": solutionXml }), "solution-no-manifest", /no customizations\.xml/));
  it("refuses an unmanaged solution", () =>
    expectRejected(buildSandboxSolutionZip({ managed: false }), "solution-unmanaged", /is an unmanaged solution/));
  it("refuses XML with external entities", () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${solutionXml.replace(/^<\?xml[^>]*>/, "")}`;
    expectRejected(zipWith({ "solution.xml": xxe, "customizations.xml": "<x/>" }), "solution-manifest-invalid", /DTD or entities/);
  });
  it("refuses a manifest without a version", () => {
    expectRejected(
      zipWith({ "solution.xml": solutionXml.replace(/<Version>.*<\/Version>/, ""), "customizations.xml": "<x/>" }),
      "solution-manifest-invalid",
      /Version/,
    );
  });
  it("refuses XML that is not well-formed", () => {
    expectRejected(
      zipWith({ "solution.xml": "<ImportExportXml><SolutionManifest>", "customizations.xml": "<x/>" }),
      "solution-manifest-invalid",
      /not well-formed|no ImportExportXml/,
    );
  });
  it.each(["../../evil.sh", "/etc/evil.sh1", "C:\\evil.sh12"])("refuses the entry name %s", (hostileName) => {
    // adm-zip sanitises names it writes, so the hostile name is patched into the bytes, as an attacker would.
    const zip = new AdmZip(good);
    const placeholder = "X".repeat(hostileName.length);
    zip.addFile(placeholder, Buffer.from("#!/bin/sh"));
    const bytes = zip.toBuffer();
    for (let at = bytes.indexOf(placeholder); at >= 0; at = bytes.indexOf(placeholder)) bytes.write(hostileName, at, "latin1");
    expectRejected(bytes, "solution-unsafe-entry", /unsafe path/);
  });
  it("refuses a zip bomb before inflating it", () => {
    const zip = new AdmZip(good);
    zip.addFile("bomb.bin", Buffer.alloc(24 * 1024 * 1024));
    const bytes = zip.toBuffer();
    expect(bytes.length).toBeLessThan(1024 * 1024);
    expectRejected(bytes, "solution-zip-bomb", /zip bomb/);
  });
  it("refuses a huge entry count", () => {
    const zip = new AdmZip(good);
    for (let i = 0; i <= PACKAGE_LIMITS.maxEntries; i++) zip.addFile(`f/${i}.txt`, Buffer.from("x"));
    expectRejected(zip.toBuffer(), "solution-too-many-entries", /entries, over the limit/);
  });
  it("refuses an oversize package", () => {
    const big = Buffer.alloc(PACKAGE_LIMITS.maxPackageBytes + 1);
    good.copy(big);
    expectRejected(big, "solution-too-large", /over the .*-byte limit/);
  });
});

describe("reading a --solution-file", () => {
  const dir = mkdtempSync(join(tmpdir(), "cls-pkg-"));
  it("names the file when it cannot be read", async () => {
    await expect(readSolutionFile(join(dir, "missing.zip"), "--solution-file")).rejects.toThrowError(
      /--solution-file .*missing\.zip cannot be read \(ENOENT\)/,
    );
    await expect(readSolutionFile(dir, "--solution-file")).rejects.toThrowError(/cannot be read/);
  });
  it("refuses an oversize file without reading it", async () => {
    const path = join(dir, "huge.zip");
    writeFileSync(path, "");
    truncateSync(path, 2 * 1024 * 1024 * 1024);
    await expect(readSolutionFile(path, "--solution-file")).rejects.toThrowError(/huge\.zip is 2147483648 bytes, over the/);
  });
});
