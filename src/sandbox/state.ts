import { systemClock, type Clock } from "../clock.js";
import { randomBytes, randomUUID } from "node:crypto";
import type { PartnerCenterRole, ProductType } from "./partner-center-state.js";
import { guidFromName } from "./kit.js";

export { guidFromName };
import { formattedResultsWorkbook, importJobDataXml, type ComponentResult } from "./import-results.js";

/**
 * The emulated tenant's state: one Entra directory (users, domains, SKUs, applications), one Dynamics
 * environment (business units, roles, privileges, system users, solutions, import jobs, leads) and the
 * Power Platform environment record that links them. Rules that depend on time (a user syncing into
 * Dataverse, an import finishing) are applied by `advance()` before every request.
 */

/** A Microsoft cloud whose real host names the sandbox can pose as. */
export type SandboxCloud = "public" | "gcc" | "gcchigh" | "dod" | "china";

export type PrivilegeDepth = "Basic" | "Local" | "Deep" | "Global";
export const DEPTH_ORDER: readonly PrivilegeDepth[] = ["Basic", "Local", "Deep", "Global"];

export interface ServicePlan {
  servicePlanId: string;
  servicePlanName: string;
  provisioningStatus: string;
  appliesTo: "User" | "Company";
  /** Whether a user holding this plan is synchronised into the Dynamics environment. */
  grantsDynamicsAccess: boolean;
}

export interface Sku {
  id: string;
  skuId: string;
  skuPartNumber: string;
  appliesTo: "User" | "Company";
  capabilityStatus: string;
  prepaidEnabled: number;
  consumedUnits: number;
  servicePlans: ServicePlan[];
}

export interface Domain {
  id: string;
  authenticationType: "Managed" | "Federated";
  isDefault: boolean;
  isInitial: boolean;
  isVerified: boolean;
  isRoot: boolean;
  isAdminManaged: boolean;
  supportedServices: string[];
}

export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mailNickname: string;
  accountEnabled: boolean;
  usageLocation: string | null;
  passwordPolicies: string | null;
  password: string;
  forceChangePasswordNextSignIn: boolean;
  forceChangePasswordNextSignInWithMfa: boolean;
  assignedLicenses: { skuId: string; disabledPlans: string[] }[];
  /** When a licence with a Dynamics plan was first assigned; the sync delay counts from here. */
  dynamicsLicensedAt: number | undefined;
  directoryRoles: string[];
  createdDateTime: string;
  onPremisesImmutableId: string | null;
  /** Requests left that answer 404 for this user right after creation (replication fault). */
  replicationMisses: number;
}

export interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  hint: string;
  startDateTime: string;
  endDateTime: string;
  secretText: string;
}

export interface Application {
  id: string;
  appId: string;
  displayName: string;
  signInAudience: string;
  createdDateTime: string;
  passwordCredentials: PasswordCredential[];
  /** SHA-256 thumbprints (hex, upper case) and PEMs of registered certificates. */
  certificates: { thumbprintSha256: string; certPem: string }[];
  requiredResourceAccess: unknown[];
  publicClientFlows: boolean;
  /** Application permissions granted with admin consent, by resource: `graph` or `dataverse`. */
  appRoles: Set<"graph-admin">;
}

export interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  accountEnabled: boolean;
}

export interface BusinessUnit {
  businessunitid: string;
  name: string;
  parentbusinessunitid: string | null;
}

export interface Privilege {
  privilegeid: string;
  name: string;
  accessright: number;
  canbebasic: boolean;
  canbelocal: boolean;
  canbedeep: boolean;
  canbeglobal: boolean;
}

export interface Role {
  roleid: string;
  name: string;
  businessunitid: string;
  /** Null on the root business unit's copy; child copies point at it. */
  parentroleid: string | null;
  parentrootroleid: string;
  ismanaged: boolean;
  iscustomizable: boolean;
  isinherited: 0 | 1;
  /** What the Web API answers: the managed solution that installed the role until it is customised (see customiseRole). */
  solutionid: string | null;
  /** The managed solution whose uninstall removes the role, whatever `solutionid` says. */
  installedBy: string | null;
  /** Kept on the root copy only; child copies inherit it. */
  privileges: Map<string, PrivilegeDepth>;
}

