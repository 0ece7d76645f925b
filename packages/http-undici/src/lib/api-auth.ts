/**
 * What `createApiFetch` and `createApiInterceptor` share: token acquisition for the
 * configured scopes, the reading of 401 challenges and of 403 consent refusals.
 * No undici import: the two front ends differ only in how they move bytes.
 */
import { InvalidResponseError, type AcquireTokenRequest, type DaemonClient } from "@daemon-auth/core";
import { optionChecks, type OptionChecks } from "@daemon-auth/core/adapter";
import { buildAdminConsentUrl } from "@daemon-auth/core/protocol";
import { ConsentRequiredError } from "../consent-required-error.js";
import { parseWwwAuthenticate, type WwwAuthenticateChallenge } from "../www-authenticate.js";

/** Where a consent hint points; see {@link ApiAuthOptions.consent}. */
export interface ConsentOptions {
  /**
   * The app whose permissions need consent.
   * @default the client's `clientId`
   */
  clientId?: string;
  /** A redirect URI registered on the app, for the admin consent URL. @default none */
  redirectUri?: string;
  /**
   * The sign-in host of the consent URL (another cloud, or the emulator).
   * @default "https://login.microsoftonline.com"
   */
  authorityHost?: string;
}

/** Options shared by {@link createApiFetch} and {@link createApiInterceptor}. */
export interface ApiAuthOptions {
  /** The daemon client that acquires the tokens (it caches them). */
  client: DaemonClient;
  /** The scope of the API, e.g. `["https://graph.microsoft.com/.default"]`. */
  scopes: readonly string[];
  /**
   * Acquire tokens for this tenant instead of the client's (multi-tenant apps).
   * @default the client's tenant
   */
  tenantId?: string;
  /** How to build the admin consent URL of a {@link ConsentRequiredError}. @default the client's app, public cloud */
  consent?: ConsentOptions;
  /**
   * Only requests to these origins (`https://graph.microsoft.com`) get the token; others
   * pass through untouched. Set it whenever the function or dispatcher may reach other
   * hosts, so the token is never sent where it does not belong.
   * @default every origin
   */
  origins?: readonly string[];
}

/** The second attempt after a 401: with the challenge's claims, or with a fresh token. */
export type RetryPlan = { readonly claims: string } | { readonly forceRefresh: true };

/** What a 403 said about missing consent. */
export interface ConsentSignal {
  readonly apiError: string;
  readonly requestId?: string | undefined;
}

/** Largest 403 body read to look for a consent refusal; bigger ones are passed through. */
export const CONSENT_BODY_LIMIT = 64 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Validated options plus the small state both front ends need. */
export class ApiAuth {
  readonly #client: DaemonClient;
  readonly #scopes: readonly string[];
  readonly #tenantId: string | undefined;
  readonly #consent: ConsentOptions;
  readonly #origins: ReadonlySet<string> | undefined;
  /** The tenant of the last token, for a consent URL when none was configured. */
  #lastTenant: string | undefined;

  constructor(options: ApiAuthOptions, factory: string) {
    const check = optionChecks(factory);
    if (typeof options !== "object" || options === null) {
      throw check.error("pass options with a client and scopes.");
    }
    const { client, scopes, tenantId, consent = {}, origins } = options;
    if (typeof client?.acquireTokenForClient !== "function") {
      throw check.error("'client' must be a DaemonClient (from createDaemonClient).");
    }
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((scope) => typeof scope === "string" && scope.trim() !== "")) {
      throw check.error(`'scopes' must be a non-empty list, such as ["https://graph.microsoft.com/.default"].`);
    }
    if (tenantId !== undefined && (typeof tenantId !== "string" || tenantId.trim() === "")) {
      throw check.error("'tenantId' must be a tenant GUID or verified domain, or left out to use the client's tenant.");
    }
    this.#client = client;
    this.#scopes = [...(scopes as readonly string[])];
    this.#tenantId = tenantId;
    this.#consent = { ...consent };
    if (origins !== undefined) {
      if (!Array.isArray(origins) || origins.length === 0) {
        throw check.error(`'origins' must be a non-empty list such as ["https://graph.microsoft.com"], or left out.`);
      }
      this.#origins = new Set(origins.map((origin: unknown) => originOf(origin, check)));
    }
    // A malformed consent option should fail now, not when an API first says 403.
    buildAdminConsentUrl(this.#consentUrlOptions(tenantId ?? "organizations"));
  }

  /** Whether a request to `url` gets the token. */
  appliesTo(url: URL): boolean {
    return this.#origins === undefined || this.#origins.has(url.origin);
  }

