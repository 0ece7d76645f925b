// Every fault the emulator can inject, against the real client over loopback:
// serve-stale while a valid token exists, a typed error in bounded time when none
// does, the exact number of token requests, Retry-After across callers, and
// Entra's loop detection.
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator, type Fault } from "@daemon-auth/emulator";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createDaemonClient,
  DaemonAuthError,
  HttpError,
  InvalidResponseError,
  ServerError,
  ThrottledError,
  TimeoutError,
  type DaemonClient,
  type DaemonClientOptions,
} from "../src/index.js";
import { testSecret } from "./support/credentials.js";
import { captureLogs } from "./support/logs.js";
import { manualClock } from "./support/token-server.js";

const SCOPE = ids.apiScope;
const RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2_000 } as const;
// Long enough that an answer delayed by a loaded machine (two test processes on two cores)
// is not timed out and retried — which would add a token request the case does not cause —
// and far below the 3 s latency and the hang the timeout cases inject.
const TIMEOUT_MS = 1_000;

let emulator: Emulator;
let clients: DaemonClient[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  emulator = await startEmulator({ config: demoEmulatorConfig() });
  // The first token request of a test process is cold: Node loads its bundled fetch (undici)
  // on first use and the emulator issues its first token, together 0.5–0.8 s on a loaded
  // machine. Past TIMEOUT_MS, the client rightly retried it, and the first case counted one
  // token request more than its fault causes. Paid here, with the default timeout, instead.
  const warm = createDaemonClient({
    authority: emulator.authority(ids.tenantId),
    clientId: ids.daemonClientId,
    credential: testSecret(ids.daemonClientSecret),
  });
  await warm.acquireTokenForClient({ scopes: [SCOPE] });
  await warm.dispose();
  emulator.resetRequests();
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await emulator.close();
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  clients = [];
  emulator.faults.clear();
  emulator.setLoopDetection(undefined);
  emulator.resetRequests();
  // Rejections surface a tick late; give them the chance before the check.
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(unhandled).toEqual([]);
});

function newClient(options: Partial<DaemonClientOptions> = {}, target: Emulator = emulator) {
  const { logger, logs } = captureLogs();
  const client = createDaemonClient({
    authority: target.authority(ids.tenantId),
    clientId: ids.daemonClientId,
    credential: testSecret(ids.daemonClientSecret),
    requestTimeoutMs: TIMEOUT_MS,
    retry: RETRY,
    logger,
    ...options,
  });
  clients.push(client);
  return { client, logs };
}

const servedStale = (logs: { message: string }[]) => logs.filter((l) => /serving the cached token/.test(l.message)).length;

/** What each fault does to a token request, given {@link RETRY} and {@link TIMEOUT_MS}. */
interface FaultCase {
  name: string;
  fault: Fault;
  /** The error a caller without a valid token gets; undefined when the answer is still a token. */
  error: (new (...args: never[]) => DaemonAuthError) | undefined;
  /** Token requests one acquisition makes. */
  requests: number;
}

const CASES: FaultCase[] = [
  { name: "429 with a Retry-After past maxDelayMs", fault: { kind: "status", status: 429, retryAfter: 60 }, error: ThrottledError, requests: 1 },
  { name: "a burst of 500", fault: { kind: "status", status: 500 }, error: ServerError, requests: 3 },
  { name: "a burst of 503", fault: { kind: "status", status: 503 }, error: ServerError, requests: 3 },
  { name: "latency past the timeout", fault: { kind: "latency", ms: 3_000 }, error: TimeoutError, requests: 3 },
  { name: "latency within the timeout", fault: { kind: "latency", ms: 50 }, error: undefined, requests: 1 },
  { name: "a hang", fault: { kind: "hang" }, error: TimeoutError, requests: 3 },
  { name: "a connection reset", fault: { kind: "reset" }, error: HttpError, requests: 3 },
  { name: "malformed JSON", fault: { kind: "malformed-json" }, error: InvalidResponseError, requests: 1 },
  { name: "an HTML 502 page", fault: { kind: "html" }, error: InvalidResponseError, requests: 3 },
  { name: "an oversized body", fault: { kind: "oversized" }, error: InvalidResponseError, requests: 1 },
  // The body is checked strictly whatever its label, so a mislabelled valid answer is accepted.
  { name: "a wrong Content-Type", fault: { kind: "wrong-content-type" }, error: undefined, requests: 1 },
  { name: "loop detection (AADSTS50196)", fault: { kind: "status", status: 400, aadsts: 50196 }, error: ServerError, requests: 1 },
];

