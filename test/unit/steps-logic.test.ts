import { describe, expect, it } from "vitest";
import { decideLicence, dynamicsLicences } from "../../src/steps/licences.js";
import { generatePassword, PASSWORD_LENGTH } from "../../src/steps/password.js";
import { missingPrivileges } from "../../src/steps/patch-role.js";
import { checkUserDomain, defaultDomain } from "../../src/steps/service-user.js";
import { REQUIRED_PRIVILEGES } from "../../src/steps/lead-writer.js";
import { TenantNotReadyError, UsageError } from "../../src/errors.js";
import type { SubscribedSku } from "../../src/services/graph.js";

const sku = (
  skuPartNumber: string,
  plans: string[],
  enabled: number,
  consumed: number,
  appliesTo = "User",
  capabilityStatus = "Enabled",
): SubscribedSku => ({
  skuId: `${skuPartNumber.toLowerCase()}-id`,
  skuPartNumber,
  appliesTo,
  capabilityStatus,
  consumedUnits: consumed,
  prepaidUnits: { enabled },
  servicePlans: plans.map((p) => ({ servicePlanId: `${p}-id`, servicePlanName: p, provisioningStatus: "Success", appliesTo })),
});
const SKUS = [
  sku("DYN365_ENTERPRISE_TEAM_MEMBERS", ["DYN365_ENTERPRISE_TEAM_MEMBERS"], 10, 1),
  sku("DYN365_ENTERPRISE_SALES", ["DYN365_ENTERPRISE_SALES", "DYN365_CDS_DYN_APPS"], 5, 3),
  sku("D365_SALES_PRO", ["DYN365_SALES_PRO"], 2, 2),
  sku("ENTERPRISEPACK", ["EXCHANGE_S_ENTERPRISE"], 25, 4),
  sku("CRMSTORAGE", ["CRMSTORAGE"], 10, 0, "Company"),
  sku("CRMPLAN2", ["CRMPLAN2"], 3, 0, "User", "Suspended"),
  sku("DYN365_ENTERPRISE_SALES_GOV", ["DYN365_ENTERPRISE_SALES_GOV"], 1, 0),
];

describe("licence choice (graph-and-msal §A.13)", () => {
  it("keeps only enabled user licences with a Dynamics plan, best first", () => {
    expect(dynamicsLicences(SKUS).map((o) => `${o.skuPartNumber}:${o.free}`)).toEqual([
      "DYN365_ENTERPRISE_SALES:2",
      "DYN365_ENTERPRISE_SALES_GOV:1",
      "D365_SALES_PRO:0",
      "DYN365_ENTERPRISE_TEAM_MEMBERS:9",
    ]);
  });
  it("picks the best licence with a free seat, and says it chose", () => {
    expect(decideLicence(SKUS, undefined, [])).toMatchObject({
      assign: { skuPartNumber: "DYN365_ENTERPRISE_SALES" },
      chosenByDefault: true,
    });
  });
  it("keeps a Dynamics licence the user already holds", () => {
    expect(decideLicence(SKUS, undefined, ["d365_sales_pro-id"])).toMatchObject({
      assign: undefined,
      held: { skuPartNumber: "D365_SALES_PRO" },
    });
    expect(decideLicence(SKUS, "D365_SALES_PRO", ["d365_sales_pro-id"]).assign).toBeUndefined();
  });
  it("accepts --license by part number (any case) or skuId", () => {
    expect(decideLicence(SKUS, "dyn365_enterprise_team_members", []).assign?.skuPartNumber).toBe("DYN365_ENTERPRISE_TEAM_MEMBERS");
    expect(decideLicence(SKUS, "dyn365_enterprise_sales-id", []).assign?.skuPartNumber).toBe("DYN365_ENTERPRISE_SALES");
  });
  it.each([
    ["NOPE", UsageError, /not a licence of this tenant/],
    ["CRMSTORAGE", UsageError, /applies to the company/],
    ["ENTERPRISEPACK", UsageError, /does not include Dynamics 365/],
    ["D365_SALES_PRO", TenantNotReadyError, /has no free seat/],
  ])("refuses --license %s", (requested, type, message) => {
    expect(() => decideLicence(SKUS, requested, [])).toThrowError(type);
    expect(() => decideLicence(SKUS, requested, [])).toThrowError(message);
  });
  it("is not ready when no Dynamics licence has a seat", () => {
    expect(() => decideLicence([sku("D365_SALES_PRO", ["DYN365_SALES_PRO"], 2, 2)], undefined, [])).toThrowError(
      /No Dynamics 365 licence has a free seat: Dynamics 365 for Sales Professional \(D365_SALES_PRO\): 0 of 2 free/,
    );
    expect(() => decideLicence([SKUS[3]!], undefined, [])).toThrowError(/has no licence that includes Dynamics 365/);
  });
});

describe("generated passwords (SPEC §4)", () => {
  it("are long, use all four classes, and nothing that breaks copy and paste", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const password = generatePassword();
      expect(password).toHaveLength(PASSWORD_LENGTH);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/\d/);
      expect(password).toMatch(/[^A-Za-z0-9]/);
      expect(password).not.toMatch(/["'`\\\s]/);
      expect(password).toMatch(/^[\x21-\x7e]+$/);
      seen.add(password);
    }
    expect(seen.size).toBe(200);
  });
});

describe("role privileges", () => {
  it("adds only what is missing or shallower", () => {
    const have = (PrivilegeName: string, Depth: "Basic" | "Local" | "Deep" | "Global") => ({
      PrivilegeId: PrivilegeName,
      PrivilegeName,
      Depth,
    });
    const missing = missingPrivileges(REQUIRED_PRIVILEGES, [
      have("prvCreateUserEntityUISettings", "Basic"),
      have("prvReadAsyncOperation", "Local"),
      have("prvWriteAsyncOperation", "Global"),
      have("prvreaduserentityuisettings", "Global"),
    ]);
    expect(missing.map((p) => p.name)).toEqual(["prvWriteUserEntityUISettings", "prvReadAsyncOperation", "prvAppendToAsyncOperation"]);
  });
});

describe("the service user's domain", () => {
  const domains = [
    { id: "contoso.onmicrosoft.com", authenticationType: "Managed", isDefault: false, isInitial: true, isVerified: true },
    { id: "contoso.com", authenticationType: "Managed", isDefault: true, isInitial: false, isVerified: true },
    { id: "fed.example", authenticationType: "Federated", isDefault: false, isInitial: false, isVerified: true },
    { id: "pending.example", authenticationType: "Managed", isDefault: false, isInitial: false, isVerified: false },
  ] as const;
  it("defaults to the tenant's default domain when it is verified and managed, else the initial one", () => {
    expect(defaultDomain([...domains])?.id).toBe("contoso.com");
    expect(defaultDomain([domains[0], { ...domains[2], isDefault: true }])?.id).toBe("contoso.onmicrosoft.com");
  });
  it("refuses unverified and federated domains", () => {
    expect(() => checkUserDomain("a@pending.example", [...domains])).toThrowError(/not a verified domain/);
    expect(() => checkUserDomain("a@fed.example", [...domains])).toThrowError(/federated domain/);
    try {
      checkUserDomain("a@elsewhere.example", [...domains]);
      expect.unreachable();
    } catch (error) {
      expect((error as UsageError).hint).toBe("Use one of: contoso.onmicrosoft.com, contoso.com.");
    }
    expect(() => checkUserDomain("a@contoso.com", [...domains])).not.toThrow();
  });
});
