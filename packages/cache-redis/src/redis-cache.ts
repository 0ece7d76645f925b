// createRedisCache is one closure, about 320 lines, on purpose: get, set, delete, lock
// and dispose share the connection state (the lazily created client, whether the
// server takes PXAT, the last credential or certificate refusal, the disposed flag),
// and their failure messages share one redactor. Options live in options.ts and the
// reading of ioredis errors in lib/redis-errors.ts.
import { createHash, randomBytes } from "node:crypto";
import {
  CacheError,
  encryptedStore,
  redacted,
  type StoreLock,
  type StoreLockOptions,
  type TokenCacheStore,
} from "@daemon-auth/core";
import { optionChecks } from "@daemon-auth/core/adapter";
import { Redis } from "ioredis";
import {
  describeTarget,
  isCertificateRefusal,
  isCredentialRefusal,
  isReplyError,
  redactor,
  safeCause,
  secretsOf,
} from "./lib/redis-errors.js";
import { validate, type RedisCacheOptions, type RedisClient } from "./options.js";

/** The arguments of a store's `lock()`, in the option dialect. */
const LOCK_CHECK = optionChecks("redisCache.lock");

export type { RedisCacheOptions } from "./options.js";

// Longer keys are hashed: Redis keys are binary-safe, but every byte costs memory on
// the server and on the wire for each command.
const MAX_PLAIN_KEY_LENGTH = 512;
const RECONNECT_BACKOFF_CAP_MS = 1000;

// Deletes the lock only while it still holds our owner token, so a holder whose TTL
// ran out cannot free the lock of the process that took it over.
const RELEASE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

/**
 * A {@link TokenCacheStore} on Redis, shared by every process that points at it. Entries
 * expire in Redis together with the token (`SET … PXAT expiresAt`), and `lock()` is a
 * distributed refresh lock (`SET … NX PX`, released by compare-and-delete), so N
 * processes make one token request per key per refresh.
 *
 * The store never waits for Redis longer than `commandTimeoutMs`: while Redis is down
 * or unreachable every operation fails fast with a {@link CacheError} (core then treats
 * it as a miss and asks the token endpoint), and the store recovers on its own when
 * Redis comes back. Its errors carry no credential: messages never hold the URL or a
 * password, and a cause keeps only the name, redacted message and code of what ioredis
 * threw (whose `command.args` hold the AUTH password or the token being written).
 *
 * @example
 * const cache = createRedisCache({ url: process.env.REDIS_URL, encryptionKey: process.env.TOKEN_CACHE_KEY });
 * const client = createDaemonClient({ tenantId, clientId, credential, cache });
 *
 * @throws {ConfigurationError} when the options are inconsistent or invalid.
 */
