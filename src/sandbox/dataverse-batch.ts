import { randomUUID } from "node:crypto";
import type { SandboxRequest, SandboxResponse } from "./kit.js";
import { dataverseError } from "./dataverse.js";

/**
 * Dataverse's `$batch` (learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api,
 * after OData 4.0 §11.7): a POST of `multipart/mixed` with a boundary; every part is `application/http` with
 * `Content-Transfer-Encoding: binary` holding one request, or a change set (`multipart/mixed` of its own) of
 * requests that change data; GET is never allowed inside a change set; a batch holds at most 1,000 requests
 * and no other batch. Requests run in order and the answers come back in that order, each as an
 * `application/http` part of a `multipart/mixed` answer; an error stops the rest of the batch (the older
 * documentation: odata.continue-on-error is not supported; the sandbox never continues).
 *
 * Stricter than Dataverse where the sandbox does not emulate something: a change set of more than one
 * request (Dataverse runs it as one transaction, and the sandbox has no rollback) is refused, as are URLs
 * outside this environment's Web API.
 */

const API_PREFIX = "/api/data/v9.2/";
const MAX_REQUESTS = 1000;
const CRLF = "\r\n";

interface BatchItem {
  request: SandboxRequest;
  /** The change set it belongs to, with its Content-ID, when it is in one. */
  changeSet?: { contentId: string | undefined };
}

class BatchRefused extends Error {}

const boundaryOf = (contentType: string | undefined): string | undefined =>
  /^multipart\/mixed\s*;.*boundary=("?)([^";]+)\1/i.exec(contentType ?? "")?.[2];

/** The parts between `--boundary` lines, up to `--boundary--` (which must be there). */
function multipartParts(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const sections = body.split(new RegExp(`(?:^|\\r?\\n)${delimiter.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  const closing = sections.findIndex((section) => section.startsWith("--"));
  if (closing < 0) throw new BatchRefused(`The multipart body does not end with ${delimiter}--.`);
  return sections.slice(1, closing).map((section) => section.replace(/^\r?\n/, ""));
}

/** `Header: value` lines up to the first empty line, and what follows. */
function splitHeaders(text: string): { headers: Record<string, string>; rest: string } {
  const end = text.search(/\r?\n\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const rest = end < 0 ? "" : text.slice(end).replace(/^\r?\n\r?\n/, "");
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, rest };
}

/** One `application/http` part: its request line, headers and body, on this environment's Web API. */
function innerRequest(part: string, outer: SandboxRequest): SandboxRequest {
  const { headers: partHeaders, rest } = splitHeaders(part);
  if (!/^application\/http\b/i.test(partHeaders["content-type"] ?? ""))
    throw new BatchRefused("Each part of a batch must have Content-Type: application/http.");
  if ((partHeaders["content-transfer-encoding"] ?? "").toLowerCase() !== "binary")
    throw new BatchRefused("Each part of a batch must have Content-Transfer-Encoding: binary.");
  const lineEnd = rest.search(/\r?\n/);
  const requestLine = lineEnd < 0 ? rest : rest.slice(0, lineEnd);
  const match = /^(GET|POST|PATCH|PUT|DELETE) (\S+) HTTP\/1\.1$/.exec(requestLine.trim());
  if (!match) throw new BatchRefused(`Not a request line: "${requestLine.trim()}".`);
  const url = new URL(match[2]!, outer.url.origin);
  if (url.origin !== outer.url.origin || !url.pathname.startsWith(API_PREFIX) || url.pathname === `${API_PREFIX}$batch`)
    throw new BatchRefused(`A batch may hold only requests to ${outer.url.origin}${API_PREFIX}, and no other batch: ${match[2]}.`);
  const { headers, rest: body } = splitHeaders(lineEnd < 0 ? "" : rest.slice(lineEnd).replace(/^\r?\n/, ""));
  return {
    method: match[1]!,
    url,
    headers: { ...headers, authorization: outer.headers.authorization },
    body: Buffer.from(body.replace(/\r?\n$/, ""), "utf8"),
    claims: outer.claims,
  };
}

function batchItems(request: SandboxRequest, boundary: string): BatchItem[] {
  const items: BatchItem[] = [];
  for (const part of multipartParts(request.body.toString("utf8"), boundary)) {
    const { headers, rest } = splitHeaders(part);
    const changeSetBoundary = boundaryOf(headers["content-type"]);
    if (!changeSetBoundary) {
      items.push({ request: innerRequest(part, request) });
      continue;
    }
    const requests = multipartParts(rest, changeSetBoundary);
    if (requests.length !== 1)
      throw new BatchRefused("The sandbox emulates change sets of exactly one request (Dataverse runs larger ones as a transaction).");
    for (const inner of requests) {
      const contentId = splitHeaders(inner).headers["content-id"];
      const parsed = innerRequest(inner, request);
      if (parsed.method === "GET") throw new BatchRefused("GET requests are not allowed inside a change set.");
      items.push({ request: parsed, changeSet: { contentId } });
    }
  }
  if (items.length === 0) throw new BatchRefused("The batch holds no request.");
  if (items.length > MAX_REQUESTS) throw new BatchRefused(`A batch holds at most ${MAX_REQUESTS} requests.`);
  return items;
}

const REASONS: Record<number, string> = { 200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 404: "Not Found" };

function answerPart(response: SandboxResponse): string {
  const body = response.body === undefined ? "" : response.body.toString();
  const headers = Object.entries(response.headers ?? {}).map(([name, value]) => `${name}: ${value}`);
  return [
    "Content-Type: application/http",
    "Content-Transfer-Encoding: binary",
    "",
    `HTTP/1.1 ${response.status} ${REASONS[response.status] ?? ""}`.trimEnd(),
    ...headers,
    "",
    body,
  ].join(CRLF);
}

/** Answers a `$batch` through `answer`, the environment's own handler for one request. */
export function handleBatch(request: SandboxRequest, answer: (inner: SandboxRequest) => SandboxResponse): SandboxResponse {
  if (request.method !== "POST") return dataverseError(405, "0x80060888", "$batch takes POST only.");
  const boundary = boundaryOf(request.headers["content-type"]);
  if (!boundary) return dataverseError(400, "0x80048d19", "A batch needs Content-Type: multipart/mixed with a boundary.");
  let items: BatchItem[];
  try {
    items = batchItems(request, boundary);
  } catch (error) {
    if (error instanceof BatchRefused) return dataverseError(400, "0x80048d19", error.message);
    throw error;
  }
  const responseBoundary = `batchresponse_${randomUUID()}`;
  const parts: string[] = [];
  for (const item of items) {
    const response = answer(item.request);
    if (item.changeSet) {
      const changeSetBoundary = `changesetresponse_${randomUUID()}`;
      const inner = [item.changeSet.contentId ? `Content-ID: ${item.changeSet.contentId}` : "", answerPart(response)].filter(Boolean);
      parts.push(
        [
          `Content-Type: multipart/mixed; boundary=${changeSetBoundary}`,
          "",
          `--${changeSetBoundary}`,
          ...inner,
          `--${changeSetBoundary}--`,
        ].join(CRLF),
      );
    } else parts.push(answerPart(response));
    if (response.status >= 400) break;
  }
  const body = `${parts.map((part) => `--${responseBoundary}${CRLF}${part}`).join(CRLF)}${CRLF}--${responseBoundary}--${CRLF}`;
  return { status: 200, headers: { "content-type": `multipart/mixed; boundary=${responseBoundary}`, "odata-version": "4.0" }, body };
}
