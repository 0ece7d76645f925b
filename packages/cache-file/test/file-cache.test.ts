import { createHash, randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { inspect } from "node:util";
import { dirname, join } from "node:path";
import { CacheError, ConfigurationError } from "@daemon-auth/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileCache } from "../src/index.js";

const HOUR = 3_600_000;
let root: string;
let directory: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "daemon-auth-file-"));
  directory = join(root, "cache");
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const entryFile = (key: string) => join(directory, `${createHash("sha256").update(key).digest("hex")}.json`);
const mode = (path: string) => statSync(path).mode & 0o777;
const posix = process.platform !== "win32";

describe("createFileCache: lock arguments", () => {
  it("refuses a lock without a positive, finite ttlMs, in the option dialect, before touching the directory", async () => {
    const store = createFileCache({ directory });
    for (const [ttlMs, got] of [[0, "0"], [-1, "-1"], [Number.NaN, "NaN"], [Number.POSITIVE_INFINITY, "Infinity"], [undefined, "a undefined"]] as const) {
      await expect(store.lock!("k", { ttlMs } as { ttlMs: number })).rejects.toThrow(ConfigurationError);
      await expect(store.lock!("k", { ttlMs } as { ttlMs: number })).rejects.toThrow(
        new RegExp(`^fileCache\\.lock: 'ttlMs' must be a positive number of milliseconds, like 30000; got ${got}\\.$`),
      );
    }
    expect(readdirSync(directory).filter((name) => name.endsWith(".lock"))).toEqual([]);
  });
});

describe("createFileCache: files", () => {
  it.runIf(posix)("creates the directory 0700 and entries and locks 0600", async () => {
    const store = createFileCache({ directory });
    expect(mode(directory)).toBe(0o700);
    await store.set("k", "v", Date.now() + HOUR);
    expect(mode(entryFile("k"))).toBe(0o600);
    const lock = await store.lock!("k", { ttlMs: 10_000 });
    const lockFile = readdirSync(directory).find((name) => name.endsWith(".lock"))!;
    expect(mode(join(directory, lockFile))).toBe(0o600);
    await lock!.release();
    expect(readdirSync(directory).filter((name) => name.endsWith(".lock"))).toEqual([]);
  });

  it("stores { key, value, expiresAt } JSON in a file named by the key's SHA-256", async () => {
    const store = createFileCache({ directory });
    const expiresAt = Date.now() + HOUR;
    await store.set("tenant|client|scope", "serialized", expiresAt);
    expect(JSON.parse(readFileSync(entryFile("tenant|client|scope"), "utf8"))).toEqual({
      key: "tenant|client|scope",
      value: "serialized",
      expiresAt,
    });
  });

  it("never creates a file outside its directory, whatever the key", async () => {
    const store = createFileCache({ directory });
    const hostile = ["../escape", "../../etc/passwd", "/abs/path", "a/../../b", "..\\..\\win", "\0", "x".repeat(5000), "."];
    for (const key of hostile) await store.set(key, "v", Date.now() + HOUR);
    for (const key of hostile) await store.lock!(key, { ttlMs: 10_000 });
    expect(readdirSync(root)).toEqual(["cache"]);
    expect(readdirSync(dirname(root)).filter((name) => name === "escape" || name === "b")).toEqual([]);
    for (const name of readdirSync(directory)) expect(name).toMatch(/^[0-9a-f]{64}\.(json|lock)$/);
  });

  it("treats a truncated entry as a miss and removes it", async () => {
    const store = createFileCache({ directory });
    await store.set("k", "a-long-enough-value", Date.now() + HOUR);
    const text = readFileSync(entryFile("k"), "utf8");
    writeFileSync(entryFile("k"), text.slice(0, text.length / 2));
    expect(await store.get("k")).toBeUndefined();
    expect(readdirSync(directory)).toEqual([]);
  });

  it("ignores entries that are not its JSON, or whose key does not match", async () => {
    const store = createFileCache({ directory });
    await store.set("k", "v", Date.now() + HOUR);
    for (const garbage of ["", "null", "[]", '{"key":"k","value":1,"expiresAt":1}', "\u0000\u0001binary"]) {
      writeFileSync(entryFile("k"), garbage);
      expect(await store.get("k"), garbage).toBeUndefined();
    }
    writeFileSync(entryFile("k"), JSON.stringify({ key: "other", value: "planted", expiresAt: Date.now() + HOUR }));
    expect(await store.get("k")).toBeUndefined();
  });

  it("removes an expired entry when it is read", async () => {
    const store = createFileCache({ directory });
    await store.set("k", "v", Date.now() + HOUR);
    writeFileSync(entryFile("k"), JSON.stringify({ key: "k", value: "v", expiresAt: Date.now() - 1 }));
    expect(await store.get("k")).toBeUndefined();
    expect(readdirSync(directory)).toEqual([]);
  });

  it("sweeps temporary files left by a crashed writer once they are old, and keeps fresh ones", async () => {
    mkdirSync(directory, { mode: 0o700 });
    const old = join(directory, `${"a".repeat(64)}.json.1234.tmp`);
    const fresh = join(directory, `${"b".repeat(64)}.json.5678.tmp`);
    const grave = join(directory, `${"c".repeat(64)}.lock.9abc.break`);
    for (const path of [old, fresh, grave]) writeFileSync(path, "partial");
    const hourAgo = new Date(Date.now() - HOUR);
    utimesSync(old, hourAgo, hourAgo);
    utimesSync(grave, hourAgo, hourAgo);
    const store = createFileCache({ directory });
    await store.set("k", "v", Date.now() + HOUR);
    const names = readdirSync(directory);
    expect(names).toContain(`${"b".repeat(64)}.json.5678.tmp`);
    expect(names).not.toContain(`${"a".repeat(64)}.json.1234.tmp`);
    expect(names).not.toContain(`${"c".repeat(64)}.lock.9abc.break`);
  });

  it("breaks a lock whose holder left it unreadable once it is older than the ttl", async () => {
    const store = createFileCache({ directory });
    const held = await store.lock!("k", { ttlMs: 10_000 });
    const lockFile = join(directory, readdirSync(directory).find((name) => name.endsWith(".lock"))!);
    // A holder that died between creating the file and writing its record.
    writeFileSync(lockFile, "");
    expect(await store.lock!("k", { ttlMs: 10_000 })).toBeUndefined();
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(lockFile, minuteAgo, minuteAgo);
    expect(await store.lock!("k", { ttlMs: 10_000 })).toBeDefined();
    await held!.release();
    expect(await store.lock!("k", { ttlMs: 10_000 }), "the dead holder's release freed the new lock").toBeUndefined();
  });

  it("breaks a stale lock whose breaker died mid-removal, once the breaker's claim is old", async () => {
    const store = createFileCache({ directory });
    const base = join(directory, createHash("sha256").update("k").digest("hex"));
    writeFileSync(`${base}.lock`, JSON.stringify({ owner: "dead", expiresAt: Date.now() - 1000, pid: 1 }), { mode: 0o600 });
    const claim = `${base}.lock.${createHash("sha256").update("dead").digest("hex").slice(0, 32)}.break`;
    writeFileSync(claim, "");
    expect(await store.lock!("k", { ttlMs: 10_000 }), "a fresh claim means someone else is breaking the lock").toBeUndefined();
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(claim, minuteAgo, minuteAgo);
    expect(await store.lock!("k", { ttlMs: 10_000 })).toBeUndefined();
    expect(await store.lock!("k", { ttlMs: 10_000 })).toBeDefined();
    expect(readdirSync(directory).filter((name) => name.endsWith(".break"))).toEqual([]);
  });

  it("reports a directory that vanished as a CacheError that says what to check", async () => {
    const store = createFileCache({ directory });
    rmSync(directory, { recursive: true });
    const error = await store.set("k", "v", Date.now() + HOUR).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).message).toMatch(/ENOENT.*falls back to the token endpoint.*still exists/s);
    expect(await store.get("k")).toBeUndefined();
  });
});

