import { createHash, randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { join } from "node:path";
import {
  CacheError,
  encryptedStore,
  redacted,
  type StoreLock,
  type StoreLockOptions,
  type TokenCacheStore,
} from "@daemon-auth/core";
import { optionChecks } from "@daemon-auth/core/adapter";
import {
  errorCode,
  readSnapshot,
  RefusedFileError,
  sweepStrays,
  unlinkIfSame,
  unlinkQuietly,
  writeAtomically,
  type FileSnapshot,
} from "./lib/fs.js";
import { preparePrivateDirectory } from "./lib/private-directory.js";

/** The arguments of a store's `lock()`, in the option dialect. */
const LOCK_CHECK = optionChecks("fileCache.lock");

/** Options of {@link createFileCache}. */
export interface FileCacheOptions {
  /**
   * The directory that holds the cache, one file per entry. Created with mode 0700 when
   * missing. It must be private: a directory other users can write to, or that this user
   * does not own, is refused. Processes that share it share the cache.
   */
  directory: string;
  /**
   * Encrypts values at rest with AES-256-GCM: 32 bytes, or base64 of 32 bytes
   * (`openssl rand -base64 32`). Every process sharing the directory needs the same key.
   * @default no encryption (files are still 0600)
   */
  encryptionKey?: Uint8Array | string;
  /**
   * The largest entry file the store writes or reads, in bytes (the stored JSON, with the
   * ciphertext when encrypted). A larger file in the directory is refused after reading
   * at most this many bytes and one more, so junk planted there cannot make a process
   * read it whole; a larger value is refused by `set()`. An entry holds one token: even
   * a token with many role claims stays far below 64 KiB.
   * @default 1048576 (1 MiB)
   */
  maxEntryBytes?: number;
}

// Temporary and graveyard files live for milliseconds; anything this old was left by a
// process that died mid-write.
const STRAY_AGE_MS = 5 * 60_000;
const SWEEP_INTERVAL_MS = 10 * 60_000;
// Removing a lock takes a few milliseconds; a claim this old belongs to a dead process.
const CLAIM_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024;

interface Entry {
  key: string;
  value: string;
  expiresAt: number;
}

interface LockRecord {
  owner: string;
  expiresAt: number;
  pid: number;
}

/**
 * A persistent {@link TokenCacheStore} in a private directory, shared by every process
 * that uses the same directory. Each entry is one file named by the SHA-256 of its key
 * (no key can name a path outside the directory), holding `{ key, value, expiresAt }`
 * JSON, mode 0600. Writes go to a temporary file that is flushed and renamed over the
 * entry, so readers and crashes never leave a torn entry; expired, corrupt or truncated
 * entries read as misses and are removed. A symbolic link, FIFO or other special file,
 * or a file larger than `maxEntryBytes`, under an entry's or a lock's name is refused
 * with a {@link CacheError} without being followed, waited on or read whole.
 * `lock()` is a cross-process lock file.
 *
 * @example
 * const cache = createFileCache({ directory: "/var/lib/my-daemon/token-cache" });
 * const client = createDaemonClient({ tenantId, clientId, credential, cache });
 *
 * @throws {ConfigurationError} when the directory cannot be created, is not private, or the key or `maxEntryBytes` is invalid.
 */
export function createFileCache(options: FileCacheOptions): TokenCacheStore {
  const check = optionChecks("createFileCache");
  const directory = preparePrivateDirectory(options, check);
  const maxEntryBytes = check.byteLimit("maxEntryBytes", options.maxEntryBytes, DEFAULT_MAX_ENTRY_BYTES, 1024);
  let lastSweep = 0;

  const fileOf = (key: string) => join(directory, createHash("sha256").update(key, "utf8").digest("hex"));
  const entryPath = (key: string) => `${fileOf(key)}.json`;
  const lockPath = (key: string) => `${fileOf(key)}.lock`;

  const failure = (action: string, error: unknown): CacheError => {
    if (error instanceof RefusedFileError) return refused(error);
    return new CacheError(
      `[daemon-auth] [file] Could not ${action} in the token cache directory ${directory}` +
        `${errorCode(error) === undefined ? "" : ` (${errorCode(error)})`}; the client falls back to the token endpoint. ` +
        "Check that the directory still exists, is writable by this user and that the disk is not full.",
      { cause: error },
    );
  };

  const refused = ({ path, reason }: RefusedFileError): CacheError => {
    const what = {
      link: "is a symbolic link; the store never follows links",
      special: "is not a regular file (a FIFO, socket, device or directory); the store does not read it",
      large: `is larger than maxEntryBytes (${maxEntryBytes} bytes); the store read no more than that`,
    }[reason];
    return new CacheError(
      `[daemon-auth] [file] ${path} ${what}, and the client falls back to the token endpoint. ` +
        `Only this store writes to ${directory}: find out what put that file there and remove it` +
        `${reason === "large" ? " (or raise maxEntryBytes if your tokens really are that large)" : ""}.`,
    );
  };

  const store: TokenCacheStore = {
    name: "file",

    async get(key) {
      const path = entryPath(key);
      let snapshot: FileSnapshot | undefined;
      try {
        // A refused file stays until set() renames a fresh entry over it (rename replaces
        // a link or FIFO itself, never what it points to), and reports itself until then.
        snapshot = await readSnapshot(path, maxEntryBytes);
      } catch (error) {
        throw failure("read an entry", error);
      }
      if (snapshot === undefined) return undefined;
      const entry = parseEntry(snapshot.text);
      if (entry !== undefined && entry.key === key && entry.expiresAt > Date.now()) return entry.value;
      // Expired, corrupt, truncated or foreign: a miss, and not worth keeping.
      await unlinkIfSame(path, snapshot.ino).catch(() => undefined);
      return undefined;
    },

    async set(key, value, expiresAt) {
      if (!Number.isFinite(expiresAt)) {
        throw new CacheError("[daemon-auth] [file] expiresAt must be a finite timestamp in milliseconds since the epoch.");
      }
      if (expiresAt <= Date.now()) {
        await store.delete(key);
        return;
      }
      if (Date.now() - lastSweep > SWEEP_INTERVAL_MS) {
        lastSweep = Date.now();
        await sweepStrays(directory, STRAY_AGE_MS).catch(() => undefined);
      }
      const text = JSON.stringify({ key, value, expiresAt } satisfies Entry);
      if (Buffer.byteLength(text, "utf8") > maxEntryBytes) {
        throw new CacheError(
          `[daemon-auth] [file] An entry of ${Buffer.byteLength(text, "utf8")} bytes is larger than maxEntryBytes (${maxEntryBytes}); ` +
            "it is not stored and the client keeps the token in memory only. Raise maxEntryBytes if your tokens really are that large.",
        );
      }
      try {
        await writeAtomically(entryPath(key), text);
      } catch (error) {
        throw failure("write an entry", error);
      }
    },

    async delete(key) {
      try {
        await unlinkQuietly(entryPath(key));
      } catch (error) {
        throw failure("delete an entry", error);
      }
    },

    async lock(key: string, lockOptions: StoreLockOptions): Promise<StoreLock | undefined> {
      const ttlMs = LOCK_CHECK.requiredMilliseconds("ttlMs", lockOptions?.ttlMs, { example: "30000" });
      const path = lockPath(key);
      try {
        for (let attempt = 1; ; attempt++) {
          const owner = randomBytes(16).toString("base64url");
          if (await createLockFile(path, { owner, expiresAt: Date.now() + ttlMs, pid: process.pid })) {
            return ownedLock(path, owner, maxEntryBytes);
          }
          const observed = await readSnapshot(path, maxEntryBytes);
          if (observed !== undefined) {
            if (!isStale(observed, ttlMs)) return undefined;
            // Another process is already removing this stale lock, and takes it next.
            if (!(await removeLock(path, observed, maxEntryBytes))) return undefined;
          }
          // The lock vanished or we broke it: try again, a bounded number of times.
          if (attempt >= 3) return undefined;
        }
      } catch (error) {
        throw failure("take a lock", error);
      }
    },

    async dispose() {
      // Nothing is held open between calls.
    },
  };

  const described = redacted(store, `FileCache(${directory})`);
  if (options.encryptionKey === undefined) return described;
  return redacted(encryptedStore(described, { key: options.encryptionKey }), `FileCache(${directory}, encrypted)`);
}

/** Creates the lock file only if no lock file exists (`O_EXCL`); false when one does. */
async function createLockFile(path: string, record: LockRecord): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, "wx", 0o600);
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(record), "utf8");
  } catch (error) {
    await handle.close();
    await unlinkQuietly(path).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return true;
}

