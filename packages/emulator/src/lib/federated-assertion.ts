// Federated identity credentials (workload identity federation): a token of an
// external OpenID issuer is accepted as the app's client assertion when its
// iss, sub and aud match a credential on the app and it verifies against the
// issuer's published keys. Checks run in Entra's order with its codes.
import { compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, type JSONWebKeySet, type JWTPayload, type ProtectedHeaderParameters } from "jose";
import { AadstsFailure } from "../aadsts.js";
import { normalizeClientId } from "../identifiers.js";
import type { ApplicationState } from "./directory.js";

const SKEW_MS = 5 * 60_000;
const ALGORITHMS = ["RS256", "ES256"];
/** Keys of an issuer are reused this long (real time) before discovery runs again. */
const KEY_CACHE_MS = 5 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

type KeyGetter = ReturnType<typeof createLocalJWKSet>;

/** Finds the signing keys of external issuers: OIDC discovery, then the JWKS, cached briefly. */
export class IssuerKeys {
  private readonly cache = new Map<string, { expiresAt: number; keys: Promise<KeyGetter> }>();

  /** @param local issuer → JWKS served in-process (the emulator's own external issuer), skipping HTTP. */
  constructor(private readonly local: (issuer: string) => JSONWebKeySet | undefined = () => undefined) {}

  /** Whether `issuer` is served in-process: the emulator's own external issuer, or its own token issuer (managed identity tokens). */
  isLocal(issuer: string): boolean {
    return this.local(issuer) !== undefined;
  }

  /** The key getter of `issuer`; `fresh` bypasses the cache (a kid that is not in it may be a rotated key). */
  get(issuer: string, fresh = false): Promise<KeyGetter> {
    const local = this.local(issuer);
    if (local !== undefined) return Promise.resolve(createLocalJWKSet(local));
    const cached = this.cache.get(issuer);
    if (!fresh && cached !== undefined && cached.expiresAt > Date.now()) return cached.keys;
    const keys = discover(issuer);
    this.cache.set(issuer, { expiresAt: Date.now() + KEY_CACHE_MS, keys });
    // A failed discovery is not remembered: the next request tries again.
    void keys.catch(() => {
      if (this.cache.get(issuer)?.keys === keys) this.cache.delete(issuer);
    });
    return keys;
  }
}

function unreachable(issuer: string, detail: string): AadstsFailure {
  return new AadstsFailure(90061, `Request to External OIDC endpoint failed. Issuer '${issuer}': ${detail}. Check that the issuer publishes /.well-known/openid-configuration and its jwks_uri, reachable from the emulator.`);
}

function allowedUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || (parsed.protocol === "http:" && LOOPBACK_HOSTS.has(parsed.hostname.toLowerCase()));
  } catch {
    return false;
  }
}

