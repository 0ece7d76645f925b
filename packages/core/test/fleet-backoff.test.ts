// A fleet during a token-endpoint outage (issue #18): the process that fails to get a token
// writes a "refresh failed until T" marker beside the entry in the shared store, and every
// process sharing the store backs off with it: no request for that key before T, the valid
// token it holds still served, or a typed error at once when it holds none. Two clients
// sharing one store stand in for two processes here; 8 real processes against the
// emulator's fault injection are in @daemon-auth/conformance's shared-store suite.
import { describe, expect, it } from "vitest";
import { ServerError, ThrottledError, type DaemonClientOptions, type StoreLock } from "../src/index.js";
import { testSecret } from "./support/credentials.js";
import { useTestHarness } from "./support/harness.js";
import { expectNoneOf } from "./support/leaks.js";
import { mapStore } from "./support/map-store.js";
import { errorReply, manualClock, tokenReply } from "./support/token-server.js";

const TENANT = "11111111-1111-1111-1111-111111111111";
const SCOPE = "api://fleet/.default";
const SECRET = "fleet-secret-value";
const RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 50 } as const;
const { server, client } = useTestHarness();

/** The map store with a cross-process lock, as file and Redis stores have. */
function lockingStore() {
  const store = mapStore();
  const held = new Set<string>();
  return Object.assign(store, {
    lock(key: string): Promise<StoreLock | undefined> {
      if (held.has(key)) return Promise.resolve(undefined);
      held.add(key);
      return Promise.resolve({ release: () => Promise.resolve(void held.delete(key)) });
    },
  });
}

async function fleet(options: { locking?: boolean } = {}) {
  const tokens = await server(tokenReply({ refreshIn: 60 }));
  const clock = manualClock(Date.now());
  const store = options.locking === false ? mapStore() : lockingStore();
  const base: DaemonClientOptions = {
    authority: `${tokens.url}/${TENANT}`,
    clientId: "fleet-app",
    credential: testSecret(SECRET),
    clock,
    cache: store,
    retry: RETRY,
    requestTimeoutMs: 2_000,
  };
  return { tokens, clock, store, process: () => client(base) };
}

const markers = (store: ReturnType<typeof mapStore>) => [...store.data].filter(([key]) => key.endsWith("|refresh-failed"));

describe.each([true, false])("processes sharing a store (lock: %s) during an outage", (locking) => {
  it("back off on the failing process's marker: the valid token is served from memory or the store, and nobody asks before T", async () => {
    const { tokens, clock, store, process } = await fleet({ locking });
    const a = process();
    const b = process();
    const first = await a.acquireTokenForClient({ scopes: [SCOPE] });
    await b.acquireTokenForClient({ scopes: [SCOPE] }); // from the shared store
    expect(tokens.tokenRequests).toHaveLength(1);

    tokens.setReply(errorReply(503, "temporarily_unavailable", 90033));
    clock.advance(first.refreshOn.getTime() - clock.now() + 1_000); // refresh due, token valid for an hour
    // A refreshes and fails (its attempts), then serves its valid token.
    await expect(a.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true })).resolves.toMatchObject({ accessToken: first.accessToken });
    expect(tokens.tokenRequests).toHaveLength(1 + RETRY.maxAttempts);

    const [[, marker] = []] = markers(store);
    expect(marker).toBeDefined();
    const written = JSON.parse(marker!.value) as Record<string, unknown>;
    expect(written).toMatchObject({ status: 503, code: "ERR_SERVER", errorCodes: [90033] });
    // It expires by itself at T: a quarter of the token's remaining life, at most 30 s.
    expect(marker!.expiresAt).toBe(written["until"]);
    expect(marker!.expiresAt - clock.now()).toBe(30_000);
    expect(marker!.value).not.toContain(first.accessToken);
    expect(marker!.value).not.toContain(SECRET);

    // B holds the same valid token: served, refresh due or not, with no request.
    for (let i = 0; i < 5; i++) expect((await b.acquireTokenForClient({ scopes: [SCOPE] })).accessToken).toBe(first.accessToken);
    await new Promise((resolve) => setTimeout(resolve, 50)); // a background refresh would have sent by now
    // C starts cold: the valid token is in the store, and the store answers.
    const c = process();
    await expect(c.acquireTokenForClient({ scopes: [SCOPE] })).resolves.toMatchObject({ accessToken: first.accessToken, source: "shared-cache" });
    expect(tokens.tokenRequests).toHaveLength(1 + RETRY.maxAttempts);

    // Past T the next process asks again, once the server is back.
    tokens.setReply(tokenReply());
    clock.advance(30_001);
    const recovered = await c.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
    expect(recovered.source).toBe("network");
    expect(tokens.tokenRequests).toHaveLength(2 + RETRY.maxAttempts);
  });
});

