import { createHash } from "node:crypto";
import { inflateRawSync } from "node:zlib";
import AdmZip from "adm-zip";
import { XMLParser } from "fast-xml-parser";
import { UsageError } from "../errors.js";
import { LEAD_WRITER_ROLE } from "../steps/lead-writer.js";

/**
 * Reads a Dynamics solution package as untrusted input (SPEC §4): bounded file size and entry count,
 * declared sizes checked before anything is inflated, entry names checked for traversal, nothing extracted
 * to disk, `solution.xml` inflated with a hard output cap and parsed with DTDs and entities refused.
 * The manifest fields are read from `ImportExportXml/SolutionManifest` (reference: dataverse §1.1).
 */

export const PACKAGE_LIMITS = {
  maxPackageBytes: 32 * 1024 * 1024,
  maxEntries: 5_000,
  maxTotalUncompressedBytes: 256 * 1024 * 1024,
  maxCompressionRatio: 200,
  maxSolutionXmlBytes: 1024 * 1024,
  /** customizations.xml is read only for its list of roles; a larger one is not a Lead Writer package. */
  maxCustomizationsXmlBytes: 16 * 1024 * 1024,
} as const;

export interface SolutionManifest {
  uniqueName: string;
  friendlyName: string;
  version: string;
  managed: boolean;
  publisher: string;
}

export interface SolutionPackage {
  manifest: SolutionManifest;
  /** The security roles customizations.xml defines; undefined when it could not be read. */
  roles: string[] | undefined;
  sha256: string;
  sizeBytes: number;
  bytes: Buffer;
}

const ZIP_LOCAL_HEADER = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export function readSolutionPackage(bytes: Buffer, name: string): SolutionPackage {
  const reject = (
    code: string,
    why: string,
    hint = "Download the Lead Writer solution again (crm-lead-setup download-solution), or pass the managed zip from Microsoft with --solution-file.",
  ) => {
    throw new UsageError({ code, message: `${name} is not a usable solution package: ${why}.`, hint });
  };
  if (bytes.length === 0) reject("solution-empty", "the file is empty");
  if (bytes.length > PACKAGE_LIMITS.maxPackageBytes)
    reject("solution-too-large", `it is ${bytes.length} bytes, over the ${PACKAGE_LIMITS.maxPackageBytes}-byte limit`);
  if (!bytes.subarray(0, 4).equals(ZIP_LOCAL_HEADER)) reject("solution-not-zip", "it is not a zip file");

  let entries: AdmZip.IZipEntry[];
  try {
    entries = new AdmZip(bytes).getEntries();
  } catch (error) {
    return reject("solution-not-zip", `the zip cannot be read (${(error as Error).message})`);
  }
  if (entries.length > PACKAGE_LIMITS.maxEntries)
    reject("solution-too-many-entries", `it has ${entries.length} entries, over the limit of ${PACKAGE_LIMITS.maxEntries}`);
  let totalUncompressed = 0;
  for (const entry of entries) {
    // The raw stored name: what an extractor would use, whatever a library normalises.
    const entryName = entry.rawEntryName.toString("utf8");
    if (
      entryName.includes("..") ||
      entryName.startsWith("/") ||
      entryName.startsWith("\\") ||
      /^[A-Za-z]:/.test(entryName) ||
      entryName.includes("\0")
    ) {
      reject("solution-unsafe-entry", `entry "${entryName.slice(0, 120)}" has an unsafe path`);
    }
    const declared = entry.header.size;
    const compressed = entry.header.compressedSize;
    totalUncompressed += declared;
    if (declared > 1024 * 1024 && compressed > 0 && declared / compressed > PACKAGE_LIMITS.maxCompressionRatio) {
      reject("solution-zip-bomb", `entry "${entryName}" expands ${Math.round(declared / compressed)}-fold, which looks like a zip bomb`);
    }
  }
  if (totalUncompressed > PACKAGE_LIMITS.maxTotalUncompressedBytes) {
    reject(
      "solution-zip-bomb",
      `its entries would expand to ${totalUncompressed} bytes, over the ${PACKAGE_LIMITS.maxTotalUncompressedBytes}-byte limit`,
    );
  }

  const solutionEntry = entries.find((e) => e.entryName === "solution.xml");
  if (!solutionEntry) reject("solution-no-manifest", "it has no solution.xml at its root, so it is not a Dynamics solution package");
  if (!entries.some((e) => e.entryName === "customizations.xml"))
    reject("solution-no-manifest", "it has no customizations.xml at its root, so it is not a Dynamics solution package");
  const solutionXml = inflateEntry(solutionEntry!, PACKAGE_LIMITS.maxSolutionXmlBytes, () =>
    reject("solution-xml-too-large", `solution.xml is larger than ${PACKAGE_LIMITS.maxSolutionXmlBytes} bytes`),
  );

  const manifest = parseManifest(solutionXml, (why) => reject("solution-manifest-invalid", why));
  if (!manifest.managed) {
    reject(
      "solution-unmanaged",
      `${manifest.uniqueName} ${manifest.version} is an unmanaged solution`,
      "Use Microsoft's managed Lead Writer package (crm-lead-setup download-solution fetches it).",
    );
  }
  const customizationsEntry = entries.find((e) => e.entryName === "customizations.xml")!;
  const roles = readRoleNames(customizationsEntry);
  return { manifest, roles, sha256: createHash("sha256").update(bytes).digest("hex"), sizeBytes: bytes.length, bytes };
}

