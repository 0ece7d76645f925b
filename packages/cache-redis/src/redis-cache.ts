import { createHash, randomBytes } from "node:crypto";
import {
  CacheError,
  ConfigurationError,
  encryptedStore,
  redacted,
  type StoreLock,
  type StoreLockOptions,
  type TokenCacheStore,
} from "@daemon-auth/core";
import { Cluster, Redis, type RedisOptions } from "ioredis";

/** Options of {@link createRedisCache}. Give exactly one of `url` or `client`. */
export interface RedisCacheOptions {
  /**
   * Where Redis is: `redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS.
   * The store creates its own client, connects on first use and closes it on `dispose()`.
   */
  url?: string;
  /**
   * An ioredis client you built: a `Redis` (standalone or Sentinel) or a `Cluster`.
   * Shares your pool and settings; `dispose()` leaves it open.
   */
  client?: Redis | Cluster;
  /**
   * Prepended to every key this store writes, so several applications can share a Redis.
   * @default "daemon-auth:"
   */
  keyPrefix?: string;
  /** ioredis TLS options (CA, client certificate, `servername`…) for a `url`. A `rediss://` URL turns TLS on by itself. */
  tls?: RedisOptions["tls"];
  /**
   * Encrypts values at rest with AES-256-GCM: 32 bytes, or base64 of 32 bytes
   * (`openssl rand -base64 32`). Every process sharing the cache needs the same key.
   * @default no encryption
   */
  encryptionKey?: Uint8Array | string;
  /**
   * Longest wait for Redis per operation, in milliseconds. Past it the operation fails
   * with a {@link CacheError} and the client goes to the token endpoint instead.
   * @default 500
   */
  commandTimeoutMs?: number;
}

const DEFAULT_PREFIX = "daemon-auth:";
const DEFAULT_COMMAND_TIMEOUT_MS = 500;
// Longer keys are hashed: Redis keys are binary-safe, but every byte costs memory on
// the server and on the wire for each command.
const MAX_PLAIN_KEY_LENGTH = 512;
const RECONNECT_BACKOFF_CAP_MS = 1000;

// Deletes the lock only while it still holds our owner token, so a holder whose TTL
// ran out cannot free the lock of the process that took it over.
const RELEASE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

type RedisClient = Redis | Cluster;

