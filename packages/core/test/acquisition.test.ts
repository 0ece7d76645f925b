// The acquisition machinery is shared by every token source (issue #14): a source outside
// core supplies only its fetch, through the `@daemon-auth/core/acquisition` subpath, and gets
// single-flight, the index, proactive refresh, serve-stale, the shared store and the lifetime
// cap. The source here is shaped like a managed identity endpoint (IMDS), which is not a
// client credentials grant: a GET with `resource=`, answering `expires_on` in epoch seconds.
import { afterEach, describe, expect, it } from "vitest";
import { resolveAcquisitionSettings, TokenAcquirer, type TokenFetcher } from "@daemon-auth/core/acquisition";
import { HttpError, type AccessTokenResult, type StoreLock, type TokenCacheStore } from "../src/index.js";
import { testSecret } from "./support/credentials.js";
import { useTestHarness } from "./support/harness.js";
import { captureLogs } from "./support/logs.js";
import { mapStore } from "./support/map-store.js";
import { json, manualClock, startTokenServer, tokenReply, type Reply } from "./support/token-server.js";

const RESOURCE = "https://vault.azure.net";
const SCOPE = `${RESOURCE}/.default`;
/** A managed identity has no tenant of its own; the source picks a fixed one for its keys. */
const NO_TENANT = "managed-identity";
const HOUR_S = 3_600;

type Servers = Awaited<ReturnType<typeof startTokenServer>>;
let servers: Servers[] = [];
let acquirers: TokenAcquirer[] = [];
afterEach(async () => {
  await Promise.all(acquirers.map((acquirer) => acquirer.dispose()));
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
  acquirers = [];
});

let issued = 0;
/** An IMDS-shaped answer: every field a string, `expires_on` absolute, in epoch seconds. */
function imdsReply(clock: { now(): number }, lifetimeS = HOUR_S): Reply {
  return (request, response) => {
    if (request.method !== "GET" || !request.path.includes(`resource=${encodeURIComponent(RESOURCE)}`)) {
      json(response, 400, { error: "invalid_request" });
      return;
    }
    issued += 1;
    const now = Math.floor(clock.now() / 1000);
    json(response, 200, {
      access_token: `mi-${String(issued)}`,
      expires_in: String(lifetimeS),
      expires_on: String(now + lifetimeS),
      resource: RESOURCE,
      token_type: "Bearer",
    });
  };
}

/** What a `@daemon-auth/managed-identity` package would write: its fetch, nothing else. */
function imdsFetcher(url: string): TokenFetcher {
  return {
    kind: "managed-identity",
    authority: "managed-identity:imds",
    clientId: "system-assigned",
    async fetchToken(target, { signal, clock }) {
      const resource = (target.scopes[0] ?? "").replace(/\/\.default$/, "");
      const response = await fetch(`${url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`, {
        headers: { metadata: "true" },
        signal,
        redirect: "manual",
      });
      if (response.status !== 200) throw new HttpError(`IMDS answered HTTP ${String(response.status)}.`, { status: response.status });
      const body = (await response.json()) as Record<string, string>;
      return {
        accessToken: body["access_token"] ?? "",
        tokenType: body["token_type"] ?? "",
        expiresIn: Number(body["expires_on"]) - Math.floor(clock.now() / 1000),
      };
    },
  };
}

async function imds(options: { clock: ReturnType<typeof manualClock>; cache?: TokenCacheStore; maxTokenLifetimeMs?: number; lifetimeS?: number }) {
  const server = await startTokenServer(imdsReply(options.clock, options.lifetimeS));
  servers.push(server);
  const { logger, logs } = captureLogs();
  const settings = resolveAcquisitionSettings({
    clock: options.clock,
    logger,
    retry: { maxAttempts: 1 },
    ...(options.cache === undefined ? {} : { cache: options.cache }),
    ...(options.maxTokenLifetimeMs === undefined ? {} : { maxTokenLifetimeMs: options.maxTokenLifetimeMs }),
  });
  const acquirer = new TokenAcquirer(imdsFetcher(server.url), settings);
  acquirers.push(acquirer);
  const target = acquirer.target(NO_TENANT, [SCOPE]);
  const requests = () => server.requests.length;
  return { server, acquirer, target, logs, requests };
}

