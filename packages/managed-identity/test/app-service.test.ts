// The App Service source (also Functions and Container Apps) against the emulator's
// App Service endpoint: IDENTITY_ENDPOINT + IDENTITY_HEADER, system- and user-assigned
// identities, the default retry policy, and the identity header kept out of every log,
// error and inspection.
import { ConfigurationError, HttpError, ThrottledError } from "@daemon-auth/core";
import { describe, expect, it } from "vitest";
import { createManagedIdentityClient } from "../src/index.js";
import { API_SCOPE, APP_SERVICE_PATH, claimsOf, expectNoSecret, ids, printed, recordingLogger, testClock, emulatedSource, itGetsUserAssignedTokens } from "./helpers.js";

const mi = emulatedSource("app-service");
const appServiceRequests = () => mi.requests();
const header = () => mi.env["IDENTITY_HEADER"] ?? "";

describe("App Service against the emulator", () => {
  it("gets the system-assigned identity's token, once for 50 concurrent calls, then from the cache", async () => {
    const logger = recordingLogger();
    const client = createManagedIdentityClient({ env: mi.env, logger });
    expect(client.source).toBe("app-service");
    const results = await Promise.all(Array.from({ length: 50 }, () => client.acquireTokenForClient({ scopes: [API_SCOPE] })));
    const token = results[0]?.accessToken ?? "";
    expect(claimsOf(token)).toMatchObject({ aud: ids.apiIdentifierUri, oid: ids.systemIdentityObjectId, roles: ["Orders.Read.All"] });
    expect(new Set(results.map((result) => result.accessToken)).size).toBe(1);
    expect((await client.acquireTokenForClient({ scopes: [API_SCOPE] })).source).toBe("cache");
    expect(appServiceRequests()).toHaveLength(1);
    expectNoSecret([...logger.lines, ...printed(client)], [header(), token]);
    await client.dispose();
  });

  itGetsUserAssignedTokens(mi);

  it("reports an unknown identity with the source and the fix", async () => {
    const client = createManagedIdentityClient({ env: mi.env, objectId: "eeeeeeee-0000-4000-8000-00000000000f" });
    const error = await client.acquireTokenForClient({ scopes: [API_SCOPE] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/^Managed identity \(app-service\): .*objectId=eeeeeeee-0000-4000-8000-00000000000f is not available.*assign that identity/);
    expectNoSecret(printed(error), [header()]);
    await client.dispose();
  });

  it("keeps a wrong identity header out of the error, its causes, the logs and inspection", async () => {
    const wrong = "wrong-identity-header-value-0123456789";
    const logger = recordingLogger();
    const client = createManagedIdentityClient({ env: { ...mi.env, IDENTITY_HEADER: wrong }, logger });
    const error = await client.acquireTokenForClient({ scopes: [API_SCOPE] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(401);
    expect((error as Error).message).toMatch(/^Managed identity \(app-service\): .*HTTP 401.*IDENTITY_HEADER/);
    expectNoSecret([...printed(error), ...printed(client), ...logger.lines], [wrong, header()]);
    await client.dispose();
  });

  it("retries 500 and 503 one second apart (msal-node's default policy) and honours Retry-After", async () => {
    mi.emulator.faults.add({ match: { path: APP_SERVICE_PATH }, fault: { kind: "status", status: 500 }, times: 1 });
    mi.emulator.faults.add({ match: { path: APP_SERVICE_PATH }, fault: { kind: "status", status: 503, retryAfter: 5 }, times: 1 });
    const clock = testClock();
    const client = createManagedIdentityClient({ env: mi.env, clock });
    await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    expect(appServiceRequests().map((request) => request.status)).toEqual([500, 503, 200]);
    expect(clock.slept).toEqual([1_000, 5_000]);
    await client.dispose();
  });

  it("stops after three retries of 500, and a 429 with a long Retry-After ends with ThrottledError", async () => {
    mi.emulator.faults.add({ match: { path: APP_SERVICE_PATH }, fault: { kind: "status", status: 500 }, times: 4 });
    const clock = testClock();
    const client = createManagedIdentityClient({ env: mi.env, clock });
    const error = await client.acquireTokenForClient({ scopes: [API_SCOPE] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 500, message: expect.stringMatching(/^Managed identity \(app-service\): .*HTTP 500.*after 4 attempts/) });
    mi.emulator.faults.clear();
    mi.emulator.faults.add({ match: { path: APP_SERVICE_PATH }, fault: { kind: "status", status: 429, retryAfter: 60 }, times: 1 });
    await expect(client.acquireTokenForClient({ scopes: ["api://daemon-auth-demo"] })).rejects.toBeInstanceOf(ThrottledError);
    expect(appServiceRequests()).toHaveLength(5);
    await client.dispose();
  });
});
