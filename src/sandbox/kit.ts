import { createHash, randomUUID } from "node:crypto";

/** The sandbox's own request/response types: each emulated service is a function of one to the other. */
export interface SandboxRequest {
  method: string;
  url: URL;
  headers: Record<string, string | undefined>;
  body: Buffer;
  /** The verified bearer token's claims, when the service required one. */
  claims?: TokenClaims;
}

export interface SandboxResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface TokenClaims {
  aud: string;
  iss: string;
  tid: string;
  oid: string;
  /** `user` for delegated tokens, `app` for client credentials. */
  idtyp: "user" | "app";
  appid: string;
  upn?: string;
  exp: number;
  iat: number;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: body === undefined ? "" : JSON.stringify(body),
  };
}

export function noContent(headers: Record<string, string> = {}): SandboxResponse {
  return { status: 204, headers };
}

export function readJson(request: SandboxRequest): Record<string, unknown> {
  if (request.body.length === 0) return {};
  const parsed: unknown = JSON.parse(request.body.toString("utf8"));
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new SyntaxError("body is not a JSON object");
  return parsed as Record<string, unknown>;
}

export function readForm(request: SandboxRequest): URLSearchParams {
  return new URLSearchParams(request.body.toString("utf8"));
}

export const newRequestId = (): string => randomUUID();

/** Small seeded PRNG so a fault campaign with a seed is repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Deterministic GUID from a name, for seeded records whose real ids are not public. */
export function guidFromName(name: string): string {
  const hex = createHash("sha256").update(`crm-lead-setup-sandbox:${name}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
