import { inspect } from "node:util";
import type { GetTokenOptions } from "@azure/core-auth";
import { AbortError, ConfigurationError, createDaemonClient, InvalidRequestError, type DaemonClient } from "@daemon-auth/core";
import { clientSecret } from "@daemon-auth/credential-secret";
import { createManagedIdentityClient } from "@daemon-auth/managed-identity";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { toTokenCredential } from "../src/index.js";

const LIFETIME_SECONDS = 3599;
const REFRESH_IN_SECONDS = 1800;
let emulator: Emulator;
let client: DaemonClient;

beforeAll(async () => {
  emulator = await startEmulator({
    config: demoEmulatorConfig(),
    tokenLifetimeSeconds: LIFETIME_SECONDS,
    refreshInSeconds: REFRESH_IN_SECONDS,
  });
});
afterAll(async () => {
  await emulator?.close();
});
beforeEach(() => {
  emulator.resetRequests();
  client = createDaemonClient({
    authority: emulator.authority(ids.tenantId),
    clientId: ids.daemonClientId,
    credential: clientSecret(ids.daemonClientSecret),
  });
});
afterEach(async () => {
  await client.dispose();
});

async function verify(token: string): Promise<Record<string, unknown>> {
  const jwks = (await (await fetch(emulator.jwksUri(ids.tenantId))).json()) as JSONWebKeySet;
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks));
  return payload;
}

/** An `AbortSignalLike` that is not a DOM `AbortSignal`, as older Azure SDKs pass. */
function signalLike(aborted: boolean): {
  signal: NonNullable<GetTokenOptions["abortSignal"]>;
  listeners: Set<(event: unknown) => unknown>;
  abort: () => void;
} {
  const listeners = new Set<(event: unknown) => unknown>();
  const signal = {
    aborted,
    addEventListener: (_type: "abort", listener: (event: unknown) => unknown): void => {
      listeners.add(listener);
    },
    removeEventListener: (_type: "abort", listener: (event: unknown) => unknown): void => {
      listeners.delete(listener);
    },
  };
  const abort = (): void => {
    signal.aborted = true;
    for (const listener of [...listeners]) listener({ type: "abort" });
  };
  return { signal, listeners, abort };
}

