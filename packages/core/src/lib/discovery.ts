import type { DaemonAuthError} from "../errors.js";
import { ConfigurationError, HttpError, InvalidResponseError } from "../errors.js";
import type { HttpTransport } from "../transport.js";
import { readJsonObject } from "./http.js";
import { checkServerUrl } from "./validation.js";

/** What the client needs from a generic server's metadata. */
export interface ServerMetadata {
  readonly tokenEndpoint: string;
  readonly authMethods: readonly string[] | undefined;
}

/**
 * Discovers a generic server's token endpoint: OpenID Connect Discovery first, then
 * RFC 8414 authorization server metadata. The issuer in the document must match the
 * configured one (OIDC Discovery §4.3, RFC 8414 §3.3), so a misconfigured or hostile
 * document cannot redirect the client's credentials.
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
  const candidates = [
    `${issuer}/.well-known/openid-configuration`,
    `${issuerUrl.origin}/.well-known/oauth-authorization-server${path}`,
  ];
  let lastError: DaemonAuthError | undefined;
  for (const url of candidates) {
    let response: Response;
    try {
      response = await transport(url, {
        method: "GET",
        headers: { accept: "application/json" },
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
    } catch (cause) {
      throw new HttpError(`The issuer's metadata at ${url} could not be fetched; check 'issuer' and the network.`, { cause });
    }
    if (response.status === 404) {
      await response.body?.cancel().catch(() => undefined);
      lastError = new ConfigurationError(`No metadata document at ${url} (HTTP 404).`);
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new HttpError(`The issuer's metadata at ${url} answered HTTP ${response.status}.`, { status: response.status });
    }
    const document = await readJsonObject(response, "discovery");
    return checkMetadata(document, issuer, url);
  }
  throw new ConfigurationError(
    `No OpenID Connect or OAuth 2.0 metadata was found for issuer '${issuer}'; check 'issuer' (it must be the server's issuer identifier).`,
    { cause: lastError },
  );
}

function checkMetadata(document: Record<string, unknown>, issuer: string, url: string): ServerMetadata {
  const declared = document["issuer"];
  if (typeof declared !== "string" || declared.replace(/\/$/, "") !== issuer) {
    throw new InvalidResponseError(
      `The metadata at ${url} declares issuer '${String(declared).slice(0, 200)}', not '${issuer}'; set 'issuer' to the server's exact issuer identifier.`,
    );
  }
  const tokenEndpoint = document["token_endpoint"];
  if (typeof tokenEndpoint !== "string") {
    throw new InvalidResponseError(`The metadata at ${url} has no 'token_endpoint'.`);
  }
  checkServerUrl(tokenEndpoint, "token_endpoint (from discovery)");
  const methods = document["token_endpoint_auth_methods_supported"];
  return {
    tokenEndpoint,
    authMethods: Array.isArray(methods) ? methods.filter((m): m is string => typeof m === "string") : undefined,
  };
}
