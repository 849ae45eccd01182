import { randomUUID } from "node:crypto";
import { jsonResponse, type SandboxRequest, type SandboxResponse, type TokenClaims } from "./kit.js";
import type { FaultInjector } from "./faults.js";
import type { SandboxScenario } from "./state.js";
import { configurationProperty, validateConfigureBody, type LeadsResourceInput } from "./customer-leads-schema.js";
import {
  MASKED_SECRET,
  SECRET_PROPERTIES,
  type ConfigureJob,
  type ConfigureJobError,
  type LeadsSettings,
  type PartnerCenterAccount,
  type PartnerCenterProduct,
} from "./partner-center-state.js";

/**
 * Emulated Partner Center Product Ingestion API (reference: partner-center §1.2–1.5), served under the
 * Graph origin at `/rp/product-ingestion` (the real base is `https://graph.microsoft.com/rp/product-ingestion`).
 * The Graph front door has already checked the bearer token's signature, expiry and Graph audience.
 *
 * Interface for clients (every call needs `$version`):
 * - `GET product?$version=…[&externalId=<offer>][&type=…][&$maxpagesize=n][&continuationToken=…]` → `{ value, @nextLink? }`
 * - `GET product/<guid>?$version=…` → the product resource
 * - `GET resource-tree/product/<guid>?$version=…[&targetType=draft|preview|live]` → `{ root, target, resources }`
 * - `GET customer-leads/<guid>?$version=…` → the draft customer-leads resource, secrets masked
 * - `POST configure?$version=…` → 202 configure-status (`jobID`, `jobStatus: notStarted`), Retry-After
 * - `GET configure/<jobId>/status?$version=…` → configure-status; notStarted → running → completed over polls,
 *   Retry-After until completed (a poll before it has passed is answered 429)
 * - `GET configure/<jobId>?$version=…` → configure-detail (400 before completion)
 * - `POST configure/<jobId>/cancel?$version=…` → cancels a job that has not completed
 * Errors use the envelope the doc prints for a refused cancel: `{ "error": { code, message, details } }`.
 */

export const PRODUCT_INGESTION_PATH = "/rp/product-ingestion";
const SCHEMA_ROOT = "https://schema.mp.microsoft.com/schema";

/** Schema versions per resource type: `$version` is a maximum, the newest at or below it is answered (§1.2). */
const SCHEMA_VERSIONS: Record<string, string[]> = {
  product: ["2022-03-01-preview2", "2022-03-01-preview3"],
  "customer-leads": ["2022-03-01-preview2", "2022-03-01-preview3"],
  property: ["2022-03-01-preview2", "2022-03-01-preview3"],
  listing: ["2022-03-01-preview2", "2022-03-01-preview5"],
  "resource-tree": ["2022-03-01-preview2"],
  "configure-status": ["2022-03-01-preview2"],
  "configure-detail": ["2022-03-01-preview2"],
};

const VERSION = /^(\d{4}-\d{2}-\d{2})(?:-preview(\d+))?$/;
/** Sort key of a schema version: a dated GA version comes after that date's previews. */
function versionKey(version: string): string | undefined {
  const match = VERSION.exec(version);
  return match ? `${match[1]}.${(match[2] === undefined ? 999 : Number(match[2])).toString().padStart(3, "0")}` : undefined;
}

/** Unconfirmed page size (the doc names `$maxpagesize` but no default): small, so clients must follow `@nextLink`. */
const DEFAULT_PAGE_SIZE = 2;

export function ingestionError(status: number, code: string, message: string, headers: Record<string, string> = {}): SandboxResponse {
  return jsonResponse(status, { error: { code, message, details: [] } }, headers);
}

export class PartnerCenterService {
  constructor(
    private readonly account: PartnerCenterAccount,
    private readonly scenario: SandboxScenario,
    private readonly faults: FaultInjector,
    private readonly graphOrigin: string,
  ) {}