export interface SystemUser {
  systemuserid: string;
  domainname: string;
  fullname: string;
  azureactivedirectoryobjectid: string | null;
  applicationid: string | null;
  isdisabled: boolean;
  islicensed: boolean;
  accessmode: number;
  businessunitid: string;
  roles: Set<string>;
  createdon: string;
}

export interface Solution {
  solutionid: string;
  uniquename: string;
  friendlyname: string;
  version: string;
  ismanaged: boolean;
  installedon: string;
  publisherUniqueName: string;
}

export interface ImportOutcome {
  manifest: { uniqueName: string; friendlyName: string; version: string; managed: boolean; publisher: string };
  roles: { name: string; privileges: { name: string; depth: PrivilegeDepth }[] }[];
}

export interface AsyncOperation {
  asyncoperationid: string;
  name: string;
  operationtype: number;
  statecode: number;
  statuscode: number;
  message: string | null;
  friendlymessage: string | null;
  createdon: string;
  startedon: string;
  completedon: string | null;
  importJobId: string;
  startedAt: number;
  durationMs: number;
  /** What completing the import does; undefined when the package was rejected. */
  outcome: ImportOutcome | undefined;
  failure: ImportFailure | undefined;
}

/** Why an import fails, and on which component. */
export interface ImportFailure {
  component: string;
  message: string;
  /** The component type the import log names, e.g. "Security Role". */
  componentType?: string;
  errorCode?: string;
}

export interface ImportJob {
  importjobid: string;
  solutionname: string;
  progress: number;
  startedon: string;
  completedon: string | null;
  data: string | null;
  /** Each component's result, kept to answer RetrieveFormattedImportJobResults; not a column. */
  components: ComponentResult[];
}

export interface Lead {
  leadid: string;
  fields: Record<string, unknown>;
  ownerid: string;
  createdon: string;
}

export interface SandboxScenario {
  /** Where Entra users land when they sync into Dynamics: the root business unit or its child. */
  userBusinessUnit: "root" | "child";
  /** Milliseconds between a Dynamics licence assignment and the user appearing in `systemusers`. */
  userSyncMs: number;
  /** Milliseconds an import takes from ImportSolutionAsync to completion. */
  importMs: number;
  /** Polls of a device code that answer `authorization_pending` before it is approved. */
  deviceCodePendingPolls: number;
  /** Dynamics server version that RetrieveVersion reports. */
  dynamicsVersion: string;
  /** Seats per SKU part number: overrides the seed. */
  seats: Record<string, { enabled: number; consumed: number }>;
  /** Partner Center role of the seeded admin user and automation app; `none` makes the API answer 403. */
  partnerCenterRole: PartnerCenterRole | "none";
  /** Retry-After (seconds) on configure and job-status answers; a poll sooner is answered 429. */
  partnerCenterPollSeconds: number;
  /** Status polls that answer `running` before a configure job completes. */
  partnerCenterRunningPolls: number;
  /** Product types whose customer-leads configure fails with `notSupported`. */
  partnerCenterNotSupportedTypes: ProductType[];
  /** Rows per page of every paged list (Graph, Dataverse, Power Platform); 0 = the services' own sizes. */
  pageSize: number;
}

export const DEFAULT_SCENARIO: SandboxScenario = {
  userBusinessUnit: "root",
  userSyncMs: 300,
  importMs: 400,
  deviceCodePendingPolls: 0,
  dynamicsVersion: "9.2.25103.00172",
  seats: {},
  partnerCenterRole: "Manager",
  partnerCenterPollSeconds: 1,
  partnerCenterRunningPolls: 1,
  partnerCenterNotSupportedTypes: [],
  pageSize: 0,
};

const iso = (ms = Date.now()) => new Date(ms).toISOString();

