import { describe, expect, it } from "vitest";
import { normalizeAzureScopes } from "../src/lib/scopes.js";

describe("normalizeAzureScopes", () => {
  it.each([
    ["https://vault.azure.net", "https://vault.azure.net/.default"],
    ["https://management.azure.com/", "https://management.azure.com//.default"],
    ["api://daemon-auth-demo", "api://daemon-auth-demo/.default"],
    ["https://vault.azure.net/.default", "https://vault.azure.net/.default"],
    ["https://management.azure.com//.default", "https://management.azure.com//.default"],
    ["https://graph.microsoft.com/User.Read", "https://graph.microsoft.com/User.Read"],
    ["openid", "openid"],
  ])("%s -> %s", (input, expected) => {
    expect(normalizeAzureScopes(input)).toEqual([expected]);
    expect(normalizeAzureScopes([input])).toEqual([expected]);
  });
});
