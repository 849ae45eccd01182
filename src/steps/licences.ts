import { TenantNotReadyError, UsageError } from "../errors.js";
import type { SubscribedSku } from "../services/graph.js";

/**
 * Which licences give a user access to Dynamics 365 Customer Engagement, and which one to use. Service
 * plan names from Microsoft's licensing reference (reference: graph-and-msal §A.13); capacity and
 * instance add-ons are never candidates (they apply to the company, or carry no app plan).
 */

/** Preferred first: full Customer Engagement / Sales apps; Team Members (restricted table access) last. */
const DYNAMICS_PLANS_BY_PREFERENCE = [
  "DYN365_ENTERPRISE_SALES",
  "DYN365_ENTERPRISE_P1",
  "DYN365_SALES_PRO",
  "DYN365_ENTERPRISE_CUSTOMER_SERVICE",
  "DYN365_CUSTOMER_SERVICE_PRO",
  "DYN365_ENTERPRISE_FIELD_SERVICE",
  "DYN365_ENTERPRISE_CASE_MANAGEMENT",
  "DYN365_ENTERPRISE_RELATIONSHIP_SALES",
  "D365_SALES_ENT_ATTACH",
  "D365_SALES_PRO_ATTACH",
  "DYN365_SALES_ENTERPRISE_VIRAL_TRIAL",
  "D365_SALES_PRO_IW",
  "DYN365_ENTERPRISE_P1_IW",
  "CRMSTANDARD",
  "CRMPLAN2",
  "DYN365_ENTERPRISE_TEAM_MEMBERS",
  "DYN365_TEAM_MEMBERS",
];

function planRank(servicePlanName: string): number {
  const base = servicePlanName.replace(/_(GOV|GCC)$/, "");
  const index = DYNAMICS_PLANS_BY_PREFERENCE.indexOf(base);
  return index < 0 ? Number.POSITIVE_INFINITY : index;
}

export interface LicenceOption {
  skuId: string;
  skuPartNumber: string;
  free: number;
  total: number;
  rank: number;
}

/** User licences of the tenant that carry an enabled Dynamics 365 plan, best first. */
export function dynamicsLicences(skus: readonly SubscribedSku[]): LicenceOption[] {
  return skus
    .filter((sku) => sku.appliesTo === "User" && ["Enabled", "Warning"].includes(sku.capabilityStatus))
    .map((sku) => ({
      skuId: sku.skuId,
      skuPartNumber: sku.skuPartNumber,
      free: Math.max(0, sku.prepaidUnits.enabled - sku.consumedUnits),
      total: sku.prepaidUnits.enabled,
      rank: Math.min(...sku.servicePlans.filter((p) => p.provisioningStatus !== "Disabled").map((p) => planRank(p.servicePlanName))),
    }))
    .filter((option) => Number.isFinite(option.rank))
    .sort((a, b) => a.rank - b.rank || b.free - a.free);
}

/**
 * Product names as the Microsoft 365 admin center shows them, for the licences that carry a Dynamics plan
 * (reference: graph-and-msal §A.13, from Microsoft's "Product names and service plan identifiers for
 * licensing"). Graph's subscribedSkus gives only the part number; an unknown SKU is shown by it alone.
 */
const DYNAMICS_PRODUCT_NAMES: Readonly<Record<string, string>> = {
  DYN365_ENTERPRISE_PLAN1: "Dynamics 365 Plan 1 Enterprise Edition",
  DYN365_ENTERPRISE_SALES_CUSTOMERSERVICE: "Dynamics 365 for Sales and Customer Service Enterprise Edition",
  DYN365_ENTERPRISE_SALES: "Dynamics 365 for Sales Enterprise Edition",
  DYN365_SALES_PREMIUM: "Dynamics 365 Sales Premium",
  D365_SALES_PRO: "Dynamics 365 for Sales Professional",
  D365_SALES_PRO_IW: "Dynamics 365 for Sales Professional Trial",
  D365_SALES_ENT_ATTACH: "Dynamics 365 Sales Enterprise Attach to Qualifying Dynamics 365 Base Offer",
  D365_SALES_PRO_ATTACH: "Dynamics 365 for Sales Professional Attach",
  Dynamics_365_Sales_Premium_Viral_Trial: "Dynamics 365 Sales Premium Viral Trial",
  DYN365_ENTERPRISE_CUSTOMER_SERVICE: "Dynamics 365 for Customer Service Enterprise Edition",
  DYN365_CUSTOMER_SERVICE_PRO: "Dynamics 365 Customer Service Professional",
  DYN365_ENTERPRISE_FIELD_SERVICE: "Dynamics 365 for Field Service Enterprise Edition",
  DYN365_ENTERPRISE_CASE_MANAGEMENT: "Dynamics 365 for Case Management Enterprise Edition",
  Dynamics_365_Multi_app_: "Dynamics 365 Multi-app",
  DYN365_ENTERPRISE_RELATIONSHIP_SALES: "Microsoft Relationship Sales solution",
  DYN365_ENTERPRISE_TEAM_MEMBERS: "Dynamics 365 for Team Members Enterprise Edition",
  DYN365_TEAM_MEMBERS: "Dynamics 365 Team Members_wDynamicsRetail",
  DYN365_ENTERPRISE_P1_IW: "Dynamics 365 P1 Trial for Information Workers",
  CRMSTANDARD: "Microsoft Dynamics CRM Online",
  CRMPLAN2: "Microsoft Dynamics CRM Online Basic",
};

