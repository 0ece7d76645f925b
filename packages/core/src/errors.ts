/**
 * Every error daemon-auth throws is a {@link DaemonAuthError}: one base class with a
 * string `code` and the original `cause`, and a flat set of subclasses. Messages say
 * what to do next and never contain a secret, an assertion or a token.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 */

import { hasEcho, redactEchoes } from "./redacted.js";

/** The string codes of {@link DaemonAuthError} and its subclasses. */
export type DaemonAuthErrorCode =
  | "ERR_CONFIGURATION"
  | "ERR_INVALID_REQUEST"
  | "ERR_CREDENTIAL"
  | "ERR_CACHE"
  | "ERR_HTTP"
  | "ERR_INVALID_RESPONSE"
  | "ERR_TIMEOUT"
  | "ERR_ABORTED"
  | "ERR_THROTTLED"
  | "ERR_CONSENT_REQUIRED"
  | "ERR_SERVER";

/** The base class of every error this project throws. */
export class DaemonAuthError extends Error {
  /** A stable, machine-readable code; subclasses override it. */
  readonly code: DaemonAuthErrorCode = "ERR_CONFIGURATION";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The client, a credential or a store was configured wrongly; fix the configuration. */
export class ConfigurationError extends DaemonAuthError {
  override readonly code = "ERR_CONFIGURATION";
}

/** A token request is malformed (scopes, tenant, claims); refused before any I/O. */
export class InvalidRequestError extends DaemonAuthError {
  override readonly code = "ERR_INVALID_REQUEST";
}

/** A credential could not produce client authentication (file unreadable, callback failed, …). */
export class CredentialError extends DaemonAuthError {
  override readonly code = "ERR_CREDENTIAL";
}

/** A cache store failed. Core treats store failures as misses; stores throw this to say why. */
export class CacheError extends DaemonAuthError {
  override readonly code = "ERR_CACHE";
}

/** The transport failed or the server answered with an HTTP status that is not a protocol error. */
export class HttpError extends DaemonAuthError {
  override readonly code: DaemonAuthErrorCode = "ERR_HTTP";
  /** The HTTP status, when a response arrived. */
  readonly status: number | undefined;

  constructor(message: string, options?: { cause?: unknown; status?: number | undefined }) {
    super(message, options);
    this.status = options?.status;
  }
}

/** The server answered, but not with a well-formed token or error response. */
export class InvalidResponseError extends HttpError {
  override readonly code = "ERR_INVALID_RESPONSE";
}

/** An attempt or the whole acquisition ran out of time. */
export class TimeoutError extends DaemonAuthError {
  override readonly code = "ERR_TIMEOUT";
}

/** The caller's `AbortSignal` fired. */
export class AbortError extends DaemonAuthError {
  override readonly code = "ERR_ABORTED";
}

/** The server throttled the client (HTTP 429 or 503 with `Retry-After`); no request is sent before `retryAfter`. */
export class ThrottledError extends DaemonAuthError {
  override readonly code = "ERR_THROTTLED";
  /** When requests for this token may resume. */
  readonly retryAfter: Date;

  constructor(message: string, options: { cause?: unknown; retryAfter: Date }) {
    super(message, options);
    this.retryAfter = options.retryAfter;
  }
}

/**
 * The fields of an OAuth 2.0 / Entra error response. Every text field goes through the
 * echo rule of {@link ServerError} before it is kept.
 */
export interface ServerErrorDetails {
  /** HTTP status of the response. */
  status: number;
  /** OAuth 2.0 `error`, e.g. `invalid_client`. */
  error: string;
  /** Entra `error_codes` (AADSTS numbers), empty for generic servers. */
  errorCodes: readonly number[];
  /** The server's `error_description`, kept for support; may be long. */
  errorDescription?: string | undefined;
  /** Entra `trace_id`. */
  traceId?: string | undefined;
  /** Entra `correlation_id` (the `client-request-id` that was sent). */
  correlationId?: string | undefined;
  /** Entra `timestamp`. */
  timestamp?: string | undefined;
  /** Entra `error_uri`. */
  errorUri?: string | undefined;
  /**
   * The secret values the request carried (client secret, client assertion, the
   * `Authorization` header), so that a server echoing them gets them redacted from every
   * kept field. Not stored.
   * @default none
   */
  sent?: readonly string[] | undefined;
}

/** The token endpoint refused the request with an OAuth 2.0 error response. */
export class ServerError extends DaemonAuthError {
  override readonly code = "ERR_SERVER";
  readonly status: number;
  readonly error: string;
  readonly errorCodes: readonly number[];
  readonly errorDescription: string | undefined;
  readonly traceId: string | undefined;
  readonly correlationId: string | undefined;
  readonly timestamp: string | undefined;
  readonly errorUri: string | undefined;
  /** What the user should do, for the AADSTS codes we know; `undefined` otherwise. */
  readonly mitigation: string | undefined;

