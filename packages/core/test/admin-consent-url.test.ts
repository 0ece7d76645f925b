import { describe, expect, it } from "vitest";
import { ConfigurationError, InvalidResponseError } from "../src/index.js";
import { buildAdminConsentUrl, parseAdminConsentCallback } from "../src/protocol.js";

const CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e";
const TENANT = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490";

describe("buildAdminConsentUrl", () => {
  it("builds the v2.0 admin consent URL with client_id, redirect_uri and state", () => {
    const url = buildAdminConsentUrl({ tenantId: "contoso.onmicrosoft.com", clientId: CLIENT_ID, redirectUri: "https://daemon.example/cb?x=1", state: "a b&c" });
    expect(url).toBe(
      `https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=${CLIENT_ID}&redirect_uri=https%3A%2F%2Fdaemon.example%2Fcb%3Fx%3D1&state=a+b%26c`,
    );
    const parsed = new URL(url);
    expect(parsed.searchParams.get("redirect_uri")).toBe("https://daemon.example/cb?x=1");
    expect(parsed.searchParams.get("state")).toBe("a b&c");
  });

  it("omits what was not given and accepts other clouds and the emulator", () => {
    expect(buildAdminConsentUrl({ tenantId: TENANT, clientId: CLIENT_ID })).toBe(`https://login.microsoftonline.com/${TENANT}/adminconsent?client_id=${CLIENT_ID}`);
    expect(buildAdminConsentUrl({ tenantId: "common", clientId: CLIENT_ID, authorityHost: "https://login.chinacloudapi.cn/" })).toBe(
      `https://login.chinacloudapi.cn/common/adminconsent?client_id=${CLIENT_ID}`,
    );
    expect(buildAdminConsentUrl({ tenantId: TENANT, clientId: "app", authorityHost: "http://127.0.0.1:8443/entra//" })).toBe(
      `http://127.0.0.1:8443/entra/${TENANT}/adminconsent?client_id=app`,
    );
  });

  it.each([
    [{ tenantId: "", clientId: CLIENT_ID }, /tenantId must be/],
    [{ tenantId: "contoso/../x", clientId: CLIENT_ID }, /tenantId must be/],
    [{ tenantId: "a?b", clientId: CLIENT_ID }, /tenantId must be/],
    [{ tenantId: "consumers", clientId: CLIENT_ID }, /personal Microsoft accounts/],
    [{ tenantId: TENANT, clientId: " " }, /clientId must be/],
    [{ tenantId: TENANT, clientId: CLIENT_ID, redirectUri: "/relative" }, /redirectUri must be an absolute/],
    [{ tenantId: TENANT, clientId: CLIENT_ID, redirectUri: "javascript:alert(1)" }, /redirectUri must be an absolute http/],
    [{ tenantId: TENANT, clientId: CLIENT_ID, state: "" }, /state must be a non-empty string/],
    [{ tenantId: TENANT, clientId: CLIENT_ID, authorityHost: "login.microsoftonline.com" }, /authorityHost must be an absolute URL/],
    [{ tenantId: TENANT, clientId: CLIENT_ID, authorityHost: "https://login.microsoftonline.com/?x=1" }, /without query/],
  ])("refuses %j", (options, message) => {
    expect(() => buildAdminConsentUrl(options)).toThrow(ConfigurationError);
    expect(() => buildAdminConsentUrl(options)).toThrow(message);
  });
});

describe("parseAdminConsentCallback", () => {
  it("reads a success redirect as a URL, a string, a query string or URLSearchParams", () => {
    const href = `https://daemon.example/cb?admin_consent=True&tenant=${TENANT}&state=s1`;
    const expected = { granted: true, tenant: TENANT, state: "s1" };
    expect(parseAdminConsentCallback(new URL(href))).toEqual(expected);
    expect(parseAdminConsentCallback(href)).toEqual(expected);
    expect(parseAdminConsentCallback(`/cb?admin_consent=True&tenant=${TENANT}&state=s1#frag`)).toEqual(expected);
    expect(parseAdminConsentCallback(`admin_consent=true&tenant=${TENANT}&state=s1`)).toEqual(expected);
    expect(parseAdminConsentCallback(new URLSearchParams({ admin_consent: "True", tenant: TENANT, state: "s1" }))).toEqual(expected);
  });

  it("reads a refusal", () => {
    expect(
      parseAdminConsentCallback("https://daemon.example/cb?error=permission_denied&error_description=The+admin+canceled+the+request&state=s2"),
    ).toEqual({ granted: false, error: "permission_denied", errorDescription: "The admin canceled the request", state: "s2" });
    expect(parseAdminConsentCallback("?error=access_denied")).toEqual({ granted: false, error: "access_denied", errorDescription: undefined, state: undefined });
  });

  it("round-trips with buildAdminConsentUrl's state", () => {
    const state = crypto.randomUUID();
    const url = new URL(buildAdminConsentUrl({ tenantId: "organizations", clientId: CLIENT_ID, redirectUri: "https://daemon.example/cb", state }));
    // What the endpoint sends back on success, to the registered redirect URI.
    const callback = new URL(url.searchParams.get("redirect_uri")!);
    callback.searchParams.set("admin_consent", "True");
    callback.searchParams.set("tenant", TENANT);
    callback.searchParams.set("state", url.searchParams.get("state")!);
    expect(parseAdminConsentCallback(callback, { expectedState: state })).toEqual({ granted: true, tenant: TENANT, state });
  });

  it("refuses a callback whose state is not the expected one", () => {
    expect(() => parseAdminConsentCallback(`?admin_consent=True&tenant=${TENANT}&state=forged`, { expectedState: "mine" })).toThrow(/state does not match/);
    expect(() => parseAdminConsentCallback(`?admin_consent=True&tenant=${TENANT}`, { expectedState: "mine" })).toThrow(InvalidResponseError);
  });

  it.each([
    ["https://daemon.example/cb", /neither admin_consent nor error/],
    ["?admin_consent=False&tenant=x", /admin_consent must be "True"/],
    ["?admin_consent=True", /must carry the tenant id/],
    ["?admin_consent=True&tenant=../evil", /must carry the tenant id/],
    ["garbage", /expected the redirect URL/],
    ["", /expected the redirect URL/],
    [42, /expected the redirect URL/],
    [null, /expected the redirect URL/],
  ])("refuses %j with InvalidResponseError", (input, message) => {
    expect(() => parseAdminConsentCallback(input as string)).toThrow(InvalidResponseError);
    expect(() => parseAdminConsentCallback(input as string)).toThrow(message);
  });
});
