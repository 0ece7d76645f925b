// The assertion callback against the emulator: it learns what the token request needs
// (client, token endpoint, tenant, claims), as MSAL's clientAssertion callback does, and
// what it returns is kept per token endpoint: another tenant's request calls it again.
import { createDaemonClient } from "@daemon-auth/core";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertionCredential, type AssertionContext } from "../src/index.js";

const SUBJECT = "system:serviceaccount:orders:daemon";
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ config: demoEmulatorConfig() });
  emulator.addFederatedCredential(ids.daemonClientId, { issuer: emulator.externalIssuer, subject: SUBJECT, name: "kubernetes" });
});
afterAll(async () => {
  await emulator?.close();
});

describe("assertion callback context", () => {
  it("passes the callback its context, and keeps its assertion per token endpoint, never across tenants", async () => {
    const contexts: AssertionContext[] = [];
    const issued: string[] = [];
    const credential = assertionCredential(async (context) => {
      contexts.push(context);
      const token = await emulator.issueExternalToken({ subject: SUBJECT, lifetimeSeconds: 3600 });
      issued.push(token);
      return token;
    });
    const client = createDaemonClient({ authority: emulator.authority(ids.tenantId), clientId: ids.daemonClientId, credential });
    const challenge = '{"access_token":{"nbf":{"essential":true,"value":"1"}}}';
    await client.acquireTokenForClient({ scopes: [ids.apiScope] });
    await client.acquireTokenForClient({ scopes: [ids.apiScope], tenantId: ids.tenantDomain, claims: challenge });
    // Both endpoints again: each reuses its own assertion.
    await client.acquireTokenForClient({ scopes: [ids.apiScope], forceRefresh: true });
    await client.acquireTokenForClient({ scopes: [ids.apiScope], tenantId: ids.tenantDomain, forceRefresh: true });

    expect(contexts).toEqual([
      { clientId: ids.daemonClientId, tokenEndpoint: emulator.tokenEndpoint(ids.tenantId), tenantId: ids.tenantId, claims: undefined },
      { clientId: ids.daemonClientId, tokenEndpoint: emulator.tokenEndpoint(ids.tenantDomain), tenantId: ids.tenantDomain, claims: challenge },
    ]);
    expect(Object.isFrozen(contexts[0])).toBe(true);
    expect(new Set(issued).size).toBe(2);
    expect(emulator.requests.filter((r) => r.method === "POST").map((r) => [r.tenant, r.clientAuth, r.status])).toEqual([
      [ids.tenantId, "assertion", 200],
      [ids.tenantDomain, "assertion", 200],
      [ids.tenantId, "assertion", 200],
      [ids.tenantDomain, "assertion", 200],
    ]);
    await client.dispose();
  });

  it("still takes a callback that ignores its context", async () => {
    const credential = assertionCredential(() => emulator.issueExternalToken({ subject: SUBJECT, lifetimeSeconds: 3600 }));
    const client = createDaemonClient({ authority: emulator.authority(ids.tenantId), clientId: ids.daemonClientId, credential });
    expect((await client.acquireTokenForClient({ scopes: [ids.apiScope] })).source).toBe("network");
    await client.dispose();
  });
});
