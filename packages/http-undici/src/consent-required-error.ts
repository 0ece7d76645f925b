import { DaemonAuthError } from "@daemon-auth/core";

/** What {@link ConsentRequiredError} knows about the refusal. */
export interface ConsentRequiredDetails {
  /** The HTTP status of the API's answer (403). */
  status: number;
  /** The API URL, without its query string. */
  url: string;
  /** The scopes the token was acquired for. */
  scopes: readonly string[];
  /** The tenant whose admin must consent. */
  tenantId: string;
  /** The app that needs the permission. */
  clientId: string;
  /** The admin consent URL to hand to a tenant admin. */
  adminConsentUrl: string;
  /** What the API said: Graph's `error.code` or the challenge's `error`. */
  apiError: string;
  /** The API's request id (Graph `innerError.request-id`), for support. */
  requestId?: string | undefined;
}

/**
 * The API refused the app-only token because the app lacks an application permission
 * (Graph `Authorization_RequestDenied`, or a `WWW-Authenticate` challenge with
 * `error="insufficient_scope"`). Client credentials have no user to prompt: a tenant
 * admin must grant the permission, at {@link ConsentRequiredError.adminConsentUrl}.
 *
 * Its code, `"ERR_CONSENT_REQUIRED"`, is one of core's `DaemonAuthErrorCode`s; `instanceof`
 * also gives the typed details.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-admin-consent
 */
export class ConsentRequiredError extends DaemonAuthError {
  override readonly code = "ERR_CONSENT_REQUIRED";
  /** The HTTP status of the API's answer. */
  readonly status: number;
  /** The API URL, without its query string. */
  readonly url: string;
  /** The scopes the token was acquired for. */
  readonly scopes: readonly string[];
  /** The tenant whose admin must consent. */
  readonly tenantId: string;
  /** The app that needs the permission. */
  readonly clientId: string;
  /** Where a tenant admin grants the permission. */
  readonly adminConsentUrl: string;
  /** What the API said: Graph's `error.code` or the challenge's `error`. */
  readonly apiError: string;
  /** The API's request id, for support. */
  readonly requestId: string | undefined;

  constructor(details: ConsentRequiredDetails, options?: { cause?: unknown }) {
    super(
      `${details.url} answered ${details.status} (${details.apiError}): the app ${details.clientId} lacks the application permission ` +
        `(app role) this call needs on ${details.scopes.join(" ")}. App-only tokens carry only permissions a tenant admin has granted: ` +
        `add the permission to the app registration, then have an admin of tenant ${details.tenantId} grant admin consent at ` +
        `${details.adminConsentUrl} and retry.` +
        (details.requestId ? ` [request id ${details.requestId}]` : ""),
      options,
    );
    this.status = details.status;
    this.url = details.url;
    this.scopes = details.scopes;
    this.tenantId = details.tenantId;
    this.clientId = details.clientId;
    this.adminConsentUrl = details.adminConsentUrl;
    this.apiError = details.apiError;
    this.requestId = details.requestId;
  }
}
