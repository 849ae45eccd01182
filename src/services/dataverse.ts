import type { HttpClient, HttpResponse } from "./http.js";
import type { TokenProvider } from "../auth/msal.js";
import { ServiceError } from "./service-error.js";

/**
 * The Dataverse Web API v9.2 (reference: dataverse-and-partner-center §2): OData headers, bearer token for
 * the environment URL, and Dataverse's `{ error: { code, message } }` turned into a ServiceError.
 */
export class DataverseApi {
  readonly apiRoot: string;

  constructor(
    private readonly http: HttpClient,
    readonly orgUrl: string,
    private readonly tokens: TokenProvider,
  ) {
    this.apiRoot = `${orgUrl}/api/data/v9.2/`;
  }

  private async send(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<HttpResponse> {
    const token = await this.tokens.getAccessToken(this.orgUrl);
    const headers: Record<string, string> = {
      Accept: "application/json",
      "OData-MaxVersion": "4.0",
      "OData-Version": "4.0",
      Authorization: `Bearer ${token}`,
      ...extraHeaders,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json; charset=utf-8";
    const response = await this.http.send({
      service: "dataverse",
      method,
      url: `${this.apiRoot}${path}`,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status >= 400) {
      let code = "";
      let message = response.text().slice(0, 500);
      try {
        const parsed = response.json<{ error?: { code?: string; message?: string } }>();
        code = parsed.error?.code ?? "";
        message = parsed.error?.message ?? message;
      } catch {
        // Not JSON (a gateway page): keep the text.
      }
      throw new ServiceError("dataverse", response.status, code, message, `${method} ${path.split("?")[0]}`, response.headers["x-ms-service-request-id"] ?? response.headers["req_id"]);
    }
    return response;
  }

  async get<T>(path: string): Promise<T> {
    return (await this.send("GET", path)).json<T>();
  }

  async list<T>(path: string): Promise<T[]> {
    return (await this.get<{ value: T[] }>(path)).value;
  }

  /** POST; returns the JSON body when there is one, and the created record's id from OData-EntityId. */
  async post<T = unknown>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ body: T | undefined; entityId: string | undefined }> {
    const response = await this.send("POST", path, body, headers);
    const entityId = /\(([0-9a-f-]{36})\)$/i.exec(response.headers["odata-entityid"] ?? "")?.[1];
    return { body: response.body.length > 0 ? response.json<T>() : undefined, entityId };
  }

  async patch(path: string, body: unknown): Promise<void> {
    await this.send("PATCH", path, body, { "If-Match": "*" });
  }

  async delete(path: string): Promise<void> {
    await this.send("DELETE", path);
  }
}
