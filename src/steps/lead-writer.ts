/**
 * What Microsoft's Partner Center page asks of the Lead Writer role (reference: dataverse §1.7): the role
 * the solution creates, and the privileges to add on its root-business-unit copy.
 */
import type { Depth } from "../services/dataverse.js";

export const LEAD_WRITER_ROLE = "Microsoft Marketplace Lead Writer";

export interface RequiredPrivilege {
  name: string;
  depth: Depth;
  /** "8.2": only for Dynamics 365 8.2 and later (always true online today). */
  since?: string;
}

export const REQUIRED_PRIVILEGES: readonly RequiredPrivilege[] = [
  // Core Records → User Entity UI Settings: Create, Read, Write at User depth (the page: "For Dynamics 365 8.2").
  { name: "prvCreateUserEntityUISettings", depth: "Basic", since: "8.2" },
  { name: "prvReadUserEntityUISettings", depth: "Basic", since: "8.2" },
  { name: "prvWriteUserEntityUISettings", depth: "Basic", since: "8.2" },
  // Customization → System Job: Read, Write, Append To at Organization depth (the current Partner Center page).
  { name: "prvReadAsyncOperation", depth: "Global" },
  { name: "prvWriteAsyncOperation", depth: "Global" },
  { name: "prvAppendToAsyncOperation", depth: "Global" },
];
