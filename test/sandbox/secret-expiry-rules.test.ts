import { afterEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/server.js";
import { sandboxHttp } from "../helpers.js";
import { VirtualClock } from "../virtual-clock.js";

/**
 * Client secrets expire on the tenant's clock: Entra refuses an expired secret with its own code,
 * AADSTS7000222 (public error reports: MicrosoftDocs/azure-docs#48669), and Graph keeps listing it until it
 * is removed; addPassword refuses an end date that has passed.
 */
const DAY = 86_400_000;
let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe("client secret expiry on the tenant's clock", () => {
  it("a secret is accepted until its endDateTime, then refused as expired (7000222), and still listed", async () => {
    const clock = new VirtualClock();
    sandbox = await startSandbox({ clock });
    const http = sandboxHttp(sandbox);
    const app = [...sandbox.state.applications.values()].find((a) => a.appId === sandbox!.connection.automationClientId)!;
    const grant = async (secret: string) => {
      const response = await http.send({
        service: "entra",
        method: "POST",
        url: `${sandbox!.connection.loginOrigin}/${sandbox!.connection.tenantId}/oauth2/v2.0/token`,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: app.appId,
          client_secret: secret,
          scope: `${sandbox!.connection.graphOrigin}/.default`,
        }).toString(),
      });
      return { status: response.status, codes: response.json<{ error_codes?: number[] }>().error_codes ?? [] };
    };
    try {
      const secret = sandbox.connection.automationClientSecret;
      expect((await grant(secret)).status).toBe(200);
      await clock.sleep(Date.parse(app.passwordCredentials[0]!.endDateTime) - clock.now() + DAY);
      expect(await grant(secret)).toEqual({ status: 401, codes: [7000222] });
      expect(await grant("not-the-secret")).toEqual({ status: 401, codes: [7000215] });
      expect(app.passwordCredentials).toHaveLength(1);
    } finally {
      await http.close();
    }
  });
});