// Microsoft's SKU and service-plan ids (reference: graph-and-msal §A.13).
function seedSkus(): Sku[] {
  const plan = (
    servicePlanId: string,
    servicePlanName: string,
    grantsDynamicsAccess: boolean,
    appliesTo: "User" | "Company" = "User",
  ): ServicePlan => ({
    servicePlanId,
    servicePlanName,
    provisioningStatus: "Success",
    appliesTo,
    grantsDynamicsAccess,
  });
  const sku = (
    skuId: string,
    skuPartNumber: string,
    appliesTo: "User" | "Company",
    enabled: number,
    consumed: number,
    plans: ServicePlan[],
  ): Sku => ({
    id: `${TENANT_ID}_${skuId}`,
    skuId,
    skuPartNumber,
    appliesTo,
    capabilityStatus: "Enabled",
    prepaidEnabled: enabled,
    consumedUnits: consumed,
    servicePlans: plans,
  });
  return [
    sku("1e1a282c-9c54-43a2-9310-98ef728faace", "DYN365_ENTERPRISE_SALES", "User", 5, 3, [
      plan("2da8e897-7791-486b-b08f-cc63c8129df7", "DYN365_ENTERPRISE_SALES", true),
      plan(guidFromName("plan:DYN365_CDS_DYN_APPS"), "DYN365_CDS_DYN_APPS", false),
    ]),
    sku("be9f9771-1c64-4618-9907-244325141096", "D365_SALES_PRO", "User", 2, 2, [
      plan("88d83950-ff78-4e85-aa66-abfc787f8090", "DYN365_SALES_PRO", true),
    ]),
    sku("8e7a3d30-d97d-43ab-837c-d7701cef83dc", "DYN365_ENTERPRISE_TEAM_MEMBERS", "User", 10, 1, [
      plan("6a54b05e-4fab-40e7-9828-428db3b336fa", "DYN365_ENTERPRISE_TEAM_MEMBERS", true),
    ]),
    sku("6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK", "User", 25, 4, [
      plan("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE", false),
    ]),
    sku("328dc228-00bc-48c6-8b09-1fbc8bc3435d", "CRMSTORAGE", "Company", 10, 0, [
      plan(guidFromName("plan:CRMSTORAGE"), "CRMSTORAGE", false, "Company"),
    ]),
  ];
}

/** The lead-writer-relevant privileges, with the ids Microsoft documents where it does (dataverse §1.7). */
function seedPrivileges(): Privilege[] {
  const basicOnly = { canbebasic: true, canbelocal: false, canbedeep: false, canbeglobal: false };
  const anyDepth = { canbebasic: true, canbelocal: true, canbedeep: true, canbeglobal: true };
  const priv = (name: string, accessright: number, depths: typeof anyDepth, id?: string): Privilege => ({
    privilegeid: (id ?? guidFromName(`privilege:${name}`)).toLowerCase(),
    name,
    accessright,
    ...depths,
  });
  return [
    priv("prvCreateUserEntityUISettings", 32, basicOnly, "8D2AA266-8FEE-43a4-85E7-2AA1AAAB5259"),
    priv("prvReadUserEntityUISettings", 1, basicOnly, "8D2AA266-8FEE-43a4-85E7-2AA1AAAB525A"),
    priv("prvWriteUserEntityUISettings", 2, basicOnly, "8D2AA266-8FEE-43a4-85E7-2AA1AAAB525B"),
    priv("prvReadAsyncOperation", 1, anyDepth, "E84ACC8F-0C61-43E3-A716-20964A483BDF"),
    priv("prvWriteAsyncOperation", 2, anyDepth, "4440769E-8D79-41FC-AE45-CD65480FFDBA"),
    priv("prvAppendToAsyncOperation", 16, anyDepth),
    priv("prvCreateLead", 32, anyDepth),
    priv("prvReadLead", 1, anyDepth),
    priv("prvWriteLead", 2, anyDepth),
    priv("prvDeleteLead", 65536, anyDepth),
    priv("prvAppendLead", 4, anyDepth),
    priv("prvReadSolution", 1, anyDepth),
    priv("prvReadRole", 1, anyDepth),
    priv("prvWriteRole", 2, anyDepth),
    priv("prvCreateUser", 32, anyDepth),
    priv("prvReadUser", 1, anyDepth),
    priv("prvImportCustomization", 0, { ...basicOnly, canbebasic: false, canbeglobal: true }),
  ];
}

/**
 * The solutions every environment has (CRM 2011 SDK "Predefined solutions", quoted at
 * xrmcoaches.com/2011/06/crm-sdk-nugget-solutionid-value-for-the-active-solution): "Active" represents the
 * published unmanaged customisations, "Default" references every component. Mind the ids: Active ends in
 * …aae, Default in …aaf. Both are listed by `solutions`, and neither can be deleted.
 */
