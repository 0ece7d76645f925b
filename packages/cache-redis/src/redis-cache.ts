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
   * A Redis Cluster hash tag in it (`"{my-app}:"`) puts every key of the store in one
   * slot; an empty tag `{}` is refused, since it would split an entry from its lock.
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
  /**
   * The largest value the store writes or reads, in bytes (the ciphertext when
   * encrypted). `get()` fetches at most this many bytes and one more, so a huge value
   * planted under a key is refused with a {@link CacheError} instead of being
   * transferred and parsed whole; `set()` refuses a larger value. An entry holds one
   * token: even a token with many role claims stays far below 64 KiB.
   * @default 1048576 (1 MiB)
   */
  maxEntryBytes?: number;
}

const DEFAULT_PREFIX = "daemon-auth:";
const DEFAULT_COMMAND_TIMEOUT_MS = 500;
const DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024;
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
  maxEntryBytes: number;
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
  // Redis Cluster hashes the whole name when its first `{` is followed by `}`: an entry
  // and its lock would then land in different slots.
  const brace = keyPrefix.indexOf("{");
  if (brace >= 0 && keyPrefix[brace + 1] === "}") {
    throw new ConfigurationError(
      '[daemon-auth] [redis] `keyPrefix` must not contain an empty hash tag "{}"; remove it, or put a name inside ("{my-app}:") to keep all keys in one Redis Cluster slot.',
    );
  }
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (!Number.isFinite(commandTimeoutMs) || commandTimeoutMs <= 0) {
    throw new ConfigurationError("[daemon-auth] [redis] `commandTimeoutMs` must be a positive number of milliseconds, like 500.");
  }
  const maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes < 1024) {
    throw new ConfigurationError(
      "[daemon-auth] [redis] `maxEntryBytes` must be a whole number of bytes of at least 1024, like 1048576 (the default, 1 MiB).",
    );
  }
  return { url, client, keyPrefix, tls: options.tls, encryptionKey: options.encryptionKey, commandTimeoutMs, maxEntryBytes };
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

function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "ReplyError";
}

/**
 * AUTH refused (wrong password, unknown or disabled user), or a command sent without
 * the password a server requires. Redis < 6 says "invalid password".
 */
function isCredentialRefusal(error: unknown): error is Error {
  return isReplyError(error) && /^(WRONGPASS|NOAUTH)\b|invalid password/i.test(error.message);
}

/**
 * The TLS handshake failed because the server's certificate is not trusted: an unknown
 * or self-signed CA, a host name it does not name, an expired certificate (Node's
 * OpenSSL verification codes, and its own host name check).
 */
function isCertificateRefusal(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH/.test(code);
}

/** The results of a pipeline, or its first error (as if the command had been sent alone). */
function repliesOf(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error("the pipeline was discarded");
  return results.map(([error, reply]) => {
    if (error !== null) throw error;
    return reply;
  });
}

/**
 * Every string a message from ioredis or Redis could repeat that gives access to the
 * server: the URL, its userinfo and password (as written and decoded), a `password`
 * query parameter, and the password of an injected client. Longest first, so a
 * password inside the URL is never half-replaced.
 */
function secretsOf(options: RedisCacheOptions): string[] {
  const secrets: string[] = [];
  if (options.url !== undefined) {
    const url = new URL(options.url);
    secrets.push(options.url, `${url.username}:${url.password}@`, url.password, url.searchParams.get("password") ?? "");
    try {
      secrets.push(decodeURIComponent(url.password));
    } catch {
      // Not valid percent-encoding: ioredis cannot decode it either, so only the raw form is sent.
    }
  }
  const client = options.client;
  const password = client instanceof Cluster ? client.options.redisOptions?.password : client?.options.password;
  if (typeof password === "string") secrets.push(password);
  return [...new Set(secrets)].filter((secret) => secret !== "" && secret !== ":@").sort((a, b) => b.length - a.length);
}

function redactor(secrets: readonly string[]): (text: string) => string {
  return (text) => secrets.reduce((redactedText, secret) => redactedText.split(secret).join("***"), text);
}

/**
 * What is safe to keep of an error from ioredis: its name, its message without any
 * credential, and its code. Never the error itself: a ReplyError's `command.args` hold
 * the AUTH password or the token being written, and nested causes are not ours to vet.
 */
function safeCause(error: unknown, redact: (text: string) => string): Error | undefined {
  if (!(error instanceof Error)) return undefined;
  const safe = new Error(redact(error.message));
  safe.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" || typeof code === "number") Object.defineProperty(safe, "code", { value: code, enumerable: true });
  return safe;
}
