import type { SignedAssertion } from "./assertion.js";

interface Entry {
  readonly pending: Promise<SignedAssertion>;
  /** Set once signed; `undefined` while signing. */
  expiresAt: number | undefined;
}

/**
 * Signed assertions per audience, reused until `marginMs` before they expire. Callers that
 * arrive while an assertion is being signed share that signature.
 *
 * Bounded: every assertion has the same lifetime, so insertion order is expiry order and
 * the oldest entry is both the first to expire and the one to evict, in O(1).
 */
export class ReuseCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly marginMs: number,
  ) {}

  /** Number of entries, expired or not. */
  get size(): number {
    return this.#entries.size;
  }

  /** The assertion for `key`: the cached one while it is fresh, else the result of `sign`. */
  get(key: string, now: number, sign: () => Promise<SignedAssertion>): Promise<SignedAssertion> {
    const existing = this.#entries.get(key);
    if (existing && (existing.expiresAt === undefined || now < existing.expiresAt - this.marginMs)) return existing.pending;
    if (existing) this.#entries.delete(key);
    this.#evict(now);

    const entry: Entry = { pending: sign(), expiresAt: undefined };
    this.#entries.set(key, entry);
    void entry.pending.then(
      (signed) => {
        entry.expiresAt = signed.expiresAt;
      },
      () => {
        // A failed signature is not cached: the next caller tries again.
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    return entry.pending;
  }

  /** Drops every assertion (after a certificate change). In-flight signatures still reach their callers. */
  clear(): void {
    this.#entries.clear();
  }

  #evict(now: number): void {
    for (const [key, entry] of this.#entries) {
      const stale = entry.expiresAt !== undefined && now >= entry.expiresAt - this.marginMs;
      if (!stale && this.#entries.size < this.maxEntries) return;
      this.#entries.delete(key);
    }
  }
}
