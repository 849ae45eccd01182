import { ExitCode, type ExitCodeValue } from "./errors.js";

/**
 * Errors that teach: every failure we know from Graph, Dataverse, the solution import and the network,
 * mapped to a stable code (what --json carries), what it means, what to do, and the Microsoft page that
 * explains it (each cited in reference/). AADSTS sign-in codes have their own table in auth/aadsts.ts.
 */
export interface ErrorFacts {
  service: "graph" | "dataverse" | "bap" | "network";
  status?: number;
  /** Graph's error.code, Dataverse's hex code, or the network error code (ENOTFOUND…). */
  serviceCode?: string;
  /** The service's own message, or the network error's text. */
  text: string;
}

export interface CatalogueEntry {
  code: string;
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

export const CATALOGUE: readonly CatalogueEntry[] = [
  {
    code: "graph-usage-location-missing",
    title: "Licence refused: invalid usage location",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "graph" && has(f, "invalid usage location"),
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
    title: "Licence refused: no available licenses",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => f.service === "graph" && has(f, "does not have any available licenses"),
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
    title: "User name already taken",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => f.service === "graph" && has(f, "same value for property userPrincipalName"),
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
    title: "Password refused by the complexity rules",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "graph" && has(f, "password complexity"),
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
    code: "graph-insufficient-privileges",
    title: "Graph: insufficient privileges",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => f.service === "graph" && (f.status === 403 || code(f, "authorization_requestdenied")),
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
    title: "Graph: too many requests",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "graph" && (f.status === 429 || code(f, "toomanyrequests")),
    meaning: "Graph throttled the tenant and kept doing so after the waits it asked for.",
    fix: "Wait a few minutes and re-run; the command resumes where it stopped.",
    link: "https://learn.microsoft.com/graph/throttling",
    example: { service: "graph", status: 429, serviceCode: "TooManyRequests", text: "Too many requests. Please try again later." },
  },
  {
    code: "dataverse-no-roles",
    title: "Dynamics: no roles are assigned to user (0x80042F09)",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => f.service === "dataverse" && (code(f, "0x80042f09") || has(f, "no roles are assigned")),
    meaning: "The account is a Dynamics user without any security role, so Dynamics refuses every call.",
    fix: "Run crm-lead-setup assign-role for the service identity; for your own account, ask for the System Administrator role.",
    link: "https://learn.microsoft.com/partner-center/marketplace-offers/partner-center-portal/commercial-marketplace-lead-management-instructions-dynamics",
    example: {
      service: "dataverse",
      status: 403,
      serviceCode: "0x80042F09",
      text: "SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user.",
    },
  },
  {
    code: "dataverse-missing-privilege",
    title: "Dynamics: missing privilege (0x80040220)",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => f.service === "dataverse" && (code(f, "0x80040220") || has(f, "is missing prv")),
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
    title: "Dynamics: the user is not a member of the organization",
    exitCode: ExitCode.TenantNotReady,
    matches: (f) => f.service === "dataverse" && (code(f, "0x80072560") || has(f, "not a member of the organization")),
    meaning: "The signed-in account is not a user of this Dynamics environment (or not yet synced into it).",
    fix: "Check --org-url and --tenant; an admin must be added to the environment in the Power Platform admin center.",
    link: "https://learn.microsoft.com/power-platform/admin/create-users",
    example: { service: "dataverse", status: 403, serviceCode: "0x80072560", text: "The user is not a member of the organization." },
  },
  {
    code: "dataverse-record-not-found",
    title: "Dynamics: record does not exist (0x80040217)",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "dataverse" && code(f, "0x80040217"),
    meaning: "A record the step expected is gone, usually removed by someone else while the command ran.",
    fix: "Re-run the command: it inspects the environment again.",
    link: DATAVERSE_ERRORS,
    example: { service: "dataverse", status: 404, serviceCode: "0x80040217", text: "role With Ids = … Do Not Exist" },
  },
  {
    code: "dataverse-duplicate",
    title: "Dynamics: duplicate record (0x80040237)",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "dataverse" && code(f, "0x80040237"),
    meaning: "The record already exists (another run or an admin made it).",
    fix: "Re-run the command: it adopts what exists.",
    link: DATAVERSE_ERRORS,
    example: { service: "dataverse", status: 412, serviceCode: "0x80040237", text: "Cannot insert duplicate key." },
  },
  {
    code: "dataverse-service-protection",
    title: "Dynamics: service protection limit (0x8007232x)",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "dataverse" && (code(f, "0x80072322", "0x80072321", "0x80072326") || f.status === 429),
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
    title: "Import refused: a previous [Import] is running",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "dataverse" && has(f, "previous [Import] running"),
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
    code: "network-host-unknown",
    title: "Network: host name does not resolve",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "network" && code(f, "enotfound", "eai_again"),
    meaning: "The host name does not exist, or DNS is not reachable from here.",
    fix: "Check the URL (--org-url from the Power Platform admin center; --authority-host and --graph-endpoint with --cloud custom), the network and the DNS settings.",
    link: "https://learn.microsoft.com/power-platform/admin/new-datacenter-regions",
    example: { service: "network", serviceCode: "ENOTFOUND", text: "getaddrinfo ENOTFOUND contoso.crm4.dynamics.com" },
  },
  {
    code: "network-refused",
    title: "Network: connection refused",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "network" && code(f, "econnrefused"),
    meaning: "Nothing accepted the connection at that address and port (a firewall, a proxy-only network, or a wrong host or port).",
    fix: "Check the URL and port, and whether this network only lets traffic out through a proxy; then re-run.",
    link: NODE_NETWORK_ERRORS,
    example: { service: "network", serviceCode: "ECONNREFUSED", text: "connect ECONNREFUSED 127.0.0.1:9" },
  },
  {
    code: "network-dropped",
    title: "Network: connection reset",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "network" && code(f, "econnreset", "epipe"),
    meaning: "The connection was dropped before an answer came, repeatedly (often a proxy or firewall cutting it).",
    fix: "Check the network and any proxy or firewall between here and Microsoft, then re-run: the command resumes.",
    link: NODE_NETWORK_ERRORS,
    example: { service: "network", serviceCode: "ECONNRESET", text: "socket hang up" },
  },
  {
    code: "network-unreachable",
    title: "Network: no route to the host",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "network" && code(f, "enetunreach", "ehostunreach", "enetdown"),
    meaning: "This machine has no route to that host (offline, or a network that allows no direct traffic out).",
    fix: "Connect to a network that reaches Microsoft's services, then re-run.",
    link: NODE_NETWORK_ERRORS,
    example: { service: "network", serviceCode: "ENETUNREACH", text: "connect ENETUNREACH 20.190.0.1:443" },
  },
  {
    code: "network-timeout",
    title: "Network: no answer in time",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "network" && code(f, "etimedout"),
    meaning: "The host did not answer in time, repeatedly.",
    fix: "Check the network and any proxy or firewall, then re-run: the command resumes where it stopped.",
    link: NODE_NETWORK_ERRORS,
    example: { service: "network", serviceCode: "ETIMEDOUT", text: "no answer within 100 s" },
  },
  {
    code: "network-tls-untrusted",
    title: "TLS: certificate not trusted",
    exitCode: ExitCode.StepFailed,
    matches: (f) =>
      f.service === "network" && (/cert|self_signed|unable_to_verify/i.test(f.serviceCode ?? "") || has(f, "certificate not trusted")),
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
    title: "TLS: handshake failed",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "network" && (code(f, "eproto") || /^err_ssl_/i.test(f.serviceCode ?? "")),
    meaning: "The secure connection could not be set up: the other side does not speak TLS as expected (a proxy or a wrong port).",
    fix: "Check the URL and port, and any proxy between here and Microsoft, then re-run.",
    link: "https://nodejs.org/api/errors.html#openssl-errors",
    example: { service: "network", serviceCode: "EPROTO", text: "wrong version number" },
  },
  {
    code: "network-proxy",
    title: "Network: the proxy wants credentials (407)",
    exitCode: ExitCode.StepFailed,
    matches: (f) => f.service === "network" && code(f, "proxy_auth_required"),
    meaning: "A proxy between here and Microsoft refused the request until it is given credentials.",
    fix: "Run from a network that reaches Microsoft directly, or have the proxy allow this machine without sign-in.",
    link: "https://www.rfc-editor.org/rfc/rfc9110#status.407",
    example: { service: "network", serviceCode: "PROXY_AUTH_REQUIRED", text: "a proxy answered 407 Proxy Authentication Required" },
  },
];

export function explain(facts: ErrorFacts): CatalogueEntry | undefined {
  return CATALOGUE.find((entry) => entry.matches(facts));
}