describe("the fleet's failure marker", () => {
  it("backs off for the shortest pause when the failing process held no token, and the failing process honours it too", async () => {
    const { tokens, clock, store, process } = await fleet();
    tokens.setReply(errorReply(503, "temporarily_unavailable", 90033));
    const a = process();
    await expect(a.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ServerError);
    expect(tokens.tokenRequests).toHaveLength(RETRY.maxAttempts);
    const [[, marker] = []] = markers(store);
    expect(marker!.expiresAt - clock.now()).toBe(1_000);
    await expect(a.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ThrottledError);
    // Another process holds nothing: a typed error at once, saying when the next attempt is allowed.
    const error = await process()
      .acquireTokenForClient({ scopes: [SCOPE] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).retryAfter.getTime()).toBe(marker!.expiresAt);
    expect((error as ThrottledError).message).toMatch(/process sharing the token cache failed .*ERR_SERVER, HTTP 503, AADSTS90033/);
    expectNoneOf([SECRET], error);
    expect(tokens.tokenRequests).toHaveLength(RETRY.maxAttempts);
    clock.advance(1_000);
    await expect(process().acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ServerError);
    expect(tokens.tokenRequests).toHaveLength(2 * RETRY.maxAttempts);
  });

  it("is not written for a failure that belongs to this process (a rejected credential)", async () => {
    const { tokens, store, process } = await fleet();
    tokens.setReply(errorReply(401, "invalid_client", 7000215));
    await expect(process().acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ServerError);
    expect(markers(store)).toEqual([]);
    // Another process, perhaps with a rotated secret, still asks.
    tokens.setReply(tokenReply());
    await expect(process().acquireTokenForClient({ scopes: [SCOPE] })).resolves.toMatchObject({ source: "network" });
  });

  it("is ignored when the store holds something else under its key (a store is not trusted)", async () => {
    const { tokens, clock, store, process } = await fleet();
    const a = process();
    tokens.setReply(errorReply(503, "temporarily_unavailable", 90033));
    await expect(a.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ServerError);
    const [[key, marker] = []] = markers(store);
    const valid = JSON.parse(marker!.value) as Record<string, unknown>;
    tokens.setReply(tokenReply());
    const until = clock.now() + 60_000;
    for (const hostile of ["{", "null", JSON.stringify({ ...valid, until, v: 2 }), JSON.stringify({ ...valid, until, code: "ERR_X\nforged" }), JSON.stringify({ ...valid, until, status: "503" })]) {
      store.data.set(key!, { value: hostile, expiresAt: until });
      const fresh = process();
      await expect(fresh.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true })).resolves.toMatchObject({ source: "network" });
    }
    // A marker for a day is honoured for five minutes at most.
    store.data.set(key!, { value: JSON.stringify({ ...valid, until: clock.now() + 86_400_000 }), expiresAt: clock.now() + 86_400_000 });
    const error = await process()
      .acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true })
      .catch((caught: unknown) => caught);
    expect((error as ThrottledError).retryAfter.getTime()).toBe(clock.now() + 300_000);
  });
});
