// Regional endpoints (ESTS-R). The emulator does not answer on regional host names yet,
// so a transport maps the cloud hosts onto the emulator's loopback URL: it checks the URL
// the client chose and the fallback, and the emulator answers the requests.
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConfigurationError, createDaemonClient, type DaemonClientOptions, type HttpTransport } from "../src/index.js";
import { testSecret } from "./support/credentials.js";
import { captureLogs } from "./support/logs.js";

const SCOPE = `${ids.apiIdentifierUri}/.default`;
let emulator: Emulator;
/** The URLs the client asked for, before mapping. */
let asked: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ config: demoEmulatorConfig() });
});
afterAll(async () => {
  await emulator?.close();
});
beforeEach(() => {
  emulator.resetRequests();
  asked = [];
});

/** Sends every cloud host to the emulator, except `down`, which is unreachable. */
function mappingTransport(down?: string): HttpTransport {
  return (url, init) => {
    asked.push(url);
    const { origin } = new URL(url);
    const target = origin === down ? "http://127.0.0.1:1" : emulator.url;
    return fetch(url.replace(origin, target), init);
  };
}

function client(options: Partial<DaemonClientOptions>) {
  return createDaemonClient({
    tenantId: ids.tenantId,
    clientId: ids.daemonClientId,
    credential: testSecret(ids.daemonClientSecret),
    retry: { maxAttempts: 1 },
    ...options,
  });
}

describe("azureRegion", () => {
  it("sends the public cloud's token requests to <region>.login.microsoft.com", async () => {
    const result = await client({ azureRegion: "WestUS2", transport: mappingTransport() }).acquireTokenForClient({ scopes: [SCOPE] });
    expect(result.source).toBe("network");
    expect(asked).toEqual([`https://westus2.login.microsoft.com/${ids.tenantId}/oauth2/v2.0/token`]);
    expect(emulator.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([200]);
  });

  it("uses <region>.<host> for another cloud, and refuses a region for a custom host", async () => {
    await client({ cloud: "usgov", azureRegion: "usgovvirginia", transport: mappingTransport() }).acquireTokenForClient({ scopes: [SCOPE] });
    expect(asked).toEqual([`https://usgovvirginia.login.microsoftonline.us/${ids.tenantId}/oauth2/v2.0/token`]);
    expect(() => client({ tenantId: undefined, authority: emulator.authority(ids.tenantId), azureRegion: "westus2" } as never)).toThrow(ConfigurationError);
    expect(() => client({ tenantId: undefined, authority: emulator.authority(ids.tenantId), azureRegion: "westus2" } as never)).toThrow(
      /'azureRegion' applies to the Microsoft clouds' authorities only/,
    );
    expect(() => client({ azureRegion: "west us" })).toThrow(/'azureRegion' must be a region name/);
  });

  it('"auto" reads REGION_NAME as MSAL does; without it, the global host', async () => {
    const saved = process.env["REGION_NAME"];
    try {
      process.env["REGION_NAME"] = "eastus";
      await client({ azureRegion: "TryAutoDetect", transport: mappingTransport() }).acquireTokenForClient({ scopes: [SCOPE] });
      delete process.env["REGION_NAME"];
      await client({ azureRegion: "auto", transport: mappingTransport() }).acquireTokenForClient({ scopes: [SCOPE] });
      // A detected region is only a hint: a custom host ignores it.
      expect(() => client({ tenantId: undefined, authority: emulator.authority(ids.tenantId), azureRegion: "auto" } as never)).not.toThrow();
    } finally {
      if (saved === undefined) delete process.env["REGION_NAME"];
      else process.env["REGION_NAME"] = saved;
    }
    expect(asked).toEqual([
      `https://eastus.login.microsoft.com/${ids.tenantId}/oauth2/v2.0/token`,
      `https://login.microsoftonline.com/${ids.tenantId}/oauth2/v2.0/token`,
    ]);
  });

  it("falls back to the global host when the regional one is unreachable, for a while, and says so", async () => {
    const { logger, logs } = captureLogs();
    const regional = client({ azureRegion: "westus2", transport: mappingTransport("https://westus2.login.microsoft.com"), logger });
    const first = await regional.acquireTokenForClient({ scopes: [SCOPE] });
    const second = await regional.acquireTokenForClient({ scopes: [SCOPE], forceRefresh: true });
    expect([first.source, second.source]).toEqual(["network", "network"]);
    expect(asked).toEqual([
      `https://westus2.login.microsoft.com/${ids.tenantId}/oauth2/v2.0/token`,
      `https://login.microsoftonline.com/${ids.tenantId}/oauth2/v2.0/token`,
      // Within the fallback window the regional host is not tried again.
      `https://login.microsoftonline.com/${ids.tenantId}/oauth2/v2.0/token`,
    ]);
    expect(emulator.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([200, 200]);
    expect(logs.some((line) => line.message.includes("the regional token endpoint failed; using the global host"))).toBe(true);
  });

  it("does not fall back on a protocol error: the regional host's answer stands", async () => {
    const regional = client({ azureRegion: "westus2", transport: mappingTransport(), credential: { kind: "secret", getAuthentication: () => Promise.resolve({ clientSecret: "wrong" }) } });
    await expect(regional.acquireTokenForClient({ scopes: [SCOPE] })).rejects.toThrow(/AADSTS7000215/);
    expect(asked).toEqual([`https://westus2.login.microsoft.com/${ids.tenantId}/oauth2/v2.0/token`]);
  });
});
