import {
  CredentialError,
  DaemonAuthError,
  JWT_BEARER_ASSERTION_TYPE,
  redacted,
  systemClock,
  type ClientAssertionAuthentication,
  type ClientCredential,
  type Clock,
  type CredentialContext,
  type ReloadReason,
  raceAbort,
  throwIfAborted,
} from "@daemon-auth/core";
import { optionChecks, type OptionChecks } from "@daemon-auth/core/adapter";
import { jwtExpiry } from "./lib/jwt.js";

/**
 * What an {@link AssertionSource} is asked for, as MSAL's `clientAssertion` callback is
 * (`clientId`, `tokenEndpoint`), plus the tenant and the claims challenge: one callback can
 * serve several tenants or token endpoints.
 */
export interface AssertionContext {
  /** The client id the assertion is for (its `iss` and `sub` when the callback signs one). */
  readonly clientId: string;
  /** The token endpoint the assertion is sent to (its `aud` when the callback signs one). */
  readonly tokenEndpoint: string;
  /** The tenant of an Entra token request; `undefined` for a generic issuer. */
  readonly tenantId: string | undefined;
  /** The resource's claims challenge (JSON) when the token request answers one. */
  readonly claims: string | undefined;
}

/**
 * Where an assertion comes from: returns the signed assertion (a JWT), e.g. a workload
 * identity token. It may ignore its context; what it returns is kept per token endpoint.
 */
export type AssertionSource = (context: AssertionContext) => string | Promise<string>;

/** Options of {@link assertionCredential}. */
export interface AssertionCredentialOptions {
  /**
   * How long a result of the callback is used before the callback is called again, in
   * milliseconds. A JWT is also replaced before its `exp`. Pass `0` when the callback
   * caches by itself, to call it for every token request.
   *
   * @default 300000
   */
  readonly maxAgeMs?: number | undefined;
  /**
   * The time source for `maxAgeMs` and `exp`.
   *
   * @default systemClock
   */
  readonly clock?: Clock | undefined;
}

/**
 * A {@link ClientCredential} that sends a federated client assertion (RFC 7523) obtained
 * elsewhere: a Kubernetes service account token, a GitHub Actions OIDC token, another
 * identity provider's JWT trusted by the app's federated identity credential.
 */
export interface AssertionCredential extends ClientCredential {
  readonly kind: "assertion";
  /** `assertion (callback)` or `assertion (file "…")`; never the assertion. */
  readonly description: string;
  getAuthentication(context: CredentialContext): Promise<ClientAssertionAuthentication>;
  /** Drops the kept assertion: the next use reads the source again (the server rejected it). */
  reload(reason?: ReloadReason): Promise<void>;
  /** Drops the kept assertion. Safe to call twice. */
  dispose(): Promise<void>;
  /** The {@link description}; `JSON.stringify` and `util.inspect` print it too, never the assertion. */
  toString(): string;
}

/** The default of `maxAgeMs`. */
export const DEFAULT_ASSERTION_MAX_AGE_MS = 300_000;

// An assertion is replaced this long before its `exp` (or at half its remaining life when
// that is shorter) so that it cannot expire between here and the token endpoint.
const EXPIRY_MARGIN_MS = 60_000;

