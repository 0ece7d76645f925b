import type { DaemonAuthError } from "../errors.js";
import { ConfigurationError, HttpError, InvalidResponseError } from "../errors.js";
import type { HttpTransport } from "../transport.js";
import { readJsonObject, refuseRedirect, withDeadline } from "./http.js";
import { parseErrorResponse } from "./token-response.js";
import { checkServerUrl, printable } from "./validation.js";

/** What the client needs from a generic server's metadata. */
export interface ServerMetadata {
  /** The document's `issuer`: identical to the configured issuer. */
  readonly issuer: string;
  /** The document's `token_endpoint`, on the issuer's origin. */
  readonly tokenEndpoint: string;
  /**
   * The document's `token_endpoint_auth_methods_supported`: method names
   * (`client_secret_basic`, `client_secret_post`, `private_key_jwt`, …), deduplicated, in
   * the server's order. `undefined` when the document omits it, in which case RFC 8414
   * §2 and OpenID Connect Discovery say the default is `client_secret_basic`.
   */
  readonly authMethods: readonly string[] | undefined;
}

/** A JSON document fetched by {@link fetchMetadataDocument}. */
export interface MetadataDocument {
  /** The HTTP status; never a redirect (those are refused). */
  readonly status: number;
  /** The response headers (`date`, for clock checks). */
  readonly headers: Headers;
  /**
   * The body, when it is a JSON object. For status 200 it always is (anything else
   * throws); for other statuses `undefined` when the body is not JSON.
   */
  readonly body: Record<string, unknown> | undefined;
}

/**
 * GETs a metadata document (OpenID configuration, RFC 8414 metadata) the way core
 * fetches every document: redirects refused, not followed; the body capped at 1 MiB;
 * a deadline of `timeoutMs`. The body text never enters an error message.
 *
 * @throws {InvalidResponseError} on a redirect, or a 200 whose body is not a JSON object.
 * @throws {HttpError} when the transport fails or the deadline passes.
 */
export async function fetchMetadataDocument(
  url: string,
  transport: HttpTransport,
  options: { readonly timeoutMs: number; readonly signal?: AbortSignal | undefined },
): Promise<MetadataDocument> {
  const deadline = withDeadline(options.signal ?? new AbortController().signal, options.timeoutMs);
  try {
    let response: Response;
    try {
      response = await transport(url, {
        method: "GET",
        headers: { accept: "application/json" },
        signal: deadline.signal,
        redirect: "manual",
      });
    } catch (cause) {
      const reason = deadline.timedOut() ? `did not answer within ${options.timeoutMs} ms` : "could not be fetched";
      throw new HttpError(`The metadata document at ${url} ${reason}; check the issuer or authority and the network.`, { cause });
    }
    await refuseRedirect(response, url, "discovery document");
    if (response.status === 200) {
      return { status: 200, headers: response.headers, body: await readJsonObject(response, "discovery") };
    }
    let body: Record<string, unknown> | undefined;
    try {
      body = await readJsonObject(response, "discovery");
    } catch (error) {
      if (!(error instanceof InvalidResponseError)) throw error;
    }
    return { status: response.status, headers: response.headers, body };
  } finally {
    deadline.dispose();
  }
}

/**
 * Discovers a generic server's token endpoint: OpenID Connect Discovery first, then
 * RFC 8414 authorization server metadata. The document's `issuer` must be identical to
 * the configured one (a string comparison: OIDC Discovery §4.3, RFC 8414 §3.3), and its
 * `token_endpoint` must be on the issuer's origin (scheme, host and port), so a wrong or
 * hostile document cannot send the client's credentials to another server. Redirects
 * are refused.
 *
 * @param issuer the issuer identifier exactly as configured (a trailing `/` is kept and
 * must be in the document's `issuer` too).
 * @throws {ConfigurationError} when neither document exists.
 * @throws {InvalidResponseError} for a document that breaks the rules above.
 * @throws {HttpError} when the server cannot be reached or answers an error.
 *
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 */
export async function discoverMetadata(
  issuer: string,
  transport: HttpTransport,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ServerMetadata> {
  const issuerUrl = new URL(issuer);
  const path = issuerUrl.pathname.replace(/\/$/, "");
  // Both specs insert the well-known segment after removing a terminating '/'.
  const candidates = [
    `${issuerUrl.origin}${path}/.well-known/openid-configuration`,
    `${issuerUrl.origin}/.well-known/oauth-authorization-server${path}`,
  ];
  let lastError: DaemonAuthError | undefined;
  for (const url of candidates) {
    const { status, body } = await fetchMetadataDocument(url, transport, { timeoutMs, signal });
    if (status === 404) {
      lastError = new ConfigurationError(`No metadata document at ${url} (HTTP 404).`);
      continue;
    }
    if (status !== 200 || body === undefined) {
      const refusal = body === undefined ? undefined : parseErrorResponse(body, status);
      throw new HttpError(`The issuer's metadata at ${url} answered HTTP ${status}; check 'issuer', or retry later.`, {
        status,
        cause: refusal,
      });
    }
    return checkMetadata(body, issuer, url);
  }
  throw new ConfigurationError(
    `No OpenID Connect or OAuth 2.0 metadata was found for issuer '${issuer}'; check 'issuer' (it must be the server's issuer identifier).`,
    { cause: lastError },
  );
}

/** Method names as RFC 7591 registers them: `client_secret_basic`, `private_key_jwt`. */
const AUTH_METHOD = /^[A-Za-z0-9_.:-]{1,100}$/;

function checkMetadata(document: Record<string, unknown>, issuer: string, url: string): ServerMetadata {
  const declared = document["issuer"];
  if (declared !== issuer) {
    throw new InvalidResponseError(
      `The metadata at ${url} declares issuer ${typeof declared === "string" ? `'${printable(declared, 200)}'` : "none"}, not '${issuer}'. ` +
        "The issuer must be identical, character for character (case and trailing '/' included): set 'issuer' to the server's exact issuer identifier.",
    );
  }
  const tokenEndpoint = document["token_endpoint"];
  if (typeof tokenEndpoint !== "string") {
    throw new InvalidResponseError(`The metadata at ${url} has no 'token_endpoint'.`);
  }
  let endpointUrl: URL;
  try {
    endpointUrl = checkServerUrl(tokenEndpoint, "token_endpoint (from discovery)");
  } catch (error) {
    throw new InvalidResponseError(`The metadata at ${url} names an unusable 'token_endpoint': ${(error as Error).message}`);
  }
  const origin = new URL(issuer).origin;
  if (endpointUrl.origin !== origin) {
    throw new InvalidResponseError(
      `The metadata at ${url} names a token endpoint on ${endpointUrl.origin}, not on the issuer's origin ${origin}; ` +
        "the client credential is sent only to the issuer's origin. Check that 'issuer' names this server; if its tokens " +
        "really come from another origin, configure that origin as the issuer (its discovery document must name itself).",
    );
  }
  return { issuer, tokenEndpoint, authMethods: authMethods(document["token_endpoint_auth_methods_supported"], url) };
}

function authMethods(value: unknown, url: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((method): method is string => typeof method === "string" && AUTH_METHOD.test(method))) {
    throw new InvalidResponseError(
      `The metadata at ${url} has a malformed 'token_endpoint_auth_methods_supported' (it must be a list of method names such as "client_secret_basic").`,
    );
  }
  return [...new Set(value)];
}