  handle(request: SandboxRequest, claims: TokenClaims): SandboxResponse {
    const version = request.url.searchParams.get("$version");
    // "$version – This is a required parameter for all calls" (§1.2). The answer to a missing or unknown
    // one is not documented (UNCONFIRMED): 400 in the documented error envelope.
    if (version === null || version === "")
      return ingestionError(400, "badRequest", "The $version query parameter is required for all calls.");
    if (!versionKey(version)) return ingestionError(400, "badRequest", `The $version '${version}' is not a valid schema version.`);
    // The token must be for the tenant the Partner Center account is associated with (§1.4). Status and code
    // for another tenant's token are UNCONFIRMED.
    if (claims.tid !== this.account.tenantId)
      return ingestionError(401, "unauthorized", "The access token's tenant is not associated with this Partner Center account.");
    const principal = claims.idtyp === "app" ? claims.appid : claims.oid;
    const role = this.account.roles.get(principal);
    // Authorization comes from the Partner Center role, not from Graph permissions (§1.4). The 403 body's code is UNCONFIRMED.
    if (!role) return this.forbidden(claims, "has no role in this Partner Center account");
    const segments = request.url.pathname
      .slice(PRODUCT_INGESTION_PATH.length)
      .replace(/^\/+|\/+$/g, "")
      .split("/")
      .map(decodeURIComponent);
    const write = request.method === "POST";
    // Manager is the documented role (§1.4); whether Developer may write customer-leads is UNCONFIRMED: refused here.
    if (write && role !== "Manager") return this.forbidden(claims, `has the ${role} role; configure needs Manager`);
    try {
      return this.route(request, segments, version, principal);
    } catch (error) {
      if (error instanceof SyntaxError) return ingestionError(400, "badRequest", "The request body is not valid JSON.");
      throw error;
    }
  }

  private forbidden(claims: TokenClaims, problem: string): SandboxResponse {
    const who = claims.idtyp === "app" ? `The application ${claims.appid}` : `The user ${claims.upn ?? claims.oid}`;
    return ingestionError(
      403,
      "forbidden",
      `${who} ${problem}. Add it under Partner Center → Account settings → User management with the Manager role.`,
    );
  }

  /** `$schema` of a resource type at the newest version not above `$version`, or undefined if none is. */
  private schema(resourceType: string, version: string): string | undefined {
    const wanted = versionKey(version)!;
    const available = SCHEMA_VERSIONS[resourceType]!.filter((v) => versionKey(v)! <= wanted);
    return available.length > 0 ? `${SCHEMA_ROOT}/${resourceType}/${available[available.length - 1]}` : undefined;
  }

  private route(request: SandboxRequest, segments: string[], version: string, principal: string): SandboxResponse {
    const [head, id, tail] = segments;
    const method = request.method;
    const get = method === "GET";
    const query = request.url.searchParams;
    if (head === "product" && get && segments.length === 1) return this.listProducts(query, version);
    if (head === "product" && get && segments.length === 2) return this.withProduct(id!, (p) => this.answer(this.productJson(p, version)));
    if (head === "resource-tree" && get && id === "product" && segments.length === 3)
      return this.withProduct(tail!, (p) => this.resourceTree(p, query.get("targetType"), version));
    if (head === "customer-leads" && get && segments.length === 2)
      return this.withProduct(id!, (p) => this.answer(this.leadsJson(p, p.draftLeads, version)));
    if (head === "configure" && method === "POST" && segments.length === 1) return this.postConfigure(request, version, principal);
    if (head === "configure" && segments.length >= 2) {
      const job = this.account.jobs.get(id!.toLowerCase());
      if (!job) return ingestionError(404, "resourceNotFound", `No configure job ${id} exists.`);
      if (get && tail === "status" && segments.length === 3) return this.jobStatus(job, version);
      if (get && segments.length === 2) return this.jobDetail(job, version);
      if (method === "POST" && tail === "cancel" && segments.length === 3) return this.cancel(job, version);
    }
    return ingestionError(404, "resourceNotFound", `No resource matches ${method} ${request.url.pathname}.`);
  }

