// The IMDS source against the emulator's IMDS endpoint (plain HTTP on loopback, reached
// through AZURE_POD_IDENTITY_AUTHORITY_HOST as on AKS): system- and user-assigned
// identities, one request for many callers, the platform's retries with an injected
// clock, and "identity not found" with its fix.
import { ConfigurationError, HttpError, InvalidRequestError, ThrottledError, TimeoutError } from "@daemon-auth/core";
import { describe, expect, it } from "vitest";
import { createManagedIdentityClient } from "../src/index.js";
import { API, API_SCOPE, claimsOf, expectNoSecret, ids, IMDS_PATH, printed, recordingLogger, testClock, emulatedSource, itGetsUserAssignedTokens } from "./helpers.js";

const mi = emulatedSource("imds");
const imdsRequests = () => mi.requests();

describe("IMDS against the emulator", () => {
  it("gets the system-assigned identity's token for '<resource>/.default', reports and logs its source once", async () => {
    const logger = recordingLogger();
    const client = createManagedIdentityClient({ env: mi.env, logger });
    expect(client.source).toBe("imds");
    expect(client.clientId).toBe("system-assigned");
    const result = await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    expect(result.source).toBe("network");
    expect(claimsOf(result.accessToken)).toMatchObject({
      aud: API,
      oid: ids.systemIdentityObjectId,
      appid: ids.systemIdentityClientId,
      tid: ids.tenantId,
      idtyp: "app",
      roles: ["Orders.Read.All"],
      iss: mi.emulator.issuer(ids.tenantId),
    });
    expect(result.expiresOn.getTime() - Date.now()).toBeGreaterThan(3000_000);
    const detected = logger.lines.filter((line) => line.includes("source detected"));
    expect(detected).toHaveLength(1);
    expect(JSON.parse(detected[0] ?? "{}")).toMatchObject({ source: "imds", identity: "system-assigned", endpoint: `${mi.emulator.url}${IMDS_PATH}` });
    expectNoSecret([...logger.lines, ...printed(client)], [result.accessToken]);
    await client.dispose();
  });

  itGetsUserAssignedTokens(mi);

  it("answers 50 concurrent cold calls with one request, then from its cache; a bare resource is the same token", async () => {
    const client = createManagedIdentityClient({ env: mi.env });
    const results = await Promise.all(Array.from({ length: 50 }, () => client.acquireTokenForClient({ scopes: [API_SCOPE] })));
    expect(new Set(results.map((result) => result.accessToken)).size).toBe(1);
    expect(imdsRequests()).toHaveLength(1);
    const hit = await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    const bare = await client.acquireTokenForClient({ scopes: [API] });
    expect([hit.source, bare.source]).toEqual(["cache", "cache"]);
    expect(bare.accessToken).toBe(results[0]?.accessToken);
    expect(imdsRequests()).toHaveLength(1);
    await client.dispose();
  });

  it("shares tokens through a cache store: a second client (another process) reads it instead of asking IMDS", async () => {
    const entries = new Map<string, string>();
    const cache = {
      get: async (key: string) => entries.get(key),
      set: async (key: string, value: string) => void entries.set(key, value),
      delete: async (key: string) => void entries.delete(key),
    };
    const first = createManagedIdentityClient({ env: mi.env, cache });
    const second = createManagedIdentityClient({ env: mi.env, cache });
    const other = createManagedIdentityClient({ env: mi.env, cache, clientId: ids.userIdentityClientId });
    const token = await first.acquireTokenForClient({ scopes: [API_SCOPE] });
    await expect(second.acquireTokenForClient({ scopes: [API_SCOPE] })).resolves.toMatchObject({ source: "shared-cache", accessToken: token.accessToken });
    // Another identity has its own key: never the system-assigned identity's token.
    expect(claimsOf((await other.acquireTokenForClient({ scopes: [API_SCOPE] })).accessToken)["oid"]).toBe(ids.userIdentityObjectId);
    expect(imdsRequests()).toHaveLength(2);
    expectNoSecret([...entries.keys()], [token.accessToken]);
    await Promise.all([first.dispose(), second.dispose(), other.dispose()]);
  });

  it("refuses several resources and sign-in scopes before any request, and ignores a tenant", async () => {
    const client = createManagedIdentityClient({ env: mi.env });
    await expect(client.acquireTokenForClient({ scopes: [API_SCOPE, "https://vault.azure.net/.default"] })).rejects.toThrow(
      /one resource per call.*'api:\/\/daemon-auth-demo\/\.default', 'https:\/\/vault\.azure\.net\/\.default'.*once per resource/,
    );
    await expect(client.acquireTokenForClient({ scopes: [] })).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(client.acquireTokenForClient({ scopes: ["openid"] })).rejects.toThrow(/user sign-in/);
    // The same scope twice is one resource; a tenant (an Azure SDK's challenge tenant) is ignored, as @azure/identity does.
    await expect(client.acquireTokenForClient({ scopes: [API_SCOPE, API_SCOPE] })).resolves.toMatchObject({ source: "network" });
    await expect(client.acquireTokenForClient({ scopes: [API_SCOPE], tenantId: "another.onmicrosoft.com" })).resolves.toMatchObject({ source: "cache" });
    expect(imdsRequests()).toHaveLength(1);
    await client.dispose();
  });

  it("retries 410 ten seconds apart on the injected clock (IMDS updating), then gets the token", async () => {
    mi.emulator.faults.add({ match: { path: IMDS_PATH }, fault: { kind: "status", status: 410 }, times: 3 });
    const clock = testClock();
    const client = createManagedIdentityClient({ env: mi.env, clock });
    const result = await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    expect(claimsOf(result.accessToken)["oid"]).toBe(ids.systemIdentityObjectId);
    expect(imdsRequests().map((request) => request.status)).toEqual([410, 410, 410, 200]);
    expect(clock.slept).toEqual([10_000, 10_000, 10_000]);
    await client.dispose();
  });

  it("gives up on 410 after about 70 seconds of the platform's retries", async () => {
    mi.emulator.faults.add({ match: { path: IMDS_PATH }, fault: { kind: "status", status: 410 } });
    const clock = testClock();
    const client = createManagedIdentityClient({ env: mi.env, clock });
    const error = await client.acquireTokenForClient({ scopes: [API_SCOPE] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(410);
    expect((error as Error).message).toMatch(/^Managed identity \(imds\): .*HTTP 410.*after 8 attempts/);
    expect(clock.slept.reduce((sum, ms) => sum + ms, 0)).toBe(70_000);
    expect(imdsRequests()).toHaveLength(8);
    await client.dispose();
  });

  it("retries 500 with exponential backoff (1, 2, 4 s) and 429 after its Retry-After, pausing the key", async () => {
    mi.emulator.faults.add({ match: { path: IMDS_PATH }, fault: { kind: "status", status: 500 }, times: 2 });
    mi.emulator.faults.add({ match: { path: IMDS_PATH }, fault: { kind: "status", status: 429, retryAfter: 7 }, times: 1 });
    const clock = testClock();
    const client = createManagedIdentityClient({ env: mi.env, clock });
    await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    expect(imdsRequests().map((request) => request.status)).toEqual([500, 500, 429, 200]);
    // 1 s and 2 s of backoff, then the server's 7 s, longer than the 4 s the backoff would wait.
    expect(clock.slept).toEqual([1_000, 2_000, 7_000]);
    await client.dispose();
  });

  it("ends at once with ThrottledError on a Retry-After longer than the platform's waits, and holds later calls without a request", async () => {
    mi.emulator.faults.add({ match: { path: IMDS_PATH }, fault: { kind: "status", status: 429, retryAfter: 120 }, times: 1 });
    const clock = testClock();
    const client = createManagedIdentityClient({ env: mi.env, clock });
    const error = await client.acquireTokenForClient({ scopes: [API_SCOPE] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).retryAfter.getTime()).toBe(clock.now() + 120_000);
    await expect(client.acquireTokenForClient({ scopes: [API_SCOPE] })).rejects.toBeInstanceOf(ThrottledError);
    expect(imdsRequests()).toHaveLength(1);
    await client.dispose();
  });

  it("ends a hung request after requestTimeoutMs with TimeoutError naming the source, without retrying", async () => {
    mi.emulator.faults.add({ match: { path: IMDS_PATH }, fault: { kind: "hang" }, times: 1 });
    const client = createManagedIdentityClient({ env: mi.env, requestTimeoutMs: 300 });
    const error = await client.acquireTokenForClient({ scopes: [API_SCOPE] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/^Managed identity \(imds\): the endpoint http:\/\/127\.0\.0\.1:\d+ did not answer within 300 ms/);
    expect(imdsRequests()).toHaveLength(1);
    await client.dispose();
  });

  it("reports an identity that is not assigned with the source and the fix, and remembers it for every resource", async () => {
    const clientId = "eeeeeeee-0000-4000-8000-00000000000e";
    const client = createManagedIdentityClient({ env: mi.env, clientId });
    const error = await client.acquireTokenForClient({ scopes: [API_SCOPE] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      `Managed identity (imds): the endpoint says the user-assigned identity clientId=${clientId} is not available on this resource (HTTP 400): ` +
        "assign that identity to this Azure resource (portal: Identity → User assigned → Add), or pass the 'clientId' of an identity that is assigned.",
    );
    expect((error as Error).cause).toMatchObject({ status: 400, error: "invalid_request", errorDescription: "Identity not found" });
    await expect(client.acquireTokenForClient({ scopes: ["https://vault.azure.net/.default"] })).rejects.toBe(error);
    expect(imdsRequests()).toHaveLength(1);
    await client.dispose();
  });

  it("names the resource fix when the identity's tenant does not know the resource (AADSTS500011)", async () => {
    const client = createManagedIdentityClient({ env: mi.env });
    const error = await client.acquireTokenForClient({ scopes: ["api://unknown-api/.default"] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as Error).message).toMatch(/^Managed identity \(imds\): the endpoint refused the token request \(HTTP 400, 'invalid_resource' \(AADSTS500011\)\)\. .*resource/);
    await client.dispose();
  });

  it("reports telemetry without tokens: each attempt, each acquisition, each failure; a throwing hook costs nothing", async () => {
    mi.emulator.faults.add({ match: { path: IMDS_PATH }, fault: { kind: "status", status: 503 }, times: 1 });
    const events: unknown[] = [];
    const logger = recordingLogger();
    const telemetry = {
      onTokenRequest: (event: unknown) => events.push(["request", event]),
      onAcquire: (event: unknown) => {
        events.push(["acquire", event]);
        throw new Error("hook bug");
      },
      onAcquireError: (event: unknown) => events.push(["error", event]),
    };
    const client = createManagedIdentityClient({ env: mi.env, clock: testClock(), telemetry, logger });
    const { accessToken } = await client.acquireTokenForClient({ scopes: [API_SCOPE] });
    await expect(client.acquireTokenForClient({ scopes: ["api://unknown-api/.default"] })).rejects.toBeInstanceOf(HttpError);
    expect(events).toEqual([
      ["request", expect.objectContaining({ tokenEndpoint: `${mi.emulator.url}${IMDS_PATH}`, status: 503, attempt: 1, errorCode: "ERR_HTTP" })],
      ["request", expect.objectContaining({ status: 200, attempt: 2, errorCode: undefined })],
      ["acquire", expect.objectContaining({ source: "network", expiresOn: expect.any(Date) })],
      ["request", expect.objectContaining({ status: 400, attempt: 1 })],
      ["error", expect.objectContaining({ errorCode: "ERR_HTTP" })],
    ]);
    expect(logger.lines.some((line) => line.includes("the onAcquire telemetry hook threw"))).toBe(true);
    expectNoSecret([JSON.stringify(events), ...logger.lines], [accessToken]);
    await client.dispose();
  });

  it("refuses conflicting or malformed ids and unknown options before any I/O", () => {
    expect(() => createManagedIdentityClient({ env: mi.env, clientId: ids.userIdentityClientId, objectId: ids.userIdentityObjectId })).toThrow(
      /^createManagedIdentityClient: name a user-assigned managed identity by one id only: got 'clientId' and 'objectId'/,
    );
    expect(() => createManagedIdentityClient({ env: mi.env, clientId: "my-identity" })).toThrow(
      /^createManagedIdentityClient: 'clientId' must be the user-assigned identity's client id, a GUID/,
    );
    expect(() => createManagedIdentityClient({ env: mi.env, resourceId: "demo-daemon" })).toThrow(
      /^createManagedIdentityClient: 'resourceId' must be the ARM id of a user-assigned identity/,
    );
    expect(() => createManagedIdentityClient({ env: mi.env, clientid: ids.userIdentityClientId } as never)).toThrow(
      /^createManagedIdentityClient: unknown option 'clientid'; did you mean 'clientId'\?$/,
    );
    expect(() => createManagedIdentityClient({ env: mi.env, retry: { maxAttempts: 1 } } as never)).toThrow(
      /^createManagedIdentityClient: unknown option 'retry' \(the nearest known option is '\w+'\); remove it, the known options are: clientId, /,
    );
    expect(() => createManagedIdentityClient({ env: "PATH=/bin" as never })).toThrow(/^createManagedIdentityClient: 'env' must be an object of environment variables/);
    expect(() => createManagedIdentityClient({ env: mi.env, requestTimeoutMs: -5 })).toThrow(
      /^createManagedIdentityClient: 'requestTimeoutMs' must be a positive number of milliseconds/,
    );
    expect(() => createManagedIdentityClient({ env: mi.env, azureArcKeyDirectoryForTests: 1 as never })).toThrow(
      /^createManagedIdentityClient: 'azureArcKeyDirectoryForTests' must be a directory path/,
    );
    expect(() => createManagedIdentityClient({ env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: "not a url" } })).toThrow(
      /AZURE_POD_IDENTITY_AUTHORITY_HOST is not an http\(s\) URL/,
    );
    expect(imdsRequests()).toHaveLength(0);
  });
});
