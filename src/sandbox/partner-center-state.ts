import { guidFromName } from "./kit.js";

/**
 * The Partner Center account behind the emulated Product Ingestion API (reference: partner-center §1): its
 * tenant, the role of each principal, its products (offers) with their `customer-leads` resource, and the
 * `configure` jobs. The HTTP side lives in partner-center.ts; this file only keeps state.
 */

/** Roles that apply to the commercial marketplace program (partner-center §1.4). */
export type PartnerCenterRole = "Manager" | "Developer";

/** A subset of the product schema's `type` enum (partner-center §1.5). */
export type ProductType = "softwareAsAService" | "dynamics365ForCustomerEngagement" | "azureApplication" | "consultingService";

/**
 * The customer-leads properties that vary (everything but `$schema`, `id` and `product`): `leadDestination`
 * and at most one `<destination>LeadConfiguration` object, secrets in clear text.
 */
export type LeadsSettings = Record<string, unknown> & { leadDestination: string };

export interface PartnerCenterProduct {
  guid: string;
  /** The offer ID typed in Partner Center (partner-center §1.2: `^[a-z0-9][a-z0-9-_]{2,49}$`). */
  externalId: string;
  type: ProductType;
  alias: string;
  /** A submission is being published: a configure of this product fails with `productLocked`. */
  publishing: boolean;
  /** The draft, which `configure` changes (partner-center §1.2 "Draft vs publish"). */
  draftLeads: LeadsSettings;
  /** What preview and live show: the sandbox never publishes, so this stays as seeded. */
  publishedLeads: LeadsSettings;
}

export interface ConfigureJobError {
  code: string;
  message: string;
  resourceId?: string;
  details: unknown[];
}

export interface ConfigureJob {
  jobId: string;
  /** Principal (app id or user object id) that posted it. */
  postedBy: string;
  /** The configure body as posted; validated and applied when the job completes. */
  body: unknown;
  statusPolls: number;
  jobStatus: "notStarted" | "running" | "completed";
  jobResult: "pending" | "succeeded" | "failed" | "cancelled";
  jobStart: string;
  jobEnd: string | undefined;
  errors: ConfigureJobError[];
  /** Durable ids of the resources this job changed (for `GET configure/<jobId>`). */
  updated: string[];
}

/**
 * The sandbox's offers, by offer ID (external id). Tests and the CLI's sandbox runs use these names.
 * `dynamics` is a Dynamics 365 Customer Engagement offer: whether Microsoft's `configure` accepts
 * customer-leads for that type is UNCONFIRMED (partner-center §1.5); the sandbox accepts it, unless the
 * scenario key `partnerCenterNotSupportedTypes` lists the type.
 */
export const SANDBOX_OFFERS = {
  saas: "contoso-lead-saas",
  dynamics: "contoso-crm-connector",
  publishing: "contoso-publishing-offer",
} as const;

/**
 * How Partner Center answers a secret. cloudpub treats the masked form as `*********`; the masked-secret
 * schema itself was never retrieved, so this exact text is UNCONFIRMED (partner-center §1.3).
 */
export const MASKED_SECRET = "*********";

/** Secret-bearing properties of the lead configurations (partner-center §1.3: "or masked-secret"). */
export const SECRET_PROPERTIES = new Set(["applicationKey", "password", "storageAccountConnectionString", "clientSecret"]);

export class PartnerCenterAccount {
  readonly products: PartnerCenterProduct[];
  /** Principal → role: an Entra app by its app id, a user by its object id (partner-center §1.4). */
  readonly roles = new Map<string, PartnerCenterRole>();
  readonly jobs = new Map<string, ConfigureJob>();

  constructor(
    /** The Entra tenant the Partner Center account is associated with: tokens must be for it. */
    readonly tenantId: string,
    seededPrincipals: string[],
    seededRole: PartnerCenterRole | "none",
  ) {
    if (seededRole !== "none") for (const principal of seededPrincipals) this.roles.set(principal, seededRole);
    const product = (
      externalId: string,
      type: ProductType,
      alias: string,
      leads: LeadsSettings,
      publishing = false,
    ): PartnerCenterProduct => ({
      guid: guidFromName(`pc-product:${externalId}`),
      externalId,
      type,
      alias,
      publishing,
      draftLeads: structuredClone(leads),
      publishedLeads: structuredClone(leads),
    });
    this.products = [
      // An existing HTTPS-endpoint destination: connecting replaces it.
      product(SANDBOX_OFFERS.saas, "softwareAsAService", "Contoso Lead Insights (SaaS)", {
        leadDestination: "httpsEndpoint",
        httpsEndpointLeadConfiguration: {
          httpsEndpointUrl: "https://leads.contoso.example/triggers/invoke",
          contactEmail: ["sales@contoso.com"],
        },
      }),
      product(SANDBOX_OFFERS.dynamics, "dynamics365ForCustomerEngagement", "Contoso CRM Connector", { leadDestination: "none" }),
      product(SANDBOX_OFFERS.publishing, "softwareAsAService", "Contoso Analytics (being published)", { leadDestination: "none" }, true),
    ];
  }

  productByGuid(guid: string): PartnerCenterProduct | undefined {
    return this.products.find((p) => p.guid === guid.toLowerCase());
  }

  productByExternalId(externalId: string): PartnerCenterProduct | undefined {
    return this.products.find((p) => p.externalId === externalId);
  }

  /** The product of an offer ID, for tests: throws when the sandbox has no such offer. */
  offer(externalId: string): PartnerCenterProduct {
    const found = this.productByExternalId(externalId);
    if (!found) throw new Error(`the sandbox has no offer ${externalId}`);
    return found;
  }

  /** Gives a principal (app id or user object id) a role, or removes it (`undefined`). */
  setRole(principal: string, role: PartnerCenterRole | undefined): void {
    if (role) this.roles.set(principal, role);
    else this.roles.delete(principal);
  }

  /** Every secret stored in a lead configuration: what must never appear in the CLI's output. */
  storedSecrets(): string[] {
    return this.products
      .flatMap((p) => [p.draftLeads, p.publishedLeads])
      .flatMap((leads) =>
        Object.values(leads).flatMap((value) =>
          value && typeof value === "object"
            ? Object.entries(value as Record<string, unknown>)
                .filter(([name, v]) => SECRET_PROPERTIES.has(name) && typeof v === "string" && v !== MASKED_SECRET)
                .map(([, v]) => v as string)
            : [],
        ),
      );
  }
}