/**
 * A solution's security roles are listed in customizations.xml as `ImportExportXml/Roles/Role` elements
 * with a `name` attribute (the layout Dataverse's solution export writes; the sandbox's package follows
 * it). Only the names are read; a document that cannot be read gives undefined, never a failure.
 */
function readRoleNames(entry: AdmZip.IZipEntry): string[] | undefined {
  try {
    const xmlText = inflateEntry(entry, PACKAGE_LIMITS.maxCustomizationsXmlBytes, () => {
      throw new Error("too large");
    });
    if (/<!DOCTYPE|<!ENTITY/i.test(xmlText)) return undefined;
    const roleNodes: unknown = (parser.parse(xmlText, true) as Record<string, any>)?.ImportExportXml?.Roles?.Role;
    const list = roleNodes === undefined ? [] : Array.isArray(roleNodes) ? roleNodes : [roleNodes];
    return list.map((role) => String((role as Record<string, unknown>)?.["@_name"] ?? "")).filter((name) => name !== "");
  } catch {
    return undefined;
  }
}

/**
 * Any managed solution imports, so a wrong zip would only show itself later, when assign-role finds no
 * Lead Writer role. Said at once instead: what the package holds instead of the role, or undefined when
 * it is the Lead Writer.
 */
export function notLeadWriterWarning(solution: SolutionPackage): string | undefined {
  if (solution.roles?.includes(LEAD_WRITER_ROLE)) return undefined;
  const found =
    solution.roles === undefined
      ? "its customizations.xml could not be read"
      : solution.roles.length === 0
        ? "it defines no security role"
        : `it defines ${solution.roles
            .slice(0, 5)
            .map((name) => `"${name.slice(0, 60)}"`)
            .join(", ")}${solution.roles.length > 5 ? ` and ${solution.roles.length - 5} more` : ""}`;
  return `${solution.manifest.uniqueName} ${solution.manifest.version} does not look like the Lead Writer solution: it has no "${LEAD_WRITER_ROLE}" role (${found}), so assign-role will find no role to assign.`;
}

/** Inflates one entry with a hard cap on the output, whatever its header claims. */
function inflateEntry(entry: AdmZip.IZipEntry, limit: number, tooLarge: () => never): string {
  if (entry.header.size > limit) tooLarge();
  const compressed = entry.getCompressedData();
  let data: Buffer;
  if (entry.header.method === 0) {
    data = compressed;
  } else if (entry.header.method === 8) {
    try {
      data = inflateRawSync(compressed, { maxOutputLength: limit });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") tooLarge();
      throw new UsageError({
        code: "solution-not-zip",
        message: `solution.xml cannot be inflated: ${(error as Error).message}.`,
        hint: "Download the package again.",
      });
    }
  } else {
    throw new UsageError({
      code: "solution-not-zip",
      message: `solution.xml uses zip compression method ${entry.header.method}, which solution packages never use.`,
      hint: "Download the package again.",
    });
  }
  if (data.length > limit) tooLarge();
  return data.toString("utf8");
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  // Entities are never expanded, and documents that declare any are refused before parsing.
  processEntities: false,
  parseTagValue: false,
  trimValues: true,
});

export function parseManifest(xmlText: string, fail: (why: string) => never): SolutionManifest {
  if (/<!DOCTYPE|<!ENTITY/i.test(xmlText)) fail("solution.xml declares a DTD or entities, which solution packages never do");
  let document: Record<string, any>;
  try {
    document = parser.parse(xmlText, true) as Record<string, any>;
  } catch (error) {
    return fail(`solution.xml is not well-formed XML (${(error as Error).message.split("\n")[0]})`);
  }
  const manifest = document?.ImportExportXml?.SolutionManifest;
  if (!manifest) fail("solution.xml has no ImportExportXml/SolutionManifest element");
  const uniqueName = String(manifest.UniqueName ?? "");
  const version = String(manifest.Version ?? "");
  const managedText = String(manifest.Managed ?? "");
  const publisher = String(manifest.Publisher?.UniqueName ?? "");
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,64}$/.test(uniqueName))
    fail(`solution.xml's UniqueName "${uniqueName.slice(0, 80)}" is missing or invalid`);
  if (!/^\d+(\.\d+){1,3}$/.test(version)) fail(`solution.xml's Version "${version.slice(0, 40)}" is missing or invalid`);
  if (managedText !== "0" && managedText !== "1") fail(`solution.xml's Managed value "${managedText.slice(0, 10)}" is neither 0 nor 1`);
  if (!publisher) fail("solution.xml has no Publisher UniqueName");
  const localized = manifest.LocalizedNames?.LocalizedName;
  const friendlyName = String((Array.isArray(localized) ? localized[0] : localized)?.["@_description"] ?? uniqueName);
  return { uniqueName, friendlyName, version, managed: managedText === "1", publisher };
}
