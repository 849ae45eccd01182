/**
 * Secrets never leave the process in clear text except in the one summary that hands a newly generated
 * secret to the admin. Every line the IO layer writes, every --verbose trace and every error message goes
 * through a Redactor: known secret values (registered as they are generated or received) are replaced, and
 * so are the shapes secrets take on the wire (Authorization headers, token/password fields, solution payloads).
 */
const MASK = "***";

const SECRET_JSON_KEYS = [
  "password",
  "secretText",
  "client_secret",
  "clientSecret",
  "access_token",
  "refresh_token",
  "id_token",
  "device_code",
  "code_verifier",
  "client_assertion",
  "accessToken",
  "refreshToken",
  "secret",
  // Partner Center's customer-leads client secret (reference: partner-center §1.3).
  "applicationKey",
];
// An OAuth authorization `code` travels only in form bodies and URLs; in JSON, "code" is an error code.
const SECRET_FORM_KEYS = [
  "client_secret",
  "password",
  "refresh_token",
  "code",
  "code_verifier",
  "client_assertion",
  "device_code",
  "assertion",
];

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a value that must never be printed. Short values are ignored (they would mask ordinary text). */
  add(secret: string | undefined | null): void {
    if (secret && secret.length >= 6) this.secrets.add(secret);
  }

  /**
   * `allowed` lists secrets this one output may show (the summary of the run that generated them): exactly
   * those values pass; every other known secret, and every shape of one, is still masked.
   */
  redact(text: string, allowed: readonly string[] = []): string {
    let result = text;
    for (const secret of this.secrets) {
      if (!allowed.includes(secret) && result.includes(secret)) result = result.split(secret).join(MASK);
    }
    const mask = (match: string, prefix: string, value: string) => (allowed.includes(value) ? match : `${prefix}${MASK}`);
    result = result.replace(/(Bearer\s+)([A-Za-z0-9\-._~+/=]+)/gi, mask);
    for (const key of SECRET_JSON_KEYS) {
      result = result.replace(new RegExp(`("${key}"\\s*:\\s*")((?:[^"\\\\]|\\\\.)*)(?=")`, "g"), mask);
    }
    result = result.replace(
      /("CustomizationFile"\s*:\s*)"([A-Za-z0-9+/=]*)"/g,
      (_, prefix: string, payload: string) => `${prefix}"<base64 solution package, ${Math.floor((payload.length * 3) / 4)} bytes>"`,
    );
    result = result.replace(
      new RegExp(`(^|[?&\\s])((?:${SECRET_FORM_KEYS.join("|")})=)([^&\\s]*)`, "g"),
      (match, lead: string, key: string, value: string) => (allowed.includes(value) ? match : `${lead}${key}${MASK}`),
    );
    return result;
  }

  headers(headers: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      out[name] = /^(authorization|cookie|set-cookie|x-sandbox-control)$/i.test(name) ? MASK : this.redact(value);
    }
    return out;
  }
}