/** "Dynamics 365 for Sales Enterprise Edition (DYN365_ENTERPRISE_SALES)", or the part number alone when unknown. */
export function licenceName(skuPartNumber: string): string {
  const product = DYNAMICS_PRODUCT_NAMES[skuPartNumber];
  return product ? `${product} (${skuPartNumber})` : skuPartNumber;
}

export function describeLicence(option: LicenceOption): string {
  return `${licenceName(option.skuPartNumber)}: ${option.free} of ${option.total} free`;
}

export interface LicenceDecision {
  /** The licence to assign, or undefined when the user already holds a Dynamics licence. */
  assign: LicenceOption | undefined;
  /** The Dynamics licence the user already holds, if any. */
  held: LicenceOption | undefined;
  /** True when the tool picked the licence (no --license): said in the plan. */
  chosenByDefault: boolean;
}

/**
 * Decides the licence: `--license` when given (checked: known, a user licence, with Dynamics, a free seat),
 * else the one the user already holds, else the best Dynamics licence with a free seat.
 */
export function decideLicence(
  skus: readonly SubscribedSku[],
  requested: string | undefined,
  heldSkuIds: readonly string[],
): LicenceDecision {
  const options = dynamicsLicences(skus);
  const available =
    options
      .filter((o) => o.free > 0)
      .map(describeLicence)
      .join(", ") || "none";
  const held = options.find((o) => heldSkuIds.includes(o.skuId));
  if (requested) {
    const wanted = requested.toLowerCase();
    const sku = skus.find((s) => s.skuId.toLowerCase() === wanted || s.skuPartNumber.toLowerCase() === wanted);
    if (!sku) {
      throw new UsageError({
        code: "license-unknown",
        message: `--license ${requested} is not a licence of this tenant.`,
        hint: `Dynamics licences with a free seat: ${available}.`,
      });
    }
    if (sku.appliesTo !== "User") {
      throw new UsageError({
        code: "license-not-user",
        message: `--license ${sku.skuPartNumber} applies to the company (capacity or add-on), not to a user.`,
        hint: `Dynamics licences with a free seat: ${available}.`,
      });
    }
    const option = options.find((o) => o.skuId === sku.skuId);
    if (!option) {
      throw new UsageError({
        code: "license-not-dynamics",
        message: `--license ${sku.skuPartNumber} does not include Dynamics 365 Customer Engagement, so the user would never reach Dynamics.`,
        hint: `Dynamics licences with a free seat: ${available}.`,
      });
    }
    if (heldSkuIds.includes(option.skuId)) return { assign: undefined, held: option, chosenByDefault: false };
    if (option.free === 0) {
      throw new TenantNotReadyError({
        code: "license-no-seat",
        message: `--license ${option.skuPartNumber} has no free seat (${option.total} of ${option.total} assigned).`,
        hint: `Buy a seat or free one in the Microsoft 365 admin center, or choose another licence: ${available}.`,
      });
    }
    return { assign: option, held, chosenByDefault: false };
  }
  if (held) return { assign: undefined, held, chosenByDefault: false };
  const best = options.find((o) => o.free > 0);
  if (!best) {
    const all = options.map(describeLicence).join(", ");
    throw new TenantNotReadyError({
      code: "license-none-free",
      message: all
        ? `No Dynamics 365 licence has a free seat: ${all}.`
        : "The tenant has no licence that includes Dynamics 365 Customer Engagement.",
      hint: "Buy a seat (e.g. Dynamics 365 Sales Enterprise) or free one in the Microsoft 365 admin center, then re-run.",
    });
  }
  return { assign: best, held: undefined, chosenByDefault: true };
}
