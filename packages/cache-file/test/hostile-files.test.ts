// Files planted in the cache directory under an entry's or a lock's name: links, FIFOs,
// directories and huge files. The store refuses them with a CacheError (core logs it and
// asks the token endpoint) without following, blocking on or reading them whole.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, ftruncateSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CacheError, ConfigurationError } from "@daemon-auth/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileCache } from "../src/index.js";

const HOUR = 3_600_000;
const posix = process.platform !== "win32";
let root: string;
let directory: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "daemon-auth-hostile-"));
  directory = join(root, "cache");
  mkdirSync(directory, { mode: 0o700 });
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const base = (key: string) => join(directory, createHash("sha256").update(key).digest("hex"));
const entryOf = (key: string, value: string) => JSON.stringify({ key, value, expiresAt: Date.now() + HOUR });

async function refusal(operation: Promise<unknown>): Promise<CacheError> {
  // What a wrong success returned is left out: a huge value would swamp the report.
  const error: unknown = await operation.then(() => "resolved", (caught: unknown) => caught);
  expect(error).toBeInstanceOf(CacheError);
  return error as CacheError;
}

describe.runIf(posix)("createFileCache: planted files", () => {
  it("does not follow a symbolic link to an entry outside the directory, and set() replaces the link, not its target", async () => {
    const outside = join(root, "planted.json");
    const planted = entryOf("k", "planted-token");
    writeFileSync(outside, planted);
    symlinkSync(outside, `${base("k")}.json`);
    const store = createFileCache({ directory });

    const error = await refusal(store.get("k"));
    expect(error.message).toMatch(/symbolic link.*falls back to the token endpoint.*remove it/s);
    expect(error.message).not.toContain("planted-token");

    await store.set("k", "fresh", Date.now() + HOUR);
    expect(lstatSync(`${base("k")}.json`).isFile()).toBe(true);
    expect(readFileSync(outside, "utf8")).toBe(planted);
    expect(await store.get("k")).toBe("fresh");
  });

  it("settles get() with a CacheError on a FIFO or a directory under an entry's name, instead of waiting for a writer", async () => {
    const store = createFileCache({ directory });
    execFileSync("mkfifo", ["-m", "600", `${base("fifo")}.json`]);
    mkdirSync(`${base("dir")}.json`);
    for (const key of ["fifo", "dir"]) {
      const error = await refusal(store.get(key));
      expect(error.message, key).toMatch(/is not a regular file.*FIFO.*remove it/s);
    }
    await store.set("fifo", "fresh", Date.now() + HOUR);
    expect(await store.get("fifo")).toBe("fresh");
  });

  it("settles lock() with a CacheError on a FIFO or a link under the lock's name, and leaves the link's target alone", async () => {
    const store = createFileCache({ directory });
    execFileSync("mkfifo", ["-m", "600", `${base("fifo")}.lock`]);
    expect((await refusal(store.lock!("fifo", { ttlMs: 10_000 }))).message).toMatch(/is not a regular file/);

    const outside = join(root, "victim");
    const stale = JSON.stringify({ owner: "dead", expiresAt: Date.now() - 1000, pid: 1 });
    writeFileSync(outside, stale);
    symlinkSync(outside, `${base("link")}.lock`);
    expect((await refusal(store.lock!("link", { ttlMs: 10_000 }))).message).toMatch(/symbolic link/);
    expect(readFileSync(outside, "utf8")).toBe(stale);
  });

  it("refuses a 200 MB entry after reading at most maxEntryBytes of it", async () => {
    const path = `${base("huge")}.json`;
    const fd = openSync(path, "w", 0o600);
    writeSync(fd, entryOf("huge", "v"));
    // Sparse: 200 MB to the reader, next to nothing on disk.
    ftruncateSync(fd, 200 * 1024 * 1024);
    closeSync(fd);
    const store = createFileCache({ directory });
    const error = await refusal(store.get("huge"));
    expect(error.message).toMatch(/larger than maxEntryBytes \(1048576 bytes\); the store read no more than that.*raise maxEntryBytes/s);
  });
});

describe("createFileCache: maxEntryBytes", () => {
  const padded = (key: string, bytes: number) => {
    const text = entryOf(key, "v");
    // Trailing whitespace keeps the JSON valid: only the size changes.
    return text + " ".repeat(bytes - Buffer.byteLength(text));
  };

  it("serves an entry of exactly maxEntryBytes and refuses one byte more", async () => {
    const store = createFileCache({ directory, maxEntryBytes: 1024 });
    writeFileSync(`${base("fits")}.json`, padded("fits", 1024));
    writeFileSync(`${base("over")}.json`, padded("over", 1025));
    expect(await store.get("fits")).toBe("v");
    expect((await refusal(store.get("over"))).message).toMatch(/larger than maxEntryBytes \(1024 bytes\)/);
  });

  it("refuses to write an entry larger than maxEntryBytes, and writes nothing", async () => {
    const store = createFileCache({ directory, maxEntryBytes: 1024 });
    const error = await refusal(store.set("k", "x".repeat(1024), Date.now() + HOUR));
    expect(error.message).toMatch(/larger than maxEntryBytes \(1024\).*Raise maxEntryBytes/s);
    expect(error.message).not.toContain("x".repeat(100));
    expect(await store.get("k")).toBeUndefined();
  });

  it("refuses a maxEntryBytes that is not a whole number of at least 1024", () => {
    for (const maxEntryBytes of [0, -1, 1023, 1.5, Number.NaN, Infinity, "1024" as unknown as number]) {
      expect(() => createFileCache({ directory, maxEntryBytes }), String(maxEntryBytes)).toThrow(ConfigurationError);
    }
    expect(() => createFileCache({ directory, maxEntryBytes: 1024 })).not.toThrow();
  });
});