/**
 * A {@link TokenCacheStore} on Redis, shared by every process that points at it. Entries
 * expire in Redis together with the token (`SET … PXAT expiresAt`), and `lock()` is a
 * distributed refresh lock (`SET … NX PX`, released by compare-and-delete), so N
 * processes make one token request per key per refresh.
 *
 * The store never waits for Redis longer than `commandTimeoutMs`: while Redis is down
 * or unreachable every operation fails fast with a {@link CacheError} (core then treats
 * it as a miss and asks the token endpoint), and the store recovers on its own when
 * Redis comes back.
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
  let client: RedisClient | undefined = config.client;
  let lastError: unknown;
  let disposed = false;
  let pxatSupported = true;

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
    created.on("error", (error: unknown) => {
      lastError = error;
    });
    client = created;
    return created;
  };

  const unavailable = (reason: string, cause?: unknown): CacheError =>
    new CacheError(
      `[daemon-auth] [redis] The Redis token cache at ${target} is unavailable (${reason}); ` +
        "the client falls back to the token endpoint. Check that Redis is running and reachable from this host.",
      cause === undefined ? undefined : { cause },
    );

  const ready = async (): Promise<RedisClient> => {
    if (disposed) {
      throw new CacheError("[daemon-auth] [redis] The Redis token cache was disposed; create a new store to use it again.");
    }
    const redis = getClient();
    switch (redis.status) {
      case "ready":
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
        redis.off("close", onClose);
        redis.off("end", onClose);
        connecting = undefined;
        if (error === undefined) resolve(redis);
        else reject(error);
      };
      const onReady = () => finish();
      const onClose = () => finish(unavailable(`could not connect${describeError(lastError)}`, lastError));
      const timer = setTimeout(
        () => finish(unavailable(`no connection within ${config.commandTimeoutMs} ms${describeError(lastError)}`, lastError)),
        config.commandTimeoutMs,
      );
      redis.once("ready", onReady);
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

  const valueKey = (key: string) => namespaced(config.keyPrefix, "token", key);
  const lockKey = (key: string) => namespaced(config.keyPrefix, "lock", key);

  const store: TokenCacheStore = {
    name: "redis",

    async get(key) {
      try {
        const value = await run("GET", (redis) => redis.get(valueKey(key)));
        return value ?? undefined;
      } catch (error) {
        // A foreign value of another type under our key is a miss; the next set replaces it.
        if (isReplyError(error) && /^WRONGTYPE/.test(error.message)) return undefined;
        return rethrowRefused("GET")(error);
      }
    },

    async set(key, value, expiresAt) {
      if (!Number.isFinite(expiresAt)) {
        throw new CacheError("[daemon-auth] [redis] expiresAt must be a finite timestamp in milliseconds since the epoch.");
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
      if (!Number.isFinite(lockOptions.ttlMs) || lockOptions.ttlMs <= 0) {
        throw new ConfigurationError("[daemon-auth] [redis] lock() needs a positive, finite ttlMs.");
      }
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
        (redis) => redis.set(redisKey, owner, "PX", Math.ceil(lockOptions.ttlMs), "NX"),
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

interface ValidatedOptions {
  url: string | undefined;
  client: RedisClient | undefined;
  keyPrefix: string;
  tls: RedisOptions["tls"] | undefined;
  encryptionKey: Uint8Array | string | undefined;
  commandTimeoutMs: number;
}

function validate(options: RedisCacheOptions): ValidatedOptions {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError("[daemon-auth] [redis] createRedisCache() needs options: { url } or { client }.");
  }
  const { url, client } = options;
  if ((url === undefined) === (client === undefined)) {
    throw new ConfigurationError(
      "[daemon-auth] [redis] Give exactly one of `url` (for example process.env.REDIS_URL) or `client` (an ioredis Redis or Cluster).",
    );
  }
  if (url !== undefined) {
    let protocol: string | undefined;
    try {
      protocol = new URL(url).protocol;
    } catch {
      protocol = undefined;
    }
    // The URL may carry a password: never repeat it in the message.
    if (protocol !== "redis:" && protocol !== "rediss:") {
      throw new ConfigurationError(
        "[daemon-auth] [redis] `url` must be a redis:// or rediss:// URL, like redis://localhost:6379 or rediss://user:password@host:6380/0.",
      );
    }
  }
  if (client !== undefined && !(client instanceof Redis) && !(client instanceof Cluster)) {
    throw new ConfigurationError(
      "[daemon-auth] [redis] `client` must be an ioredis Redis or Cluster instance (check that only one copy of ioredis is installed).",
    );
  }
  if (client !== undefined && options.tls !== undefined) {
    throw new ConfigurationError("[daemon-auth] [redis] `tls` applies to `url` only; configure TLS on the client you pass instead.");
  }
  const keyPrefix = options.keyPrefix ?? DEFAULT_PREFIX;
  if (typeof keyPrefix !== "string") {
    throw new ConfigurationError('[daemon-auth] [redis] `keyPrefix` must be a string, like "my-app:daemon-auth:".');
  }
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (!Number.isFinite(commandTimeoutMs) || commandTimeoutMs <= 0) {
    throw new ConfigurationError("[daemon-auth] [redis] `commandTimeoutMs` must be a positive number of milliseconds, like 500.");
  }
  return { url, client, keyPrefix, tls: options.tls, encryptionKey: options.encryptionKey, commandTimeoutMs };
}

/** `host:port` for messages: never the URL itself, which may hold a password. */
function describeTarget(options: RedisCacheOptions): string {
  if (options.url !== undefined) {
    const url = new URL(options.url);
    return `${url.hostname}:${url.port || "6379"}`;
  }
  const client = options.client;
  if (client instanceof Cluster) return "a Redis Cluster";
  if (client instanceof Redis) {
    const { host, port, name, sentinels } = client.options;
    if (sentinels && sentinels.length > 0) return `Sentinel master ${name ?? "?"}`;
    return `${host ?? "localhost"}:${port ?? 6379}`;
  }
  return "Redis";
}

function namespaced(prefix: string, kind: "token" | "lock", key: string): string {
  if (key.length <= MAX_PLAIN_KEY_LENGTH) return `${prefix}${kind}:${key}`;
  // `#` instead of `:` keeps hashed names apart from any plain key.
  return `${prefix}${kind}#sha256:${createHash("sha256").update(key, "utf8").digest("hex")}`;
}

function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "ReplyError";
}

function rethrowRefused(operation: string): (error: unknown) => never {
  return (error: unknown) => {
    if (isReplyError(error)) {
      throw new CacheError(
        `[daemon-auth] [redis] Redis refused ${operation}${describeError(error)}; the client falls back to the token endpoint. ` +
          "Check the server's maxmemory policy and the ACL rights on the key prefix.",
        { cause: error },
      );
    }
    throw error;
  };
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return "";
  return `: ${error.message}`.slice(0, 200);
}
