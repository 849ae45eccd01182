import { CliError, ExitCode } from "../errors.js";
import { explain, type KnownCode } from "../catalogue.js";

/**
 * A Graph, Dataverse or Power Platform answer that is an error, matched against the catalogue once, here:
 * `known` names the entry (ask `isKnown(error, code)`), and steps never read the service's words. `status`
 * and `serviceCode` (Graph's `error.code`, Dataverse's hex code) stay for HTTP-level decisions (404, 409,
 * 5xx); the message keeps the service's own words for the user.
 */
export class ServiceError extends CliError {
  /** The catalogue entry this answer is, or undefined for an answer the catalogue does not know. */
  readonly known: KnownCode | undefined;

  constructor(
    readonly service: "graph" | "dataverse" | "bap",
    readonly status: number,
    readonly serviceCode: string,
    serviceMessage: string,
    readonly operation: string,
    readonly requestId: string | undefined,
  ) {
    const known = explain({ service, status, serviceCode, text: serviceMessage });
    const request = requestId ? ` (Microsoft request id ${requestId})` : "";
    // 403: the signed-in admin lacks a role or privilege; the call changed nothing (SPEC §3: exit 4).
    super(known?.exitCode ?? (status === 403 ? ExitCode.TenantNotReady : ExitCode.StepFailed), {
      code: known?.code ?? `${service}-${(serviceCode || String(status)).toLowerCase().replace(/[^a-z0-9]+/g, "-")}`,
      message: `${operation} failed: ${status} ${serviceCode ? `${serviceCode}: ` : ""}${serviceMessage}${known ? ` ${known.meaning}` : ""}`,
      hint: known
        ? `${known.fix} See ${known.link}${request}`
        : status === 403
          ? `The signed-in account lacks a needed right: ${service === "graph" ? "in Entra ID, Global Administrator, or User Administrator plus License Administrator" : "in Dynamics, the System Administrator security role"}.${requestId ? ` (Microsoft request id ${requestId})` : ""}`
          : requestId
            ? `Microsoft request id ${requestId}; re-run with --verbose for the full exchange.`
            : "Re-run with --verbose for the full exchange.",
    });
    this.known = known?.code;
  }
}
