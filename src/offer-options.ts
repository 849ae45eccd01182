import type { CloudName } from "./clouds.js";
import { UsageError } from "./errors.js";
import { quoteInput } from "./validate.js";

/**
 * The validators of `--offer`, `--contact-email` and the cloud check of SPEC §7, for options.ts to use:
 * bad input is refused (exit 2) before anything in any tenant changes.
 */

/** An offer ID (a product's external id), partner-center §1.2: `^[a-z0-9][a-z0-9-_]{2,49}$`. */
const OFFER_ID = /^[a-z0-9][a-z0-9-_]{2,49}$/;
/** Partner Center's `contactEmail` items are emails (§1.3); the dialog separates them with semicolons. */
const EMAIL = /^[^@\s;,"]+@[^@\s;,"]+\.[^@\s;,"]+$/;

/** Splits a repeated or comma-separated list, trims it, and drops empty items and repeats. */
function listOf(values: readonly string[], separators: RegExp): string[] {
  return [
    ...new Set(
      values
        .flatMap((value) => value.split(separators))
        .map((item) => item.trim())
        .filter(Boolean),
    ),
  ];
}

/** `--offer a,b --offer c` → the offer IDs, each checked against the offer ID pattern. */
export function parseOfferIds(values: readonly string[]): string[] {
  const ids = listOf(values, /,/);
  const bad = ids.find((id) => !OFFER_ID.test(id));
  if (bad !== undefined)
    throw new UsageError({
      code: "offer-id-invalid",
      message: `--offer ${quoteInput(bad)} is not a Partner Center offer ID (3 to 50 lower-case letters, digits, - and _, starting with a letter or digit).`,
      hint: "Copy the Offer ID from the offer's Offer setup page in Partner Center, e.g. --offer contoso-lead-saas.",
    });
  if (ids.length === 0)
    throw new UsageError({
      code: "offer-id-invalid",
      message: "--offer was given without an offer ID.",
      hint: "Pass the Offer ID from the offer's Offer setup page in Partner Center, e.g. --offer contoso-lead-saas.",
    });
  return ids;
}

/** `--contact-email a@x.com,b@x.com` (commas or semicolons, as the dialog) → the addresses. */
export function parseContactEmails(values: readonly string[]): string[] {
  const emails = listOf(values, /[,;]/);
  const bad = emails.find((email) => !EMAIL.test(email));
  if (bad !== undefined)
    throw new UsageError({
      code: "contact-email-invalid",
      message: `--contact-email ${quoteInput(bad)} is not an email address.`,
      hint: "Pass the addresses Partner Center notifies about new leads, e.g. --contact-email sales@contoso.com,leads@contoso.com.",
    });
  return emails;
}

/**
 * Partner Center is a commercial-cloud service: the Product Ingestion API is documented only under
 * graph.microsoft.com (partner-center §1.4 "Sovereign clouds"). GCC uses that Graph; `custom` is the
 * admin's own choice of Graph root.
 */
export function requirePartnerCenterCloud(cloud: CloudName): void {
  if (cloud !== "gcchigh" && cloud !== "dod" && cloud !== "china") return;
  throw new UsageError({
    code: "partner-center-cloud-unsupported",
    message: `--offer cannot be used with --cloud ${cloud}: Partner Center and its Product Ingestion API exist only in the commercial cloud.`,
    hint: "Leave out --offer, and paste the printed values into the offer's Customer leads dialog in Partner Center.",
  });
}