  constructor(details: ServerErrorDetails, options?: { cause?: unknown }) {
    const mitigation = mitigationFor(details.errorCodes, details.error);
    const codes = details.errorCodes.length > 0 ? ` (AADSTS${details.errorCodes.join(", AADSTS")})` : "";
    // One echo rule for the message and every field, since util.inspect and JSON.stringify
    // show the fields too: ids only as GUIDs, the error code only in its protocol shape,
    // and free text with what the request sent (and anything JWT-shaped) redacted.
    const sent = details.sent ?? [];
    const traceId = guidOrUndefined(details.traceId, sent);
    const correlationId = guidOrUndefined(details.correlationId, sent);
    const ids = [traceId && `trace id ${traceId}`, correlationId && `correlation id ${correlationId}`].filter(Boolean).join(", ");
    const error = ERROR_CODE_SHAPE.test(details.error) && !hasEcho(details.error, sent) ? details.error : undefined;
    super(
      `The token endpoint refused the request: ${error ?? "an unrecognised error (see 'error')"}${codes}.` +
        (mitigation ? ` ${mitigation}` : "") +
        (ids ? ` [${ids}]` : ""),
      options,
    );
    this.status = details.status;
    this.error = error ?? (redactEchoes(String(details.error), sent, MAX_ERROR_LENGTH) || "unrecognised_error");
    this.errorCodes = details.errorCodes;
    this.errorDescription = echoField(details.errorDescription, sent, MAX_DESCRIPTION_LENGTH);
    this.traceId = traceId;
    this.correlationId = correlationId;
    this.timestamp = echoField(details.timestamp, sent, MAX_SHORT_FIELD_LENGTH);
    this.errorUri = echoField(details.errorUri, sent, MAX_DESCRIPTION_LENGTH);
    this.mitigation = mitigation;
  }

  /** True when any of `codes` is among this error's AADSTS codes. */
  hasCode(...codes: number[]): boolean {
    return codes.some((code) => this.errorCodes.includes(code));
  }
}

/** An OAuth 2.0 error code as servers send them: `invalid_client`, `temporarily_unavailable`. */
const ERROR_CODE_SHAPE = /^[a-z][a-z0-9_]{0,63}$/;
/** A GUID, as Entra writes tenant, trace and correlation ids and this client generates them. */
const GUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ERROR_LENGTH = 100;
const MAX_SHORT_FIELD_LENGTH = 100;
const MAX_DESCRIPTION_LENGTH = 2000;

/**
 * True when `value` is a GUID (`8-4-4-4-12` hex digits, any case): Entra tenant ids,
 * trace and correlation ids.
 *
 * @example
 * isGuid("72F988BF-86F1-41AF-91AB-2D7CD011DB47"); // true
 */
export function isGuid(value: unknown): value is string {
  return typeof value === "string" && GUID_SHAPE.test(value);
}

function guidOrUndefined(value: string | undefined, sent: readonly string[]): string | undefined {
  return isGuid(value) && !hasEcho(value, sent) ? value : undefined;
}

function echoField(value: string | undefined, sent: readonly string[], max: number): string | undefined {
  return typeof value === "string" ? redactEchoes(value, sent, max) : undefined;
}

const MITIGATIONS: ReadonlyMap<number, string> = new Map([
  [
    1002012,
    "Entra needs an app-only scope ending in '/.default': request '<resource>/.default' (for example 'https://graph.microsoft.com/.default'), not a delegated permission name.",
  ],
  [70011, "Request a scope of the form '<resource>/.default' (for example 'https://graph.microsoft.com/.default')."],
  [700022, "Request one resource per call: one '<resource>/.default' scope."],
  [7000215, "The client secret is wrong: send the secret's value, not its id, and check that it was not rotated."],
  [7000222, "The client secret has expired: create a new secret on the app registration and configure it."],
  [7000218, "No client credential was sent: configure a client secret, certificate or federated assertion."],
  [700016, "The application was not found in the tenant: check the client id and tenant, or have the tenant's admin consent to the app."],
  [700027, "The client assertion's certificate is not registered on the app (or was rotated): upload the certificate or reload the credential."],
  [700024, "The client assertion is outside its time range: check the clock; a fresh assertion will be signed."],
  [7000214, "The certificate was revoked: rotate to a new certificate."],
  [7000277, "The certificate was revoked: rotate to a new certificate."],
  [7000274, "The client assertion's signature is invalid: check that the private key matches the certificate."],
  [1000502, "The certificate is outside its validity window: rotate to a valid certificate."],
  [700211, "No federated identity credential on the app matches the assertion's issuer: add one for this issuer to the app registration."],
  [700212, "No federated identity credential on the app matches the assertion's audience: use 'api://AzureADTokenExchange' or add the audience."],
  [700213, "No federated identity credential on the app matches the assertion's subject: add one for this subject (e.g. the service account) to the app registration."],
  [50013, "The client assertion is malformed: check the credential's configuration."],
  [90002, "The tenant was not found: check the tenant id or verified domain name."],
  [900023, "The tenant identifier is not valid: use the tenant's GUID or a verified domain name."],
  [500011, "The resource is not provisioned in the tenant: check the scope's resource, or have the tenant's admin consent to the API."],
  [650057, "The resource is not in the app's required permissions: add the API permission to the app registration and grant admin consent."],
  [50196, "Loop detected: the client asked for the same token too often. Use a cache and do not bypass it on every call."],
  [90055, "The tenant is throttled: back off and retry later."],
]);

/** Codes that no retry can fix: the configuration must change. */
export const PERMANENT_ERROR_CODES: ReadonlySet<number> = new Set([
  7000215, 7000222, 7000218, 700016, 90002, 900023, 500011, 650057, 70011, 1002012, 700022, 700211, 700212, 700213,
]);

/** Codes that say the client credential was rejected and a reloaded or next credential may work. */
export const ROTATION_ERROR_CODES: ReadonlySet<number> = new Set([
  700027, 700024, 7000214, 7000274, 7000277, 1000502, 7000215, 7000222,
]);

function mitigationFor(codes: readonly number[], error: string): string | undefined {
  for (const code of codes) {
    const hint = MITIGATIONS.get(code);
    if (hint) return hint;
  }
  if (error === "invalid_client") return "Check the client id and the client credential.";
  if (error === "invalid_scope") return "Check the requested scope.";
  if (error === "unauthorized_client") return "The client is not allowed to use the client credentials grant on this server.";
  return undefined;
}
