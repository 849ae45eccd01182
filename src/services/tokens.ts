import type { AccountInfo } from "@azure/msal-node";

/**
 * What the service clients need from sign-in: a bearer token per resource. It lives here, below both the
 * services and `auth/` (which implements it with MSAL over the services' HTTP layer), so that no import
 * runs from the services back up to auth.
 */
export interface TokenProvider {
  getAccessToken(resource: string): Promise<string>;
  /** The signed-in account (delegated sign-in only). */
  account(): AccountInfo | undefined;
}
