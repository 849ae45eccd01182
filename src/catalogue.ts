import { ExitCode, type ExitCodeValue } from "./errors.js";

/**
 * Errors that teach: every failure we know from Graph, Dataverse, the Power Platform admin API, the solution
 * import and the network, mapped to a stable code (what --json carries), what it means, what to do, and the
 * page that explains it (cited in reference/, or beside the entry). AADSTS codes have their table in auth/aadsts.ts.
 *
 * The one place where Microsoft's wording is read: an error is matched once, when it is made (ServiceError,
 * HttpFailure), and keeps the entry's code in `known`; the product asks `isKnown(error, code)`, never the text.
 * First match wins, so a specific entry stands before a general one of the same service.
 */
export type ErrorService = "graph" | "dataverse" | "bap" | "network";

export interface ErrorFacts {
  service: ErrorService;
  status?: number;
  /** Graph's error.code, Dataverse's hex code, or the network error code (ENOTFOUND…). */
  serviceCode?: string;
  /** The service's own message, or the network error's text. */
  text: string;
}

export interface CatalogueEntry {
  code: string;
  /** Only answers of this service are matched against the entry. */
  service: ErrorService;
  /** For the README's troubleshooting table. */
  title: string;
  matches: (facts: ErrorFacts) => boolean;
  meaning: string;
  fix: string;
  link: string;
  exitCode: ExitCodeValue;
  /** A sample of the failure, for the test that proves the entry is found. */
  example: ErrorFacts;
}

const has = (facts: ErrorFacts, text: string) => facts.text.toLowerCase().includes(text.toLowerCase());
const code = (facts: ErrorFacts, ...codes: string[]) => codes.includes((facts.serviceCode ?? "").toLowerCase());

const GRAPH_ERRORS = "https://learn.microsoft.com/graph/errors";
const ASSIGN_LICENSE = "https://learn.microsoft.com/graph/api/user-assignlicense";
/** Node's list of the system errors behind a failed connection (ECONNREFUSED, ETIMEDOUT…). */
const NODE_NETWORK_ERRORS = "https://nodejs.org/api/errors.html#common-system-errors";
const DATAVERSE_ERRORS = "https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors";
const LEAD_MANAGEMENT_DYNAMICS =
  "https://learn.microsoft.com/partner-center/marketplace-offers/partner-center-portal/commercial-marketplace-lead-management-instructions-dynamics";
/** Microsoft Entra's own account of replication after a write (found with the docs search, 2026-11-30). */
const ENTRA_EVENTUAL_CONSISTENCY = "https://devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra/";

