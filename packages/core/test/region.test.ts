// Regional endpoints (ESTS-R), end to end: the emulator serves HTTPS with a certificate
// for the Microsoft clouds' hosts, and both our client and msal-node resolve those hosts to
// it (test/support/cloud-loopback.ts: real sockets, real TLS to the real host names, no URL
// rewriting). The emulator's request log says which region each request addressed.
import { ConfidentialClientApplication } from "@azure/msal-node";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConfigurationError, createDaemonClient, type DaemonClientOptions } from "../src/index.js";
import { cloudLoopback } from "./support/cloud-loopback.js";
import { testSecret } from "./support/credentials.js";
import { captureLogs } from "./support/logs.js";

const SCOPE = `${ids.apiIdentifierUri}/.default`;
const GLOBAL_ENDPOINT = `https://login.microsoftonline.com/${ids.tenantId}/oauth2/v2.0/token`;
const regionalEndpoint = (region: string): string => `https://${region}.login.microsoft.com/${ids.tenantId}/oauth2/v2.0/token`;

let emulator: Emulator;
let certificateDir: string;
let loopback: ReturnType<typeof cloudLoopback>;

beforeAll(async () => {
  certificateDir = await mkdtemp(join(tmpdir(), "daemon-auth-region-"));
  emulator = await startEmulator({ config: demoEmulatorConfig(), https: true, certificateDir });
});
afterAll(async () => {
  await emulator?.close();
  await rm(certificateDir, { recursive: true, force: true });
});
beforeEach(() => {
  emulator.resetRequests();
  emulator.faults.clear();
  loopback = cloudLoopback(emulator);
});
afterEach(() => {
  loopback.close();
});

function client(options: Partial<DaemonClientOptions>) {
  return createDaemonClient({
    tenantId: ids.tenantId,
    clientId: ids.daemonClientId,
    credential: testSecret(ids.daemonClientSecret),
    retry: { maxAttempts: 1 },
    transport: loopback.transport,
    ...options,
  });
}

/** The token requests the emulator answered: where they went and what it said. */
function tokenRequests(): { region: string | undefined; status: number }[] {
  return emulator.requests.filter((r) => r.method === "POST").map((r) => ({ region: r.region, status: r.status }));
}

function issuerOf(accessToken: string): unknown {
  return (JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString("utf8")) as { iss?: unknown }).iss;
}