async function getJson(url: string, issuer: string): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "application/json" }, redirect: "error", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (error) {
    throw unreachable(issuer, `GET ${url} failed (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!response.ok) throw unreachable(issuer, `GET ${url} answered HTTP ${response.status}`);
  try {
    const body: unknown = await response.json();
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("not an object");
    return body as Record<string, unknown>;
  } catch {
    throw unreachable(issuer, `GET ${url} did not return a JSON object`);
  }
}

async function discover(issuer: string): Promise<KeyGetter> {
  const metadataUrl = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const metadata = await getJson(metadataUrl, issuer);
  const jwksUri = metadata.jwks_uri;
  if (typeof jwksUri !== "string" || !allowedUrl(jwksUri)) {
    throw unreachable(issuer, "the discovery document has no https jwks_uri (http only on loopback)");
  }
  const jwks = await getJson(jwksUri, issuer);
  if (!Array.isArray(jwks.keys)) throw unreachable(issuer, `${jwksUri} is not a JWK set (no keys array)`);
  try {
    return createLocalJWKSet(jwks as unknown as JSONWebKeySet);
  } catch {
    throw unreachable(issuer, `${jwksUri} is not a valid JWK set`);
  }
}

function invalid(reason: string): AadstsFailure {
  return new AadstsFailure(50013, `Assertion is invalid. [Reason - ${reason}]`);
}

/**
 * The issuer of an assertion that should be checked as a federated token: one
 * without a certificate thumbprint (`x5t`, `x5t#S256`, `x5c`) whose `iss` is
 * not the client id, or a token of an issuer the emulator serves itself (its
 * managed identity tokens carry `x5t`, as Entra's do). Returns undefined for
 * self-issued (certificate) assertions.
 */
export function federatedIssuer(assertion: string, clientId: string, keys?: Pick<IssuerKeys, "isLocal">): string | undefined {
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    return undefined;
  }
  if (typeof claims.iss !== "string" || normalizeClientId(claims.iss) === normalizeClientId(clientId)) return undefined;
  const thumbprinted = header.x5t !== undefined || header["x5t#S256"] !== undefined || header.x5c !== undefined;
  if (thumbprinted && keys?.isLocal(claims.iss) !== true) return undefined;
  return claims.iss;
}

/** What a federated assertion is checked against. */
export interface FederatedCheck {
  assertion: string;
  issuer: string;
  app: ApplicationState;
  keys: IssuerKeys;
  now: number;
}

const CHECK_FIC = "Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

/** Returns normally for a valid federated assertion; throws an {@link AadstsFailure} otherwise. */
export async function validateFederatedAssertion(check: FederatedCheck): Promise<void> {
  const { assertion, issuer, app, now } = check;
  const clientId = app.config.clientId;
  const claims = decodeJwt(assertion);
  const byIssuer = app.federatedCredentials.filter((credential) => credential.issuer === issuer);
  if (byIssuer.length === 0) {
    throw new AadstsFailure(700211, `No matching federated identity record found for presented assertion issuer '${issuer}'. Please note that the matching is done using a case-sensitive comparison. Add a federated credential with this issuer to app '${clientId}'. ${CHECK_FIC}`);
  }
  const subject = typeof claims.sub === "string" ? claims.sub : "";
  const bySubject = byIssuer.filter((credential) => credential.subject === subject);
  if (bySubject.length === 0) {
    throw new AadstsFailure(700213, `No matching federated identity record found for presented assertion subject '${subject}'. Please note that the matching is done using a case-sensitive comparison. ${CHECK_FIC}`);
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
  if (!bySubject.some((credential) => credential.audiences.some((audience) => audiences.includes(audience)))) {
    throw new AadstsFailure(700212, `No matching federated identity record found for presented assertion audience '${audiences.join(", ")}'. Please note that the matching is done using a case-sensitive comparison. ${CHECK_FIC}`);
  }
  const header = decodeProtectedHeader(assertion);
  if (typeof header.alg !== "string" || !ALGORITHMS.includes(header.alg)) {
    throw invalid(`alg '${String(header.alg)}' is not supported for federated tokens; the issuer must sign with RS256 or ES256`);
  }
  const verify = async (fresh: boolean): Promise<void> => {
    await compactVerify(assertion, await check.keys.get(issuer, fresh), { algorithms: ALGORITHMS });
  };
  try {
    try {
      await verify(false);
    } catch (error) {
      // The issuer may have rotated its keys since they were cached.
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      await verify(true);
    }
  } catch (error) {
    if (error instanceof AadstsFailure) throw error;
    const reason = error instanceof errors.JWKSNoMatchingKey ? "The key was not found." : "The signature does not verify with the issuer's key.";
    throw new AadstsFailure(700027, `Client assertion failed signature validation. (Reason - ${reason} Key id used by the issuer: '${typeof header.kid === "string" ? header.kid : "none"}', issuer '${issuer}'.) The token must be signed by a key in the issuer's JWKS.`);
  }
  if (typeof claims.exp !== "number") throw invalid("the exp claim is missing; the issuer must set an expiry");
  const nbf = typeof claims.nbf === "number" ? claims.nbf : undefined;
  if (claims.exp * 1000 <= now || (nbf !== undefined && nbf * 1000 > now + SKEW_MS)) {
    const iso = (seconds: number | undefined): string => (seconds === undefined ? "(none)" : new Date(seconds * 1000).toISOString());
    throw new AadstsFailure(
      700024,
      `Client assertion is not within its valid time range. Current time: ${new Date(now).toISOString()}, assertion valid from ${iso(nbf)}, expiry time of assertion ${iso(claims.exp)}. Get a new token from the issuer (a projected token file is rewritten before it expires).`,
    );
  }
}
