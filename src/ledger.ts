import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writePrivateFile } from "./auth/cache.js";
import type { AppPaths } from "./paths.js";

/**
 * What this tool created, per Dynamics environment and user, and whether the password it generated was
 * ever shown. It holds no secret. When a run is killed after creating the service user but before the
 * summary, the next run can say exactly that and offer a new password, instead of a vague "not shown".
 */
interface LedgerEntry {
  orgUrl: string;
  userPrincipalName: string;
  objectId: string;
  createdAt: string;
  passwordShown: boolean;
}

const fileOf = (paths: AppPaths) => join(paths.configDir, "created-users.json");
const keyOf = (orgUrl: string, userPrincipalName: string) => `${orgUrl}|${userPrincipalName.toLowerCase()}`;

async function read(paths: AppPaths): Promise<Record<string, LedgerEntry>> {
  try {
    return JSON.parse(await readFile(fileOf(paths), "utf8")) as Record<string, LedgerEntry>;
  } catch {
    return {};
  }
}

export async function recordPassword(
  paths: AppPaths,
  entry: Omit<LedgerEntry, "createdAt" | "passwordShown">,
  shown: boolean,
): Promise<void> {
  const ledger = await read(paths);
  const key = keyOf(entry.orgUrl, entry.userPrincipalName);
  ledger[key] = { ...entry, createdAt: ledger[key]?.createdAt ?? new Date().toISOString(), passwordShown: shown };
  await writePrivateFile(fileOf(paths), JSON.stringify(ledger, null, 2));
}

/** True when this tool created the user (on this machine). */
export async function createdUser(paths: AppPaths, orgUrl: string, userPrincipalName: string): Promise<boolean> {
  return keyOf(orgUrl, userPrincipalName) in (await read(paths));
}

/** True when this tool set the user's password in an earlier run that ended before showing it. */
export async function passwordNeverShown(paths: AppPaths, orgUrl: string, userPrincipalName: string): Promise<boolean> {
  return (await read(paths))[keyOf(orgUrl, userPrincipalName)]?.passwordShown === false;
}

/** The app identity's client secret this tool added (by key id, never its value) and whether it was shown. */
interface SecretEntry {
  orgUrl: string;
  appId: string;
  keyId: string;
  passwordShown: boolean;
  /**
   * The marker (the secret's description) of an addPassword sent and not yet answered. A run stopped then
   * (Ctrl+C, a kill) may have had a secret added that it never saw: the next run finds it by this marker.
   */
  pendingMarker?: string;
}

const secretKey = (orgUrl: string, appId: string) => `${orgUrl}|app:${appId.toLowerCase()}`;

export async function recordSecret(
  paths: AppPaths,
  entry: { orgUrl: string; appId: string; keyId: string },
  shown: boolean,
): Promise<void> {
  const ledger = (await read(paths)) as Record<string, unknown>;
  ledger[secretKey(entry.orgUrl, entry.appId)] = { ...entry, passwordShown: shown } satisfies SecretEntry;
  await writePrivateFile(fileOf(paths), JSON.stringify(ledger, null, 2));
}

/** Recorded before addPassword is sent: the earlier entry stays, with the marker of the secret on its way. */
export async function recordSecretPending(paths: AppPaths, entry: { orgUrl: string; appId: string; marker: string }): Promise<void> {
  const ledger = (await read(paths)) as Record<string, unknown>;
  const key = secretKey(entry.orgUrl, entry.appId);
  const earlier = ledger[key] as SecretEntry | undefined;
  ledger[key] = {
    orgUrl: entry.orgUrl,
    appId: entry.appId,
    keyId: earlier?.keyId ?? "",
    passwordShown: earlier?.passwordShown ?? false,
    pendingMarker: entry.marker,
  } satisfies SecretEntry;
  await writePrivateFile(fileOf(paths), JSON.stringify(ledger, null, 2));
}

export async function secretRecord(paths: AppPaths, orgUrl: string, appId: string): Promise<SecretEntry | undefined> {
  return ((await read(paths)) as Record<string, unknown>)[secretKey(orgUrl, appId)] as SecretEntry | undefined;
}

/**
 * The app registration this tool created for an environment under a name, by appId. An app is found by
 * this id first and by its name only second: a name filter can miss a just-created app (Entra replicates
 * its indexes later), and a second run must not create a second app.
 */
interface AppEntry {
  orgUrl: string;
  displayName: string;
  appId: string;
}

const appKey = (orgUrl: string, displayName: string) => `${orgUrl}|app-name:${displayName}`;

export async function recordApp(paths: AppPaths, entry: AppEntry): Promise<void> {
  const ledger = (await read(paths)) as Record<string, unknown>;
  ledger[appKey(entry.orgUrl, entry.displayName)] = entry;
  await writePrivateFile(fileOf(paths), JSON.stringify(ledger, null, 2));
}

export async function recordedAppId(paths: AppPaths, orgUrl: string, displayName: string): Promise<string | undefined> {
  return (((await read(paths)) as Record<string, unknown>)[appKey(orgUrl, displayName)] as AppEntry | undefined)?.appId;
}

/** Records that the summary showed a generated secret (called once the summary has been written). */
export async function recordShown(
  paths: AppPaths,
  shown:
    | { kind: "password"; orgUrl: string; userPrincipalName: string; objectId: string }
    | { kind: "client-secret"; orgUrl: string; appId: string; keyId: string },
): Promise<void> {
  if (shown.kind === "password") {
    const { orgUrl, userPrincipalName, objectId } = shown;
    await recordPassword(paths, { orgUrl, userPrincipalName, objectId }, true);
  } else {
    const { orgUrl, appId, keyId } = shown;
    await recordSecret(paths, { orgUrl, appId, keyId }, true);
  }
}