export const ACTIVE_SOLUTION_ID = "fd140aae-4df4-11dd-bd17-0019b9312238";
export const DEFAULT_SOLUTION_ID = "fd140aaf-4df4-11dd-bd17-0019b9312238";
export const SYSTEM_SOLUTIONS: readonly Solution[] = [
  {
    solutionid: ACTIVE_SOLUTION_ID,
    uniquename: "Active",
    friendlyname: "Active Solution",
    version: "1.0",
    ismanaged: false,
    installedon: "2008-07-09T00:00:00Z",
    publisherUniqueName: "MicrosoftCorporation",
  },
  {
    solutionid: DEFAULT_SOLUTION_ID,
    uniquename: "Default",
    friendlyname: "Default Solution",
    version: "1.0",
    ismanaged: false,
    installedon: "2008-07-09T00:00:00Z",
    publisherUniqueName: "DefaultPublisher",
  },
];

export const TENANT_ID = "5a9d8c3e-1c7b-4f0a-9e62-0c5d7ab31f44";
export const ORGANIZATION_ID = guidFromName("organization");
export const ENVIRONMENT_ID = "Default-5a9d8c3e-1c7b-4f0a-9e62-0c5d7ab31f44";
/** Microsoft Azure PowerShell's public client: pre-authorised for Graph and Dynamics (graph-and-msal §D). */
export const AZURE_POWERSHELL_CLIENT_ID = "1950a258-227b-4e31-a9cf-717495945fc2";

export interface SandboxCredentials {
  adminUserName: string;
  adminPassword: string;
  /** A confidential app with admin consent on Graph and a System Administrator application user. */
  automationClientId: string;
  automationClientSecret: string;
}

/** The tenant's domains: the initial one, the default, a federated one and one not verified yet. */
function seedDomains(): Domain[] {
  return [
    {
      id: "contoso.onmicrosoft.com",
      authenticationType: "Managed",
      isDefault: false,
      isInitial: true,
      isVerified: true,
      isRoot: true,
      isAdminManaged: true,
      supportedServices: ["Email", "OfficeCommunicationsOnline"],
    },
    {
      id: "contoso.com",
      authenticationType: "Managed",
      isDefault: true,
      isInitial: false,
      isVerified: true,
      isRoot: true,
      isAdminManaged: true,
      supportedServices: ["Email"],
    },
    {
      id: "fabrikam-federated.com",
      authenticationType: "Federated",
      isDefault: false,
      isInitial: false,
      isVerified: true,
      isRoot: true,
      isAdminManaged: true,
      supportedServices: ["Email"],
    },
    {
      id: "contoso-pending.net",
      authenticationType: "Managed",
      isDefault: false,
      isInitial: false,
      isVerified: false,
      isRoot: true,
      isAdminManaged: true,
      supportedServices: [],
    },
  ];
}

export class TenantState {
  readonly scenario: SandboxScenario;
  readonly credentials: SandboxCredentials;
  readonly organization = { id: TENANT_ID, displayName: "Contoso (sandbox)", countryLetterCode: "US", city: "Redmond" };
  readonly domains: Domain[];
  readonly skus: Sku[];
  readonly users = new Map<string, DirectoryUser>();
  readonly applications = new Map<string, Application>();
  readonly servicePrincipals = new Map<string, ServicePrincipal>();

  readonly businessUnits: BusinessUnit[];
  readonly privileges: Privilege[];
  readonly roles = new Map<string, Role>();
  readonly systemUsers = new Map<string, SystemUser>();
  readonly solutions = new Map<string, Solution>();
  readonly asyncOperations = new Map<string, AsyncOperation>();
  readonly importJobs = new Map<string, ImportJob>();
  readonly leads = new Map<string, Lead>();
  /**
   * Time-driven progress that a test holds back and releases, so that no test races real time against the
   * sandbox's timers: while "import" is held no import completes; while "user-sync" is held no user syncs.
   */
  readonly held = new Set<"import" | "user-sync">();