export const CATALOGUE = [
  {
    code: "graph-usage-location-missing",
    service: "graph",
    title: "Licence refused: invalid usage location",
    exitCode: ExitCode.StepFailed,
    matches: (f) => has(f, "invalid usage location"),
    meaning: "Entra assigns a licence only to a user with a usage location (a country).",
    fix: "Pass --usage-location <two-letter country code> and re-run; the tool sets it before licensing.",
    link: ASSIGN_LICENSE,
    example: {
      service: "graph",
      status: 400,
      serviceCode: "Request_BadRequest",
      text: "License assignment cannot be done for user with invalid usage location.",
    },
  },
  {
    code: "graph-license-no-seat",
    service: "graph",
    title: "Licence refused: no available licenses",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => has(f, "does not have any available licenses"),
    meaning: "Every seat of that licence is assigned.",
    fix: "Buy a seat or free one in the Microsoft 365 admin center, or pass another --license.",
    link: ASSIGN_LICENSE,
    example: {
      service: "graph",
      status: 400,
      serviceCode: "Request_BadRequest",
      text: "Subscription with SKU 1e1a282c-9c54-43a2-9310-98ef728faace does not have any available licenses.",
    },
  },
  {
    code: "graph-user-name-taken",
    service: "graph",
    title: "User name already taken",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => has(f, "same value for property userPrincipalName"),
    meaning: "Another object holds that user principal name, often a deleted user kept 30 days in Deleted users.",
    fix: "Restore or permanently delete it in Entra admin center → Users → Deleted users, or pass another --user-name.",
    link: "https://learn.microsoft.com/graph/api/user-post-users",
    example: {
      service: "graph",
      status: 400,
      serviceCode: "Request_BadRequest",
      text: "Another object with the same value for property userPrincipalName already exists.",
    },
  },
  {
    code: "graph-password-complexity",
    service: "graph",
    title: "Password refused by the complexity rules",
    exitCode: ExitCode.StepFailed,
    matches: (f) => has(f, "password complexity"),
    meaning: "Entra refused the password: the tenant's rules or its banned-password list are stricter than usual.",
    fix: "Re-run: a new password is generated each time. If it keeps failing, report it with --verbose output.",
    link: "https://learn.microsoft.com/entra/identity/authentication/concept-sspr-policy",
    example: {
      service: "graph",
      status: 400,
      serviceCode: "Request_BadRequest",
      text: "The specified password does not comply with password complexity requirements. Please provide a different password.",
    },
  },
  {
    // Entra is eventually consistent: for seconds after POST /applications, POST /servicePrincipals answers
    // this 400 (NoBackingApplicationObject) although the app exists (msgraph-sdk-dotnet#3108,
    // hashicorp/vault-plugin-secrets-azure#8; Microsoft's "Designing for eventual consistency for Microsoft
    // Entra", 2026). A refusal, so it is resent while replication runs (services/graph.ts).
    code: "graph-application-not-replicated",
    service: "graph",
    title: "Graph: the new app registration is not replicated yet",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => f.status === 400 && has(f, "does not reference a valid application object"),
    meaning: "Entra had not replicated the just-created app registration after every wait, so its service principal could not be made yet.",
    fix: "Wait a few minutes and re-run: the app registration is already made, and the command resumes.",
    link: ENTRA_EVENTUAL_CONSISTENCY,
    example: {
      service: "graph",
      status: 400,
      serviceCode: "Request_BadRequest",
      text: "The appId 'dca53c17-f359-4bd0-a474-56b68d05bd41' of the service principal does not reference a valid application object.",
    },
  },
  {
    // Graph's 404 for an id or name it does not hold (graph-and-msal §A.3); right after a create it may only
    // mean "not replicated yet" (§A.4, msgraph-sdk-dotnet#3108), which the caller says per request. The code is
    // the one this answer carried before it had an entry, so scripts reading --json see no change.
    code: "graph-request-resourcenotfound",
    service: "graph",
    title: "Graph: object not found (Request_ResourceNotFound)",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.status === 404 && code(f, "request_resourcenotfound"),
    meaning:
      "Entra does not hold that object: someone removed it while the command ran, or it was created seconds ago and had not replicated yet.",
    fix: "Re-run the command: it inspects the tenant again.",
    link: GRAPH_ERRORS,
    example: {
      service: "graph",
      status: 404,
      serviceCode: "Request_ResourceNotFound",
      text: "Resource '1639f4e8-77ac-41d4-9e90-8f206b5c6392' does not exist or one of its queried reference-property objects are not present.",
    },
  },
  {
    code: "graph-insufficient-privileges",
    service: "graph",
    title: "Graph: insufficient privileges",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => f.status === 403 || code(f, "authorization_requestdenied"),
    meaning: "The signed-in account may not do this in Entra ID.",
    fix: "Sign in as a Global Administrator, or a User Administrator plus License Administrator (Application Administrator for --identity app).",
    link: GRAPH_ERRORS,
    example: {
      service: "graph",
      status: 403,
      serviceCode: "Authorization_RequestDenied",
      text: "Insufficient privileges to complete the operation.",
    },
  },
  {
    code: "graph-throttled",
    service: "graph",
    title: "Graph: too many requests",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.status === 429 || code(f, "toomanyrequests"),
    meaning: "Graph throttled the tenant and kept doing so after the waits it asked for.",
    fix: "Wait a few minutes and re-run; the command resumes where it stopped.",
    link: "https://learn.microsoft.com/graph/throttling",
    example: { service: "graph", status: 429, serviceCode: "TooManyRequests", text: "Too many requests. Please try again later." },
  },
  {
    code: "dataverse-no-roles",
    service: "dataverse",
    title: "Dynamics: no roles are assigned to user (0x80042F09)",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => code(f, "0x80042f09") || has(f, "no roles are assigned"),
    meaning: "The account is a Dynamics user without any security role, so Dynamics refuses every call.",
    fix: "Run crm-lead-setup assign-role for the service identity; for your own account, ask for the System Administrator role.",
    link: LEAD_MANAGEMENT_DYNAMICS,
    example: {
      service: "dataverse",
      status: 403,
      serviceCode: "0x80042F09",
      text: "SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user.",
    },
  },
  {
    // Partner Center's documented lead failure when the identity lacks the Lead Writer role (dataverse §1.9,
    // partner-center §3 row 3); without any create right on leads Dynamics names prvCreateLead instead.
    // Before dataverse-missing-privilege, which would take the prvCreateLead answer as a generic one.
    code: "dataverse-lead-create-refused",
    service: "dataverse",
    title: "Dynamics: may not create leads (leadsourcecode, prvCreateLead)",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => has(f, "leadsourcecode") || has(f, "prvCreateLead"),
    meaning:
      "The identity lacks the Lead Writer role's right to create leads with a lead source, so Partner Center cannot save leads either.",
    fix: "Run crm-lead-setup assign-role and patch-role for the service identity, then crm-lead-setup verify.",
    link: LEAD_MANAGEMENT_DYNAMICS,
    example: {
      service: "dataverse",
      status: 403,
      serviceCode: "0x8004f507",
      text: "User does not have create permissions for the leadsourcecode attribute in the lead entity.",
    },
  },
  {
    code: "dataverse-missing-privilege",
    service: "dataverse",
    title: "Dynamics: missing privilege (0x80040220)",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => code(f, "0x80040220") || has(f, "is missing prv"),
    meaning: "The signed-in account lacks a Dynamics privilege this step needs.",
    fix: "Sign in as a user with the System Administrator security role in this environment.",
    link: "https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/roleprivilege",
    example: {
      service: "dataverse",
      status: 403,
      serviceCode: "0x80040220",
      text: "Principal user (Id=…) is missing prvWriteRole privilege.",
    },
  },
  {
    code: "dataverse-not-a-member",
    service: "dataverse",
    title: "Dynamics: the user is not a member of the organization",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => code(f, "0x80072560") || has(f, "not a member of the organization"),
    meaning: "The signed-in account is not a user of this Dynamics environment (or not yet synced into it).",
    fix: "Check --org-url and --tenant; an admin must be added to the environment in the Power Platform admin center.",
    link: "https://learn.microsoft.com/power-platform/admin/create-users",
    example: { service: "dataverse", status: 403, serviceCode: "0x80072560", text: "The user is not a member of the organization." },
  },
  {
    // Dataverse looks an application user's app up through its service principal, and refuses it until that
    // has replicated (issue 10; terraform-provider-azuread#581). The wording is UNCONFIRMED: matched on the
    // words "not found in the tenant", the sandbox's and public tools' reading of it.
    code: "dataverse-application-not-in-tenant",
    service: "dataverse",
    title: "Dynamics: the app is not found in the tenant yet",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => has(f, "not found in the tenant"),
    meaning: "Dynamics does not see the app registration yet: its service principal has not replicated to Dynamics (or was removed).",
    fix: "Wait a few minutes and re-run: the app registration is already made, and the command resumes.",
    link: "https://learn.microsoft.com/power-platform/admin/manage-application-users",
    example: {
      service: "dataverse",
      status: 400,
      serviceCode: "0x80040216",
      text: "The application with id 5f1c2a4e-3b1d-4e8f-9a7b-2c6d8e0f1a3b was not found in the tenant.",
    },
  },
  {
    code: "dataverse-record-not-found",
    service: "dataverse",
    title: "Dynamics: record does not exist (0x80040217)",
    exitCode: ExitCode.StepFailed,
    matches: (f) => code(f, "0x80040217"),
    meaning: "A record the step expected is gone, usually removed by someone else while the command ran.",
    fix: "Re-run the command: it inspects the environment again.",
    link: DATAVERSE_ERRORS,
    example: { service: "dataverse", status: 404, serviceCode: "0x80040217", text: "role With Ids = … Do Not Exist" },
  },
  {
    code: "dataverse-duplicate",
    service: "dataverse",
    title: "Dynamics: duplicate record (0x80040237)",
    exitCode: ExitCode.StepFailed,
    matches: (f) => code(f, "0x80040237"),
    meaning: "The record already exists (another run or an admin made it).",
    fix: "Re-run the command: it adopts what exists.",
    link: DATAVERSE_ERRORS,
    example: { service: "dataverse", status: 412, serviceCode: "0x80040237", text: "Cannot insert duplicate key." },
  },
  {
    code: "dataverse-service-protection",
    service: "dataverse",
    title: "Dynamics: service protection limit (0x8007232x)",
    exitCode: ExitCode.StepFailed,
    matches: (f) => code(f, "0x80072322", "0x80072321", "0x80072326") || f.status === 429,
    meaning:
      "Dataverse's service protection limits (requests, execution time or concurrency per 5 minutes) were reached and stayed reached.",
    fix: "Wait five minutes and re-run; the command resumes where it stopped.",
    link: "https://learn.microsoft.com/power-apps/developer/data-platform/api-limits",
    example: {
      service: "dataverse",
      status: 429,
      serviceCode: "0x80072322",
      text: "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
    },
  },
  {
    code: "import-concurrent",
    service: "dataverse",
    title: "Import refused: a previous [Import] is running",
    exitCode: ExitCode.StepFailed,
    matches: (f) => has(f, "previous [Import] running"),
    meaning: "Dynamics installs one solution at a time, and another import did not finish while the tool waited.",
    fix: "Wait for the other import (Power Apps → Solutions → Solution history), then re-run.",
    link: "https://learn.microsoft.com/power-platform/alm/solution-async",
    example: {
      service: "dataverse",
      status: 400,
      serviceCode: "0x80071151",
      text: "Cannot start another [Import] because there is a previous [Import] running at this moment.",
    },
  },
  {
    // The admin API's addUser refuses a user whose licence Entra has not finished assigning; Microsoft's
    // provider retries while the answer holds "userNotLicensed" (dataverse §5.2, terraform-provider-power-platform).
    code: "bap-user-not-licensed",
    service: "bap",
    title: "Power Platform: user not licensed yet (--force-sync)",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => code(f, "usernotlicensed") || has(f, "userNotLicensed"),
    meaning: "The Power Platform admin API does not see the user's Dynamics licence yet (Entra assigns licences asynchronously).",
    fix: "Wait a few minutes and re-run, or leave out --force-sync and let the background sync add the user.",
    link: "https://learn.microsoft.com/power-platform/admin/create-users",
    example: {
      service: "bap",
      status: 400,
      serviceCode: "userNotLicensed",
      text: "The user lead-writer@contoso.com is not licensed for this environment.",
    },
  },
  {
    code: "network-host-unknown",
    service: "network",
    title: "Network: host name does not resolve",
    exitCode: ExitCode.StepFailed,
    matches: (f) => code(f, "enotfound", "eai_again"),
    meaning: "The host name does not exist, or DNS is not reachable from here.",
    fix: "Check the URL (--org-url from the Power Platform admin center; --authority-host and --graph-endpoint with --cloud custom), the network and the DNS settings.",
    link: "https://learn.microsoft.com/power-platform/admin/new-datacenter-regions",
    example: { service: "network", serviceCode: "ENOTFOUND", text: "getaddrinfo ENOTFOUND contoso.crm4.dynamics.com" },
  },
  {
    code: "network-refused",
    service: "network",
    title: "Network: connection refused",
    exitCode: ExitCode.StepFailed,
    matches: (f) => code(f, "econnrefused"),
    meaning: "Nothing accepted the connection at that address and port (a firewall, a proxy-only network, or a wrong host or port).",
    fix: "Check the URL and port, and whether this network only lets traffic out through a proxy; then re-run.",
    link: NODE_NETWORK_ERRORS,
    example: { service: "network", serviceCode: "ECONNREFUSED", text: "connect ECONNREFUSED 127.0.0.1:9" },
  },
  {
    code: "network-dropped",
    service: "network",
    title: "Network: connection reset",
    exitCode: ExitCode.StepFailed,
    matches: (f) => code(f, "econnreset", "epipe"),
    meaning: "The connection was dropped before an answer came, repeatedly (often a proxy or firewall cutting it).",
    fix: "Check the network and any proxy or firewall between here and Microsoft, then re-run: the command resumes.",
    link: NODE_NETWORK_ERRORS,
    example: { service: "network", serviceCode: "ECONNRESET", text: "socket hang up" },
  },
  {
    code: "network-unreachable",
    service: "network",
    title: "Network: no route to the host",
    exitCode: ExitCode.StepFailed,
    matches: (f) => code(f, "enetunreach", "ehostunreach", "enetdown"),
    meaning: "This machine has no route to that host (offline, or a network that allows no direct traffic out).",
    fix: "Connect to a network that reaches Microsoft's services, then re-run.",
    link: NODE_NETWORK_ERRORS,
    example: { service: "network", serviceCode: "ENETUNREACH", text: "connect ENETUNREACH 20.190.0.1:443" },
  },
  {
    code: "network-timeout",
    service: "network",
    title: "Network: no answer in time",
    exitCode: ExitCode.StepFailed,
    matches: (f) => code(f, "etimedout"),
    meaning: "The host did not answer in time, repeatedly.",
    fix: "Check the network and any proxy or firewall, then re-run: the command resumes where it stopped.",
    link: NODE_NETWORK_ERRORS,
    example: { service: "network", serviceCode: "ETIMEDOUT", text: "no answer within 100 s" },
  },
  {
    code: "network-tls-untrusted",
    service: "network",
    title: "TLS: certificate not trusted",
    exitCode: ExitCode.StepFailed,
    matches: (f) => /cert|self_signed|unable_to_verify/i.test(f.serviceCode ?? "") || has(f, "certificate not trusted"),
    meaning: "The server's certificate is not trusted; usually a TLS-inspecting proxy presents its own certificate.",
    fix: "Set NODE_EXTRA_CA_CERTS to the proxy's CA certificate file before running (TLS checks are never turned off).",
    // No Microsoft page covers a TLS-inspecting proxy; Node's own documentation of the fix does.
    link: "https://nodejs.org/api/cli.html#node_extra_ca_certsfile",
    example: {
      service: "network",
      serviceCode: "SELF_SIGNED_CERT_IN_CHAIN",
      text: "TLS certificate not trusted (SELF_SIGNED_CERT_IN_CHAIN)",
    },
  },
  {
    code: "network-tls",
    service: "network",
    title: "TLS: handshake failed",
    exitCode: ExitCode.StepFailed,
    matches: (f) => code(f, "eproto") || /^err_ssl_/i.test(f.serviceCode ?? ""),
    meaning: "The secure connection could not be set up: the other side does not speak TLS as expected (a proxy or a wrong port).",
    fix: "Check the URL and port, and any proxy between here and Microsoft, then re-run.",
    link: "https://nodejs.org/api/errors.html#openssl-errors",
    example: { service: "network", serviceCode: "EPROTO", text: "wrong version number" },
  },
  {
    code: "network-proxy",
    service: "network",
    title: "Network: the proxy wants credentials (407)",
    exitCode: ExitCode.StepFailed,
    matches: (f) => code(f, "proxy_auth_required"),
    meaning: "A proxy between here and Microsoft refused the request until it is given credentials.",
    fix: "Run from a network that reaches Microsoft directly, or have the proxy allow this machine without sign-in.",
    link: "https://www.rfc-editor.org/rfc/rfc9110#status.407",
    example: { service: "network", serviceCode: "PROXY_AUTH_REQUIRED", text: "a proxy answered 407 Proxy Authentication Required" },
  },
] as const satisfies readonly CatalogueEntry[];

