// Tests of core's encryptedStore (AES-256-GCM at rest), run here because the file and
// Redis stores are its users; core's own test folder belongs to the core client.
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { createMemoryCache } from "@daemon-auth/cache-memory";
import { describeTokenCacheStore } from "@daemon-auth/conformance";
import { ConfigurationError, encryptedStore, type TokenCacheStore } from "@daemon-auth/core";
import { describe, expect, it } from "vitest";

const HOUR = 3_600_000;

describeTokenCacheStore("encryptedStore over memory", () => ({ store: encryptedStore(createMemoryCache(), { key: randomBytes(32) }) }), {
  lock: true,
});

/** A memory store plus a view of exactly what the wrapped store received. */
function setup(key: Uint8Array | string = randomBytes(32)) {
  const inner = createMemoryCache();
  return { inner, store: encryptedStore(inner, { key }) };
}

describe("encryptedStore", () => {
  it("stores v1.<iv>.<ciphertext> in base64url, never the plaintext, with a fresh IV per write", async () => {
    const { inner, store } = setup();
    await store.set("k", "access-token-plaintext", Date.now() + HOUR);
    const first = await inner.get("k");
    expect(first).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(first).not.toContain("access-token-plaintext");
    await store.set("k", "access-token-plaintext", Date.now() + HOUR);
    const second = await inner.get("k");
    expect(second).not.toBe(first);
    expect(second?.split(".")[1]).not.toBe(first?.split(".")[1]);
    expect(await store.get("k")).toBe("access-token-plaintext");
  });

  it("accepts the key as base64 (openssl rand -base64 32) or base64url", async () => {
    const raw = randomBytes(32);
    const writer = setup(raw);
    await writer.store.set("k", "v", Date.now() + HOUR);
    const stored = (await writer.inner.get("k"))!;
    for (const text of [raw.toString("base64"), `  ${raw.toString("base64")}\n`, raw.toString("base64url")]) {
      const reader = setup(text);
      await reader.inner.set("k", stored, Date.now() + HOUR);
      expect(await reader.store.get("k")).toBe("v");
    }
  });

  it("reads a value written with another key as a miss", async () => {
    const writer = setup();
    await writer.store.set("k", "v", Date.now() + HOUR);
    const reader = setup();
    await reader.inner.set("k", (await writer.inner.get("k"))!, Date.now() + HOUR);
    expect(await reader.store.get("k")).toBeUndefined();
  });

  it("reads a tampered value as a miss", async () => {
    const { inner, store } = setup();
    await store.set("k", "a value long enough to tamper with", Date.now() + HOUR);
    const stored = (await inner.get("k"))!;
    const [version, iv, ciphertext] = stored.split(".") as [string, string, string];
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
    const tampered = [
      `${version}.${iv}.${flip(ciphertext, 3)}`,
      `${version}.${flip(iv, 2)}.${ciphertext}`,
      `${version}.${iv}.${ciphertext.slice(0, -4)}`,
      `v2.${iv}.${ciphertext}`,
      `${version}.${iv}`,
      `${version}.${iv}.${ciphertext}.extra`,
      `${version}.!!!.${ciphertext}`,
    ];
    for (const value of tampered) {
      await inner.set("k", value, Date.now() + HOUR);
      expect(await store.get("k"), value).toBeUndefined();
    }
  });

  it("does not decrypt a ciphertext moved under another cache key", async () => {
    const { inner, store } = setup();
    await store.set("tenant-a", "token-a", Date.now() + HOUR);
    await inner.set("tenant-b", (await inner.get("tenant-a"))!, Date.now() + HOUR);
    expect(await store.get("tenant-b")).toBeUndefined();
    expect(await store.get("tenant-a")).toBe("token-a");
  });

  it("reads foreign plaintext as a miss instead of throwing", async () => {
    const { inner, store } = setup();
    for (const value of ["plain", "", "v1..", "v1.AAAA.BBBB", '{"access_token":"x"}']) {
      await inner.set("k", value, Date.now() + HOUR);
      expect(await store.get("k"), value).toBeUndefined();
    }
  });

  it("refuses a key that is not 32 bytes with a ConfigurationError saying how to make one", () => {
    for (const key of [randomBytes(16), randomBytes(33), new Uint8Array(), "c2hvcnQ=", "not base64 at all!", 42 as unknown as string]) {
      let thrown: unknown;
      try {
        encryptedStore(createMemoryCache(), { key });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigurationError);
      expect((thrown as Error).message).toMatch(/32 bytes.*openssl rand -base64 32/s);
    }
  });

  it("passes name, lock and dispose through, and hides the key from every rendering", async () => {
    const key = randomBytes(32).toString("base64");
    let disposed = 0;
    const inner = createMemoryCache();
    const tracked: TokenCacheStore = {
      name: "tracked",
      get: (k) => inner.get(k),
      set: (k, v, e) => inner.set(k, v, e),
      delete: (k) => inner.delete(k),
      lock: (k, o) => inner.lock!(k, o),
      dispose: async () => {
        disposed++;
      },
    };
    const store = encryptedStore(tracked, { key });
    expect(store.name).toBe("tracked");
    const held = await store.lock!("k", { ttlMs: 10_000 });
    expect(held).toBeDefined();
    expect(await inner.lock!("k", { ttlMs: 10_000 })).toBeUndefined();
    await store.dispose!();
    expect(disposed).toBe(1);
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the store overrides toString
    for (const rendered of [JSON.stringify(store), String(store), inspect(store, { showHidden: true, depth: Infinity })]) {
      expect(rendered).not.toContain(key);
    }
    const bare = encryptedStore({ get: async () => undefined, set: async () => undefined, delete: async () => undefined }, { key });
    expect(bare.lock).toBeUndefined();
    expect(bare.dispose).toBeUndefined();
    expect("name" in bare).toBe(false);
  });
});