  constructor(
    scenario: Partial<SandboxScenario> = {},
    /** The tenant's time: sync delays and import durations pass on it (a test's virtual clock, or real time). */
    readonly clock: Clock = systemClock,
  ) {
    this.scenario = {
      ...DEFAULT_SCENARIO,
      ...scenario,
      seats: { ...scenario.seats },
      partnerCenterNotSupportedTypes: [...(scenario.partnerCenterNotSupportedTypes ?? [])],
    };
    this.credentials = {
      adminUserName: "admin@contoso.onmicrosoft.com",
      adminPassword: generateSandboxSecret(20),
      automationClientId: guidFromName("automation-app"),
      automationClientSecret: generateSandboxSecret(40),
    };
    this.domains = seedDomains();
    this.skus = seedSkus();
    for (const sku of this.skus) {
      const seats = this.scenario.seats[sku.skuPartNumber];
      if (seats) Object.assign(sku, { prepaidEnabled: seats.enabled, consumedUnits: seats.consumed });
    }
    this.privileges = seedPrivileges();
    const root: BusinessUnit = { businessunitid: guidFromName("bu:root"), name: "contoso", parentbusinessunitid: null };
    const child: BusinessUnit = { businessunitid: guidFromName("bu:sales"), name: "Sales", parentbusinessunitid: root.businessunitid };
    this.businessUnits = [root, child];
    const sysAdmin = this.addRole("System Administrator", null, true);

    const admin = this.addDirectoryUser({
      userPrincipalName: this.credentials.adminUserName,
      displayName: "Sandbox Admin",
      password: this.credentials.adminPassword,
      usageLocation: "US",
      directoryRoles: ["Global Administrator"],
    });
    admin.assignedLicenses.push({ skuId: this.skus[0]!.skuId, disabledPlans: [] });
    admin.dynamicsLicensedAt = 0;
    const adminSystemUser = this.addSystemUser({
      domainname: admin.userPrincipalName,
      fullname: admin.displayName,
      azureactivedirectoryobjectid: admin.id,
    });
    adminSystemUser.roles.add(sysAdmin.roleid);

    const automation: Application = {
      id: guidFromName("automation-app-object"),
      appId: this.credentials.automationClientId,
      displayName: "crm-lead-setup sandbox automation",
      signInAudience: "AzureADMyOrg",
      createdDateTime: iso(),
      passwordCredentials: [
        {
          keyId: randomUUID(),
          displayName: "sandbox",
          hint: this.credentials.automationClientSecret.slice(0, 3),
          startDateTime: iso(),
          endDateTime: iso(Date.now() + 365 * 86_400_000),
          secretText: this.credentials.automationClientSecret,
        },
      ],
      certificates: [],
      requiredResourceAccess: [],
      publicClientFlows: false,
      appRoles: new Set(["graph-admin"]),
    };
    this.applications.set(automation.id, automation);
    const automationUser = this.addSystemUser({
      domainname: `${automation.appId}@contoso.onmicrosoft.com`,
      fullname: "# crm-lead-setup sandbox automation",
      applicationid: automation.appId,
      accessmode: 4,
    });
    automationUser.roles.add(sysAdmin.roleid);
  }

  get rootBusinessUnit(): BusinessUnit {
    return this.businessUnits.find((bu) => bu.parentbusinessunitid === null)!;
  }

  /** Where newly synchronised Entra users are placed (the scenario's choice). */
  get newUserBusinessUnit(): BusinessUnit {
    return this.scenario.userBusinessUnit === "child" ? this.businessUnits[1]! : this.rootBusinessUnit;
  }

  addDirectoryUser(input: Partial<DirectoryUser> & Pick<DirectoryUser, "userPrincipalName" | "displayName" | "password">): DirectoryUser {
    const user: DirectoryUser = {
      id: randomUUID(),
      mailNickname: input.userPrincipalName.split("@")[0]!,
      accountEnabled: true,
      usageLocation: null,
      passwordPolicies: null,
      forceChangePasswordNextSignIn: false,
      forceChangePasswordNextSignInWithMfa: false,
      assignedLicenses: [],
      dynamicsLicensedAt: undefined,
      directoryRoles: [],
      createdDateTime: iso(),
      onPremisesImmutableId: null,
      replicationMisses: 0,
      ...input,
    };
    this.users.set(user.id, user);
    return user;
  }

  findUser(idOrUpn: string): DirectoryUser | undefined {
    const key = idOrUpn.toLowerCase();
    return this.users.get(key) ?? [...this.users.values()].find((u) => u.userPrincipalName.toLowerCase() === key);
  }