function ownedLock(path: string, owner: string, maxBytes: number): StoreLock {
  let released = false;
  return redacted(
    {
      async release() {
        if (released) return;
        released = true;
        try {
          const current = await readSnapshot(path, maxBytes);
          // Our lock may have expired and been taken over: only our own record goes.
          if (current !== undefined && parseLock(current.text)?.owner === owner) await removeLock(path, current, maxBytes);
        } catch {
          // The lock file expires by itself; a failed release only delays the next holder.
        }
      },
    },
    "FileStoreLock",
  );
}

/**
 * Removes the lock file `observed` if it is still in place. Deleting by name is racy:
 * between our look and our unlink, the stale lock can be broken by someone else and a
 * fresh one created, which we would then delete. So removal of one particular lock
 * record goes through a claim file named after it, created with `O_EXCL`: whoever
 * holds the claim is the only process that may remove that record, and removes it
 * only if the file is still that record. No other process can put a different file
 * under the lock's name while the record is there, so the check cannot go stale.
 *
 * @returns false when another process holds the claim (it is removing the record right now).
 */
async function removeLock(path: string, observed: FileSnapshot, maxBytes: number): Promise<boolean> {
  const record = parseLock(observed.text);
  const identity = record?.owner ?? `${observed.ino}:${observed.mtimeMs}:${observed.size}`;
  // Hashed: the record comes from disk and must not choose a file name.
  const claim = `${path}.${createHash("sha256").update(identity).digest("hex").slice(0, 32)}.break`;
  let handle;
  try {
    handle = await open(claim, "wx", 0o600);
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
    // A claimer that died mid-removal would block this record forever; its claim ages out.
    const claimed = await readSnapshot(claim, maxBytes);
    if (claimed !== undefined && claimed.mtimeMs + CLAIM_TIMEOUT_MS < Date.now()) await unlinkIfSame(claim, claimed.ino);
    return false;
  }
  await handle.close();
  try {
    const current = await readSnapshot(path, maxBytes);
    if (current !== undefined && sameLock(current, observed)) await unlinkQuietly(path);
  } finally {
    await unlinkQuietly(claim);
  }
  return true;
}

