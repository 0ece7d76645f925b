import { afterEach, describe, expect, it } from "vitest";
import { createDaemonClient, type DaemonClient } from "../src/index.js";
import { testSecret } from "./support/credentials.js";
import { startTokenServer, tokenReply } from "./support/token-server.js";

// The in-process index is keyed by tenant, then scope; these pin what callers see of it.
const HOME = "22222222-2222-2222-2222-222222222222";
const ORDERS = "api://orders/.default";
const BILLING = "api://billing/.default";

let servers: Awaited<ReturnType<typeof startTokenServer>>[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function setup(maxCachedTokens: number): Promise<{ client: DaemonClient; requests: () => string[] }> {
  const server = await startTokenServer(tokenReply());
  servers.push(server);
  const client = createDaemonClient({
    authority: `${server.url}/${HOME}`,
    clientId: "11111111-1111-1111-1111-111111111111",
    credential: testSecret("index-test-secret"),
    maxCachedTokens,
  });
  // Each token request as `tenant scope`, in order.
  const requests = () => server.tokenRequests.map((r) => `${r.path.split("/")[1] ?? ""} ${r.form.get("scope") ?? ""}`);
  return { client, requests };
}

describe("the in-process token index", () => {
  it("keeps one token per tenant and scope, and tells tenants and scopes apart", async () => {
    const { client, requests } = await setup(10);
    const homeOrders = await client.acquireTokenForClient({ scopes: [ORDERS] });
    const homeBilling = await client.acquireTokenForClient({ scopes: [BILLING] });
    const otherOrders = await client.acquireTokenForClient({ scopes: [ORDERS], tenantId: "tenant-b.example.com" });

    expect(new Set([homeOrders.accessToken, homeBilling.accessToken, otherOrders.accessToken]).size).toBe(3);
    const again = await client.acquireTokenForClient({ scopes: [ORDERS], tenantId: HOME });
    expect(again.source).toBe("cache");
    expect(again.accessToken).toBe(homeOrders.accessToken);
    expect((await client.acquireTokenForClient({ scopes: [BILLING] })).accessToken).toBe(homeBilling.accessToken);
    expect(requests()).toEqual([`${HOME} ${ORDERS}`, `${HOME} ${BILLING}`, `tenant-b.example.com ${ORDERS}`]);
  });

  it("drops the least recently stored token when full, whatever its tenant", async () => {
    const { client, requests } = await setup(2);
    await client.acquireTokenForClient({ scopes: [ORDERS], tenantId: "tenant-a.example.com" });
    await client.acquireTokenForClient({ scopes: [BILLING] });
    await client.acquireTokenForClient({ scopes: [ORDERS], tenantId: "tenant-c.example.com" }); // drops tenant-a

    expect((await client.acquireTokenForClient({ scopes: [BILLING] })).source).toBe("cache");
    expect((await client.acquireTokenForClient({ scopes: [ORDERS], tenantId: "tenant-c.example.com" })).source).toBe("cache");
    expect((await client.acquireTokenForClient({ scopes: [ORDERS], tenantId: "tenant-a.example.com" })).source).toBe("network");
    expect(requests()).toHaveLength(4);
  });

  it("counts a token stored again as the newest, so the other one is dropped", async () => {
    const { client } = await setup(2);
    await client.acquireTokenForClient({ scopes: [ORDERS] });
    await client.acquireTokenForClient({ scopes: [BILLING] });
    await client.acquireTokenForClient({ scopes: [ORDERS], forceRefresh: true }); // ORDERS is now the newest
    await client.acquireTokenForClient({ scopes: [ORDERS], tenantId: "tenant-d.example.com" }); // drops BILLING

    expect((await client.acquireTokenForClient({ scopes: [ORDERS] })).source).toBe("cache");
    expect((await client.acquireTokenForClient({ scopes: [BILLING] })).source).toBe("network");
  });

  it("keeps a tenant's other scopes when one of them is dropped", async () => {
    const { client, requests } = await setup(2);
    const billing = await client.acquireTokenForClient({ scopes: [BILLING] });
    await client.acquireTokenForClient({ scopes: [ORDERS] });
    await client.acquireTokenForClient({ scopes: [ORDERS], tenantId: "tenant-e.example.com" }); // drops BILLING

    expect((await client.acquireTokenForClient({ scopes: [ORDERS] })).source).toBe("cache");
    const again = await client.acquireTokenForClient({ scopes: [BILLING] }); // drops home ORDERS
    expect(again.source).toBe("network");
    expect(again.accessToken).not.toBe(billing.accessToken);
    expect((await client.acquireTokenForClient({ scopes: [BILLING] })).source).toBe("cache");
    expect((await client.acquireTokenForClient({ scopes: [ORDERS], tenantId: "tenant-e.example.com" })).source).toBe("cache");
    expect((await client.acquireTokenForClient({ scopes: [ORDERS] })).source).toBe("network");
    expect(requests()).toHaveLength(5);
  });

  it("forgets every tenant on clearCache", async () => {
    const { client, requests } = await setup(10);
    await client.acquireTokenForClient({ scopes: [ORDERS] });
    await client.acquireTokenForClient({ scopes: [ORDERS], tenantId: "tenant-b.example.com" });
    client.clearCache();

    expect((await client.acquireTokenForClient({ scopes: [ORDERS] })).source).toBe("network");
    expect((await client.acquireTokenForClient({ scopes: [ORDERS], tenantId: "tenant-b.example.com" })).source).toBe("network");
    expect(requests()).toHaveLength(4);
  });
});