  addSystemUser(input: Partial<SystemUser> & Pick<SystemUser, "domainname" | "fullname">): SystemUser {
    const user: SystemUser = {
      systemuserid: randomUUID(),
      azureactivedirectoryobjectid: null,
      applicationid: null,
      isdisabled: false,
      islicensed: input.applicationid ? false : true,
      accessmode: 0,
      businessunitid: this.rootBusinessUnit.businessunitid,
      roles: new Set(),
      createdon: iso(),
      ...input,
    };
    this.systemUsers.set(user.systemuserid, user);
    return user;
  }

  /** A role is created once per business unit: the root copy and one inherited copy in each child. */
  addRole(name: string, solutionid: string | null, ismanaged: boolean, privileges: Map<string, PrivilegeDepth> = new Map()): Role {
    const root = this.rootBusinessUnit;
    const rootRole: Role = {
      roleid: randomUUID(),
      name,
      businessunitid: root.businessunitid,
      parentroleid: null,
      parentrootroleid: "",
      ismanaged,
      iscustomizable: true,
      isinherited: 0,
      solutionid,
      installedBy: solutionid,
      privileges,
    };
    rootRole.parentrootroleid = rootRole.roleid;
    this.roles.set(rootRole.roleid, rootRole);
    for (const bu of this.businessUnits.filter((b) => b.parentbusinessunitid !== null)) {
      const copy: Role = {
        ...rootRole,
        roleid: randomUUID(),
        businessunitid: bu.businessunitid,
        parentroleid: rootRole.roleid,
        privileges: new Map(),
      };
      this.roles.set(copy.roleid, copy);
    }
    return rootRole;
  }

  rootRoleOf(role: Role): Role {
    return this.roles.get(role.parentrootroleid) ?? role;
  }

  privilegeByName(name: string): Privilege | undefined {
    return this.privileges.find((p) => p.name.toLowerCase() === name.toLowerCase());
  }

  /** The deepest depth at which any of the user's roles grants a privilege, or undefined. */
  effectiveDepth(user: SystemUser, privilegeName: string): PrivilegeDepth | undefined {
    const privilege = this.privilegeByName(privilegeName);
    if (!privilege) return undefined;
    let best: PrivilegeDepth | undefined;
    for (const roleId of user.roles) {
      const role = this.roles.get(roleId);
      if (!role) continue;
      if (role.name === "System Administrator") return "Global";
      const depth = this.rootRoleOf(role).privileges.get(privilege.privilegeid);
      if (depth && (!best || DEPTH_ORDER.indexOf(depth) > DEPTH_ORDER.indexOf(best))) best = depth;
    }
    return best;
  }

  grantsDynamicsAccess(user: DirectoryUser): boolean {
    return user.assignedLicenses.some((assigned) => {
      const sku = this.skus.find((s) => s.skuId === assigned.skuId);
      return sku?.servicePlans.some((p) => p.grantsDynamicsAccess && !assigned.disabledPlans.includes(p.servicePlanId)) ?? false;
    });
  }

  /**
   * Time-driven rules, applied before each request: licensed, enabled Entra users appear in Dynamics once
   * the sync delay has passed (dataverse §5.1); imports finish once their duration has passed.
   */
  advance(now = this.clock.now()): void {
    if (!this.held.has("user-sync")) {
      for (const user of this.users.values()) {
        if (user.dynamicsLicensedAt === undefined || now - user.dynamicsLicensedAt < this.scenario.userSyncMs) continue;
        this.syncUser(user);
      }
    }
    for (const operation of this.asyncOperations.values()) {
      if (operation.statecode === 3) continue;
      const job = this.importJobs.get(operation.importJobId)!;
      const elapsed = now - operation.startedAt;
      operation.statecode = 2; // Locked: running
      operation.statuscode = 20; // In progress
      job.progress = Math.min(this.held.has("import") ? 50 : 99, Math.floor((elapsed / operation.durationMs) * 100));
      if (elapsed >= operation.durationMs && !this.held.has("import")) this.completeImport(operation, job, now);
    }
  }

  hold(what: "import" | "user-sync"): void {
    this.held.add(what);
  }

  release(what: "import" | "user-sync"): void {
    this.held.delete(what);
  }

