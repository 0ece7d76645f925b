// One daemon process of describeSharedStoreAcquisition's outage test. It acquires one key
// before the outage, then, from the parent's go file until the outage ends, keeps asking
// for that key (held: its token is past refresh_on but valid) and for one it never got
// (cold), and reports how each acquisition was answered.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createDaemonClient, DaemonAuthError, type ClientCredential, type TokenCacheStore } from "@daemon-auth/core";

interface StoreModule {
  createStore(target: string): TokenCacheStore | Promise<TokenCacheStore>;
}

const [authority = "", clientId = "", heldScope = "", coldScope = "", storeModule = "", target = "", barrier = "", durationArg = "0"] =
  process.argv.slice(2);
const secret = process.env["TEST_CLIENT_SECRET"] ?? "";
// An inline credential keeps conformance free of a dependency on credential-secret (which devDepends on conformance).
const credential: ClientCredential = { kind: "test-secret", getAuthentication: () => Promise.resolve({ clientSecret: secret }) };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const module = (await import(pathToFileURL(storeModule).href)) as StoreModule;
const cache = await module.createStore(target);
const client = createDaemonClient({ authority, clientId, credential, cache });

/** How each acquisition was answered: a token's source, or an error's code. */
const answers = { held: {} as Record<string, number>, cold: {} as Record<string, number> };
const count = async (tally: Record<string, number>, scope: string): Promise<void> => {
  let answer: string;
  try {
    answer = (await client.acquireTokenForClient({ scopes: [scope] })).source;
  } catch (error) {
    answer = error instanceof DaemonAuthError ? error.code : "untyped";
  }
  tally[answer] = (tally[answer] ?? 0) + 1;
};

await client.acquireTokenForClient({ scopes: [heldScope] });
console.log("ready");
while (!existsSync(join(barrier, "go"))) await sleep(2);
const end = Date.now() + Number(durationArg);
while (Date.now() < end) {
  await Promise.all([count(answers.held, heldScope), count(answers.cold, coldScope)]);
  await sleep(20);
}
console.log(JSON.stringify(answers));
await client.dispose();
await cache.dispose?.();
