import { XMLParser } from "fast-xml-parser";

/**
 * Reads why a solution import failed, from what Dataverse hands out about a finished import job
 * (reference: dataverse §4.4). RetrieveFormattedImportJobResults answers "in Microsoft Excel format"
 * (learn.microsoft.com, RetrieveFormattedImportJobResultsResponse.FormattedResults): an Excel 2003 XML
 * spreadsheet, one row per component. Its column headings are not documented, so columns are found by their
 * headings (name, type, result or status, error code, description), never by position. When that yields
 * nothing, the import job's `data` column (importexportxml) is read instead: every element with a
 * `<result result="failure" errorcode=… errortext=…>` child is a failing component (the rule of
 * Microsoft.Xrm.Data.PowerShell's Import-CrmSolution). Both are untrusted text: parsed by a real XML parser,
 * a document that declares a DTD or entities is not read at all (nothing external is ever fetched).
 */

export interface ComponentOutcome {
  name: string;
  type: string;
  failed: boolean;
  errorCode: string;
  description: string;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  // `ss:Index` and `Index` are the same attribute to us; the spreadsheet's default namespace is implied.
  removeNSPrefix: true,
  // Only XML's own five entities and character references: documents with a DTD are refused before this.
  processEntities: true,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Rich cells mix text and inline formatting (`<B>`, `<Font>`): only document order keeps their text whole.
  preserveOrder: true,
});

/** An element of the parsed document: its tag, attributes and children (elements and text) in order. */
interface XmlElement {
  tag: string;
  attributes: Record<string, string>;
  children: (XmlElement | string)[];
}

type OrderedNode = Record<string, unknown>;

function toElements(nodes: OrderedNode[]): (XmlElement | string)[] {
  return nodes.flatMap((node): (XmlElement | string)[] => {
    if ("#text" in node) return [String(node["#text"])];
    const tag = Object.keys(node).find((key) => key !== ":@");
    if (!tag || tag.startsWith("?")) return [];
    return [
      {
        tag,
        attributes: (node[":@"] as Record<string, string> | undefined) ?? {},
        children: toElements((node[tag] as OrderedNode[]) ?? []),
      },
    ];
  });
}

/** The document's root element; undefined for a document with a DTD or one that is not XML. */
function parse(xml: string): XmlElement | undefined {
  if (!xml || /<!DOCTYPE|<!ENTITY/i.test(xml)) return undefined;
  try {
    return toElements(parser.parse(xml) as OrderedNode[]).find((node): node is XmlElement => typeof node !== "string");
  } catch {
    return undefined;
  }
}

const childElements = (element: XmlElement | undefined, tag: string): XmlElement[] =>
  (element?.children ?? []).filter((child): child is XmlElement => typeof child !== "string" && child.tag === tag);

/** All text inside an element, in document order (the words of a rich cell stay in their places). */
function textOf(element: XmlElement | undefined): string {
  return (element?.children ?? []).map((child) => (typeof child === "string" ? child : textOf(child))).join("");
}

/** A row's cells by column (0-based), honouring `ss:Index` on sparse rows. */
function rowValues(row: XmlElement): string[] {
  const values: string[] = [];
  let column = 0;
  for (const cell of childElements(row, "Cell")) {
    const index = Number(cell.attributes.Index);
    if (Number.isInteger(index) && index > 0) column = index - 1;
    values[column] = textOf(childElements(cell, "Data")[0]).replace(/\s+/g, " ").trim();
    column++;
  }
  return values;
}

const HEADINGS: Record<keyof ComponentOutcome, RegExp> = {
  name: /name/i,
  type: /type/i,
  failed: /^(result|status)$/i,
  errorCode: /code/i,
  description: /description|error ?text|message|details/i,
};

/** Maps a heading row to columns; undefined when it lacks a name and a result column. */
function columnsOf(headings: string[]): Partial<Record<keyof ComponentOutcome, number>> | undefined {
  const columns: Partial<Record<keyof ComponentOutcome, number>> = {};
  for (const key of Object.keys(HEADINGS) as (keyof ComponentOutcome)[]) {
    const index = headings.findIndex((heading, i) => heading && HEADINGS[key].test(heading) && !Object.values(columns).includes(i));
    if (index >= 0) columns[key] = index;
  }
  return columns.name !== undefined && columns.failed !== undefined ? columns : undefined;
}

/** Every component row of the spreadsheet's sheets, failing or not. */
export function parseFormattedImportResults(formattedResults: string): ComponentOutcome[] {
  const workbook = parse(formattedResults);
  if (workbook?.tag !== "Workbook") return [];
  const outcomes: ComponentOutcome[] = [];
  for (const sheet of childElements(workbook, "Worksheet")) {
    const rows = childElements(childElements(sheet, "Table")[0], "Row").map(rowValues);
    const headingAt = rows.findIndex((row) => columnsOf(row) !== undefined);
    if (headingAt < 0) continue;
    const columns = columnsOf(rows[headingAt]!)!;
    const at = (row: string[], key: keyof ComponentOutcome) => (columns[key] === undefined ? "" : (row[columns[key]!] ?? ""));
    for (const row of rows.slice(headingAt + 1)) {
      if (!at(row, "name")) continue;
      outcomes.push({
        name: at(row, "name"),
        type: at(row, "type"),
        failed: /fail|error/i.test(at(row, "failed")),
        errorCode: at(row, "errorCode"),
        description: at(row, "description"),
      });
    }
  }
  return outcomes;
}

/** The failing components of an importexportxml document (the import job's `data`). */
export function failingComponentsInJobData(data: string): ComponentOutcome[] {
  const root = parse(data);
  if (root?.tag !== "importexportxml") return [];
  const failureOf = (element: XmlElement) => childElements(element, "result").find((r) => r.attributes.result?.toLowerCase() === "failure");
  const outcomeOf = (element: XmlElement, result: XmlElement, name: string): ComponentOutcome => ({
    name,
    type: element.tag,
    failed: true,
    errorCode: result.attributes.errorcode ?? "",
    description: result.attributes.errortext ?? "",
  });
  const failures: ComponentOutcome[] = [];
  const visit = (element: XmlElement): void => {
    const failure = failureOf(element);
    if (failure && element.tag !== "solutionManifest")
      failures.push(outcomeOf(element, failure, element.attributes.name ?? element.attributes.LocalizedName ?? element.tag));
    for (const child of element.children) if (typeof child !== "string" && child.tag !== "result") visit(child);
  };
  visit(root);
  if (failures.length > 0) return failures;
  // The manifest's own failure says only that the solution failed: used when no component says more.
  const manifest = childElements(childElements(root, "solutionManifests")[0], "solutionManifest")[0];
  const failure = manifest && failureOf(manifest);
  if (!manifest || !failure?.attributes.errortext) return [];
  return [{ ...outcomeOf(manifest, failure, textOf(childElements(manifest, "UniqueName")[0]).trim() || "solution"), type: "solution" }];
}

/** One line per failing component: `Security Role "Name": error 0x… — text`. */
export function describeFailure(component: ComponentOutcome): string {
  const what = component.type ? `${component.type} "${component.name}"` : `"${component.name}"`;
  const code = component.errorCode && component.errorCode !== "0" ? `error ${component.errorCode}` : "";
  return `${what}: ${[code, component.description].filter(Boolean).join(" — ") || "failed"}`;
}
