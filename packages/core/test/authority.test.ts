import { describe, expect, it } from "vitest";
import { ConfigurationError, createDaemonClient, InvalidRequestError } from "../src/index.js";
import { entraTokenEndpoint, resolveAuthority, type EntraAuthority } from "../src/lib/authority.js";
import { testSecret } from "./support/credentials.js";

const base = { clientId: "11111111-1111-1111-1111-111111111111", credential: testSecret("s") };

describe("authorities", () => {
  it.each([
    [{ tenantId: "contoso.onmicrosoft.com" }, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"],
    [{ tenantId: "t1", cloud: "usgov" as const }, "https://login.microsoftonline.us/t1/oauth2/v2.0/token"],
    [{ tenantId: "t1", cloud: "china" as const }, "https://login.chinacloudapi.cn/t1/oauth2/v2.0/token"],
    [{ tenantId: "t1", authorityHost: "https://login.example.com/" }, "https://login.example.com/t1/oauth2/v2.0/token"],
    [{ authority: "https://login.microsoftonline.com/t1/" }, "https://login.microsoftonline.com/t1/oauth2/v2.0/token"],
    [{ authority: "http://127.0.0.1:5599/prefix/t1" }, "http://127.0.0.1:5599/prefix/t1/oauth2/v2.0/token"],
  ])("%j → %s, without discovery", (options, endpoint) => {
    const authority = resolveAuthority({ ...base, ...options }) as EntraAuthority;
    expect(authority.kind).toBe("entra");
    expect(entraTokenEndpoint(authority, authority.defaultTenant)).toBe(endpoint);
  });

  it.each([
    [{ tenantId: "common" }, /names no single tenant/],
    [{ tenantId: "organizations" }, /names no single tenant/],
    [{ authority: "https://login.microsoftonline.com/consumers" }, /names no single tenant/],
    [{ authority: "http://login.example.com/t1" }, /must use https/],
    [{ authority: "https://login.microsoftonline.com/" }, /must end with the tenant/],
    [{ authority: "https://login.microsoftonline.com/t1/v2.0" }, /without '\/v2.0'/],
    [{ authority: "https://login.microsoftonline.com/t1?x=1" }, /query/],
    [{ tenantId: "t 1" }, /is not a tenant id/],
    [{ issuer: "https://idp.example.com", tenantId: "t1" }, /drop 'tenantId'/],
    [{ tenantId: "t1", cloud: "mars" as never }, /Unknown cloud/],
    [{}, /Say where tokens come from/],
  ])("refuses %j with a fix", (options, message) => {
    expect(() => createDaemonClient({ ...base, ...options })).toThrow(ConfigurationError);
    expect(() => createDaemonClient({ ...base, ...options })).toThrow(message);
  });

  it("refuses a multi-tenant alias per request, before any I/O", async () => {
    const client = createDaemonClient({ ...base, tenantId: "t1", transport: () => Promise.reject(new Error("no I/O expected")) });
    await expect(client.acquireTokenForClient({ scopes: ["api://x/.default"], tenantId: "common" })).rejects.toThrow(
      InvalidRequestError,
    );
  });

  it("refuses bad client configuration", () => {
    expect(() => createDaemonClient({ ...base, tenantId: "t1", clientId: "" })).toThrow(/clientId/);
    expect(() => createDaemonClient({ ...base, tenantId: "t1", credential: [] })).toThrow(/credential/);
    expect(() => createDaemonClient({ ...base, tenantId: "t1", retry: { maxAttempts: 0 } })).toThrow(/maxAttempts/);
    expect(() => createDaemonClient({ ...base, tenantId: "t1", requestTimeoutMs: -1 })).toThrow(/requestTimeoutMs/);
  });
});
