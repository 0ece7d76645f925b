// Corrupt cache files on disk, generated with fast-check: whatever bytes sit in an entry
// or a lock file, the store reads a miss (or the entry that is really there) and takes
// or refuses the lock without throwing anything but a CacheError, and a client on top
// gets a token from the network instead of a wrong one.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CacheError, createDaemonClient, encryptedStore, type TokenCacheStore } from "@daemon-auth/core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFileCache } from "../src/index.js";

const KEY = "https://login.example|client|tenant|api://orders/.default";
const CACHE_KEY = Buffer.alloc(32, 7);
let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "file-cache-fuzz-"));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const fileOf = (key: string) => join(directory, createHash("sha256").update(key, "utf8").digest("hex"));

const time = fc.oneof(fc.integer({ min: -3_600_000, max: 3_600_000 }).map((offset) => Date.now() + offset), fc.constantFrom(Number.NaN, Infinity, -1, "soon"));
const contents = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.json().map((text) => Buffer.from(text)),
  fc
    .record({ key: fc.oneof(fc.constant(KEY), fc.string()), value: fc.oneof(fc.string(), fc.integer()), expiresAt: time, owner: fc.string(), pid: fc.integer() }, { requiredKeys: [] })
    .map((record) => Buffer.from(JSON.stringify(record))),
  fc.constantFrom(Buffer.alloc(0), Buffer.from("{"), Buffer.from("\u0000".repeat(64))),
);

/** The store's answer, or the CacheError it threw; anything else fails the property. */
async function typed<T>(run: () => Promise<T>): Promise<T | CacheError> {
  try {
    return await run();
  } catch (error) {
    expect(error).toBeInstanceOf(CacheError);
    return error as CacheError;
  }
}

describe("fuzz: corrupt cache files", () => {
  for (const encrypted of [false, true]) {
    it(`reads any entry or lock file safely${encrypted ? " through encryption" : ""}`, async () => {
      const store: TokenCacheStore = createFileCache({ directory, ...(encrypted ? { encryptionKey: CACHE_KEY } : {}) });
      await fc.assert(
        fc.asyncProperty(contents, contents, async (entry, lock) => {
          writeFileSync(`${fileOf(KEY)}.json`, entry, { mode: 0o600 });
          writeFileSync(`${fileOf(KEY)}.lock`, lock, { mode: 0o600 });
          const value = await typed(() => store.get(KEY));
          if (typeof value === "string") {
            // Only an intact entry for this very key, not yet expired, is served.
            const parsed = JSON.parse(entry.toString("utf8")) as { key: unknown; value: unknown; expiresAt: number };
            expect(encrypted).toBe(false);
            expect(parsed.key).toBe(KEY);
            expect(value).toBe(parsed.value);
            expect(parsed.expiresAt).toBeGreaterThan(Date.now() - 1000);
          } else {
            expect(value === undefined || value instanceof CacheError).toBe(true);
          }
          const held = await typed(() => store.lock!(KEY, { ttlMs: 60_000 }));
          if (held !== undefined && !(held instanceof CacheError)) await held.release();
          await typed(() => store.set(KEY, "fresh", Date.now() + 60_000));
          expect(await typed(() => store.get(KEY))).toBe("fresh");
        }),
        { numRuns: 200 },
      );
    });
  }

  it("a client over a corrupt cache fetches a token instead of serving a wrong one", async () => {
    const scope = "api://orders/.default";
    const tenant = "contoso.onmicrosoft.com";
    let requests = 0;
    const client = createDaemonClient({
      authority: `https://login.example/${tenant}`,
      knownAuthorities: ["login.example"],
      clientId: "client",
      credential: { kind: "test", getAuthentication: () => Promise.resolve({ clientSecret: "fuzz-client-secret-value" }) },
      cache: encryptedStore(createFileCache({ directory }), { key: CACHE_KEY }),
      transport: () => {
        requests += 1;
        return Promise.resolve(Response.json({ token_type: "Bearer", expires_in: 3600, access_token: `network-token-${requests}` }));
      },
    });
    const clientKey = `https://login.example|client|${tenant}|${scope}`;
    await fc.assert(
      fc.asyncProperty(contents, async (entry) => {
        client.clearCache();
        writeFileSync(`${fileOf(clientKey)}.json`, entry, { mode: 0o600 });
        const result = await client.acquireTokenForClient({ scopes: [scope] });
        expect(result.source).toBe("network");
        expect(result.accessToken).toBe(`network-token-${requests}`);
      }),
      { numRuns: 100 },
    );
    await client.dispose();
  });
});
