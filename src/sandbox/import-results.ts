/**
 * What a finished solution import leaves behind, in the two shapes Dataverse hands it out (reference:
 * dataverse §4.4): the import job's `data` column (importexportxml, every component with a `<result>` whose
 * `result`, `errorcode` and `errortext` attributes say how it went) and RetrieveFormattedImportJobResults'
 * `FormattedResults`, which Microsoft documents as "returned in Microsoft Excel format"
 * (RetrieveFormattedImportJobResultsResponse.FormattedResults, learn.microsoft.com gg326631): the Excel 2003
 * XML spreadsheet (`<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">`), the same file the
 * import wizard's "Download Log File" saves. The worksheet names and column headings below are UNCONFIRMED
 * (no public copy of a real file was found): a client must find its columns by their headings, not by position.
 */

export interface ComponentResult {
  /** The component's display name, e.g. the role's name. */
  name: string;
  /** The component type as the log names it, e.g. "Security Role". */
  type: string;
  /** The importexportxml element the component is listed under, e.g. `role`. */
  element: string;
  result: "success" | "failure";
  errorCode: string;
  errorText: string;
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The import job's `data` column. */
export function importJobDataXml(solutionName: string, components: readonly ComponentResult[], at: string): string {
  const failed = components.some((c) => c.result === "failure");
  const result = (c: Pick<ComponentResult, "result" | "errorCode" | "errorText">) =>
    `<result result="${c.result}" errorcode="${escapeXml(c.errorCode)}" errortext="${escapeXml(c.errorText)}" datetime="${at}" />`;
  const groups = new Map<string, ComponentResult[]>();
  for (const component of components) groups.set(component.element, [...(groups.get(component.element) ?? []), component]);
  const sections = [...groups].map(
    ([element, members]) =>
      `<${element}s>${members.map((c) => `<${element} name="${escapeXml(c.name)}" processed="true">${result(c)}</${element}>`).join("")}</${element}s>`,
  );
  const manifest = `<solutionManifests><solutionManifest processed="true"><UniqueName>${escapeXml(solutionName)}</UniqueName>${result({ result: failed ? "failure" : "success", errorCode: failed ? "0x80048033" : "0", errorText: "" })}</solutionManifest></solutionManifests>`;
  return `<importexportxml progress="100" processed="true">${manifest}${sections.join("")}</importexportxml>`;
}

function cell(value: string, type: "String" | "DateTime" = "String", index?: number): string {
  return `<Cell${index === undefined ? "" : ` ss:Index="${index}"`}><Data ss:Type="${type}">${escapeXml(value)}</Data></Cell>`;
}

/** `FormattedResults`: a solution sheet, then one row per component; an empty error code is left out (a sparse row). */
export function formattedResultsWorkbook(solutionName: string, components: readonly ComponentResult[], at: string): string {
  const failed = components.some((c) => c.result === "failure");
  const componentRows = components.map((c) => {
    const tail = c.errorCode && c.errorCode !== "0" ? cell(c.errorCode) + cell(c.errorText) : cell(c.errorText, "String", 6);
    return `<Row>${cell(at.slice(0, 19), "DateTime")}${cell(c.type)}${cell(c.name)}${cell(c.result === "failure" ? "Failure" : "Success")}${tail}</Row>`;
  });
  return [
    `<?xml version="1.0"?>`,
    `<?mso-application progid="Excel.Sheet"?>`,
    `<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" xmlns:html="http://www.w3.org/TR/REC-html40">`,
    `<Styles><Style ss:ID="Header"><Font ss:Bold="1"/></Style></Styles>`,
    `<Worksheet ss:Name="Solution"><Table>`,
    `<Row ss:StyleID="Header">${cell("Solution")}${cell("Result")}</Row>`,
    `<Row>${cell(solutionName)}${cell(failed ? "Failure" : "Success")}</Row>`,
    `</Table></Worksheet>`,
    `<Worksheet ss:Name="Components"><Table>`,
    `<Row ss:StyleID="Header">${["Date/Time", "Type", "Name", "Result", "Error Code", "Description"].map((h) => cell(h)).join("")}</Row>`,
    ...componentRows,
    `</Table></Worksheet>`,
    `</Workbook>`,
  ].join("\n");
}
