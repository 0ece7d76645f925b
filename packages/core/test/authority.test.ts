import { describe, expect, it } from "vitest";
import { ConfigurationError, createDaemonClient, InvalidRequestError } from "../src/index.js";
import { entraTokenEndpoint, resolveAuthority, type EntraAuthority } from "../src/lib/authority.js";
import { optionChecks } from "../src/lib/option-checks.js";
import { testSecret } from "./support/credentials.js";

const base = { clientId: "11111111-1111-1111-1111-111111111111", credential: testSecret("s") };

describe("authorities", () => {
  it.each([
    [{ tenantId: "contoso.onmicrosoft.com" }, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"],
    [{ tenantId: "t1", cloud: "usgov" as const }, "https://login.microsoftonline.us/t1/oauth2/v2.0/token"],
    [{ tenantId: "t1", cloud: "china" as const }, "https://login.chinacloudapi.cn/t1/oauth2/v2.0/token"],
    [
      { tenantId: "t1", authorityHost: "https://login.example.com/", knownAuthorities: ["login.example.com"] },
      "https://login.example.com/t1/oauth2/v2.0/token",
    ],
    [{ authority: "https://login.microsoftonline.com/t1/" }, "https://login.microsoftonline.com/t1/oauth2/v2.0/token"],
    [{ authority: "http://127.0.0.1:5599/prefix/t1" }, "http://127.0.0.1:5599/prefix/t1/oauth2/v2.0/token"],
  ])("%j → %s, without discovery", (options, endpoint) => {
    const authority = resolveAuthority({ ...base, ...options }, optionChecks("createDaemonClient")) as EntraAuthority;
    expect(authority.kind).toBe("entra");
    expect(entraTokenEndpoint(authority, authority.defaultTenant)).toBe(endpoint);
  });

  it.each([
    [{ tenantId: "common" }, /^createDaemonClient: 'tenantId' is 'common', which names no single tenant/],
    [{ tenantId: "organizations" }, /^createDaemonClient: 'tenantId' is 'organizations', which names no single tenant/],
    [{ authority: "https://login.microsoftonline.com/consumers" }, /^createDaemonClient: the tenant in 'authority' is 'consumers', which names no single tenant/],
    [{ authority: "http://login.example.com/t1" }, /^createDaemonClient: 'authority' must use https/],
    [{ authority: "https://login.microsoftonline.com/" }, /^createDaemonClient: 'authority' must end with the tenant/],
    [{ authority: "https://login.microsoftonline.com/t1/v2.0" }, /^createDaemonClient: 'authority' must be the host and tenant only .*without '\/v2.0'/],
    [{ authority: "https://login.microsoftonline.com/t1?x=1" }, /^createDaemonClient: 'authority' must not contain credentials, a query/],
    [{ tenantId: "t 1" }, /^createDaemonClient: 'tenantId' 't 1' is not a tenant id/],
    [{ issuer: "https://idp.example.com", tenantId: "t1" }, /^createDaemonClient: 'issuer' names a generic OAuth 2.0 server; drop 'tenantId'/],
    [{ tenantId: "t1", cloud: "mars" as never }, /^createDaemonClient: 'cloud' must be "public", "usgov" or "china" .*not 'mars'/],
    [{}, /^createDaemonClient: say where tokens come from/],
  ])("refuses %j with a fix", (options, message) => {
    expect(() => createDaemonClient({ ...base, ...options })).toThrow(ConfigurationError);
    expect(() => createDaemonClient({ ...base, ...options })).toThrow(message);
  });

  it.each([
    [{ tenantId: "t1", authorityHost: "https://login.contoso.example" }, "authorityHost", "login.contoso.example"],
    [{ authority: "https://login.microsoftonline.com.evil.example/t1" }, "authority", "login.microsoftonline.com.evil.example"],
    [{ authority: "https://login.microsoftonline.com:8443/t1" }, "authority", "login.microsoftonline.com:8443"],
    [{ authority: "https://sts.contoso.example/t1", knownAuthorities: ["other.example"] }, "authority", "sts.contoso.example"],
  ])("refuses the unknown Entra host of %j before any I/O, naming knownAuthorities", (options, option, host) => {
    let requests = 0;
    const create = () =>
      createDaemonClient({ ...base, ...options, transport: () => Promise.reject(new Error(`no I/O expected (${++requests})`)) });
    expect(create).toThrow(ConfigurationError);
    expect(create).toThrow(new RegExp(`^createDaemonClient: the '${option}' host '${host.replace(/[.]/g, "\\.")}' is not a Microsoft cloud authority`));
    expect(create).toThrow(`knownAuthorities: ["${host}"]`);
    expect(requests).toBe(0);
  });

  it.each([
    { tenantId: "t1", cloud: "usgov" as const },
    { authority: "https://login.microsoft.com/t1" },
    { authority: "https://LOGIN.microsoftonline.com/t1" },
    { authority: "http://localhost:8080/t1" },
    { authority: "http://[::1]:8080/t1" },
    { authority: "https://login.contoso.example/t1", knownAuthorities: ["LOGIN.contoso.example"] },
    { tenantId: "t1", authorityHost: "https://login.contoso.example:8443", knownAuthorities: ["login.contoso.example:8443"] },
    { authority: "https://login.contoso.example/t1", validateAuthority: false },
  ])("trusts %j", (options) => {
    expect(() => createDaemonClient({ ...base, ...options })).not.toThrow();
  });

  it("checks knownAuthorities and validateAuthority themselves; a generic issuer takes neither", () => {
    expect(() => createDaemonClient({ ...base, tenantId: "t1", knownAuthorities: ["https://login.contoso.example"] })).toThrow(
      /^createDaemonClient: 'knownAuthorities' must list host names .* not 'https:\/\/login.contoso.example'/,
    );
    expect(() => createDaemonClient({ ...base, tenantId: "t1", knownAuthorities: "login.contoso.example" as never })).toThrow(/^createDaemonClient: 'knownAuthorities' must list/);
    expect(() => createDaemonClient({ ...base, tenantId: "t1", validateAuthority: "no" as never })).toThrow(/^createDaemonClient: 'validateAuthority' must be true or false/);
    expect(() => createDaemonClient({ ...base, issuer: "https://idp.example.com", knownAuthorities: ["idp.example.com"] })).toThrow(
      /^createDaemonClient: 'issuer' names a generic OAuth 2.0 server; drop 'knownAuthorities'/,
    );
    expect(() => createDaemonClient({ ...base, issuer: "https://idp.example.com" })).not.toThrow();
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