export function createRedisCache(options: RedisCacheOptions): TokenCacheStore {
  const config = validate(options);
  const owned = config.client === undefined;
  const target = describeTarget(options);
  const redact = redactor(secretsOf(options));
  let client: RedisClient | undefined = config.client;
  let lastError: unknown;
  let disposed = false;
  let pxatSupported = true;
  // The last connection failure that was a refusal of our credentials or of the
  // server's TLS certificate, until a connection is ready again: reconnect attempts
  // then fail with "Connection is closed", and the user still needs to hear that the
  // password is wrong or the CA missing.
  let refused: Error | undefined;
  const noteError = (error: unknown): void => {
    lastError = error;
    if (isCredentialRefusal(error) || isCertificateRefusal(error)) refused = error;
  };

  const getClient = (): RedisClient => {
    if (client !== undefined) return client;
    const created = new Redis(config.url as string, {
      ...(config.tls === undefined ? {} : { tls: config.tls }),
      lazyConnect: true,
      // Queued commands would wait for a Redis that may never come back; failing fast
      // lets the client fall back to the token endpoint at once.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: Math.max(1000, 2 * config.commandTimeoutMs),
      retryStrategy: (attempt: number) => Math.min(100 * attempt, RECONNECT_BACKOFF_CAP_MS),
    });
    // Without a listener ioredis prints every connection error; we report them through CacheError.
    created.on("error", noteError);
    client = created;
    return created;
  };

  /** The error's message without any credential, and a cause that keeps nothing else. */
  const describeError = (error: unknown): string => (error instanceof Error ? `: ${redact(error.message)}`.slice(0, 200) : "");
  const failure = (message: string, cause: unknown): CacheError => {
    const safe = safeCause(cause, redact);
    return new CacheError(message, safe === undefined ? undefined : { cause: safe });
  };

  const refusedCredentials = (error: Error): CacheError =>
    failure(
      `[daemon-auth] [redis] Redis at ${target} refused this client's credentials${describeError(error)}; ` +
        "the client falls back to the token endpoint. " +
        (owned
          ? "Check the user name and password in the Redis URL (REDIS_URL, the `url` option) against the server's ACL users or requirepass."
          : "Check the username and password of the ioredis client you passed against the server's ACL users or requirepass."),
      error,
    );

  const untrustedCertificate = (error: Error): CacheError =>
    failure(
      `[daemon-auth] [redis] Redis at ${target} presented a TLS certificate this client does not trust${describeError(error)}; ` +
        "the client falls back to the token endpoint. " +
        (owned
          ? "Pass the CA that signed the server's certificate in the `tls` option (`tls: { ca }`), and check that the host in the Redis URL is one the certificate names."
          : "Check the `tls` options (CA, servername) of the ioredis client you passed."),
      error,
    );

  const unavailable = (reason: string, cause?: unknown): CacheError => {
    const refusal = isCredentialRefusal(cause) || isCertificateRefusal(cause) ? cause : refused;
    if (refusal !== undefined) return isCertificateRefusal(refusal) ? untrustedCertificate(refusal) : refusedCredentials(refusal);
    return failure(
      `[daemon-auth] [redis] The Redis token cache at ${target} is unavailable (${reason}); ` +
        "the client falls back to the token endpoint. Check that Redis is running and reachable from this host.",
      cause,
    );
  };

  /** Turns an error reply of `operation` into a CacheError; anything else is already one. */
  const rethrowRefused =
    (operation: string) =>
    (error: unknown): never => {
      if (isCredentialRefusal(error)) throw refusedCredentials(error);
      if (isReplyError(error)) {
        throw failure(
          `[daemon-auth] [redis] Redis refused ${operation}${describeError(error)}; the client falls back to the token endpoint. ` +
            "Check the server's maxmemory policy and the ACL rights on the key prefix.",
          error,
        );
      }
      throw error;
    };

  const ready = async (): Promise<RedisClient> => {
    if (disposed) {
      throw new CacheError("[daemon-auth] [redis] The Redis token cache was disposed; create a new store to use it again.");
    }
    const redis = getClient();
    switch (redis.status) {
      case "ready":
        refused = undefined;
        return redis;
      case "wait":
        redis.connect().catch((error: unknown) => (lastError = error));
        return waitUntilReady(redis);
      case "connecting":
      case "connect":
        return waitUntilReady(redis);
      default:
        throw unavailable(`connection ${redis.status}${describeError(lastError)}`, lastError);
    }
  };

  // One wait shared by every caller that arrives while the connection is being made,
  // so a burst of first calls adds one set of listeners, not one per call.
  let connecting: Promise<RedisClient> | undefined;
  const waitUntilReady = (redis: RedisClient): Promise<RedisClient> => {
    connecting ??= new Promise<RedisClient>((resolve, reject) => {
      const finish = (error?: CacheError) => {
        clearTimeout(timer);
        redis.off("ready", onReady);
        redis.off("error", onError);
        redis.off("close", onClose);
        redis.off("end", onClose);
        connecting = undefined;
        if (error === undefined) resolve(redis);
        else reject(error);
      };
      const onReady = () => {
        refused = undefined;
        finish();
      };
      const onError = (error: unknown) => noteError(error);
      const onClose = () => finish(unavailable(`could not connect${describeError(lastError)}`, lastError));
      const timer = setTimeout(
        () => finish(unavailable(`no connection within ${config.commandTimeoutMs} ms${describeError(lastError)}`, lastError)),
        config.commandTimeoutMs,
      );
      redis.once("ready", onReady);
      // Also on an injected client, whose errors are otherwise the owner's: why the
      // connection failed (a refused password above all) goes into our CacheError.
      redis.on("error", onError);
      redis.once("close", onClose);
      redis.once("end", onClose);
    });
    return connecting;
  };

  /**
   * Runs one command within the store's deadline. Connection failures and timeouts
   * become a CacheError here; Redis's own error replies pass through for the caller to
   * interpret (WRONGTYPE is a miss, a missing PXAT means an old server).
   *
   * A command that missed the deadline is still on the wire and a slow Redis carries it
   * out later: `late` receives that answer, so the caller can undo what it no longer wants.
   */
  const run = async <T>(
    operation: string,
    command: (redis: RedisClient) => Promise<T>,
    late?: (answer: T) => void,
  ): Promise<T> => {
    const redis = await ready();
    const pending = command(redis);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(unavailable(`${operation} got no answer within ${config.commandTimeoutMs} ms`)),
        config.commandTimeoutMs,
      );
    });
    try {
      return await Promise.race([pending, deadline]);
    } catch (error) {
      if (error instanceof CacheError) {
        pending.then(late, () => undefined);
        throw error;
      }
      if (isReplyError(error)) throw error;
      lastError = error;
      throw unavailable(`${operation} failed${describeError(error)}`, error);
    } finally {
      clearTimeout(timer);
    }
  };

  const valueKey = (key: string) => entryKey(config.keyPrefix, key);
  const lockKey = (key: string) => `${entryKey(config.keyPrefix, key)}:lock`;

  const store: TokenCacheStore = {
    name: "redis",

    async get(key) {
      const redisKey = valueKey(key);
      let exists: unknown;
      let bytes: unknown;
      try {
        // GETRANGE transfers at most maxEntryBytes + 1 bytes of a value, however large it
        // is in Redis; EXISTS tells a missing key from an empty value. One round trip.
        [exists, bytes] = await run("GET", (redis) =>
          redis.pipeline().exists(redisKey).getrangeBuffer(redisKey, 0, config.maxEntryBytes).exec().then(repliesOf),
        );
      } catch (error) {
        // A foreign value of another type under our key is a miss; the next set replaces it.
        if (isReplyError(error) && /^WRONGTYPE/.test(error.message)) return undefined;
        return rethrowRefused("GET")(error);
      }
      if (exists !== 1 || !Buffer.isBuffer(bytes)) return undefined;
      if (bytes.length > config.maxEntryBytes) {
        throw new CacheError(
          `[daemon-auth] [redis] The value under ${redisKey.slice(0, 120)} is larger than maxEntryBytes (${config.maxEntryBytes} bytes); ` +
            "the store read no more than that and ignores it, and the client falls back to the token endpoint. " +
            "Only this store writes under its key prefix: find out what wrote that value, or raise maxEntryBytes if your tokens really are that large.",
        );
      }
      return bytes.toString("utf8");
    },

    async set(key, value, expiresAt) {
      if (!Number.isFinite(expiresAt)) {
        throw new CacheError("[daemon-auth] [redis] expiresAt must be a finite timestamp in milliseconds since the epoch.");
      }
      const size = Buffer.byteLength(value, "utf8");
      if (size > config.maxEntryBytes) {
        throw new CacheError(
          `[daemon-auth] [redis] A value of ${size} bytes is larger than maxEntryBytes (${config.maxEntryBytes}); ` +
            "it is not stored and the client keeps the token in memory only. Raise maxEntryBytes if your tokens really are that large.",
        );
      }
      const redisKey = valueKey(key);
      const at = Math.ceil(expiresAt);
      // An already-elapsed expiry stores nothing, and must not leave an older value behind.
      if (at <= Date.now()) {
        await run("DEL", (redis) => redis.del(redisKey)).catch(rethrowRefused("DEL"));
        return;
      }
      if (pxatSupported) {
        try {
          await run("SET", (redis) => redis.set(redisKey, value, "PXAT", at));
          return;
        } catch (error) {
          // Redis < 6.2 has no PXAT: remember it and use a relative expiry from now on.
          // No server that old runs in the tests, so the README does not claim support.
          if (!(isReplyError(error) && /syntax error/i.test(error.message))) rethrowRefused("SET")(error);
          pxatSupported = false;
        }
      }
      const ttl = at - Date.now();
      if (ttl <= 0) {
        await run("DEL", (redis) => redis.del(redisKey)).catch(rethrowRefused("DEL"));
        return;
      }
      await run("SET", (redis) => redis.set(redisKey, value, "PX", ttl)).catch(rethrowRefused("SET"));
    },

    async delete(key) {
      await run("DEL", (redis) => redis.del(valueKey(key))).catch(rethrowRefused("DEL"));
    },

    async lock(key: string, lockOptions: StoreLockOptions): Promise<StoreLock | undefined> {
      const ttlMs = LOCK_CHECK.requiredMilliseconds("ttlMs", lockOptions?.ttlMs, { example: "30000" });
      const redisKey = lockKey(key);
      const owner = randomBytes(16).toString("base64url");
      const releaseOwn = async (): Promise<void> => {
        try {
          await run("EVAL", (redis) => redis.eval(RELEASE_SCRIPT, 1, redisKey, owner));
        } catch {
          // The lock expires by itself after ttlMs; a failed release only delays the next holder.
        }
      };
      const taken = await run(
        "SET NX",
        (redis) => redis.set(redisKey, owner, "PX", Math.ceil(ttlMs), "NX"),
        // Our caller gave up and fetches without the lock: a lock a slow Redis grants
        // afterwards would only make every other process wait out its ttl.
        (late) => {
          if (late === "OK") void releaseOwn();
        },
      ).catch(rethrowRefused("SET NX"));
      if (taken !== "OK") return undefined;
      let released = false;
      return redacted(
        {
          async release() {
            if (released) return;
            released = true;
            await releaseOwn();
          },
        },
        "RedisStoreLock",
      );
    },

    async dispose() {
      if (disposed) return;
      disposed = true;
      const redis = client;
      if (!owned || redis === undefined) return;
      if (redis.status === "wait" || redis.status === "end") {
        redis.disconnect();
        return;
      }
      try {
        await Promise.race([
          redis.quit(),
          new Promise((resolve) => setTimeout(resolve, config.commandTimeoutMs).unref()),
        ]);
      } catch {
        // Quitting a broken connection fails; disconnect below closes it either way.
      }
      redis.disconnect();
    },
  };

  const described = redacted(store, `RedisCache(${target})`);
  if (config.encryptionKey === undefined) return described;
  return redacted(encryptedStore(described, { key: config.encryptionKey }), `RedisCache(${target}, encrypted)`);
}

/**
 * The Redis key of an entry: `<prefix>{<key>}`. Its siblings (the lock, `…:lock`) append
 * to it, so the first `{` and the first `}` after it, which pick a key's hash slot in
 * Redis Cluster, lie in the part they share: an entry and its lock are always in one
 * slot, whatever the prefix holds. A key that would make an empty hash tag (empty, or
 * starting with `}`) or is long is replaced by its SHA-256, as `<prefix>#sha256{<hex>}`:
 * the `#` keeps hashed names apart from any plain key, and the tag is never empty.
 */
function entryKey(prefix: string, key: string): string {
  if (key.length > 0 && key.length <= MAX_PLAIN_KEY_LENGTH && !key.startsWith("}")) return `${prefix}{${key}}`;
  return `${prefix}#sha256{${createHash("sha256").update(key, "utf8").digest("hex")}}`;
}

/** The results of a pipeline, or its first error (as if the command had been sent alone). */
function repliesOf(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error("the pipeline was discarded");
  return results.map(([error, reply]) => {
    if (error !== null) throw error;
    return reply;
  });
}

