/**
 * The seam through which a client authenticates itself at a token endpoint.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3 (client authentication)
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2 (JWT client assertions)
 */

/** What the token endpoint is, so an assertion can be addressed to it. */
export interface CredentialContext {
  /** The token endpoint URL: the `aud` of a client assertion. */
  readonly tokenEndpoint: string;
  /** The application (client) id: `iss` and `sub` of a client assertion. */
  readonly clientId: string;
  /**
   * `"entra"` for Microsoft identity platform authorities, `"generic"` for any other
   * OAuth 2.0 server. Certificates pick their JWS algorithm and assertion reuse by it.
   */
  readonly authorityKind: "entra" | "generic";
  /**
   * The tenant the token is requested for (Entra, lower case), so one assertion callback
   * can serve several tenants; `undefined` for a generic issuer.
   */
  readonly tenantId?: string | undefined;
  /** The resource's claims challenge (JSON) this request answers, if any. */
  readonly claims?: string | undefined;
  /** Fires when the caller gives up; a credential doing I/O should stop. */
  readonly signal?: AbortSignal | undefined;
}

/** A client secret: sent as `client_secret` (post) or in an HTTP Basic header. */
export interface ClientSecretAuthentication {
  readonly clientSecret: string;
}

/** A signed client assertion (RFC 7523): sent as `client_assertion` + `client_assertion_type`. */
export interface ClientAssertionAuthentication {
  readonly clientAssertion: string;
  /** @default "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" */
  readonly clientAssertionType?: string;
}

/** Client authentication for one token request. Core turns it into form fields or a header. */
export type ClientAuthentication = ClientSecretAuthentication | ClientAssertionAuthentication;

/** Why core asks a credential to reload. */
export interface ReloadReason {
  /** The AADSTS codes of the rejection. */
  readonly errorCodes: readonly number[];
  /** The OAuth `error` of the rejection. */
  readonly error: string;
}

/**
 * Authenticates the client at a token endpoint. Implementations must keep secret
 * material out of `toString`, `JSON.stringify` and `util.inspect` (wrap the credential in
 * {@link redacted}, exported by this package).
 */
export interface ClientCredential {
  /** What the credential is, for logs: `"secret"`, `"certificate"`, `"assertion"`, … */
  readonly kind: string;
  /** A short, secret-free description for logs, e.g. `certificate(x5t#S256=…)`. */
  readonly description?: string;
  /** Client authentication for one request to `context.tokenEndpoint`. */
  getAuthentication(context: CredentialContext): Promise<ClientAuthentication>;
  /**
   * Called after the server rejected this credential with a rotation-type error
   * (expired or unknown secret or certificate). Drop cached material and re-read it
   * from its source, so the next {@link getAuthentication} returns fresh material.
   */
  reload?(reason: ReloadReason): Promise<void>;
  /** Releases timers, watchers and clients. Safe to call twice. */
  dispose?(): Promise<void>;
}

/** The JWT-bearer client assertion type of RFC 7523. */
export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
