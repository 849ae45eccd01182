import { StepFailedError, TenantNotReadyError, UsageError } from "../errors.js";
import { withQuery, type HttpClient, type HttpResponse } from "./http.js";
import { parseRetryAfter } from "./retry.js";
import { readAllPages, type ListPage } from "./pages.js";

/**
 * Partner Center's Product Ingestion API (reference: partner-center §1.2–1.4), the `customer-leads`
 * resource of an offer. Base `<graph root>/rp/product-ingestion`, a Graph-audience token for the tenant of
 * the Partner Center account, authorization by the account's role (Manager), `$version` on every call.
 */
export const PRODUCT_INGESTION_PATH = "/rp/product-ingestion";

/**
 * `$version` per call, as the doc's own examples use them (§1.2). The version is a maximum: the service
 * answers each resource at the newest schema version not above it.
 */
export const INGESTION_VERSIONS = {
  product: "2022-03-01-preview3",
  resourceTree: "2022-03-01-preview5",
  configure: "2022-03-01-preview2",
} as const;

export const CONFIGURE_SCHEMA = "https://schema.mp.microsoft.com/schema/configure/2022-03-01-preview2";
/** Used when the resource tree reports no customer-leads resource: what real SaaS consumers hard-code (§1.2 "Schema host"). */
export const CUSTOMER_LEADS_SCHEMA = "https://schema.mp.microsoft.com/schema/customer-leads/2022-03-01-preview3";

/** The role the signed-in identity needs, and where an admin grants it (§1.4). */
export const PARTNER_CENTER_ROLE_FIX =
  "In Partner Center, open Account settings → User management and add the signed-in user (Users) or app (Microsoft Entra applications) with the Manager role";

/** A Graph-audience access token for the Partner Center account's tenant (`--partner-center-tenant`). */
export type PartnerCenterToken = () => Promise<string>;

/** An offer as Partner Center lists it. */
export interface PartnerCenterOffer {
  /** The offer ID typed in Partner Center (the product's external id). */
  offerId: string;
  /** The durable id, `product/<guid>`. */
  productId: string;
  productGuid: string;
  /** The product schema's `type` (softwareAsAService, dynamics365ForCustomerEngagement…). */
  type: string;
  alias: string | undefined;
}

/** The offer's `customer-leads` resource as answered: secrets come back masked (§1.3 "Masked secrets"). */
export interface CustomerLeadsResource {
  $schema: string;
  id?: string;
  product?: unknown;
  leadDestination: string;
  [configuration: string]: unknown;
}

export interface ConfigureBody {
  $schema: string;
  resources: Record<string, unknown>[];
}

export interface ConfigureJobError {
  code: string;
  message: string;
  resourceId?: string;
}

/** A configure job's status (`configure-status`); `retryAfterMs` from the answer's Retry-After header. */
export interface ConfigureJobStatus {
  jobId: string;
  jobStatus: "notStarted" | "running" | "completed";
  jobResult: "pending" | "succeeded" | "failed" | "cancelled";
  errors: ConfigureJobError[];
  retryAfterMs: number | undefined;
}

interface ProductJson {
  id: string;
  identity?: { externalId?: string; externalID?: string };
  type?: string;
  alias?: string;
}

/** The ingestion API's pages carry `@nextLink` (§1.2 "Listing all products"); pages.ts reads `nextLink`. */
type IngestionPage<T> = { value: T[]; "@nextLink"?: string; nextLink?: string };

export class PartnerCenterApi {
  private readonly base: string;

  constructor(
    private readonly http: HttpClient,
    graphEndpoint: string,
    private readonly token: PartnerCenterToken,
  ) {
    this.base = `${graphEndpoint.replace(/\/+$/, "")}${PRODUCT_INGESTION_PATH}`;
  }

  /** The offer with this offer ID, or undefined when the account has none (or the caller cannot see it). */
  async findProduct(offerId: string): Promise<PartnerCenterOffer | undefined> {
    // The doc writes both `externalId` and `externalID` for this parameter; the schema's name is used.
    const page = await this.getJson<IngestionPage<ProductJson>>(
      withQuery("product", { externalId: offerId, $version: INGESTION_VERSIONS.product }),
      `finding offer ${offerId}`,
    );
    return page.value.map(toOffer).find((offer) => offer.offerId === offerId);
  }

