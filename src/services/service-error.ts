import { StepFailedError } from "../errors.js";

/**
 * A Graph, Dataverse or Power Platform answer that is an error. Steps read `status` and `serviceCode`
 * (Graph's `error.code`, Dataverse's hex code) to decide; the message keeps the service's own words.
 */
export class ServiceError extends StepFailedError {
  constructor(
    readonly service: "graph" | "dataverse" | "bap",
    readonly status: number,
    readonly serviceCode: string,
    serviceMessage: string,
    readonly operation: string,
    readonly requestId: string | undefined,
  ) {
    super({
      code: `${service}-${(serviceCode || String(status)).toLowerCase().replace(/[^a-z0-9]+/g, "-")}`,
      message: `${operation} failed: ${status} ${serviceCode ? `${serviceCode}: ` : ""}${serviceMessage}`,
      hint: requestId ? `Microsoft request id ${requestId}; re-run with --verbose for the full exchange.` : "Re-run with --verbose for the full exchange.",
    });
  }

  /** True when the service's message contains this text (case-insensitive): error codes are not always stable. */
  says(text: string): boolean {
    return this.message.toLowerCase().includes(text.toLowerCase());
  }
}
