import { createDaemonClient, type ClientCredential } from "@daemon-auth/core";
import { describe, expect, it } from "vitest";
import { startLoopbackTokenServer } from "../lib/token-server.js";
import type { StoreGroupContext } from "./context.js";

/** Two clients whose key parts hold the key separator get their own tokens through the store (a real client against a loopback token server). */
export function storeClientIdentityTests(context: StoreGroupContext): void {
  const { store } = context;
  describe("client identities", () => {
    it("gives two clients whose key parts hold the key separator their own tokens", async () => {
      const server = await startLoopbackTokenServer();
      const credential: ClientCredential = { kind: "test-secret", getAuthentication: () => Promise.resolve({ clientSecret: "conformance" }) };
      const tenant = "22222222-2222-2222-2222-222222222222";
      const scopes = ["api://conformance/.default"];
      // Joined with a bare '|', both made the key '<url>/x|c1|app|<tenant>|<scope>' (issue #12).
      const identities = [
        { authority: `${server.url}/x|c1/${tenant}`, clientId: "app" },
        { authority: `${server.url}/x/${tenant}`, clientId: "c1|app" },
      ];
      const clients = [...identities, ...identities].map((identity) => createDaemonClient({ ...identity, credential, cache: store() }));
      try {
        const [a, b, a2, b2] = clients;
        const tokenA = await a?.acquireTokenForClient({ scopes });
        const tokenB = await b?.acquireTokenForClient({ scopes });
        expect(tokenB?.source, "the second client was answered from the first one's entry").toBe("network");
        expect(tokenB?.accessToken).not.toBe(tokenA?.accessToken);
        expect(server.clientIds).toEqual(["app", "c1|app"]);
        // Each entry still serves other clients of its own identity.
        expect((await a2?.acquireTokenForClient({ scopes }))?.accessToken).toBe(tokenA?.accessToken);
        expect((await b2?.acquireTokenForClient({ scopes }))?.accessToken).toBe(tokenB?.accessToken);
        expect(server.clientIds).toHaveLength(2);
      } finally {
        await Promise.all(clients.map((client) => client.dispose()));
        await server.close();
      }
    });
  });
}
