import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { TokenClaims } from "./kit.js";

/**
 * Access tokens are JWTs signed with a key that lives only in this sandbox process (HS256): clients treat
 * them as opaque, as they must with real Entra tokens, and the emulated services verify signature, expiry
 * and audience on every call.
 */
export class TokenAuthority {
  private readonly key = randomBytes(32);
  /** Every credential this sandbox handed out, so tests can search the CLI's output and files for them. */
  readonly issued = new Set<string>();

  issue(claims: Omit<TokenClaims, "iat" | "exp">, lifetimeSeconds = 3600): { token: string; expiresIn: number } {
    const now = Math.floor(Date.now() / 1000);
    const full: TokenClaims = { ...claims, iat: now, exp: now + lifetimeSeconds };
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "HS256", kid: "sandbox" }));
    const payload = b64url(JSON.stringify(full));
    const signature = createHmac("sha256", this.key).update(`${header}.${payload}`).digest("base64url");
    const token = `${header}.${payload}.${signature}`;
    this.issued.add(token);
    return { token, expiresIn: lifetimeSeconds };
  }

  /** Returns the claims, or the reason the token is refused. */
  verify(token: string): TokenClaims | { error: string } {
    const parts = token.split(".");
    if (parts.length !== 3) return { error: "The access token is malformed." };
    const expected = createHmac("sha256", this.key).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2]!, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { error: "The access token signature is invalid." };
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as TokenClaims;
    if (claims.exp * 1000 < Date.now()) return { error: "The access token has expired." };
    return claims;
  }
}

export function b64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

/** Unsigned id_token (alg none): MSAL only decodes id_token claims, it never checks their signature. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ typ: "JWT", alg: "none" }))}.${b64url(JSON.stringify(claims))}.`;
}