  /** Brings an Entra user into `systemusers` now (background sync, or Power Platform admin addUser). */
  syncUser(user: DirectoryUser): SystemUser {
    const existing = [...this.systemUsers.values()].find((s) => s.azureactivedirectoryobjectid === user.id);
    if (existing) {
      existing.isdisabled = !user.accountEnabled || !this.grantsDynamicsAccess(user);
      existing.domainname = user.userPrincipalName;
      return existing;
    }
    return this.addSystemUser({
      domainname: user.userPrincipalName,
      fullname: user.displayName,
      azureactivedirectoryobjectid: user.id,
      businessunitid: this.newUserBusinessUnit.businessunitid,
      isdisabled: !user.accountEnabled,
      accessmode: 0,
    });
  }

  private completeImport(operation: AsyncOperation, job: ImportJob, now: number): void {
    operation.statecode = 3;
    operation.completedon = iso(now);
    job.completedon = iso(now);
    job.progress = 100;
    const outcome = operation.outcome;
    const roles = (outcome?.roles ?? []).map((r): ComponentResult => ({
      name: r.name,
      type: "Security Role",
      element: "role",
      result: "success",
      errorCode: "0",
      errorText: "",
    }));
    const finish = (components: ComponentResult[]) => {
      job.components = components;
      job.data = importJobDataXml(job.solutionname, components, iso(now));
    };
    if (!outcome || operation.failure) {
      const failure = operation.failure ?? { component: "solution.xml", message: "The import file is invalid." };
      operation.statuscode = 31;
      operation.message = failure.message;
      operation.friendlymessage = failure.message;
      const failing: ComponentResult = {
        name: failure.component,
        type: failure.componentType ?? "Solution",
        element: failure.componentType === "Security Role" ? "role" : "node",
        result: "failure",
        errorCode: failure.errorCode ?? "0x80048033",
        errorText: failure.message,
      };
      finish([...roles.filter((r) => r.name !== failing.name), failing]);
      return;
    }
    operation.statuscode = 30;
    const existing = [...this.solutions.values()].find((s) => s.uniquename === outcome.manifest.uniqueName);
    const solution: Solution = existing ?? {
      solutionid: randomUUID(),
      uniquename: outcome.manifest.uniqueName,
      friendlyname: outcome.manifest.friendlyName,
      version: outcome.manifest.version,
      ismanaged: outcome.manifest.managed,
      installedon: iso(now),
      publisherUniqueName: outcome.manifest.publisher,
    };
    solution.version = outcome.manifest.version;
    this.solutions.set(solution.solutionid, solution);
    for (const roleSpec of outcome.roles) {
      if ([...this.roles.values()].some((r) => r.name === roleSpec.name && r.installedBy === solution.solutionid)) continue;
      const privileges = new Map<string, PrivilegeDepth>();
      for (const p of roleSpec.privileges) {
        const privilege = this.privilegeByName(p.name);
        if (privilege) privileges.set(privilege.privilegeid, p.depth);
      }
      this.addRole(roleSpec.name, solution.solutionid, outcome.manifest.managed, privileges);
    }
    finish(roles);
  }

  /** The formatted results of a finished import job (RetrieveFormattedImportJobResults). */
  formattedResults(job: ImportJob): string {
    return formattedResultsWorkbook(job.solutionname, job.components, job.completedon ?? iso());
  }

  /**
   * An unmanaged change to a managed role (AddPrivilegesRole, a PATCH) lands in the unmanaged "Active"
   * layer, and the role's `solutionid` then names the Active solution, not the managed solution that
   * installed it (the component's top layer; UNCONFIRMED for roles specifically, see ACTIVE_SOLUTION_ID).
   */
  customiseRole(role: Role): void {
    const root = this.rootRoleOf(role);
    if (!root.ismanaged) return;
    for (const copy of this.roles.values()) if (copy.parentrootroleid === root.roleid) copy.solutionid = ACTIVE_SOLUTION_ID;
  }
}

const SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
/** Sandbox credentials: random, with upper, lower and digits so they pass the complexity rules. */
export function generateSandboxSecret(length: number): string {
  const bytes = randomBytes(length);
  const body = [...bytes].map((b) => SECRET_ALPHABET[b % SECRET_ALPHABET.length]).join("");
  return `Sb${body.slice(2, length - 1)}7`;
}