  /** Answers 400 when `$version` is below every version of the resource type (the version is a maximum). */
  private answer(resource: Record<string, unknown> | undefined, headers: Record<string, string> = {}, status = 200): SandboxResponse {
    if (!resource) return ingestionError(400, "badRequest", "No schema version of the resource exists at or below the requested $version.");
    return jsonResponse(status, resource, headers);
  }

  private withProduct(guid: string, use: (product: PartnerCenterProduct) => SandboxResponse): SandboxResponse {
    const product = this.account.productByGuid(guid);
    return product ? use(product) : ingestionError(404, "resourceNotFound", `Product ${guid} does not exist in this account.`);
  }

  private productJson(product: PartnerCenterProduct, version: string): Record<string, unknown> | undefined {
    const schema = this.schema("product", version);
    // The doc's samples print `externalID`; the schema facts (§1.2) say `externalId`. Casing UNCONFIRMED.
    return schema === undefined
      ? undefined
      : {
          $schema: schema,
          id: `product/${product.guid}`,
          identity: { externalId: product.externalId },
          type: product.type,
          alias: product.alias,
        };
  }

  private leadsJson(product: PartnerCenterProduct, leads: LeadsSettings, version: string): Record<string, unknown> | undefined {
    const schema = this.schema("customer-leads", version);
    return schema === undefined
      ? undefined
      : { $schema: schema, id: `customer-leads/${product.guid}`, product: `product/${product.guid}`, ...masked(leads) };
  }

