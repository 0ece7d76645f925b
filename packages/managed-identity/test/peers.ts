// Unmodified @azure/msal-node ManagedIdentityApplication and @azure/identity
// ManagedIdentityCredential beside this client, in one process pointed at the emulator
// through process.env (both read it; msal-node keeps the first source it detects for the
// process, so each source has its own test file). Same identity, same claims; fewer requests.
import { ManagedIdentityCredential } from "@azure/identity";
import { ManagedIdentityApplication } from "@azure/msal-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManagedIdentityClient } from "../src/index.js";
import { API, API_SCOPE, emulatedSource, identityClaims, ids } from "./helpers.js";

const CALLERS = 50;

export function describePeers(source: "imds" | "app-service"): void {
  const mi = emulatedSource(source);
  beforeAll(() => {
    Object.assign(process.env, mi.env);
  });
  afterAll(() => {
    for (const name of Object.keys(mi.env)) delete process.env[name];
  });

  /** Requests to the source's endpoint made by `run`, and what it returned. */
  async function counted<T>(run: () => Promise<T>): Promise<{ requests: number; value: T }> {
    mi.emulator.resetRequests();
    const value = await run();
    return { requests: mi.requests().length, value };
  }

  describe.each([
    ["system-assigned", undefined, ids.systemIdentityObjectId],
    ["user-assigned", ids.userIdentityClientId, ids.userIdentityObjectId],
  ] as const)(`${source}: %s identity`, (_name, clientId, objectId) => {
    it(`gets the same identity's token as msal-node and @azure/identity, with one request for ${CALLERS} concurrent cold calls`, async () => {
      const ours = createManagedIdentityClient(clientId === undefined ? { env: mi.env } : { env: mi.env, clientId });
      const msal = new ManagedIdentityApplication(clientId === undefined ? {} : { managedIdentityIdParams: { userAssignedClientId: clientId } });
      const credential = clientId === undefined ? new ManagedIdentityCredential() : new ManagedIdentityCredential({ clientId });

      const oursCold = await counted(() => Promise.all(Array.from({ length: CALLERS }, () => ours.acquireTokenForClient({ scopes: [API_SCOPE] }))));
      const msalCold = await counted(() => Promise.all(Array.from({ length: CALLERS }, () => msal.acquireToken({ resource: API }))));
      const identityCold = await counted(() => Promise.all(Array.from({ length: CALLERS }, () => credential.getToken(API_SCOPE))));

      const oursToken = oursCold.value[0]?.accessToken ?? "";
      expect(identityClaims(oursToken)).toMatchObject({ oid: objectId, aud: API, tid: ids.tenantId });
      expect(identityClaims(oursToken)).toEqual(identityClaims(msalCold.value[0]?.accessToken ?? ""));
      expect(identityClaims(oursToken)).toEqual(identityClaims(identityCold.value[0]?.token ?? ""));
      expect(oursCold.requests).toBe(1);
      expect(oursCold.requests).toBeLessThanOrEqual(msalCold.requests);
      expect(oursCold.requests).toBeLessThanOrEqual(identityCold.requests);
      console.info(`${source} ${_name}: ${CALLERS} concurrent cold calls made ${oursCold.requests} request(s) here, ${msalCold.requests} with msal-node, ${identityCold.requests} with @azure/identity`);

      const warm = await counted(() => ours.acquireTokenForClient({ scopes: [API_SCOPE] }));
      expect(warm).toMatchObject({ requests: 0, value: { source: "cache", accessToken: oursToken } });
      await ours.dispose();
    });
  });
}
