// One daemon process with a cold in-process cache, run by describeSharedStoreAcquisition.
// It builds its store from the store package's module, waits for the parent's go file
// for each round, acquires through the shared store and reports where each token came from.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createDaemonClient, type ClientCredential, type TokenCacheStore } from "@daemon-auth/core";

interface StoreModule {
  createStore(target: string): TokenCacheStore | Promise<TokenCacheStore>;
}

const [authority = "", clientId = "", scope = "", storeModule = "", target = "", barrier = "", roundsArg = "1"] =
  process.argv.slice(2);
const rounds = Number(roundsArg);
const secret = process.env["TEST_CLIENT_SECRET"] ?? "";
// An inline credential keeps conformance free of a dependency on credential-secret (which devDepends on conformance).
const credential: ClientCredential = { kind: "test-secret", getAuthentication: () => Promise.resolve({ clientSecret: secret }) };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
// A digest, not the token: nothing secret goes to stdout.
const digest = (token: string): string => createHash("sha256").update(token).digest("hex");

const module = (await import(pathToFileURL(storeModule).href)) as StoreModule;
const cache = await module.createStore(target);
const client = createDaemonClient({ authority, clientId, credential, cache, expiryMarginMs: 1000 });
const acquire = async (): Promise<{ source: string; token: string }> => {
  const result = await client.acquireTokenForClient({ scopes: [scope] });
  return { source: result.source, token: digest(result.accessToken) };
};

console.log("ready");
let previous = "";
for (let round = 1; round <= rounds; round += 1) {
  while (!existsSync(join(barrier, `go${String(round)}`))) await sleep(2);
  const first = await acquire();
  let latest = first;
  // Past refreshOn the client serves the cached token and refreshes in the background;
  // keep asking until the refreshed token (ours or another process's) has landed.
  const deadline = Date.now() + 10_000;
  while (round > 1 && latest.token === previous && Date.now() < deadline) {
    await sleep(50);
    latest = await acquire();
  }
  previous = latest.token;
  console.log(JSON.stringify({ round, source: first.source, token: latest.token }));
}
await client.dispose();
// The client leaves the store open (stores may be shared by clients); this process owns it.
await cache.dispose?.();