describe.each(CASES)("$name", ({ fault, error, requests }) => {
  it("is invisible while a valid token is cached: the background refresh fails, callers get the cached token, and it is not retried on every hit", async () => {
    const clock = manualClock(Date.now());
    const { client, logs } = newClient({ clock });
    const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
    emulator.faults.add({ fault });
    clock.advance(first.refreshOn.getTime() - clock.now() + 1_000); // past refresh_on, well before expiry
    const during = await Promise.all(Array.from({ length: 20 }, () => client.acquireTokenForClient({ scopes: [SCOPE] })));
    expect(during.every((result) => result.accessToken === first.accessToken && result.source === "cache")).toBe(true);
    await expect.poll(() => emulator.tokenRequestCount(), { timeout: 10_000 }).toBe(1 + requests);
    if (error === undefined) {
      await expect.poll(async () => (await client.acquireTokenForClient({ scopes: [SCOPE] })).accessToken).not.toBe(first.accessToken);
      expect(servedStale(logs)).toBe(0);
    } else {
      await expect.poll(() => servedStale(logs), { timeout: 10_000 }).toBe(1);
      // Every hit during the pause gets the cached token without asking the failing server again
      // (a refresh started by a hit would show up within its retry budget).
      for (let i = 0; i < 50; i++) expect((await client.acquireTokenForClient({ scopes: [SCOPE] })).accessToken).toBe(first.accessToken);
      await new Promise((resolve) => setTimeout(resolve, RETRY.maxAttempts * TIMEOUT_MS + 300));
      expect(servedStale(logs)).toBe(1);
    }
    expect(emulator.tokenRequestCount()).toBe(1 + requests);
  });

  it("is invisible inside the expiry margin: the caller waits for the refresh and gets the still-valid token", async () => {
    const clock = manualClock(Date.now());
    const { client, logs } = newClient({ clock });
    const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
    emulator.faults.add({ fault });
    clock.advance(first.expiresOn.getTime() - clock.now() - 60_000); // inside the 5-minute margin, a minute before expiry
    const results = await Promise.all(Array.from({ length: 10 }, () => client.acquireTokenForClient({ scopes: [SCOPE] })));
    expect(new Set(results.map((result) => result.accessToken)).size).toBe(1);
    expect(results[0]!.accessToken === first.accessToken).toBe(error !== undefined);
    expect(emulator.tokenRequestCount()).toBe(1 + requests);
    if (error !== undefined) {
      expect(servedStale(logs)).toBe(1);
      // Within the pause, later callers get the token at once, with no request.
      await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).resolves.toMatchObject({ accessToken: first.accessToken });
      expect(emulator.tokenRequestCount()).toBe(1 + requests);
      clock.advance(61_000); // expired: now the failure is the caller's
      const failure = await client.acquireTokenForClient({ scopes: [SCOPE] }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(error);
    }
  });

  it(error === undefined ? "still yields a token without a cached one" : `fails with ${error?.name} in bounded time without a cached token, and does not loop`, async () => {
    const { client } = newClient();
    emulator.faults.add({ fault });
    const callers = await Promise.allSettled(Array.from({ length: 10 }, () => client.acquireTokenForClient({ scopes: [SCOPE] })));
    if (error === undefined) {
      expect(callers.every((c) => c.status === "fulfilled" && c.value.source === "network")).toBe(true);
    } else {
      for (const caller of callers) {
        expect(caller.status).toBe("rejected");
        const reason = (caller as PromiseRejectedResult).reason as unknown;
        expect(reason).toBeInstanceOf(DaemonAuthError);
        expect((reason as DaemonAuthError).constructor).toBe(error);
      }
    }
    // Ten concurrent callers share one acquisition.
    expect(emulator.tokenRequestCount()).toBe(requests);
  });
});