/** A catalogue entry's code: what `isKnown` takes, so a misspelt code does not compile. */
export type KnownCode = (typeof CATALOGUE)[number]["code"];

export function explain(facts: ErrorFacts): (CatalogueEntry & { code: KnownCode }) | undefined {
  return CATALOGUE.find((entry) => entry.service === facts.service && entry.matches(facts));
}

/** True when the error was matched to this entry when it was made (a ServiceError or an HttpFailure). */
export function isKnown(error: unknown, code: KnownCode): boolean {
  return typeof error === "object" && error !== null && (error as { known?: unknown }).known === code;
}

/**
 * The facts of a service's error answer. Graph and Dataverse use OData's envelope `{ "error": { "code",
 * "message" } }` (graph-and-msal §A.3, dataverse §2); anything else (a gateway's page) is kept as text. The
 * Power Platform admin API's envelope is UNCONFIRMED (public tools match "userNotLicensed" anywhere in the
 * error, dataverse §5.2), so its whole answer stays the text.
 */
export function answerFacts(service: Exclude<ErrorService, "network">, status: number, body: string): ErrorFacts {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    const { code, message } = parsed.error ?? {};
    if (typeof code === "string" || typeof message === "string") {
      const text = service !== "bap" && typeof message === "string" ? message : body;
      return { service, status, serviceCode: typeof code === "string" ? code : "", text };
    }
  } catch {
    // Not JSON: the text is all there is.
  }
  return { service, status, text: body };
}

/** Which entry an answer is, for callers that see the answer rather than an error made from it. */
export function knownAnswer(service: Exclude<ErrorService, "network">, answer: { status: number; text(): string }): KnownCode | undefined {
  return answer.status >= 400 ? explain(answerFacts(service, answer.status, answer.text()))?.code : undefined;
}

/**
 * The one "not replicated yet" matcher, for the HTTP layer's retry decision: true for an answer that is one
 * of these entries, which for this request only means that a just-created object has not replicated yet
 * (a refusal, so it is resent under the retry policy, even a POST). The caller names the entries, because
 * some (a 404) mean "not replicated yet" only right after a create.
 */
export function refusedUntilReplicated(
  service: Exclude<ErrorService, "network">,
  ...codes: KnownCode[]
): (answer: { status: number; text(): string }) => boolean {
  return (answer) => {
    // A 5xx may have been applied: it never counts as a refusal, whatever it says.
    if (answer.status >= 500) return false;
    const known = knownAnswer(service, answer);
    return known !== undefined && codes.includes(known);
  };
}