describe("toTokenCredential", () => {
  it("returns the emulator's token with its expiry and refresh times", async () => {
    const before = Date.now();
    const token = await toTokenCredential(client).getToken(ids.apiScope);
    const after = Date.now();

    expect(token).not.toBeNull();
    expect(token?.tokenType).toBe("Bearer");
    const payload = await verify(token?.token ?? "");
    expect(payload.aud).toBe(ids.apiIdentifierUri);
    expect(payload.appid ?? payload.azp).toBe(ids.daemonClientId);
    expect(token?.expiresOnTimestamp).toBeGreaterThanOrEqual(before + (LIFETIME_SECONDS - 1) * 1000);
    expect(token?.expiresOnTimestamp).toBeLessThanOrEqual(after + (LIFETIME_SECONDS + 1) * 1000);
    expect(token?.refreshAfterTimestamp).toBeLessThan(token?.expiresOnTimestamp ?? 0);
    expect(token?.refreshAfterTimestamp).toBeGreaterThan(before);
  });

  it("serves a second request from the client's cache", async () => {
    const credential = toTokenCredential(client);
    const first = await credential.getToken([ids.apiScope]);
    const second = await credential.getToken(ids.apiScope);
    expect(second?.token).toBe(first?.token);
    expect(emulator.tokenRequestCount()).toBe(1);
  });

  it("accepts a string or an array and appends /.default to a bare resource", async () => {
    const credential = toTokenCredential(client);
    const fromBare = await credential.getToken(ids.apiIdentifierUri);
    const fromArray = await credential.getToken([ids.apiScope]);
    expect(fromArray?.token).toBe(fromBare?.token);
    expect(emulator.tokenRequestCount({ scope: ids.apiScope })).toBe(1);
  });

  it("uses the bridge's tenant, and the caller's tenant over it", async () => {
    const credential = toTokenCredential(client, { tenantId: ids.tenantDomain });
    await credential.getToken(ids.apiScope);
    await credential.getToken(ids.apiScope, { tenantId: ids.tenantId });
    const tenants = emulator.requests.filter((r) => r.path.endsWith("/token")).map((r) => r.tenant);
    expect(tenants).toEqual([ids.tenantDomain, ids.tenantId]);
  });

  describe("tenant allow-list, as @azure/identity's additionallyAllowedTenants", () => {
    const FABRIKAM = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";
    const refusal = (tenant: string) =>
      `The current credential is not configured to acquire tokens for tenant ${tenant}. To enable acquiring tokens for this tenant add it to the AdditionallyAllowedTenants on the credential options, or add "*" to AdditionallyAllowedTenants to allow acquiring tokens for any tenant.`;
    const tokenTenants = () => emulator.requests.filter((r) => r.path.endsWith("/token")).map((r) => r.tenant);

    it("refuses a tenant the credential was not told about, before any request, in @azure/identity's words", async () => {
      const credential = toTokenCredential(client);
      const error = await credential.getToken(ids.apiScope, { tenantId: FABRIKAM }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toBe(refusal(FABRIKAM));
      expect(tokenTenants()).toEqual([]);
      // The client's own tenant, in any case, needs no listing.
      await credential.getToken(ids.apiScope, { tenantId: ids.tenantId.toUpperCase() });
      expect(tokenTenants()).toEqual([ids.tenantId.toLowerCase()]);
    });

    it("follows a listed tenant, or any with \"*\"", async () => {
      await expect(toTokenCredential(client, { additionallyAllowedTenants: [FABRIKAM] }).getToken(ids.apiScope, { tenantId: FABRIKAM })).rejects.toThrow(
        /AADSTS/,
      );
      await expect(toTokenCredential(client, { additionallyAllowedTenants: ["*"] }).getToken(ids.apiScope, { tenantId: "fabrikam.example" })).rejects.toThrow(
        /AADSTS/,
      );
      expect(tokenTenants()).toEqual([FABRIKAM, "fabrikam.example"]);
    });

    it("does not forward a challenge's tenant to a client without tenants (a managed identity), as ManagedIdentityCredential ignores it", async () => {
      const identity = createManagedIdentityClient({ env: emulator.managedIdentityEnvironment("imds") });
      try {
        const credential = toTokenCredential(identity);
        const token = await credential.getToken(ids.apiScope, { tenantId: FABRIKAM });
        const claims = await verify(token?.token ?? "");
        expect(claims["oid"]).toBe(ids.systemIdentityObjectId);
        expect(claims["tid"]).toBe(ids.tenantId);
        const identityRequests = emulator.requests.filter((r) => r.path.startsWith("/metadata/identity/"));
        expect(identityRequests).toHaveLength(1);
        expect(emulator.requests.filter((r) => r.path.endsWith("/oauth2/v2.0/token"))).toEqual([]);
        // A bridge that names its own tenant is not tenantless: the allow-list applies again.
        await expect(toTokenCredential(identity, { tenantId: ids.tenantId }).getToken(ids.apiScope, { tenantId: FABRIKAM })).rejects.toThrow(refusal(FABRIKAM));
      } finally {
        await identity.dispose();
      }
    });

    it("reads AZURE_ADDITIONALLY_ALLOWED_TENANTS (';' as @azure/identity splits it, or ',')", async () => {
      const saved = process.env["AZURE_ADDITIONALLY_ALLOWED_TENANTS"];
      try {
        process.env["AZURE_ADDITIONALLY_ALLOWED_TENANTS"] = `other.example;${FABRIKAM},third.example`;
        const credential = toTokenCredential(client);
        await expect(credential.getToken(ids.apiScope, { tenantId: FABRIKAM })).rejects.toThrow(/AADSTS/);
        await expect(credential.getToken(ids.apiScope, { tenantId: "fourth.example" })).rejects.toThrow(refusal("fourth.example"));
        expect(tokenTenants()).toEqual([FABRIKAM]);
      } finally {
        if (saved === undefined) delete process.env["AZURE_ADDITIONALLY_ALLOWED_TENANTS"];
        else process.env["AZURE_ADDITIONALLY_ALLOWED_TENANTS"] = saved;
      }
    });
  });

  it("forwards a claims challenge, which bypasses the cache", async () => {
    const credential = toTokenCredential(client);
    await credential.getToken(ids.apiScope);
    const claims = JSON.stringify({ access_token: { nbf: { essential: true, value: String(Math.floor(Date.now() / 1000)) } } });
    const challenged = await credential.getToken(ids.apiScope, { claims });
    expect(challenged?.token).toBeTruthy();
    expect(emulator.tokenRequestCount()).toBe(2);
  });

  it("honours an abort signal, including a non-DOM AbortSignalLike", async () => {
    const credential = toTokenCredential(client);
    await expect(credential.getToken(ids.apiScope, { abortSignal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);

    await expect(credential.getToken(ids.apiScope, { abortSignal: signalLike(true).signal })).rejects.toBeInstanceOf(AbortError);
    expect(emulator.tokenRequestCount()).toBe(0);
  });

  it("releases its listener on a long-lived AbortSignalLike", async () => {
    const like = signalLike(false);
    await toTokenCredential(client).getToken(ids.apiScope, { abortSignal: like.signal });
    expect(like.listeners.size).toBe(0);
  });

  it("aborts an in-flight request when an AbortSignalLike fires", async () => {
    const like = signalLike(false);
    const pending = toTokenCredential(client).getToken(ids.apiScope, { abortSignal: like.signal });
    like.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortError);
  });

  it("propagates core's typed errors and refuses proof-of-possession", async () => {
    const credential = toTokenCredential(client);
    await expect(credential.getToken(["openid"])).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(
      credential.getToken(ids.apiScope, {
        proofOfPossessionOptions: { nonce: "n", resourceRequestMethod: "GET", resourceRequestUrl: "https://example.test/" },
      }),
    ).rejects.toThrow(/proof-of-possession/);
    expect(emulator.tokenRequestCount()).toBe(0);
  });

  it("never prints a token", async () => {
    const credential = toTokenCredential(client);
    const token = await credential.getToken(ids.apiScope);
    const printed = [inspect(credential, { showHidden: true, depth: 5 }), JSON.stringify(credential), (credential as { toString(): string }).toString()];
    for (const text of printed) {
      expect(text).toContain("DaemonAuthTokenCredential");
      expect(text).not.toContain(token?.token);
      expect(text).not.toContain(ids.daemonClientSecret);
    }
  });

  it("rejects a value that is not a DaemonClient and an empty tenant", () => {
    expect(() => toTokenCredential({} as DaemonClient)).toThrow(/createDaemonClient/);
    expect(() => toTokenCredential(client, { tenantId: " " })).toThrow(/tenantId/);
  });
});