describe("Retry-After across every caller of the key", () => {
  const header = (value: number | Date) => (typeof value === "number" ? value * 1000 : value.getTime() - Date.now());

  it.each([
    ["delta-seconds", () => 1],
    ["an HTTP-date", () => new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000) as number | Date],
  ])("waits out a short Retry-After as %s, then one request serves all callers", async (_name, retryAfter) => {
    const value = retryAfter();
    const { client } = newClient();
    emulator.faults.add({ fault: { kind: "status", status: 429, retryAfter: value }, times: 1 });
    const sent = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, () => client.acquireTokenForClient({ scopes: [SCOPE] })));
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    const [throttled, retried] = emulator.requests;
    expect(emulator.requests.map((r) => r.status)).toEqual([429, 200]);
    const until = typeof value === "number" ? throttled!.at + header(value) : value.getTime();
    expect(retried!.at).toBeGreaterThanOrEqual(until);
    expect(sent).toBeLessThan(until);
  });

  it.each([
    ["delta-seconds", 2],
    ["an HTTP-date", "date" as const],
  ])("sends nothing before a long Retry-After (%s) expires, for any caller", async (_name, given) => {
    const { client } = newClient({ retry: { ...RETRY, maxDelayMs: 500 } });
    const value = given === "date" ? new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000) : given;
    const rule = emulator.faults.add({ fault: { kind: "status", status: 429, retryAfter: value } });
    const first = await Promise.allSettled(Array.from({ length: 5 }, () => client.acquireTokenForClient({ scopes: [SCOPE] })));
    expect(first.every((c) => c.status === "rejected" && c.reason instanceof ThrottledError)).toBe(true);
    const until = typeof value === "number" ? emulator.requests[0]!.at + value * 1000 : value.getTime();
    expect(((first[0] as PromiseRejectedResult).reason as ThrottledError).retryAfter.getTime()).toBeGreaterThanOrEqual(until - 1000);
    rule.remove();
    // Callers keep coming while the pause lasts: each is refused at once, without a request.
    let refused = 0;
    for (;;) {
      const outcome = await client.acquireTokenForClient({ scopes: [SCOPE] }).catch((e: unknown) => e);
      if (!(outcome instanceof ThrottledError)) break;
      refused += 1;
      expect(emulator.tokenRequestCount()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(refused).toBeGreaterThan(0);
    expect(emulator.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(emulator.requests[1]!.at).toBeGreaterThanOrEqual(until);
  });

  it("keeps serving the cached token during a Retry-After, and refreshes only after it", async () => {
    const short = await startEmulator({ config: demoEmulatorConfig(), refreshInSeconds: 1 });
    try {
      const { client } = newClient({}, short);
      const first = await client.acquireTokenForClient({ scopes: [SCOPE] });
      short.faults.add({ fault: { kind: "status", status: 429, retryAfter: 1 }, times: 1 });
      await new Promise((resolve) => setTimeout(resolve, first.refreshOn.getTime() - Date.now() + 10));
      // Hammer the key while the refresh is throttled: every caller gets the cached token.
      let latest = first.accessToken;
      while (latest === first.accessToken) {
        latest = (await client.acquireTokenForClient({ scopes: [SCOPE] })).accessToken;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const [, throttled, refreshed] = short.requests;
      expect(short.requests.map((r) => r.status)).toEqual([200, 429, 200]);
      expect(refreshed!.at).toBeGreaterThanOrEqual(throttled!.at + 1000);
    } finally {
      await short.close();
    }
  });
});

describe("loop detection (AADSTS50196)", () => {
  it("is not retried, and is remembered so a caller's loop does not hammer the server", async () => {
    const clock = manualClock(Date.now());
    const { client } = newClient({ clock, errorCacheMs: 30_000 });
    emulator.setLoopDetection({ maxRequests: 2, windowMs: 60_000 });
    // A misbehaving caller that bypasses the cache on every call.
    const first = await client.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
    await client.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
    const outcomes = [];
    for (let i = 0; i < 20; i++) outcomes.push(await client.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true }));
    // The last good token is still valid, so it is served; the server saw one refused request.
    expect(outcomes.every((result) => result.source === "cache")).toBe(true);
    expect(emulator.requests.map((r) => r.errorCodes?.[0] ?? r.status)).toEqual([200, 200, 50196]);
    expect(first.source).toBe("network");

    // Without a valid token, the error reaches the caller, and is remembered for errorCacheMs.
    const cold = newClient({ clock, errorCacheMs: 30_000 }).client;
    for (let i = 0; i < 20; i++) {
      const error = await cold.acquireTokenForClient({ scopes: [SCOPE] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServerError);
      expect((error as ServerError).hasCode(50196)).toBe(true);
    }
    expect(emulator.tokenRequestCount()).toBe(4);
    clock.advance(31_000);
    await expect(cold.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ServerError);
    expect(emulator.tokenRequestCount()).toBe(5);
  });
});

describe("Retry-After on a proxy's HTML page", () => {
  it("is honoured like on a JSON error", async () => {
    const { client } = newClient({ retry: { ...RETRY, maxDelayMs: 500 } });
    emulator.faults.add({ fault: { kind: "html", status: 503, retryAfter: 30 } });
    await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ThrottledError);
    await expect(client.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toBeInstanceOf(ThrottledError);
    expect(emulator.tokenRequestCount()).toBe(1);
  });
});