  /** The `Authorization` header value for a token of the configured scopes. */
  async authorization(extra: { claims?: string; forceRefresh?: boolean; signal?: AbortSignal | undefined }): Promise<string> {
    const request: AcquireTokenRequest = {
      scopes: this.#scopes,
      ...(this.#tenantId !== undefined && { tenantId: this.#tenantId }),
      ...(extra.claims !== undefined && { claims: extra.claims }),
      ...(extra.forceRefresh === true && { forceRefresh: true }),
      ...(extra.signal !== undefined && { signal: extra.signal }),
    };
    const result = await this.#client.acquireTokenForClient(request);
    this.#lastTenant = result.tenantId;
    return `Bearer ${result.accessToken}`;
  }

  /**
   * How to retry after a 401: a Bearer challenge with `claims` (Entra's
   * `error="insufficient_claims"`, or ARM's `error="invalid_token"` under CAE) asks for a
   * token with those claims; any other 401 asks for a fresh token.
   *
   * @throws {InvalidResponseError} when the claims are not base64(url)-encoded JSON.
   */
  retryPlan(wwwAuthenticate: string | readonly string[] | null | undefined, url: URL): RetryPlan {
    const challenge = bearerChallenges(wwwAuthenticate).find((candidate) => candidate.params.claims !== undefined);
    if (challenge === undefined) return { forceRefresh: true };
    return { claims: decodeClaims(challenge.params.claims ?? "", url) };
  }

  /** A consent refusal carried by the `WWW-Authenticate` header of a 403. */
  consentFromChallenge(wwwAuthenticate: string | readonly string[] | null | undefined): ConsentSignal | undefined {
    const challenge = bearerChallenges(wwwAuthenticate).find((candidate) => candidate.params.error?.toLowerCase() === "insufficient_scope");
    return challenge === undefined ? undefined : { apiError: "insufficient_scope" };
  }

  /** A consent refusal in a 403 body of Microsoft Graph's shape. */
  consentFromBody(contentType: string | null | undefined, body: Uint8Array): ConsentSignal | undefined {
    if (!isJson(contentType)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(body));
    } catch {
      return undefined;
    }
    const error = (parsed as { error?: unknown } | null)?.error;
    if (typeof error !== "object" || error === null) return undefined;
    const code = (error as { code?: unknown }).code;
    if (code !== "Authorization_RequestDenied") return undefined;
    const inner = (error as { innerError?: unknown; innererror?: unknown }).innerError ?? (error as { innererror?: unknown }).innererror;
    const requestId = typeof inner === "object" && inner !== null ? (inner as Record<string, unknown>)["request-id"] : undefined;
    return { apiError: code, requestId: typeof requestId === "string" ? requestId : undefined };
  }

  /** The error to throw for a consent refusal. */
  consentError(status: number, url: URL, signal: ConsentSignal): ConsentRequiredError {
    let tenantId = this.#tenantId ?? this.#lastTenant ?? "organizations";
    let adminConsentUrl: string;
    try {
      adminConsentUrl = buildAdminConsentUrl(this.#consentUrlOptions(tenantId));
    } catch {
      // A tenant the consent endpoint would not take: let the admin pick theirs.
      tenantId = "organizations";
      adminConsentUrl = buildAdminConsentUrl(this.#consentUrlOptions(tenantId));
    }
    return new ConsentRequiredError({
      status,
      url: `${url.origin}${url.pathname}`,
      scopes: this.#scopes,
      tenantId,
      clientId: this.#consent.clientId ?? this.#client.clientId,
      adminConsentUrl,
      apiError: signal.apiError,
      requestId: signal.requestId,
    });
  }

  #consentUrlOptions(tenantId: string): Parameters<typeof buildAdminConsentUrl>[0] {
    const { redirectUri, authorityHost } = this.#consent;
    return {
      tenantId,
      clientId: this.#consent.clientId ?? this.#client.clientId,
      ...(redirectUri !== undefined && { redirectUri }),
      ...(authorityHost !== undefined && { authorityHost }),
    };
  }
}

/** True for a `ReadableStream`/async-iterable body, which a retry could not send again. */
export function isReplayableBody(body: unknown): boolean {
  if (body === null || body === undefined || typeof body === "string") return true;
  if (body instanceof URLSearchParams || body instanceof Blob || body instanceof FormData) return true;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return true;
  return false;
}

function bearerChallenges(header: string | readonly string[] | null | undefined): WwwAuthenticateChallenge[] {
  return parseWwwAuthenticate(header).filter((challenge) => challenge.scheme.toLowerCase() === "bearer");
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Decodes the `claims` of a challenge: base64 or base64url of a JSON object. */
export function decodeClaims(encoded: string, url: URL): string {
  const fail = (cause?: unknown): never => {
    throw new InvalidResponseError(
      `${url.origin}${url.pathname} answered 401 with a claims challenge that is not base64-encoded JSON, so the request was not retried. ` +
        "The API's WWW-Authenticate header is malformed: report it to the API's owner.",
      { status: 401, cause },
    );
  };
  const value = encoded.trim();
  if (value === "" || (!BASE64.test(value) && !BASE64URL.test(value))) return fail();
  const unpadded = value.replace(/=+$/, "");
  if (unpadded.length % 4 === 1) return fail();
  const standard = unpadded.replace(/-/g, "+").replace(/_/g, "/");
  let text: string;
  try {
    const binary = atob(standard + "=".repeat((4 - (standard.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    text = utf8.decode(bytes);
  } catch (cause) {
    return fail(cause);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    return fail(cause);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return fail();
  return text;
}

/** Whether a body of this type could hold a JSON consent refusal worth reading. */
export function isJson(contentType: string | null | undefined): boolean {
  if (typeof contentType !== "string") return false;
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || type.endsWith("+json");
}

function originOf(value: unknown, check: OptionChecks): string {
  try {
    if (typeof value === "string" || value instanceof URL) {
      const url = new URL(value);
      if (url.protocol === "https:" || url.protocol === "http:") return url.origin;
    }
  } catch {
    // Fall through to the configuration error.
  }
  throw check.error("each of 'origins' must be an absolute http(s) URL such as https://graph.microsoft.com.");
}