describe("azureRegion", () => {
  it("sends the public cloud's token requests to <region>.login.microsoft.com, as msal-node does, and says which host answered", async () => {
    const ours = await client({ azureRegion: "WestUS2" }).acquireTokenForClient({ scopes: [SCOPE] });
    const msal = new ConfidentialClientApplication({
      auth: { clientId: ids.daemonClientId, clientSecret: ids.daemonClientSecret, authority: `https://login.microsoftonline.com/${ids.tenantId}` },
      system: { networkClient: loopback.network },
    });
    const theirs = await msal.acquireTokenByClientCredential({ scopes: [SCOPE], azureRegion: "westus2" });

    expect(ours.source).toBe("network");
    expect(ours.tokenEndpoint).toBe(regionalEndpoint("westus2"));
    // Both requests reached the emulator on the regional host and were answered there.
    expect(tokenRequests()).toEqual([
      { region: "westus2", status: 200 },
      { region: "westus2", status: 200 },
    ]);
    const [mine, reference] = loopback.sent;
    // msal-node ends the regional path with a slash (its URL canonicalization); Entra treats both alike.
    expect(`${mine?.url.origin}${mine?.url.pathname}`).toBe(`${reference?.url.origin}${reference?.url.pathname.replace(/\/$/, "")}`);
    expect(mine?.url.host).toBe("westus2.login.microsoft.com");
    // A regional token is the global host's token: the same issuer for both clients.
    expect(issuerOf(ours.accessToken)).toBe(`https://login.microsoftonline.com/${ids.tenantId}/v2.0`);
    expect(issuerOf(theirs?.accessToken ?? "")).toBe(issuerOf(ours.accessToken));

    // A cache hit made no request: it names no endpoint, and it is the same object every time.
    const reused = client({ azureRegion: "westus2" });
    await reused.acquireTokenForClient({ scopes: [SCOPE] });
    const firstHit = await reused.acquireTokenForClient({ scopes: [SCOPE] });
    expect(firstHit.source).toBe("cache");
    expect(firstHit.tokenEndpoint).toBeUndefined();
    expect(await reused.acquireTokenForClient({ scopes: [SCOPE] })).toBe(firstHit);
  });

  it("uses <region>.<host> for another cloud, and refuses a region for a custom host", async () => {
    const result = await client({ cloud: "usgov", azureRegion: "usgovvirginia" }).acquireTokenForClient({ scopes: [SCOPE] });
    expect(result.tokenEndpoint).toBe(`https://usgovvirginia.login.microsoftonline.us/${ids.tenantId}/oauth2/v2.0/token`);
    expect(tokenRequests()).toEqual([{ region: "usgovvirginia", status: 200 }]);
    expect(issuerOf(result.accessToken)).toBe(`https://login.microsoftonline.us/${ids.tenantId}/v2.0`);
    expect(() => client({ tenantId: undefined, authority: emulator.authority(ids.tenantId), azureRegion: "westus2" } as never)).toThrow(ConfigurationError);
    expect(() => client({ tenantId: undefined, authority: emulator.authority(ids.tenantId), azureRegion: "westus2" } as never)).toThrow(
      /^createDaemonClient: 'azureRegion' applies to the Microsoft clouds' authorities only/,
    );
    expect(() => client({ azureRegion: "west us" })).toThrow(/^createDaemonClient: 'azureRegion' must be a region name/);
  });

  it('"auto" reads REGION_NAME as MSAL does; without it, the global host', async () => {
    const saved = process.env["REGION_NAME"];
    try {
      process.env["REGION_NAME"] = "eastus";
      const detected = await client({ azureRegion: "TryAutoDetect" }).acquireTokenForClient({ scopes: [SCOPE] });
      delete process.env["REGION_NAME"];
      const undetected = await client({ azureRegion: "auto" }).acquireTokenForClient({ scopes: [SCOPE] });
      expect([detected.tokenEndpoint, undetected.tokenEndpoint]).toEqual([regionalEndpoint("eastus"), GLOBAL_ENDPOINT]);
      // A detected region is only a hint: a custom host ignores it.
      expect(() => client({ tenantId: undefined, authority: emulator.authority(ids.tenantId), azureRegion: "auto" } as never)).not.toThrow();
    } finally {
      if (saved === undefined) delete process.env["REGION_NAME"];
      else process.env["REGION_NAME"] = saved;
    }
    expect(tokenRequests()).toEqual([
      { region: "eastus", status: 200 },
      { region: undefined, status: 200 },
    ]);
  });

  it("falls back to the global host on a regional 5xx, for five minutes, and says so", async () => {
    emulator.faults.add({ match: { region: "*" }, fault: { kind: "status", status: 503 } });
    const { logger, logs } = captureLogs();
    let now = Date.now();
    const regional = client({ azureRegion: "westus2", logger, clock: { now: () => now } });
    const first = await regional.acquireTokenForClient({ scopes: [SCOPE] });
    const second = await regional.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
    expect([first.tokenEndpoint, second.tokenEndpoint]).toEqual([GLOBAL_ENDPOINT, GLOBAL_ENDPOINT]);
    // Within the fallback window the regional host is not tried again; after it, it is.
    expect(tokenRequests()).toEqual([
      { region: "westus2", status: 503 },
      { region: undefined, status: 200 },
      { region: undefined, status: 200 },
    ]);
    expect(logs.some((line) => line.level === "warn" && line.message.includes("the regional token endpoint failed; using the global host"))).toBe(true);
    emulator.faults.clear();
    now += 5 * 60_000 + 1;
    const third = await regional.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
    expect(third.tokenEndpoint).toBe(regionalEndpoint("westus2"));
    expect(tokenRequests().at(-1)).toEqual({ region: "westus2", status: 200 });
  });

  it("falls back when the regional host drops the connection", async () => {
    emulator.faults.add({ match: { region: "westus2" }, fault: { kind: "reset" } });
    const result = await client({ azureRegion: "westus2" }).acquireTokenForClient({ scopes: [SCOPE] });
    expect(result.tokenEndpoint).toBe(GLOBAL_ENDPOINT);
    expect(tokenRequests()).toEqual([
      { region: "westus2", status: 0 },
      { region: undefined, status: 200 },
    ]);
  });

  it("does not fall back on a protocol error: the regional host's answer stands", async () => {
    const regional = client({ azureRegion: "westus2", credential: { kind: "secret", getAuthentication: () => Promise.resolve({ clientSecret: "wrong" }) } });
    await expect(regional.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toThrow(/AADSTS7000215/);
    expect(tokenRequests()).toEqual([{ region: "westus2", status: 401 }]);
  });
});
