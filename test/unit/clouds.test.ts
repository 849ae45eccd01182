import { describe, expect, it } from "vitest";
import { CLOUDS, cloudOfDynamicsHost, parseCloudName, resolveCloud, validateOrgUrl } from "../../src/clouds.js";
import { UsageError } from "../../src/errors.js";

describe("org URL validation (SPEC §3)", () => {
  it("normalises to the origin and derives the cloud from the suffix", () => {
    expect(validateOrgUrl("https://contoso.crm4.dynamics.com", undefined)).toEqual({
      orgUrl: "https://contoso.crm4.dynamics.com",
      cloud: "public",
    });
    expect(validateOrgUrl("https://contoso.crm4.dynamics.com:443", undefined).orgUrl).toBe("https://contoso.crm4.dynamics.com");
    expect(validateOrgUrl("contoso.crm.dynamics.com", undefined).orgUrl).toBe("https://contoso.crm.dynamics.com");
    expect(validateOrgUrl("https://CONTOSO.crm21.dynamics.com/", undefined).cloud).toBe("public");
    expect(validateOrgUrl("https://agency.crm9.dynamics.com", undefined).cloud).toBe("gcc");
    expect(validateOrgUrl("https://agency.crm.microsoftdynamics.us", undefined).cloud).toBe("gcchigh");
    expect(validateOrgUrl("https://agency.crm.appsplatform.us", undefined).cloud).toBe("dod");
    expect(validateOrgUrl("https://contoso.crm.dynamics.cn", undefined).cloud).toBe("china");
  });

  it.each([
    ["http://contoso.crm.dynamics.com", "url-not-https", /uses http/],
    ["https://admin:pw@contoso.crm.dynamics.com", "url-has-credentials", /contains a user name or password/],
    ["https://10.1.2.3", "org-url-ip-literal", /is an IP address/],
    ["https://[::1]", "org-url-ip-literal", /is an IP address/],
    ["https://contoso.crm.dynamics.com.evil.example", "org-url-not-dynamics", /not a Dynamics 365 environment host/],
    ["https://evilcrm.dynamics.com", "org-url-not-dynamics", /not a Dynamics 365 environment host/],
    ["https://crm.dynamics.com", "org-url-not-dynamics", /not a Dynamics 365 environment host/],
    ["https://contoso.crm4.dynamics.com:bad", "url-malformed", /is not a URL/],
    // A port would end up in the token scope; a path, query or fragment means it was not the Environment URL field.
    ["https://contoso.crm4.dynamics.com:8443", "org-url-not-bare", /has a port \(:8443\) after the host/],
    ["https://contoso.crm4.dynamics.com/main.aspx", "org-url-not-bare", /has a path after the host/],
    ["https://contoso.crm4.dynamics.com/?appid=1", "org-url-not-bare", /has a query after the host/],
    ["https://contoso.crm4.dynamics.com#x", "org-url-not-bare", /has a fragment after the host/],
    [
      "https://contoso.crm4.dynamics.com:8443/main.aspx?appid=1#x",
      "org-url-not-bare",
      /has a port \(:8443\), a path, a query, a fragment after the host/,
    ],
  ])("refuses %s", (url, code, message) => {
    try {
      validateOrgUrl(url, undefined);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).code).toBe(code);
      expect((error as UsageError).message).toMatch(message);
      expect((error as UsageError).message).toContain("--org-url");
      expect((error as UsageError).hint).toBeTruthy();
    }
  });

  it("refuses a host of another cloud than the one chosen, and says which cloud it belongs to", () => {
    expect(() => validateOrgUrl("https://contoso.crm4.dynamics.com", "gcchigh")).toThrowError(
      /belongs to the public cloud, but --cloud is gcchigh/,
    );
    expect(() => validateOrgUrl("https://agency.crm9.dynamics.com", "public")).toThrowError(/belongs to the gcc cloud/);
  });

  it("lets --cloud custom take any https host, but only the host", () => {
    expect(validateOrgUrl("https://crm.internal.example/", "custom")).toEqual({ orgUrl: "https://crm.internal.example", cloud: "custom" });
    expect(() => validateOrgUrl("https://crm.internal.example:8443/x", "custom")).toThrowError(
      /has a port \(:8443\), a path after the host/,
    );
  });

  it("quotes at most 60 characters of a pasted value back", () => {
    const pasted = `https://contoso.crm4.dynamics.com/${"x".repeat(5_000)}`;
    try {
      validateOrgUrl(pasted, undefined);
      expect.unreachable();
    } catch (error) {
      expect((error as UsageError).message).toContain(`"${pasted.slice(0, 60)}…"`);
      expect((error as UsageError).message.length).toBeLessThan(200);
    }
  });
});

describe("cloud table", () => {
  it("knows the five clouds' sign-in and Graph endpoints (reference: graph-and-msal §E)", () => {
    expect(resolveCloud("public", {})).toMatchObject({
      authorityHost: "https://login.microsoftonline.com",
      graphEndpoint: "https://graph.microsoft.com",
    });
    expect(resolveCloud("gcc", {})).toMatchObject({
      authorityHost: "https://login.microsoftonline.com",
      graphEndpoint: "https://graph.microsoft.com",
      bapEndpoint: "https://gov.api.bap.microsoft.us",
    });
    expect(resolveCloud("gcchigh", {})).toMatchObject({
      authorityHost: "https://login.microsoftonline.us",
      graphEndpoint: "https://graph.microsoft.us",
    });
    expect(resolveCloud("dod", {})).toMatchObject({
      authorityHost: "https://login.microsoftonline.us",
      graphEndpoint: "https://dod-graph.microsoft.us",
    });
    expect(resolveCloud("china", {})).toMatchObject({
      authorityHost: "https://login.chinacloudapi.cn",
      graphEndpoint: "https://microsoftgraph.chinacloudapi.cn",
    });
    expect(Object.keys(CLOUDS)).toHaveLength(5);
  });

  it("requires both hosts for a custom cloud and validates overrides", () => {
    expect(() => resolveCloud("custom", {})).toThrowError(/--cloud custom needs --authority-host and --graph-endpoint/);
    expect(() => resolveCloud("custom", { authorityHost: "https://login.example" })).toThrowError(/needs --graph-endpoint/);
    expect(() => resolveCloud("public", { graphEndpoint: "http://graph.example" })).toThrowError(/--graph-endpoint .* uses http/);
    expect(resolveCloud("custom", { authorityHost: "https://login.example/", graphEndpoint: "https://graph.example/v1.0" })).toMatchObject({
      authorityHost: "https://login.example",
      graphEndpoint: "https://graph.example",
    });
  });

  it("refuses an unknown cloud name with the list", () => {
    expect(() => parseCloudName("azure", "--cloud")).toThrowError(/--cloud "azure" is not a cloud this tool knows/);
    expect(parseCloudName("GCCHigh", "--cloud")).toBe("gcchigh");
  });

  it("maps only real Dynamics suffixes", () => {
    expect(cloudOfDynamicsHost("x.crm11.dynamics.com")).toBe("public");
    expect(cloudOfDynamicsHost("x.crm.dynamics.com.cn")).toBeUndefined();
    expect(cloudOfDynamicsHost("x.dynamics.com")).toBeUndefined();
  });
});