describe("createFileCache: configuration", () => {
  it.runIf(posix)("refuses a directory other users can write to", () => {
    mkdirSync(directory);
    chmodSync(directory, 0o777);
    expect(() => createFileCache({ directory })).toThrow(ConfigurationError);
    expect(() => createFileCache({ directory })).toThrow(/writable by other users \(mode 777\).*chmod 700/s);
    chmodSync(directory, 0o770);
    expect(() => createFileCache({ directory })).toThrow(/writable by other users/);
    chmodSync(directory, 0o755);
    expect(() => createFileCache({ directory })).not.toThrow();
  });

  it.runIf(posix && process.getuid?.() === 0)("refuses a directory owned by another user", () => {
    mkdirSync(directory, { mode: 0o700 });
    chownSync(directory, 12345, 12345);
    expect(() => createFileCache({ directory })).toThrow(/owned by uid 12345, not by this user \(uid 0\).*chown/s);
  });

  it("refuses a missing directory option and a path that is a file", () => {
    expect(() => createFileCache({} as never)).toThrow(/^createFileCache: needs a 'directory'/);
    expect(() => createFileCache({ directory: "" })).toThrow(ConfigurationError);
    const file = join(root, "file");
    writeFileSync(file, "");
    expect(() => createFileCache({ directory: file })).toThrow(ConfigurationError);
  });

  it("refuses an encryption key of the wrong size, saying how to make one", () => {
    expect(() => createFileCache({ directory, encryptionKey: randomBytes(16) })).toThrow(/openssl rand -base64 32/);
  });

  it("does not print the encryption key", () => {
    const key = randomBytes(32).toString("base64");
    const store = createFileCache({ directory, encryptionKey: key });
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the store overrides toString
    for (const rendered of [JSON.stringify(store), String(store), inspect(store, { showHidden: true, depth: Infinity })]) {
      expect(rendered).not.toContain(key);
    }
    expect(String(JSON.stringify(store))).toContain("encrypted");
  });
});