/**
 * A lock is stale once its recorded expiry passed. A lock file with no readable record
 * is being written right now, or its writer died in between: judge it by its age.
 */
function isStale(snapshot: FileSnapshot, ttlMs: number): boolean {
  const record = parseLock(snapshot.text);
  if (record !== undefined) return record.expiresAt <= Date.now();
  return snapshot.mtimeMs + ttlMs <= Date.now();
}

function sameLock(current: FileSnapshot, observed: FileSnapshot): boolean {
  const before = parseLock(observed.text);
  if (before !== undefined) return parseLock(current.text)?.owner === before.owner;
  return current.ino === observed.ino && current.size === observed.size && current.mtimeMs === observed.mtimeMs;
}

function parseLock(text: string): LockRecord | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return undefined;
    const { owner, expiresAt, pid } = value as Partial<LockRecord>;
    if (typeof owner !== "string" || typeof expiresAt !== "number" || typeof pid !== "number") return undefined;
    return { owner, expiresAt, pid };
  } catch {
    return undefined;
  }
}

function parseEntry(text: string): Entry | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return undefined;
    const { key, value: stored, expiresAt } = value as Partial<Entry>;
    if (typeof key !== "string" || typeof stored !== "string" || typeof expiresAt !== "number") return undefined;
    return { key, value: stored, expiresAt };
  } catch {
    return undefined;
  }
}
