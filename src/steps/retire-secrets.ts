import type { GraphApplication } from "../services/graph.js";
import { DEFAULT_APP_NAME, SECRET_DESCRIPTION, serviceApp } from "./create-app.js";
import type { Reads } from "./ports.js";
import type { Step, Upstream } from "./step.js";

/**
 * The last step of an app rotation with `--offer` (SPEC §1, §7): once every offer accepted the new secret
 * (connect-offer ended well; a failed step stops the run before this one starts), the secrets this tool
 * created before are removed. Which ones: the key id the ledger recorded, and every secret carrying the
 * description this tool gives its secrets (`addPassword` adds a random suffix to it, create-app.ts and
 * services/graph.ts). The description also finds a secret an interrupted run added and never delivered,
 * whose key id a later run's record replaced. A secret this tool did not create is never touched, and
 * neither is the one this run added.
 */

export interface RetireSecretsState {
  displayName: string;
  application: GraphApplication | undefined;
  retiring: { keyId: string; endDateTime: string }[];
}

export type RetireSecretsOp = {
  kind: "remove-secret";
  displayName: string;
  applicationObjectId: string;
  appId: string;
  keyId: string;
  endDateTime: string;
};

/** Whether this tool added a secret: its description starts with ours (addPassword appends a marker). */
export const addedByThisTool = (credential: { displayName: string | null }) =>
  credential.displayName === SECRET_DESCRIPTION || (credential.displayName?.startsWith(`${SECRET_DESCRIPTION} `) ?? false);

/** The tool's earlier secrets: recorded in the ledger or carrying its description, except the one this run added. */
export function earlierSecrets(
  credentials: GraphApplication["passwordCredentials"],
  recordedKeyId: string | undefined,
  addedNow: string | undefined,
): { keyId: string; endDateTime: string }[] {
  return credentials
    .filter((c) => c.keyId !== addedNow && (c.keyId === recordedKeyId || addedByThisTool(c)))
    .map(({ keyId, endDateTime }) => ({ keyId, endDateTime }));
}

export function retireSecretsStep(inputs: { appName?: string }): Step<RetireSecretsState, RetireSecretsOp, undefined, string> {
  return {
    id: "retire-secrets",
    title: "Remove the client secrets this tool created before",
    after: ["connect-offer"],
    inspect: (reads, upstream) => inspectSecrets(reads, upstream, inputs.appName ?? DEFAULT_APP_NAME),
    plan(state) {
      const ops = state.application
        ? state.retiring.map((secret): RetireSecretsOp => ({
            kind: "remove-secret",
            displayName: state.displayName,
            applicationObjectId: state.application!.id,
            appId: state.application!.appId,
            ...secret,
          }))
        : [];
      if (ops.length === 0) return { ops, summary: `No earlier client secret of "${state.displayName}" made by this tool is left` };
      return {
        ops,
        summary: `Will remove ${ops.length} earlier client secret(s) of "${state.displayName}" once every offer holds the new one`,
      };
    },
    describe: (op) => ({
      action: "remove",
      target: `the earlier client secret ${op.keyId} of "${op.displayName}" (expiring ${op.endDateTime.slice(0, 10)}), once every offer accepted the new one`,
    }),
    async apply(op, { writes }) {
      const { applications } = await writes.tenant();
      try {
        await applications.removePassword(op.applicationObjectId, op.keyId);
      } catch (error) {
        // Refused, or its answer lost: if the secret is gone (removed by hand, or by this very request), that is
        // the state we want. What Graph answers for a key id it does not hold is not documented: look, not read.
        const after = await applications.byAppId(op.appId).catch(() => undefined);
        if (!after || after.passwordCredentials.some((c) => c.keyId === op.keyId)) throw error;
      }
      return op.keyId;
    },
    summarize: (state, removed) => ({
      summary: removed.length
        ? `Removed ${removed.length} earlier client secret(s) of "${state.displayName}": only the new one is valid now`
        : `No earlier client secret of "${state.displayName}" made by this tool was left`,
    }),
    output: () => undefined,
  };
}

async function inspectSecrets(reads: Reads, upstream: Upstream, displayName: string): Promise<RetireSecretsState> {
  const { orgUrl } = await reads.tenant();
  const app = await serviceApp(reads, displayName);
  const record = app.application ? await reads.ledger.secretRecord(orgUrl, app.application.appId) : undefined;
  const rotated = upstream.get("reset-password")?.output;
  const addedNow = rotated?.identity === "app" ? rotated.generatedSecret?.keyId : undefined;
  return {
    displayName: app.displayName,
    application: app.application,
    retiring: earlierSecrets(app.application?.passwordCredentials ?? [], record?.keyId, addedNow),
  };
}
