// The telemetry hooks added for @daemon-auth/opentelemetry (issue #18): failures carry their
// code and AADSTS codes, store failures and background refreshes are reported, and no
// event carries a token or a secret.
import { describe, expect, it } from "vitest";
import { ServerError, type TelemetryHooks, type TokenCacheStore } from "../src/index.js";
import { testSecret } from "./support/credentials.js";
import { useTestHarness } from "./support/harness.js";
import { errorReply, manualClock, tokenReply } from "./support/token-server.js";

const TENANT = "11111111-1111-1111-1111-111111111111";
const SCOPE = "api://telemetry/.default";
const SECRET = "telemetry-secret-value";
const { server, client } = useTestHarness();

function recorder() {
  const events: { hook: string; event: unknown }[] = [];
  const record =
    (hook: string) =>
    (event: unknown): void => {
      events.push({ hook, event });
    };
  const hooks: TelemetryHooks = {
    onTokenRequest: record("onTokenRequest"),
    onAcquire: record("onAcquire"),
    onAcquireError: record("onAcquireError"),
    onStoreError: record("onStoreError"),
    onBackgroundRefresh: record("onBackgroundRefresh"),
  };
  return { hooks, events, of: (hook: string) => events.filter((entry) => entry.hook === hook).map((entry) => entry.event) };
}

const failingStore: TokenCacheStore = {
  name: "broken",
  get: () => Promise.reject(new Error("down")),
  set: () => Promise.reject(new Error("down")),
  delete: () => Promise.resolve(),
};

describe("telemetry hooks", () => {
  it("report a refused request with its code and AADSTS codes, and the failed acquisition, with no secret", async () => {
    const tokens = await server(errorReply(400, "invalid_scope", 70011));
    const { hooks, events, of } = recorder();
    const daemon = client({ authority: `${tokens.url}/${TENANT}`, clientId: "app", credential: testSecret(SECRET), telemetry: hooks });
    await expect(daemon.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ServerError);
    expect(of("onTokenRequest")).toEqual([
      expect.objectContaining({ status: 400, attempt: 1, errorCode: "ERR_SERVER", error: "invalid_scope", errorCodes: [70011] }),
    ]);
    expect(of("onAcquireError")).toEqual([{ durationMs: expect.any(Number) as number, errorCode: "ERR_SERVER", errorCodes: [70011] }]);
    expect(of("onAcquire")).toEqual([]);
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });

  it("report each failed store call, and a token served with its expiry", async () => {
    const tokens = await server(tokenReply());
    const { hooks, of } = recorder();
    const daemon = client({ authority: `${tokens.url}/${TENANT}`, clientId: "app", credential: testSecret(SECRET), telemetry: hooks, cache: failingStore });
    const result = await daemon.acquireTokenForClient({ scopes: [SCOPE] });
    expect(of("onStoreError")).toEqual([
      { operation: "get", store: "broken", errorCode: "ERR_UNKNOWN" },
      // The fleet's failure marker, read before a fetch when the store has no lock.
      { operation: "get", store: "broken", errorCode: "ERR_UNKNOWN" },
      { operation: "set", store: "broken", errorCode: "ERR_UNKNOWN" },
    ]);
    expect(of("onTokenRequest")).toEqual([expect.objectContaining({ status: 200, errorCode: undefined })]);
    expect(of("onAcquire")).toEqual([expect.objectContaining({ source: "network", expiresOn: result.expiresOn, expiresOnTimestamp: result.expiresOn.getTime() })]);
    expect(JSON.stringify(of("onAcquire"))).not.toContain(result.accessToken);
  });

  it("report a background refresh that succeeds and one that fails while the cached token is served", async () => {
    const tokens = await server(tokenReply({ refreshIn: 60 }));
    const clock = manualClock(Date.now());
    const { hooks, of } = recorder();
    const retry = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
    const daemon = client({ authority: `${tokens.url}/${TENANT}`, clientId: "app", credential: testSecret(SECRET), telemetry: hooks, clock, retry });
    const first = await daemon.acquireTokenForClient({ scopes: [SCOPE] });
    clock.advance(61_000);
    expect((await daemon.acquireTokenForClient({ scopes: [SCOPE] })).accessToken).toBe(first.accessToken);
    await expect.poll(() => of("onBackgroundRefresh")).toEqual([{ phase: "started", errorCode: undefined }, { phase: "succeeded", errorCode: undefined }]);

    tokens.setReply(errorReply(503, "temporarily_unavailable", 90033));
    clock.advance(61_000);
    await daemon.acquireTokenForClient({ scopes: [SCOPE] });
    await expect.poll(() => of("onBackgroundRefresh").slice(2)).toEqual([{ phase: "started", errorCode: undefined }, { phase: "failed", errorCode: undefined }]);
  });
});
