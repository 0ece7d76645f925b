import { CLOUD_AUTHORITY_HOSTS } from "@daemon-auth/core";
import * as protocol from "@daemon-auth/core/protocol";
import { describe, expect, it } from "vitest";
import { buildAdminConsentUrl, DEFAULT_AUTHORITY_HOST, parseAdminConsentCallback } from "../src/index.js";

// The admin consent URL and callback moved to @daemon-auth/core/protocol (tested there);
// this package's old exports must stay the same functions.
describe("admin consent re-exports", () => {
  it("are core's protocol functions, and the default host is the public cloud's", () => {
    expect(buildAdminConsentUrl).toBe(protocol.buildAdminConsentUrl);
    expect(parseAdminConsentCallback).toBe(protocol.parseAdminConsentCallback);
    expect(DEFAULT_AUTHORITY_HOST).toBe(CLOUD_AUTHORITY_HOSTS.public);
    expect(buildAdminConsentUrl({ tenantId: "contoso.onmicrosoft.com", clientId: "app" })).toBe(
      `${DEFAULT_AUTHORITY_HOST}/contoso.onmicrosoft.com/adminconsent?client_id=app`,
    );
  });
});
