import { describe, expect, it } from "vitest";
import { describeFailure, failingComponentsInJobData, parseFormattedImportResults } from "../../src/steps/import-results.js";

/**
 * A FormattedResults spreadsheet written by hand the way Excel 2003 XML looks (namespaced attributes, a
 * styled heading row, sparse rows with ss:Index, rich text in a cell, escaped characters), with a summary
 * sheet before the component sheet and columns in an order the parser must discover from the headings.
 */
const SPREADSHEET = `<?xml version="1.0"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:o="urn:schemas-microsoft-com:office:office"
 xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" xmlns:html="http://www.w3.org/TR/REC-html40">
 <Styles><Style ss:ID="s21"><Font ss:Bold="1"/></Style></Styles>
 <Worksheet ss:Name="Solution">
  <Table ss:ExpandedColumnCount="2">
   <Row><Cell ss:StyleID="s21"><Data ss:Type="String">Solution Name</Data></Cell><Cell><Data ss:Type="String">Marketplace Lead Writer</Data></Cell></Row>
   <Row><Cell ss:StyleID="s21"><Data ss:Type="String">Status</Data></Cell><Cell><Data ss:Type="String">Failure</Data></Cell></Row>
  </Table>
 </Worksheet>
 <Worksheet ss:Name="Components">
  <Table>
   <Column ss:Width="120"/>
   <Row ss:StyleID="s21">
    <Cell><Data ss:Type="String">Date/Time</Data></Cell><Cell><Data ss:Type="String">Component Type</Data></Cell>
    <Cell><Data ss:Type="String">Display Name</Data></Cell><Cell><Data ss:Type="String">Status</Data></Cell>
    <Cell><Data ss:Type="String">Description</Data></Cell><Cell><Data ss:Type="String">Error Code</Data></Cell>
   </Row>
   <Row>
    <Cell><Data ss:Type="DateTime">2024-05-02T10:11:12.000</Data></Cell><Cell><Data ss:Type="String">Entity</Data></Cell>
    <Cell><Data ss:Type="String">Lead</Data></Cell><Cell><Data ss:Type="String">Success</Data></Cell>
   </Row>
   <Row>
    <Cell><Data ss:Type="DateTime">2024-05-02T10:11:13.000</Data></Cell><Cell><Data ss:Type="String">Security Role</Data></Cell>
    <Cell><Data ss:Type="String">Microsoft Marketplace Lead Writer</Data></Cell><Cell><Data ss:Type="String">Failure</Data></Cell>
    <Cell><ss:Data ss:Type="String" xmlns="http://www.w3.org/TR/REC-html40">The dependent component <B>Entity (Id=lead)</B> does not exist &amp; &quot;cannot&quot; be found.</ss:Data></Cell>
    <Cell><Data ss:Type="String">0x80048306</Data></Cell>
   </Row>
   <Row>
    <Cell><Data ss:Type="DateTime">2024-05-02T10:11:14.000</Data></Cell><Cell><Data ss:Type="String">Process</Data></Cell>
    <Cell><Data ss:Type="String">Lead &lt;routing&gt;</Data></Cell><Cell><Data ss:Type="String">Failure</Data></Cell>
    <Cell ss:Index="6"><Data ss:Type="String">0x8004F016</Data></Cell>
   </Row>
  </Table>
 </Worksheet>
</Workbook>`;

describe("formatted import results (an Excel 2003 XML spreadsheet)", () => {
  it("finds the columns by heading and names every failing component with its error code and text", () => {
    const failing = parseFormattedImportResults(SPREADSHEET).filter((c) => c.failed);
    expect(failing).toEqual([
      {
        name: "Microsoft Marketplace Lead Writer",
        type: "Security Role",
        failed: true,
        errorCode: "0x80048306",
        description: 'The dependent component Entity (Id=lead) does not exist & "cannot" be found.',
      },
      { name: "Lead <routing>", type: "Process", failed: true, errorCode: "0x8004F016", description: "" },
    ]);
    expect(failing.map(describeFailure)).toEqual([
      'Security Role "Microsoft Marketplace Lead Writer": error 0x80048306 — The dependent component Entity (Id=lead) does not exist & "cannot" be found.',
      'Process "Lead <routing>": error 0x8004F016',
    ]);
    expect(parseFormattedImportResults(SPREADSHEET).find((c) => c.name === "Lead")).toMatchObject({ type: "Entity", failed: false });
  });

  it("reads nothing from a document with a DTD, from one that is not XML, or from raw importexportxml", () => {
    const withEntity = `<?xml version="1.0"?><!DOCTYPE Workbook [<!ENTITY x SYSTEM "file:///etc/passwd">]>${SPREADSHEET.replace(/^<\?xml[^>]*>/, "").replace("Failure</Data></Cell>\n    <Cell><ss:Data", "Failure &x;</Data></Cell>\n    <Cell><ss:Data")}`;
    expect(parseFormattedImportResults(withEntity)).toEqual([]);
    expect(parseFormattedImportResults("not xml <<<")).toEqual([]);
    expect(parseFormattedImportResults("<importexportxml><roles/></importexportxml>")).toEqual([]);
  });
});

describe("the import job's data (importexportxml), the fall-back", () => {
  it("names each element whose result is a failure", () => {
    const data = `<importexportxml start="1" stop="2" progress="100" processed="true">
      <solutionManifests><solutionManifest languagecode="1033" processed="true"><UniqueName>LeadWriter</UniqueName>
        <result result="failure" errorcode="0x80048033" errortext="" datetime="10:11:12" /></solutionManifest></solutionManifests>
      <entities><entity id="{1}" name="Lead" processed="true"><result result="success" errorcode="0" errortext="" /></entity></entities>
      <roles><role id="{2}" name="Microsoft Marketplace Lead Writer" processed="true">
        <result result="failure" errorcode="0x80048306" errortext="The dependent component &quot;lead&quot; does not exist." /></role></roles>
    </importexportxml>`;
    expect(failingComponentsInJobData(data)).toEqual([
      {
        name: "Microsoft Marketplace Lead Writer",
        type: "role",
        failed: true,
        errorCode: "0x80048306",
        description: 'The dependent component "lead" does not exist.',
      },
    ]);
    expect(failingComponentsInJobData("<x/>")).toEqual([]);
  });

  it("falls back to the solution manifest's own failure when no component says more", () => {
    const data = `<importexportxml><solutionManifests><solutionManifest><UniqueName>LeadWriter</UniqueName><result result="failure" errorcode="0x8004701C" errortext="The solution is already installed at a higher version." /></solutionManifest></solutionManifests></importexportxml>`;
    expect(failingComponentsInJobData(data)).toEqual([
      {
        name: "LeadWriter",
        type: "solution",
        failed: true,
        errorCode: "0x8004701C",
        description: "The solution is already installed at a higher version.",
      },
    ]);
  });
});