/**
 * A credential that sends the assertion `source` returns. The result is kept per token
 * endpoint (an assertion's audience; another tenant has another endpoint) for `maxAgeMs`
 * (and never past shortly before a JWT's `exp`) and dropped on `reload()`; concurrent first
 * uses for one endpoint call `source` once.
 *
 * @example
 * const credential = assertionCredential(async () => (await fetchGithubOidcToken("api://AzureADTokenExchange")));
 *
 * @throws {ConfigurationError} when `source` is not a function or an option is invalid
 *   (`"assertionCredential: 'maxAgeMs' must …"`).
 * @see https://learn.microsoft.com/entra/workload-id/workload-identity-federation
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 */
export function assertionCredential(source: AssertionSource, options: AssertionCredentialOptions = {}): AssertionCredential {
  const check = optionChecks("assertionCredential");
  if (typeof source !== "function") {
    throw check.error("'source' must be a function that returns the signed assertion (a JWT).");
  }
  const load = async ({ clientId, tokenEndpoint, tenantId, claims }: CredentialContext): Promise<string> => {
    let value: unknown;
    try {
      value = await source(Object.freeze({ clientId, tokenEndpoint, tenantId, claims }));
    } catch (error) {
      if (error instanceof DaemonAuthError) throw error;
      throw new CredentialError("The assertion callback failed: check the identity provider that issues the federated token.", {
        cause: error,
      });
    }
    if (typeof value !== "string" || value.trim() === "") {
      throw new CredentialError("The assertion callback returned no assertion: it must return the signed assertion (a JWT) as a non-empty string.");
    }
    return value.trim();
  };
  return createAssertionCredential(check, load, "assertion (callback)", options, (context) => context.tokenEndpoint);
}

/**
 * The credential both factories share: keeps what `load` returns, per `keyOf` of the
 * request (one key for all: a token file's content does not depend on the request), until
 * `maxAgeMs` or shortly before its `exp`, with one load per key at a time.
 *
 * @internal
 */
export function createAssertionCredential(
  check: OptionChecks,
  load: (context: CredentialContext) => Promise<string>,
  description: string,
  options: AssertionCredentialOptions,
  keyOf: (context: CredentialContext) => string = () => "",
): AssertionCredential {
  if (options === null || typeof options !== "object") {
    throw check.error("the options must be an object, e.g. { maxAgeMs: 300000 }.");
  }
  // 0 reads the source for every token request.
  const maxAgeMs = check.milliseconds("maxAgeMs", options.maxAgeMs, DEFAULT_ASSERTION_MAX_AGE_MS, { allowZero: true });
  const clock = check.clock("clock", options.clock, systemClock);

  const kept = new Map<string, { value: string; refreshAt: number }>();
  const inflight = new Map<string, Promise<string>>();
  // Bumped by reload(): a load that started before it must not put its (old) result back.
  let generation = 0;

  const current = (context: CredentialContext): Promise<string> => {
    const key = keyOf(context);
    const now = clock.now();
    const held = kept.get(key);
    if (held && now < held.refreshAt) return Promise.resolve(held.value);
    const pending = inflight.get(key);
    if (pending) return pending;
    const started = generation;
    const loading = load(context).then((value) => {
      if (started === generation) {
        // Only live entries stay: one per endpoint in use, not one per endpoint ever seen.
        for (const [other, entry] of kept) if (entry.refreshAt <= now) kept.delete(other);
        kept.set(key, { value, refreshAt: refreshTime(value, clock.now(), maxAgeMs) });
      }
      return value;
    });
    inflight.set(key, loading);
    const clear = () => {
      if (inflight.get(key) === loading) inflight.delete(key);
    };
    void loading.then(clear, clear);
    return loading;
  };

  const credential: AssertionCredential = {
    kind: "assertion",
    description,
    async getAuthentication(context) {
      throwIfAborted(context.signal, "Reading the client assertion");
      const clientAssertion = await raceAbort(current(context), context.signal, "Reading the client assertion");
      return { clientAssertion, clientAssertionType: JWT_BEARER_ASSERTION_TYPE };
    },
    async reload() {
      generation += 1;
      kept.clear();
      inflight.clear();
    },
    async dispose() {
      generation += 1;
      kept.clear();
      inflight.clear();
    },
  };
  return redacted(credential, description);
}

function refreshTime(value: string, now: number, maxAgeMs: number): number {
  const byAge = now + maxAgeMs;
  const expiresAt = jwtExpiry(value);
  if (expiresAt === undefined) return byAge;
  return Math.min(byAge, expiresAt - Math.min(EXPIRY_MARGIN_MS, Math.max(0, (expiresAt - now) / 2)));
}

