/**
 * The part of OData v4 `$filter` the emulated services need: comparisons (eq ne gt ge lt le) of a property
 * with a literal (string, GUID, number, boolean, null), `and`/`or`/`not`, parentheses, and `startswith`.
 * String comparison is case-insensitive, as it is in Dataverse and Entra. Anything else is a syntax error,
 * which the services answer the way Microsoft does (400).
 */

type Literal = string | number | boolean | null;
type Node =
  | { kind: "compare"; property: string; op: string; value: Literal }
  | { kind: "startswith"; property: string; value: string }
  | { kind: "and" | "or"; left: Node; right: Node }
  | { kind: "not"; operand: Node };

export class ODataSyntaxError extends Error {}

const TOKEN = /\s*(\(|\)|,|'(?:[^']|'')*'|[A-Za-z_][\w./]*|-?\d+(?:\.\d+)?|[0-9a-fA-F-]{36})/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let index = 0;
  while (index < text.length) {
    if (/^\s+$/.test(text.slice(index))) break;
    TOKEN.lastIndex = index;
    // GUIDs first: they may start with digits and contain dashes.
    const guid = /^\s*([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/.exec(text.slice(index));
    if (guid) {
      tokens.push(guid[1]!);
      index += guid[0].length;
      continue;
    }
    const match = TOKEN.exec(text);
    if (!match) throw new ODataSyntaxError(`Syntax error at position ${index} in '${text}'.`);
    tokens.push(match[1]!);
    index = TOKEN.lastIndex;
  }
  return tokens;
}

export function parseFilter(text: string): Node {
  const tokens = tokenize(text);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => {
    const token = tokens[position++];
    if (token === undefined) throw new ODataSyntaxError(`Unexpected end of '${text}'.`);
    return token;
  };
  const literal = (token: string): Literal => {
    if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
    if (token === "null") return null;
    if (token === "true" || token === "false") return token === "true";
    if (/^-?\d+(\.\d+)?$/.test(token)) return Number(token);
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(token)) return token.toLowerCase();
    throw new ODataSyntaxError(`'${token}' is not a literal in '${text}'.`);
  };
  const primary = (): Node => {
    const token = next();
    if (token === "(") {
      const inner = orExpression();
      if (next() !== ")") throw new ODataSyntaxError(`Missing ')' in '${text}'.`);
      return inner;
    }
    if (token === "not") return { kind: "not", operand: primary() };
    if (token.toLowerCase() === "startswith") {
      if (next() !== "(") throw new ODataSyntaxError(`Expected '(' after startswith in '${text}'.`);
      const property = next();
      if (next() !== ",") throw new ODataSyntaxError(`Expected ',' in '${text}'.`);
      const value = literal(next());
      if (next() !== ")") throw new ODataSyntaxError(`Missing ')' in '${text}'.`);
      return { kind: "startswith", property, value: String(value) };
    }
    const op = next();
    if (!["eq", "ne", "gt", "ge", "lt", "le"].includes(op)) throw new ODataSyntaxError(`Unknown operator '${op}' in '${text}'.`);
    return { kind: "compare", property: token, op, value: literal(next()) };
  };
  const andExpression = (): Node => {
    let left = primary();
    while (peek() === "and") {
      next();
      left = { kind: "and", left, right: primary() };
    }
    return left;
  };
  const orExpression = (): Node => {
    let left = andExpression();
    while (peek() === "or") {
      next();
      left = { kind: "or", left, right: andExpression() };
    }
    return left;
  };
  const tree = orExpression();
  if (position !== tokens.length) throw new ODataSyntaxError(`Unexpected '${tokens[position]}' in '${text}'.`);
  return tree;
}

const normalise = (value: unknown): unknown => (typeof value === "string" ? value.toLowerCase() : (value ?? null));

export function evaluate(node: Node, record: Record<string, unknown>): boolean {
  switch (node.kind) {
    case "and":
      return evaluate(node.left, record) && evaluate(node.right, record);
    case "or":
      return evaluate(node.left, record) || evaluate(node.right, record);
    case "not":
      return !evaluate(node.operand, record);
    case "startswith":
      return String(record[node.property] ?? "")
        .toLowerCase()
        .startsWith(node.value.toLowerCase());
    case "compare": {
      const left = normalise(record[node.property]);
      const right = normalise(node.value);
      switch (node.op) {
        case "eq":
          return left === right;
        case "ne":
          return left !== right;
        case "gt":
          return (left as number) > (right as number);
        case "ge":
          return (left as number) >= (right as number);
        case "lt":
          return (left as number) < (right as number);
        default:
          return (left as number) <= (right as number);
      }
    }
  }
}

/** Filters records by an optional `$filter`; throws ODataSyntaxError for a filter it cannot read. */
export function applyFilter<T extends Record<string, unknown>>(records: T[], filter: string | null): T[] {
  if (!filter) return records;
  const tree = parseFilter(filter);
  return records.filter((record) => evaluate(tree, record));
}

/** Keeps only the `$select`ed properties (plus OData annotations and `$expand`ed ones), as the services do. */
export function applySelect(record: Record<string, unknown>, select: string | null, expand: string | null = null): Record<string, unknown> {
  if (!select) return record;
  const expanded = (expand ?? "").split(",").map((e) => e.trim().split("(")[0]!);
  const keep = new Set([...select.split(",").map((s) => s.trim()), ...expanded]);
  return Object.fromEntries(Object.entries(record).filter(([key]) => keep.has(key) || key.startsWith("@odata")));
}

/**
 * Server-driven paging, as the services do it: a page of at most `pageSize` records and, when more are
 * left, a next link that repeats the request's query with an opaque `$skiptoken` (Graph "Paging Microsoft
 * Graph data"; Dataverse "Page results": `@odata.nextLink`; the Power Platform admin API: `nextLink`).
 * Clients must follow the link as given, so the token means nothing outside the sandbox.
 */
export function pageOf<T>(records: T[], requestUrl: URL, pageSize: number | undefined): { value: T[]; nextLink: string | undefined } {
  const token = requestUrl.searchParams.get("$skiptoken");
  const offset = token === null ? 0 : Number(/^offset:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"))?.[1] ?? Number.NaN);
  if (Number.isNaN(offset)) throw new ODataSyntaxError(`The $skiptoken '${token}' is not one this service issued.`);
  if (!pageSize || pageSize <= 0 || offset + pageSize >= records.length) return { value: records.slice(offset), nextLink: undefined };
  // The request's own query, as it was sent, with the next token in place of the last one.
  const query = requestUrl.search
    .slice(1)
    .split("&")
    .filter((pair) => pair !== "" && !/^(\$|%24)skiptoken=/i.test(pair));
  query.push(`$skiptoken=${Buffer.from(`offset:${offset + pageSize}`, "utf8").toString("base64url")}`);
  return { value: records.slice(offset, offset + pageSize), nextLink: `${requestUrl.origin}${requestUrl.pathname}?${query.join("&")}` };
}
