import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "../src/index.js";
import { normalizeEntraScopes, normalizeGenericScopes } from "../src/lib/scopes.js";

describe("Entra scopes", () => {
  it("accepts one <resource>/.default scope and removes duplicates", () => {
    expect(normalizeEntraScopes(["https://graph.microsoft.com/.default"])).toEqual(["https://graph.microsoft.com/.default"]);
    expect(normalizeEntraScopes(["api://orders/.default", "api://orders/.default"])).toEqual(["api://orders/.default"]);
  });

  it("keeps the double slash of a v1.0 resource", () => {
    expect(normalizeEntraScopes(["https://database.windows.net//.default"])).toEqual(["https://database.windows.net//.default"]);
  });

  it.each([
    [["https://graph.microsoft.com"], "'https://graph.microsoft.com/.default'"],
    [["https://graph.microsoft.com/User.Read"], "'https://graph.microsoft.com/.default'"],
    [["api://orders/Orders.Read"], "'api://orders/.default'"],
  ])("refuses %j and names the scope to use", (scopes, hint) => {
    expect(() => normalizeEntraScopes(scopes)).toThrow(InvalidRequestError);
    expect(() => normalizeEntraScopes(scopes)).toThrow(hint);
  });

  it("refuses two resources in one request", () => {
    expect(() => normalizeEntraScopes(["https://graph.microsoft.com/.default", "api://orders/.default"])).toThrow(
      /one resource per call/,
    );
  });

  it.each([[[]], [["openid"]], [["/.default"]], [["a b/.default"]], [[""]], [[42 as unknown as string]]])(
    "refuses %j",
    (scopes) => {
      expect(() => normalizeEntraScopes(scopes)).toThrow(InvalidRequestError);
    },
  );
});

describe("generic scopes", () => {
  it("sorts and deduplicates any scope tokens", () => {
    expect(normalizeGenericScopes(["write", "read", "read"])).toEqual(["read", "write"]);
    expect(normalizeGenericScopes([])).toEqual([]);
  });

  it("refuses characters RFC 6749 does not allow", () => {
    expect(() => normalizeGenericScopes(['a"b'])).toThrow(InvalidRequestError);
    expect(() => normalizeGenericScopes(["a b"])).toThrow(InvalidRequestError);
  });
});
