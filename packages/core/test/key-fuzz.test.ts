// Cache keys under fuzzing (issue #12): key parts full of the separator '|', the escape
// '%' and ready-made escapes ('%7C', '%25') never let two identities share a key, in the
// key function and end to end through one shared store.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDaemonClient } from "../src/index.js";
import { keyPart, keyPrefix, tokenCacheKey } from "../src/lib/cached-token.js";
import { testSecret } from "./support/credentials.js";
import { mapStore } from "./support/map-store.js";
import { startTokenServer, tokenReply } from "./support/token-server.js";

/** Strings built from the characters and escapes that break naive keys. */
const awkward = (pieces: readonly string[], maxLength = 6) =>
  fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength }).map((parts) => parts.join(""));
const PIECES = ["|", "%", "%7C", "%7c", "%25", "7C", "25", "a", "B", " ", "/", ":"] as const;

interface Identity {
  authority: string;
  clientId: string;
  tenant: string;
  scopes: string;
}
const identities = fc.record<Identity>({
  authority: awkward(PIECES),
  clientId: awkward(PIECES),
  tenant: awkward(PIECES),
  scopes: awkward(PIECES),
});
const keyOf = (identity: Identity) => tokenCacheKey(keyPrefix(identity.authority, identity.clientId), identity.tenant, identity.scopes);
/** Undoes {@link keyPart}: '%7C' first would turn an escaped '%' followed by '7C' into '|'. */
const unescape = (part: string) => part.replace(/%7C|%25/g, (escape) => (escape === "%7C" ? "|" : "%"));

describe("cache keys under fuzzing", () => {
  it("read back into exactly the four parts they were built from", () => {
    fc.assert(
      fc.property(identities, (identity) => {
        const parts = keyOf(identity).split("|");
        expect(parts.map(unescape)).toEqual([identity.authority, identity.clientId, identity.tenant, identity.scopes]);
      }),
      { numRuns: 2_000 },
    );
  });

  it("differ for distinct identities, however the separator is spread across the parts", () => {
    fc.assert(
      fc.property(identities, identities, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(keyOf(a)).not.toBe(keyOf(b));
      }),
      { numRuns: 2_000 },
    );
    // The collisions a bare '|' join made: a separator moved from one part to the next.
    fc.assert(
      fc.property(awkward(PIECES), awkward(PIECES), awkward(PIECES), (left, middle, right) => {
        const moved = keyOf({ authority: `${left}|${middle}`, clientId: right, tenant: "t", scopes: "s" });
        const kept = keyOf({ authority: left, clientId: `${middle}|${right}`, tenant: "t", scopes: "s" });
        expect(moved).not.toBe(kept);
      }),
      { numRuns: 1_000 },
    );
  });

  it("leave parts without '|' or '%' untouched", () => {
    fc.assert(
      fc.property(fc.string().filter((part) => !part.includes("|") && !part.includes("%")), (part) => {
        expect(keyPart(part)).toBe(part);
      }),
    );
  });
});

describe("clients whose identities differ only in where a '|' sits", () => {
  let tokens: Awaited<ReturnType<typeof startTokenServer>>;
  beforeAll(async () => {
    tokens = await startTokenServer(tokenReply());
  });
  afterAll(async () => {
    await tokens.close();
  });

  const pieces = awkward(["a", "|", "%7C", "%25", "b"], 4);

  it("never get each other's token from one shared store", async () => {
    // The shape a bare '|' join could not tell apart: the separator moved from the
    // authority's path into the client id.
    await fc.assert(
      fc.asyncProperty(pieces, pieces, pieces, async (left, middle, right) => {
        const store = mapStore();
        const before = tokens.tokenRequests.length;
        const make = (path: string, clientId: string) =>
          createDaemonClient({
            authority: `${tokens.url}/${path}/22222222-2222-2222-2222-222222222222`,
            clientId,
            credential: testSecret("fuzz"),
            cache: store,
          });
        const [a, b] = [make(`${left}|${middle}`, right), make(left, `${middle}|${right}`)];
        try {
          const tokenA = await a.acquireTokenForClient({ scopes: ["api://x/.default"] });
          const tokenB = await b.acquireTokenForClient({ scopes: ["api://x/.default"] });
          expect(tokenB.accessToken).not.toBe(tokenA.accessToken);
          expect(tokens.tokenRequests.slice(before).map((request) => request.form.get("client_id"))).toEqual([right, `${middle}|${right}`]);
        } finally {
          await Promise.all([a.dispose(), b.dispose()]);
        }
      }),
      { numRuns: 60 },
    );
  });
});