  private listProducts(query: URLSearchParams, version: string): SandboxResponse {
    // The doc writes both `externalId` and `externalID` for this parameter.
    const externalId = [...query].find(([name]) => name.toLowerCase() === "externalid")?.[1];
    const type = query.get("type");
    const matching = this.account.products.filter(
      (p) => (externalId === undefined || p.externalId === externalId) && (!type || p.type === type),
    );
    const pageSize = query.has("$maxpagesize") ? Number(query.get("$maxpagesize")) : DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1)
      return ingestionError(400, "badRequest", "$maxpagesize must be a positive whole number.");
    const token = query.get("continuationToken");
    const offset = token === null ? 0 : Number(Buffer.from(token, "base64url").toString("utf8"));
    if (!Number.isInteger(offset) || offset < 0) return ingestionError(400, "badRequest", "The continuationToken is not valid.");
    const value = matching.slice(offset, offset + pageSize).map((p) => this.productJson(p, version));
    if (value.some((p) => !p)) return this.answer(undefined);
    const body: Record<string, unknown> = { value };
    if (offset + pageSize < matching.length) {
      const next = new URLSearchParams(query);
      next.set("continuationToken", Buffer.from(String(offset + pageSize), "utf8").toString("base64url"));
      // Whether the real `@nextLink` carries `$version` is UNCONFIRMED (§1.2 names only `@nextLink` and
      // `continuationToken`): it is left out, so a client must add the required parameter itself.
      next.delete("$version");
      body["@nextLink"] = `${this.graphOrigin}${PRODUCT_INGESTION_PATH}/product?${next.toString()}`;
    }
    return jsonResponse(200, body);
  }

  private resourceTree(product: PartnerCenterProduct, targetType: string | null, version: string): SandboxResponse {
    const target = targetType ?? "draft";
    if (!["draft", "preview", "live"].includes(target))
      return ingestionError(400, "badRequest", `targetType must be draft, preview or live, not '${target}'.`);
    const tree = this.schema("resource-tree", version);
    const productJson = this.productJson(product, version);
    const leads = this.leadsJson(product, target === "draft" ? product.draftLeads : product.publishedLeads, version);
    const property = this.schema("property", version);
    const listing = this.schema("listing", version);
    if (!tree || !productJson || !leads || !property || !listing) return this.answer(undefined);
    // Other resources of the product come first, so a client must pick customer-leads by its `$schema` (§1.2).
    return jsonResponse(200, {
      $schema: tree,
      root: `product/${product.guid}`,
      target: { targetType: target },
      resources: [
        productJson,
        {
          $schema: property,
          id: `property/${product.guid}/public/main`,
          product: `product/${product.guid}`,
          kind: product.type === "softwareAsAService" ? "azureSaaS" : "dynamics365",
          termsConditions: "false",
        },
        {
          $schema: listing,
          id: `listing/${product.guid}/public/main/default/en-us`,
          product: `product/${product.guid}`,
          kind: "azureListing",
          title: product.alias,
        },
        leads,
      ],
    });
  }

  private statusJson(job: ConfigureJob, version: string): Record<string, unknown> | undefined {
    const schema = this.schema("configure-status", version);
    // 2023 docs print `jobID`, 2022 docs and cloudpub `jobId` (§1.2): the sandbox answers the current docs' casing.
    return schema === undefined
      ? undefined
      : {
          $schema: schema,
          jobID: job.jobId,
          jobStatus: job.jobStatus,
          jobResult: job.jobResult,
          jobStart: job.jobStart,
          jobEnd: job.jobEnd ?? "0001-01-01T00:00:00",
          errors: job.errors,
        };
  }

  /**
   * Retry-After on answers about a job that has not ended. The private-offers doc asks not to poll more
   * than once a minute (§1.2 "Pacing"); whether the service sends Retry-After, and enforces it, is
   * UNCONFIRMED. The sandbox sends it and answers a sooner poll with 429, the stricter reading.
   */
  private pacing(job: ConfigureJob): Record<string, string> {
    const seconds = this.scenario.partnerCenterPollSeconds;
    if (job.jobStatus === "completed" || seconds <= 0) return {};
    this.faults.holdOff("GET", `${PRODUCT_INGESTION_PATH}/configure/${job.jobId}/status`, seconds);
    return { "retry-after": String(seconds) };
  }

  private postConfigure(request: SandboxRequest, version: string, principal: string): SandboxResponse {
    const body: unknown = JSON.parse(request.body.toString("utf8") || "null");
    const job: ConfigureJob = {
      jobId: randomUUID(),
      postedBy: principal,
      body,
      statusPolls: 0,
      jobStatus: "notStarted",
      jobResult: "pending",
      jobStart: new Date().toISOString(),
      jobEnd: undefined,
      errors: [],
      updated: [],
    };
    const status = this.statusJson(job, version);
    if (!status) return this.answer(undefined);
    this.account.jobs.set(job.jobId, job);
    // The doc does not give the status code of an accepted configure (UNCONFIRMED): 202, so clients accept any 2xx.
    return jsonResponse(202, status, this.pacing(job));
  }

  private jobStatus(job: ConfigureJob, version: string): SandboxResponse {
    if (!this.schema("configure-status", version)) return this.answer(undefined);
    if (job.jobStatus !== "completed") {
      job.statusPolls++;
      if (job.statusPolls <= this.scenario.partnerCenterRunningPolls) job.jobStatus = "running";
      else this.complete(job);
    }
    return this.answer(this.statusJson(job, version), this.pacing(job));
  }

  private jobDetail(job: ConfigureJob, version: string): SandboxResponse {
    // "If you make this call before the job is completed, it will fail" (§1.2).
    if (job.jobStatus !== "completed") return ingestionError(400, "badRequest", `Configure job ${job.jobId} has not completed.`);
    const schema = this.schema("configure-detail", version);
    const resources = job.updated.map((id) => {
      const product = this.account.productByGuid(id.split("/")[1]!)!;
      return this.leadsJson(product, product.draftLeads, version);
    });
    return this.answer(schema ? { $schema: schema, resources } : undefined);
  }

  private cancel(job: ConfigureJob, version: string): SandboxResponse {
    // The doc's own sample of a refused cancel (§1.2 "Cancel a configuration request").
    if (job.jobStatus === "completed") return ingestionError(400, "badRequest", "Cannot cancel job, job has already completed.");
    Object.assign(job, { jobStatus: "completed", jobResult: "cancelled", jobEnd: new Date().toISOString() });
    return this.answer(this.statusJson(job, version));
  }

  /**
   * Ends a job: schema errors fail it whole; otherwise each resource is resolved and applied on its own,
   * so one locked offer fails the job while the others are saved (per-resource outcome UNCONFIRMED; the
   * doc says of cancellation that "some resources may have already completed processing").
   */
  private complete(job: ConfigureJob): void {
    const validation = validateConfigureBody(job.body);
    const errors: ConfigureJobError[] = [...validation.errors];
    if (errors.length === 0) {
      for (const input of validation.resources) {
        const outcome = this.resolve(input);
        if ("code" in outcome) errors.push(outcome);
        else {
          outcome.product.draftLeads = outcome.settings;
          job.updated.push(`customer-leads/${outcome.product.guid}`);
        }
      }
    }
    Object.assign(job, {
      jobStatus: "completed",
      jobResult: errors.length > 0 ? "failed" : "succeeded",
      jobEnd: new Date().toISOString(),
      errors,
    });
  }

  private resolve(input: LeadsResourceInput): { product: PartnerCenterProduct; settings: LeadsSettings } | ConfigureJobError {
    const product =
      "guid" in input.product ? this.account.productByGuid(input.product.guid) : this.account.productByExternalId(input.product.externalId);
    const fail = (
      code: string,
      message: string,
      resourceId = input.label ?? (product ? `customer-leads/${product.guid}` : undefined),
    ): ConfigureJobError => ({ code, message, ...(resourceId ? { resourceId } : {}), details: [] });
    if (!product)
      return fail(
        "resourceNotFound",
        `The product ${"guid" in input.product ? `product/${input.product.guid}` : input.product.externalId} does not exist in this account.`,
      );
    if (input.id && input.id.toLowerCase() !== `customer-leads/${product.guid}`)
      return fail("invalidId", `${input.id} is not the customer-leads resource of product/${product.guid}.`);
    if (product.publishing)
      return fail(
        "productLocked",
        `Product product/${product.guid} is locked: a submission is being published. Try again once it completes.`,
      );
    if (this.scenario.partnerCenterNotSupportedTypes.includes(product.type))
      return fail("notSupported", `customer-leads cannot be configured for ${product.type} products.`);
    // "The Azure Blob lead destination is no longer supported" (lead-management FAQ, partner-center §2).
    if (input.settings.leadDestination === "blob")
      return fail("businessValidationError", "The Azure Blob lead destination is no longer supported. Choose another lead destination.");
    const settings = keepMaskedSecrets(input.settings, product.draftLeads);
    return typeof settings === "string" ? fail("businessValidationError", settings) : { product, settings };
  }
}