  /** Every offer the signed-in identity can see, following `@nextLink`. */
  async listProducts(): Promise<PartnerCenterOffer[]> {
    const first = `${this.base}/${withQuery("product", { $version: INGESTION_VERSIONS.product })}`;
    const page = (url: string) =>
      this.getJson<IngestionPage<ProductJson>>(withVersion(url, INGESTION_VERSIONS.product), "listing offers").then(asListPage);
    const products = await readAllPages(first, await page(first), page);
    return products.map(toOffer);
  }

  /**
   * The offers of these offer IDs, in order. An unknown one is bad input (exit 2), found before anything
   * changes, naming the offers the account can see.
   */
  async requireProducts(offerIds: readonly string[]): Promise<PartnerCenterOffer[]> {
    const found = await Promise.all(offerIds.map((id) => this.findProduct(id)));
    const unknown = offerIds.filter((_, index) => !found[index]);
    if (unknown.length === 0) return found as PartnerCenterOffer[];
    const visible = (await this.listProducts()).map((offer) => offer.offerId).sort();
    throw new UsageError({
      code: "partner-center-offer-unknown",
      message: `Partner Center has no offer ${unknown.join(", ")} that the signed-in identity can see. ${
        visible.length > 0 ? `Offers it can see: ${visible.join(", ")}.` : "It can see no offers at all."
      }`,
      hint: "Pass the offer ID exactly as Partner Center shows it under Offer setup (--offer <id>), or sign in to the Partner Center account that owns the offer (--partner-center-tenant).",
      details: { unknownOffers: unknown, visibleOffers: visible },
    });
  }

  /**
   * The draft `customer-leads` resource of a product, found in the resource tree by its `$schema` (§1.2):
   * the tree also says which schema version to write back. Undefined when the offer has none.
   */
  async customerLeads(productGuid: string): Promise<CustomerLeadsResource | undefined> {
    const tree = await this.getJson<{ resources?: Record<string, unknown>[] }>(
      withQuery(`resource-tree/product/${encodeURIComponent(productGuid)}`, { $version: INGESTION_VERSIONS.resourceTree }),
      `reading the resources of product/${productGuid}`,
    );
    const leads = (tree.resources ?? []).find((resource) => String(resource.$schema ?? "").includes("/customer-leads/"));
    return leads as CustomerLeadsResource | undefined;
  }

  /** Posts one configure job for every resource of the body; its first status (with the job id). */
  async configure(body: ConfigureBody): Promise<ConfigureJobStatus> {
    const response = await this.send("POST", withQuery("configure", { $version: INGESTION_VERSIONS.configure }), body);
    // The doc does not give the accepted status (UNCONFIRMED): any 2xx.
    if (response.status < 200 || response.status > 299) throw this.failure(response, "posting the configure job");
    return toJobStatus(response);
  }

  async jobStatus(jobId: string): Promise<ConfigureJobStatus> {
    const response = await this.send(
      "GET",
      withQuery(`configure/${encodeURIComponent(jobId)}/status`, { $version: INGESTION_VERSIONS.configure }),
    );
    // A job id kept from an earlier run may be unknown by now (how long jobs are kept is UNCONFIRMED).
    if (response.status === 404)
      throw new StepFailedError({
        code: "partner-center-job-unknown",
        message: `Partner Center knows no configure job ${jobId}.`,
        hint: "Re-run the same command: it reads the offers again and posts a new job if one is still needed.",
        details: { jobId },
      });
    if (response.status !== 200) throw this.failure(response, `reading configure job ${jobId}`);
    return toJobStatus(response);
  }

  private async getJson<T>(pathOrUrl: string, operation: string): Promise<T> {
    const response = await this.send("GET", pathOrUrl);
    if (response.status !== 200) throw this.failure(response, operation);
    return response.json<T>();
  }

