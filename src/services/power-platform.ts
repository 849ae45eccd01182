import { SignInError, StepFailedError, TenantNotReadyError } from "../errors.js";
import { withQuery, type HttpClient } from "./http.js";
import { readAllPages, type ListPage } from "./pages.js";
import type { TokenProvider } from "./tokens.js";
import { knownAnswer } from "../catalogue.js";

/**
 * The Power Platform admin API (reference: dataverse §5.2): find the environment whose instance URL is the
 * org URL, and add an Entra user to it at once instead of waiting for the background sync. The endpoint is
 * not separately documented by Microsoft; it is what Add-AdminPowerAppsSyncUser and the Terraform provider call.
 */
const POWER_PLATFORM_AUDIENCE_ENV = "CRM_LEAD_SETUP_POWER_PLATFORM_AUDIENCE";
const ENVIRONMENTS = "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments";

/** AADSTS500011 for the admin API: the audience tried, and how to choose another (also in the README's table). */
export function explainUnknownAudience(audience: string, endpoint: string): { message: string; hint: string } {
  return {
    message: `AADSTS500011: Entra does not know the Power Platform admin API audience ${audience} in this tenant, so no token could be issued for ${endpoint}.`,
    hint: `Pass the audience your cloud uses with --power-platform-audience <url> (or ${POWER_PLATFORM_AUDIENCE_ENV}); the README's Clouds section lists the candidates. Or leave out --force-sync and let the background sync run.`,
  };
}

interface PowerPlatformEnvironment {
  name: string;
  properties: { linkedEnvironmentMetadata?: { instanceUrl?: string } };
}

export class PowerPlatformAdminApi {
  constructor(
    private readonly http: HttpClient,
    private readonly endpoint: string,
    private readonly scope: string,
    private readonly tokens: TokenProvider,
  ) {}

  private async call(method: "GET" | "POST", path: string, body?: unknown) {
    const token = await this.token();
    return this.http.send({
      service: "bap",
      method,
      // A next-page link is absolute (pages.ts checks it stays on this origin).
      url: path.startsWith("https://") ? path : `${this.endpoint}${path}`,
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      // Adding a user who is already in the environment changes nothing: safe to resend.
      idempotent: true,
    });
  }

  /**
   * The admin API's token audience differs per cloud and is not documented for GCC / GCC High (see
   * clouds.ts): when Entra does not know it (AADSTS500011), say which one was tried and how to change it.
   */
  private async token(): Promise<string> {
    const audience = this.scope.replace(/\/\.default$/, "");
    try {
      return await this.tokens.getAccessToken(audience);
    } catch (error) {
      if (!(error instanceof SignInError) || error.aadsts !== 500011) throw error;
      throw new SignInError({ code: error.code, aadsts: 500011, ...explainUnknownAudience(audience, this.endpoint), cause: error });
    }
  }

  /** One page of the environment list; the list pages through `nextLink` (tenants hold many environments). */
  private async environmentPage(pathOrNextLink: string): Promise<ListPage<PowerPlatformEnvironment>> {
    const response = await this.call("GET", pathOrNextLink);
    if (response.status === 403) {
      throw new TenantNotReadyError({
        code: "power-platform-admin-required",
        message: "Adding the user to Dynamics through the Power Platform admin API needs a Power Platform or Dynamics 365 administrator.",
        hint: "Sign in as one, or leave out --force-sync and let the background sync run.",
      });
    }
    if (response.status !== 200)
      throw new StepFailedError({
        code: "power-platform-error",
        message: `The Power Platform admin API answered ${response.status} for the environment list.`,
        hint: "Re-run with --verbose for the full exchange.",
      });
    return response.json<ListPage<PowerPlatformEnvironment>>();
  }

  async environmentName(orgUrl: string): Promise<string> {
    const first = withQuery(ENVIRONMENTS, { "api-version": "2021-04-01" });
    const environments = await readAllPages(`${this.endpoint}${first}`, await this.environmentPage(first), (nextLink) =>
      this.environmentPage(nextLink),
    );
    const match = environments.find(
      (e) => (e.properties.linkedEnvironmentMetadata?.instanceUrl ?? "").replace(/\/+$/, "").toLowerCase() === orgUrl.toLowerCase(),
    );
    if (!match)
      throw new TenantNotReadyError({
        code: "power-platform-environment-missing",
        message: `No Power Platform environment has the instance URL ${orgUrl}.`,
        hint: "Check --org-url; the signed-in admin must see the environment in the Power Platform admin center.",
      });
    return match.name;
  }

  /** addUser; `"unlicensed"` while Entra has not finished propagating the licence (the answer says userNotLicensed). */
  async addUser(environmentName: string, objectId: string): Promise<"added" | "unlicensed"> {
    const response = await this.call(
      "POST",
      withQuery(`${ENVIRONMENTS}/${encodeURIComponent(environmentName)}/addUser`, { "api-version": "2023-06-01" }),
      { objectId },
    );
    if (response.status >= 200 && response.status < 300) return "added";
    if (knownAnswer("bap", response) === "bap-user-not-licensed") return "unlicensed";
    throw new StepFailedError({
      code: "power-platform-add-user-failed",
      message: `Adding the user to the environment failed: ${response.status} ${response.text().slice(0, 300)}`,
      hint: "Re-run with --verbose; or leave out --force-sync and let the background sync run.",
    });
  }
}
