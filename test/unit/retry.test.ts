import { describe, expect, it } from "vitest";
import { backoffDelay, decideRetry, DEFAULT_RETRY_POLICY, parseRetryAfter } from "../../src/services/retry.js";

const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, deadlineMs: 10_000 };
const half = () => 0.5;

describe("Retry-After", () => {
  it("reads delta-seconds and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter("0.5")).toBe(500);
    const now = Date.parse("2026-11-24T10:00:00Z");
    expect(parseRetryAfter("Tue, 24 Nov 2026 10:00:07 GMT", now)).toBe(7000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe("decideRetry", () => {
  it("waits exactly Retry-After on 429, even for a POST", () => {
    expect(decideRetry({ attempt: 1, status: 429, retryAfterMs: 7000, idempotent: false, elapsedMs: 0 }, policy, half)).toEqual({
      retry: true,
      delayMs: 7000,
      reason: "throttled (429)",
    });
  });

  it("retries 503/504 and dropped connections only when resending is safe", () => {
    expect(decideRetry({ attempt: 1, status: 503, idempotent: true, elapsedMs: 0 }, policy, half).retry).toBe(true);
    expect(decideRetry({ attempt: 1, status: 503, idempotent: false, elapsedMs: 0 }, policy, half)).toMatchObject({
      retry: false,
      reason: expect.stringContaining("must not be resent blindly"),
    });
    expect(decideRetry({ attempt: 1, networkError: "ECONNRESET", idempotent: true, elapsedMs: 0 }, policy, half).retry).toBe(true);
    expect(decideRetry({ attempt: 1, networkError: "ECONNRESET", idempotent: false, elapsedMs: 0 }, policy, half).retry).toBe(false);
  });

  it("does not retry a host that does not resolve or a certificate that is not trusted", () => {
    expect(
      decideRetry({ attempt: 1, networkError: "ENOTFOUND: getaddrinfo ENOTFOUND x.example", idempotent: true, elapsedMs: 0 }, policy, half)
        .retry,
    ).toBe(false);
    expect(
      decideRetry(
        { attempt: 1, networkError: "TLS certificate not trusted (SELF_SIGNED_CERT_IN_CHAIN)", idempotent: true, elapsedMs: 0 },
        policy,
        half,
      ).retry,
    ).toBe(false);
    expect(
      decideRetry(
        { attempt: 1, networkError: "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9", idempotent: true, elapsedMs: 0 },
        policy,
        half,
      ).retry,
    ).toBe(false);
    expect(
      decideRetry({ attempt: 1, networkError: "EAI_AGAIN: getaddrinfo EAI_AGAIN x.example", idempotent: true, elapsedMs: 0 }, policy, half)
        .retry,
    ).toBe(true);
  });

  it("does not retry what is not transient", () => {
    for (const status of [400, 401, 403, 404, 409, 412])
      expect(decideRetry({ attempt: 1, status, idempotent: true, elapsedMs: 0 }, policy, half).retry).toBe(false);
  });

  it("backs off exponentially with jitter, capped", () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
  });

  it("gives up at the attempt cap and before passing the deadline", () => {
    expect(decideRetry({ attempt: 4, status: 503, idempotent: true, elapsedMs: 0 }, policy, half)).toMatchObject({
      retry: false,
      reason: expect.stringContaining("gave up after 4 attempts"),
    });
    expect(decideRetry({ attempt: 1, status: 429, retryAfterMs: 9000, idempotent: true, elapsedMs: 2000 }, policy, half)).toMatchObject({
      retry: false,
      reason: expect.stringContaining("deadline"),
    });
  });
});