describe("a token source outside core, through @daemon-auth/core/acquisition", () => {
  it("shares one fetch among concurrent callers, then answers from the index", async () => {
    const clock = manualClock(Date.now());
    const { acquirer, target, requests } = await imds({ clock });

    const results = await Promise.all(Array.from({ length: 25 }, () => acquirer.acquire(target, {})));
    expect(requests()).toBe(1);
    expect(new Set(results.map((result) => result.accessToken)).size).toBe(1);
    expect(results.every((result) => result.source === "network")).toBe(true);
    // The absolute expires_on became the token's expiry.
    expect(results[0]?.expiresOn.getTime()).toBe(clock.now() + HOUR_S * 1000);

    const hit = acquirer.cached(NO_TENANT, SCOPE);
    expect(hit?.source).toBe("cache");
    expect(hit?.accessToken).toBe(results[0]?.accessToken);
    expect((await acquirer.acquire(target, {})).source).toBe("cache");
    expect(requests()).toBe(1);
  });

  it("refreshes in the background past the refresh time, while hits keep the cached token", async () => {
    const clock = manualClock(Date.now());
    const { acquirer, target, requests } = await imds({ clock });
    const first = await acquirer.acquire(target, {});

    clock.advance(first.refreshOn.getTime() - clock.now() + 1_000);
    const during = acquirer.cached(NO_TENANT, SCOPE);
    expect(during?.accessToken).toBe(first.accessToken);
    await expect.poll(() => acquirer.cached(NO_TENANT, SCOPE)?.accessToken).not.toBe(first.accessToken);
    expect(requests()).toBe(2);
  });

  it("serves the still-valid token when its refresh fails, and logs it", async () => {
    const clock = manualClock(Date.now());
    const { server, acquirer, target, logs, requests } = await imds({ clock });
    const first = await acquirer.acquire(target, {});
    server.setReply((_request, response) => json(response, 500, { error: "server_error" }));

    // Inside the expiry margin: no longer a hit, but valid, so a failed refresh serves it.
    clock.advance(first.expiresOn.getTime() - clock.now() - 60_000);
    expect(acquirer.cached(NO_TENANT, SCOPE)).toBeUndefined();
    const results = await Promise.all(Array.from({ length: 5 }, () => acquirer.acquire(target, {})));
    expect(results.every((result: AccessTokenResult) => result.accessToken === first.accessToken)).toBe(true);
    expect(requests()).toBe(2);
    expect(logs.filter((line) => line.message.includes("serving the cached token")).length).toBe(1);

    // Past expiry, the failure is the caller's.
    clock.advance(120_000);
    await expect(acquirer.acquire(target, {})).rejects.toBeInstanceOf(HttpError);
  });

  it("caps the lifetime the source reports, like every token's", async () => {
    const clock = manualClock(Date.now());
    const { acquirer, target } = await imds({ clock, lifetimeS: 10 * 24 * HOUR_S, maxTokenLifetimeMs: 2 * HOUR_S * 1000 });
    const result = await acquirer.acquire(target, {});
    expect(result.expiresOn.getTime()).toBe(clock.now() + 2 * HOUR_S * 1000);
  });

  it("shares tokens through the store, under the source's own identity", async () => {
    const clock = manualClock(Date.now());
    const store = mapStore();
    const one = await imds({ clock, cache: store });
    const first = await one.acquirer.acquire(one.target, {});
    const other = await imds({ clock, cache: store });
    const second = await other.acquirer.acquire(other.target, {});
    expect(second).toMatchObject({ accessToken: first.accessToken, source: "shared-cache" });
    expect(other.requests()).toBe(0);
    expect([...store.data.keys()]).toEqual([`managed-identity:imds|system-assigned|${NO_TENANT}|${SCOPE}`]);
  });
});

describe("resolveAcquisitionSettings", () => {
  it("speaks the option dialect in the name of the factory the user called", () => {
    expect(() => resolveAcquisitionSettings({ requestTimeoutMs: 0 }, "createFooClient")).toThrow(
      /^createFooClient: 'requestTimeoutMs' must be a positive number of milliseconds, at most 2147483647/,
    );
    expect(() => resolveAcquisitionSettings({ retry: { maxAttempt: 2 } as never }, "createFooClient")).toThrow(
      /^createFooClient: unknown option 'retry\.maxAttempt'; did you mean 'retry\.maxAttempts'\?$/,
    );
    expect(() => resolveAcquisitionSettings({ cache: null as never }, "createFooClient")).toThrow(/^createFooClient: 'cache' must be a token cache store/);
    expect(() => resolveAcquisitionSettings({ maxCachedTokens: 1.5 })).toThrow(
      /^resolveAcquisitionSettings: 'maxCachedTokens' must be a positive integer, like 100000\.$/,
    );
  });
});

describe("the wait for another process's refresh lock", () => {
  const { server, client } = useTestHarness();

  it("runs on the injected clock: a frozen clock whose sleep advances it ends the wait, then fetches", async () => {
    const clock = manualClock(Date.now());
    let slept = 0;
    const sleepingClock = {
      now: () => clock.now(),
      sleep: (ms: number) => {
        slept += ms;
        clock.advance(ms);
        return Promise.resolve();
      },
    };
    // Another process holds the lock and never writes a token.
    const store = mapStore();
    let lockAttempts = 0;
    const lockedElsewhere: TokenCacheStore = {
      ...store,
      lock: (): Promise<StoreLock | undefined> => {
        lockAttempts += 1;
        return Promise.resolve(undefined);
      },
    };
    const tokens = await server(tokenReply());
    const { logger, logs } = captureLogs();
    const requestTimeoutMs = 1_000;
    const retry = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 500 };
    const daemon = client({
      authority: `${tokens.url}/22222222-2222-2222-2222-222222222222`,
      clientId: "app",
      credential: testSecret("s"),
      clock: sleepingClock,
      cache: lockedElsewhere,
      logger,
      requestTimeoutMs,
      retry,
    });

    const result = await daemon.acquireTokenForClient({ scopes: ["api://orders/.default"] });
    expect(result.source).toBe("network");
    expect(tokens.tokenRequests.length).toBe(1);
    // The whole wait (the lock's ttl plus one request timeout) passed on the injected clock.
    expect(slept).toBeGreaterThanOrEqual(requestTimeoutMs * retry.maxAttempts + retry.maxDelayMs + requestTimeoutMs);
    expect(lockAttempts).toBeGreaterThan(2);
    expect(logs.some((line) => line.level === "warn" && line.message.includes("did not deliver a token in time"))).toBe(true);
  });
});
