// What the client does with its options (issue #12): unknown keys are refused with a
// hint, telemetry hooks cannot cost a token, and a generic issuer's advertised client
// authentication is used when the user chose none.
import { describe, expect, it } from "vitest";
import { ConfigurationError, createDaemonClient, ServerError, type DaemonClientOptions, type TelemetryHooks } from "../src/index.js";
import { testSecret } from "./support/credentials.js";
import { useTestHarness } from "./support/harness.js";
import { captureLogs } from "./support/logs.js";
import { json, tokenReply } from "./support/token-server.js";

const TENANT = "22222222-2222-2222-2222-222222222222";
const SCOPE = "api://orders/.default";
const SECRET = "basic-only-secret";
const BASE: DaemonClientOptions = { tenantId: TENANT, clientId: "app", credential: testSecret(SECRET) };

const { server, client } = useTestHarness();

function configurationError(options: object): ConfigurationError {
  try {
    createDaemonClient(options as DaemonClientOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error("createDaemonClient accepted the options");
}

describe("unknown options", () => {
  it.each([
    ["expiryMarginMS", "expiryMarginMs"],
    ["requestTimeout", "requestTimeoutMs"],
    ["clientID", "clientId"],
    ["tenant", "tenantId"],
    ["maxCachedToken", "maxCachedTokens"],
  ])("refuses '%s' and suggests '%s'", (misspelt, meant) => {
    const error = configurationError({ ...BASE, [misspelt]: 1 });
    expect(error.message).toBe(`createDaemonClient: unknown option '${misspelt}'; did you mean '${meant}'?`);
  });

  it("refuses an option that does not exist, naming the nearest one and the known ones", () => {
    const error = configurationError({ ...BASE, httpsProxyAgent: "http://proxy.example:3128" });
    expect(error.message).toMatch(/^createDaemonClient: unknown option 'httpsProxyAgent' \(the nearest known option is '\w+'\); remove it, the known options are: /);
    expect(error.message).toContain("expiryMarginMs");
  });

  it("refuses an unknown key even when its value is undefined, and unknown retry keys", () => {
    expect(configurationError({ ...BASE, expiryMarginMS: undefined }).message).toBe(
      "createDaemonClient: unknown option 'expiryMarginMS'; did you mean 'expiryMarginMs'?",
    );
    expect(configurationError({ ...BASE, retry: { maxAttempt: 2 } }).message).toBe(
      "createDaemonClient: unknown option 'retry.maxAttempt'; did you mean 'retry.maxAttempts'?",
    );
  });

  it("accepts every documented option", () => {
    const every: Required<DaemonClientOptions> = {
      authority: `https://login.microsoftonline.com/${TENANT}`,
      tenantId: TENANT,
      cloud: "public",
      authorityHost: "https://login.microsoftonline.com",
      issuer: "https://issuer.example.com",
      knownAuthorities: ["login.contoso.example"],
      validateAuthority: true,
      azureRegion: "auto",
      clientId: "app",
      clientCapabilities: ["cp1"],
      extraQueryParameters: { dc: "x" },
      extraParameters: { fmi_path: "a" },
      returnClientRequestId: true,
      credential: testSecret(SECRET),
      tokenEndpointAuthMethod: "client_secret_basic",
      cache: { get: () => Promise.resolve(undefined), set: () => Promise.resolve(), delete: () => Promise.resolve() },
      transport: fetch,
      clock: { now: () => Date.now() },
      logger: {},
      telemetry: {},
      expiryMarginMs: 1,
      maxTokenLifetimeMs: 60_000,
      storeTimeoutMs: 100,
      requestTimeoutMs: 1_000,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      maxCachedTokens: 10,
      errorCacheMs: 0,
    };
    const { authority, issuer, cloud, authorityHost, ...entra } = every;
    expect(() => client({ ...entra, cloud })).not.toThrow();
    expect(() => client({ ...entra, authorityHost })).not.toThrow();
    expect(() => client({ ...entra, authority })).not.toThrow();
    const { tenantId: _tenant, knownAuthorities: _known, validateAuthority: _validate, ...generic } = entra;
    expect(() => client({ ...generic, issuer })).not.toThrow();
  });
});

describe("telemetry hooks that throw", () => {
  const hookWarnings = (logs: { message: string }[]) => logs.filter((line) => /telemetry hook threw/.test(line.message)).map((line) => line.message);

  async function withHooks(telemetry: TelemetryHooks) {
    const tokens = await server();
    const { logger, logs } = captureLogs();
    const daemon = client({ authority: `${tokens.url}/${TENANT}`, clientId: "app", credential: testSecret(SECRET), logger, telemetry });
    return { tokens, daemon, logs };
  }

  it("a throwing onTokenRequest costs no token: logged and ignored", async () => {
    const { tokens, daemon, logs } = await withHooks({
      onTokenRequest() {
        throw new Error("telemetry exporter is down");
      },
    });
    const result = await daemon.acquireTokenForClient({ scopes: [SCOPE] });
    expect(result.source).toBe("network");
    expect(tokens.tokenRequests).toHaveLength(1);
    expect(hookWarnings(logs)).toEqual(["daemon-auth: the onTokenRequest telemetry hook threw"]);
  });

  it("both hooks throwing cost no token, on the network and from the cache", async () => {
    const calls: string[] = [];
    const { daemon, logs } = await withHooks({
      onTokenRequest() {
        calls.push("request");
        throw new TypeError("bad exporter");
      },
      onAcquire() {
        calls.push("acquire");
        throw new TypeError("bad exporter");
      },
    });
    const first = await daemon.acquireTokenForClient({ scopes: [SCOPE] });
    const second = await daemon.acquireTokenForClient({ scopes: [SCOPE] });
    expect([first.source, second.source]).toEqual(["network", "cache"]);
    expect(calls).toEqual(["request", "acquire", "acquire"]);
    expect(hookWarnings(logs)).toEqual([
      "daemon-auth: the onTokenRequest telemetry hook threw",
      "daemon-auth: the onAcquire telemetry hook threw",
      "daemon-auth: the onAcquire telemetry hook threw",
    ]);
  });
});

describe("client authentication from a generic issuer's metadata", () => {
  /** A generic issuer that takes the client secret only in the way(s) `accepts` names. */
  async function issuer(methods: readonly string[] | undefined, accepts: "basic" | "post" | "both") {
    const tokens = await server();
    const issue = tokenReply();
    tokens.setReply((request, response) => {
      if (request.method === "GET") {
        if (request.path !== "/.well-known/openid-configuration") return json(response, 404, {});
        return json(response, 200, {
          issuer: tokens.url,
          token_endpoint: `${tokens.url}/token`,
          ...(methods === undefined ? {} : { token_endpoint_auth_methods_supported: methods }),
        });
      }
      const expected = `Basic ${btoa(`svc:${SECRET}`)}`;
      const basic = request.headers.authorization === expected && !request.form.has("client_secret");
      const post = request.headers.authorization === undefined && request.form.get("client_secret") === SECRET;
      if ((accepts !== "post" && basic) || (accepts !== "basic" && post)) return issue(request, response);
      return json(response, 401, { error: "invalid_client" });
    });
    return tokens;
  }
  const sentBasic = (tokens: Awaited<ReturnType<typeof issuer>>) =>
    tokens.tokenRequests.map((request) => request.headers.authorization !== undefined);

  it("sends the secret with HTTP Basic to a server that lists only client_secret_basic", async () => {
    const tokens = await issuer(["client_secret_basic"], "basic");
    const daemon = client({ issuer: tokens.url, clientId: "svc", credential: testSecret(SECRET) });
    expect((await daemon.acquireTokenForClient({ scopes: ["read"] })).source).toBe("network");
    expect(sentBasic(tokens)).toEqual([true]);
  });

  it("uses Basic when the list names it among others but not client_secret_post", async () => {
    const tokens = await issuer(["private_key_jwt", "client_secret_basic"], "basic");
    const daemon = client({ issuer: tokens.url, clientId: "svc", credential: testSecret(SECRET) });
    await daemon.acquireTokenForClient({ scopes: ["read"] });
    expect(sentBasic(tokens)).toEqual([true]);
  });

  it.each([
    ["lists client_secret_post", ["client_secret_basic", "client_secret_post"]],
    ["has no list", undefined],
  ])("keeps client_secret_post when the metadata %s", async (_name, methods) => {
    const tokens = await issuer(methods, "both");
    const daemon = client({ issuer: tokens.url, clientId: "svc", credential: testSecret(SECRET) });
    await daemon.acquireTokenForClient({ scopes: ["read"] });
    expect(sentBasic(tokens)).toEqual([false]);
  });

  it("keeps the method the user chose, whatever the metadata says", async () => {
    const tokens = await issuer(["client_secret_basic"], "basic");
    const daemon = client({ issuer: tokens.url, clientId: "svc", credential: testSecret(SECRET), tokenEndpointAuthMethod: "client_secret_post" });
    await expect(daemon.acquireTokenForClient({ scopes: ["read"] })).rejects.toThrow(ServerError);
    expect(sentBasic(tokens).every((basic) => !basic)).toBe(true);
  });
});