  private async send(method: "GET" | "POST", pathOrUrl: string, body?: ConfigureBody): Promise<HttpResponse> {
    const token = await this.token();
    // The secrets of a configure body are registered before it is traced, whatever its keys are called.
    if (body) for (const secret of secretsOf(body)) this.http.redactor.add(secret);
    return this.http.send({
      service: "graph",
      method,
      // A next-page link is absolute (readAllPages checks it stays on this origin).
      url: pathOrUrl.startsWith("https://") ? pathOrUrl : `${this.base}/${pathOrUrl}`,
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /**
   * 401: the token is not for the Partner Center account's tenant, or the identity is unknown there; 403:
   * no role (§1.4). Both are a tenant that is not ready (exit 4): nothing was changed.
   */
  private failure(response: HttpResponse, operation: string): Error {
    const service = serviceError(response);
    const said = `${response.status}${service.code ? ` ${service.code}` : ""}${service.message ? `: ${service.message}` : ""}`;
    if (response.status === 401 || response.status === 403)
      return new TenantNotReadyError({
        code: response.status === 403 ? "partner-center-role-missing" : "partner-center-unauthorized",
        message: `Partner Center refused ${operation} (${said}). The signed-in identity has no role in the Partner Center account${
          response.status === 401 ? ", or the account belongs to another tenant" : ""
        }.`,
        hint: `${PARTNER_CENTER_ROLE_FIX}. If the Partner Center account lives in another tenant than Dynamics, pass --partner-center-tenant <id or domain>.`,
      });
    return new StepFailedError({
      code: "partner-center-error",
      message: `Partner Center failed ${operation}: ${said}`,
      hint: "Re-run with --verbose for the full exchange; the values printed in the summary can still be pasted into the offer by hand.",
    });
  }
}

function toOffer(product: ProductJson): PartnerCenterOffer {
  const guid = product.id.replace(/^product\//i, "");
  return {
    // The doc's samples print `externalID`, the schema `externalId` (casing UNCONFIRMED): both are read.
    offerId: product.identity?.externalId ?? product.identity?.externalID ?? "",
    productId: `product/${guid}`,
    productGuid: guid,
    type: product.type ?? "unknown",
    alias: product.alias,
  };
}

/** `$version` is required on every call (§1.2); whether `@nextLink` carries it is UNCONFIRMED: added when missing. */
function withVersion(url: string, version: string): string {
  const parsed = new URL(url);
  if (parsed.searchParams.has("$version")) return url;
  return withQuery(url, { $version: version });
}

function asListPage<T>(page: IngestionPage<T>): ListPage<T> {
  return { value: page.value ?? [], nextLink: page["@nextLink"] ?? page.nextLink };
}

/** Reads `jobId` or `jobID`: 2022 docs and cloudpub print the first, 2023 docs the second (§1.2 "Casing"). */
function toJobStatus(response: HttpResponse): ConfigureJobStatus {
  const body = response.json<Record<string, unknown>>();
  const jobId = Object.entries(body).find(([name]) => name.toLowerCase() === "jobid")?.[1];
  if (typeof jobId !== "string" || jobId === "")
    throw new StepFailedError({
      code: "partner-center-error",
      message: `Partner Center answered a configure job without a job id (${response.status}).`,
      hint: "Re-run with --verbose for the full exchange.",
    });
  const errors = Array.isArray(body.errors) ? (body.errors as Record<string, unknown>[]) : [];
  return {
    jobId,
    jobStatus: (body.jobStatus as ConfigureJobStatus["jobStatus"]) ?? "notStarted",
    jobResult: (body.jobResult as ConfigureJobStatus["jobResult"]) ?? "pending",
    errors: errors.map((error) => ({
      code: String(error.code ?? "unknown"),
      message: String(error.message ?? ""),
      ...(typeof error.resourceId === "string" ? { resourceId: error.resourceId } : {}),
    })),
    retryAfterMs: parseRetryAfter(response.headers["retry-after"]),
  };
}

function serviceError(response: HttpResponse): { code?: string; message?: string } {
  try {
    const error = response.json<{ error?: { code?: unknown; message?: unknown } }>().error;
    return {
      code: typeof error?.code === "string" ? error.code : undefined,
      message: typeof error?.message === "string" ? error.message : undefined,
    };
  } catch {
    return { message: response.text().slice(0, 300) || undefined };
  }
}

/** Secret-bearing properties of a lead configuration (partner-center §1.3: "or masked-secret"). */
const SECRET_PROPERTIES = ["applicationKey", "password", "clientSecret", "storageAccountConnectionString"];

function secretsOf(body: ConfigureBody): string[] {
  return body.resources.flatMap((resource) =>
    Object.values(resource).flatMap((value) =>
      value && typeof value === "object" && !Array.isArray(value)
        ? SECRET_PROPERTIES.map((name) => (value as Record<string, unknown>)[name]).filter((v): v is string => typeof v === "string")
        : [],
    ),
  );
}
