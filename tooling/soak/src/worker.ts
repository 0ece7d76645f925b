// One soak worker: a daemon process with its own client and Redis store that keeps
// acquiring every soak key until the end of the run, checks every token it gets, and
// prints a WorkerReport. Argument: WorkerArguments as JSON; the secret comes in
// SOAK_CLIENT_SECRET, never on the command line.
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { getHeapSpaceStatistics } from "node:v8";
import { createRedisCache } from "@daemon-auth/cache-redis";
import { createDaemonClient, DaemonAuthError, type AccessTokenResult } from "@daemon-auth/core";
import { clientSecret } from "@daemon-auth/credential-secret";
import { demoEmulatorIdentities } from "@daemon-auth/emulator";
import { Redis } from "ioredis";
import type { KeyReport, Timeline, WorkerArguments, WorkerReport } from "./protocol.js";
import { SOAK, soakKeys, type SoakKey } from "./scenario.js";

const worker = Number(process.argv[2]);
const args = JSON.parse(process.argv[3] ?? "{}") as WorkerArguments;
const clientId = demoEmulatorIdentities.daemonClientId;
let unhandledRejections = 0;
process.on("unhandledRejection", () => unhandledRejections++);

// Through the sentinel, as a fleet on Sentinel runs: after a failover the client asks it
// for the new master. No offline queue and no retries: while there is no master the
// store fails fast and the daemon client goes to the token endpoint.
const redis = new Redis({ ...args.sentinel, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
// Connection errors are expected during the faults; the store reports its own failures.
redis.on("error", () => undefined);
const cache = createRedisCache({ client: redis, keyPrefix: args.keyPrefix });
const client = createDaemonClient({
  authority: `${args.emulatorUrl}/${demoEmulatorIdentities.tenantId}`,
  clientId,
  credential: clientSecret(process.env["SOAK_CLIENT_SECRET"] ?? ""),
  cache,
  expiryMarginMs: SOAK.expiryMarginMs,
  requestTimeoutMs: SOAK.requestTimeoutMs,
});

/** What this worker knows about one key. */
interface KeyState {
  key: SoakKey;
  report: KeyReport;
  /** The token last received, and its expiry as the client reported it. */
  lastToken: string | undefined;
  lastExpiresOn: number;
  /** `exp` of the last token, checked on every later hit of the same token. */
  lastExp: number;
}

const states: KeyState[] = soakKeys().map((key) => ({
  key,
  report: { key: key.label, ok: 0, failedWhileValid: 0, failedWithoutValid: 0, errors: {}, sources: {}, tokens: 0, wrongTokens: 0, wrongTokenReasons: [], slowestMs: 0 },
  lastToken: undefined,
  lastExpiresOn: 0,
  lastExp: 0,
}));

const signingKeys = new Map<string, Promise<Map<string, KeyObject>>>();
/** The tenant's signing keys by `kid`, fetched once. */
function keysOf(tenantId: string): Promise<Map<string, KeyObject>> {
  let keys = signingKeys.get(tenantId);
  if (keys === undefined) {
    keys = fetch(`${args.emulatorUrl}/${tenantId}/discovery/v2.0/keys`)
      .then(async (response) => (await response.json()) as { keys: (JsonWebKey & { kid: string })[] })
      .then(({ keys: jwks }) => new Map(jwks.map((jwk) => [jwk.kid, createPublicKey({ key: jwk, format: "jwk" })])));
    // A failed fetch is retried with the next new token.
    keys.catch(() => signingKeys.delete(tenantId));
    signingKeys.set(tenantId, keys);
  }
  return keys;
}

/** Why `token` is not a valid token for `key`, or undefined when it is. */
async function problemWith(token: string, result: AccessTokenResult, key: SoakKey): Promise<{ problem?: string; exp: number }> {
  const [header = "", payload = "", signature = ""] = token.split(".");
  let claims: { aud?: unknown; tid?: unknown; appid?: unknown; exp?: unknown };
  let kid: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as typeof claims;
    kid = (JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { kid?: unknown }).kid;
  } catch {
    return { problem: "not a JWT", exp: 0 };
  }
  const exp = typeof claims.exp === "number" ? claims.exp * 1000 : 0;
  if (claims.aud !== key.resource.uri) return { problem: `aud ${String(claims.aud)}`, exp };
  if (claims.tid !== key.tenant.id) return { problem: `tid ${String(claims.tid)}`, exp };
  if (claims.appid !== clientId) return { problem: `appid ${String(claims.appid)}`, exp };
  // The client computes expiresOn from its own clock just before the request: a little before exp.
  if (Math.abs(exp - result.expiresOn.getTime()) > 10_000) return { problem: "expiresOn does not match exp", exp };
  const publicKey = (await keysOf(key.tenant.id)).get(String(kid));
  if (publicKey === undefined) return { problem: "unknown kid", exp };
  if (!verify("RSA-SHA256", Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, "base64url"))) {
    return { problem: "bad signature", exp };
  }
  return { exp };
}

