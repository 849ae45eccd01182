import { randomUUID } from "node:crypto";

/**
 * Dataverse `$batch` bodies and answers (learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api):
 * a `multipart/mixed` body whose parts are `application/http` requests; a request that changes data may sit
 * in a change set of its own (never a GET); the answers come back in order, and an error ends the batch,
 * so there may be fewer answers than requests.
 */

export interface BatchRequest {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Relative to the Web API root, e.g. `roles(<id>)/Microsoft.Dynamics.CRM.AddPrivilegesRole`. */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent in a change set of its own (with a Content-ID), as Dataverse wants a change of data to be. */
  changeSet?: boolean;
}

export interface BatchAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

const CRLF = "\r\n";

function requestPart(apiRoot: string, request: BatchRequest): string[] {
  const headers = { ...(request.body === undefined ? {} : { "Content-Type": "application/json; charset=utf-8" }), ...request.headers };
  return [
    "Content-Type: application/http",
    "Content-Transfer-Encoding: binary",
    "",
    `${request.method} ${apiRoot}${request.path} HTTP/1.1`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    "",
    request.body === undefined ? "" : JSON.stringify(request.body),
  ];
}

export function batchBody(apiRoot: string, requests: readonly BatchRequest[]): { contentType: string; body: string } {
  const boundary = `batch_${randomUUID()}`;
  const parts = requests.map((request, index) => {
    if (!request.changeSet) return requestPart(apiRoot, request).join(CRLF);
    const changeSet = `changeset_${randomUUID()}`;
    const [contentType, encoding, ...rest] = requestPart(apiRoot, request);
    return [
      `Content-Type: multipart/mixed; boundary=${changeSet}`,
      "",
      `--${changeSet}`,
      contentType,
      encoding,
      `Content-ID: ${index + 1}`,
      ...rest,
      `--${changeSet}--`,
    ].join(CRLF);
  });
  return {
    contentType: `multipart/mixed; boundary=${boundary}`,
    body: `${parts.map((part) => `--${boundary}${CRLF}${part}`).join(CRLF)}${CRLF}--${boundary}--${CRLF}`,
  };
}

const boundaryOf = (contentType: string | undefined) => /boundary=("?)([^";]+)\1/i.exec(contentType ?? "")?.[2];

function partsOf(text: string, boundary: string): string[] {
  const sections = text.split(`--${boundary}`);
  return sections.slice(1).filter((section) => !section.startsWith("--"));
}

/** The headers before the first empty line, and the rest. */
function headed(text: string): { headers: Record<string, string>; rest: string } {
  const trimmed = text.replace(/^\r?\n/, "");
  const end = trimmed.search(/\r?\n\r?\n/);
  const head = end < 0 ? trimmed : trimmed.slice(0, end);
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, rest: end < 0 ? "" : trimmed.slice(end).replace(/^\r?\n\r?\n/, "") };
}

/** The answers of a `$batch`, in order (a change set's answer in its place). */
export function parseBatchAnswers(contentType: string | undefined, text: string): BatchAnswer[] {
  const boundary = boundaryOf(contentType);
  if (!boundary) throw new Error(`The $batch answer is not multipart (Content-Type: ${contentType ?? "none"}).`);
  const answers: BatchAnswer[] = [];
  for (const part of partsOf(text, boundary)) {
    const { headers, rest } = headed(part);
    const changeSet = boundaryOf(headers["content-type"]);
    for (const inner of changeSet ? partsOf(rest, changeSet) : [part]) {
      const http = headed(inner).rest;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(http)?.[1]);
      if (!status) throw new Error("A $batch answer part holds no HTTP status line.");
      const answer = headed(http.slice(http.search(/\r?\n/) + 1));
      answers.push({ status, headers: answer.headers, text: answer.rest.trim() });
    }
  }
  return answers;
}