/** The stored settings as answered: every secret replaced by the masked form. */
function masked(leads: LeadsSettings): LeadsSettings {
  const copy = structuredClone(leads);
  for (const value of Object.values(copy)) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const name of Object.keys(value)) if (SECRET_PROPERTIES.has(name)) (value as Record<string, unknown>)[name] = MASKED_SECRET;
    }
  }
  return copy;
}

/**
 * A masked secret sent back keeps the stored one (inferred from the masked-secret type, UNCONFIRMED,
 * partner-center §1.3); with nothing stored for that field of that destination it cannot be kept.
 */
function keepMaskedSecrets(settings: LeadsSettings, stored: LeadsSettings): LeadsSettings | string {
  const property = configurationProperty(settings.leadDestination);
  const incoming = settings[property] as Record<string, unknown> | undefined;
  if (!incoming) return settings;
  const previous = (stored.leadDestination === settings.leadDestination ? stored[property] : undefined) as
    Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== MASKED_SECRET || !SECRET_PROPERTIES.has(name)) continue;
    const kept = previous?.[name];
    if (typeof kept !== "string" || kept === MASKED_SECRET)
      return `${property}.${name} is masked but no ${name} is stored to keep: send the secret itself.`;
    incoming[name] = kept;
  }
  return settings;
}