function wrongToken(report: KeyReport, reason: string): void {
  report.wrongTokens++;
  if (report.wrongTokenReasons.length < 5) report.wrongTokenReasons.push(reason);
}

async function acquire(state: KeyState): Promise<void> {
  const { key, report } = state;
  const started = Date.now();
  try {
    const result = await client.acquireTokenForClient({ scopes: [key.scope], tenantId: key.tenant.id });
    const now = Date.now();
    report.ok++;
    report.sources[result.source] = (report.sources[result.source] ?? 0) + 1;
    if (result.accessToken !== state.lastToken) {
      // Each new token is checked in full once; repeats only for expiry.
      const { problem, exp } = await problemWith(result.accessToken, result, key);
      if (problem !== undefined) wrongToken(report, problem);
      state.lastToken = result.accessToken;
      state.lastExp = exp;
      report.tokens++;
    }
    if (now >= state.lastExp) wrongToken(report, "expired when handed out");
    state.lastExpiresOn = result.expiresOn.getTime();
  } catch (error) {
    // Judged when the error arrives: the client must serve a token that is still valid then.
    if (Date.now() < state.lastExpiresOn) report.failedWhileValid++;
    else report.failedWithoutValid++;
    const code = error instanceof DaemonAuthError ? error.code : error instanceof Error ? error.name : "unknown";
    report.errors[code] = (report.errors[code] ?? 0) + 1;
  } finally {
    report.slowestMs = Math.max(report.slowestMs, Date.now() - started);
  }
}

/**
 * Bytes of live objects after a full GC: the heap without its code spaces, since code
 * V8 compiles for paths first taken during the run (each new fault) is not a leak.
 */
function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return getHeapSpaceStatistics()
    .filter((space) => !space.space_name.startsWith("code_"))
    .reduce((sum, space) => sum + space.space_used_size, 0);
}

console.log("ready");
while (!existsSync(args.goFile)) await sleep(10);
const timeline = JSON.parse(readFileSync(args.goFile, "utf8")) as Timeline;
await sleep(Math.max(0, timeline.startAt - Date.now()));
const heapSamples: number[] = [];
let nextSampleAt = timeline.warmupAt;
while (Date.now() < timeline.endAt) {
  await Promise.all(states.map(acquire));
  if (Date.now() >= nextSampleAt) {
    heapSamples.push(heapUsed());
    nextSampleAt += SOAK.tokenLifetimeSeconds * 1000;
  }
  await sleep(SOAK.passIntervalMs);
}
// Measured while the client still holds its tokens, like the baseline.
const heapAtEnd = heapUsed();
await client.dispose();
await cache.dispose?.();
redis.disconnect();
const report: WorkerReport = {
  worker,
  keys: states.map((state) => state.report),
  heapAfterWarmup: heapSamples[0] ?? Number.NaN,
  heapAtEnd,
  heapSamples,
  unhandledRejections,
};
console.log(JSON.stringify(report));
