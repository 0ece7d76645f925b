import {
  JWT_BEARER_ASSERTION_TYPE,
  redacted,
  throwIfAborted,
  type ClientAssertionAuthentication,
  type ClientCredential,
  type CredentialContext,
} from "@daemon-auth/core";
import { optionChecks } from "@daemon-auth/core/adapter";
import { managedIdentityClient } from "./managed-identity-client.js";
import { KNOWN_OPTIONS, type ManagedIdentityClient, type ManagedIdentityClientOptions } from "./options.js";

/** The audience Entra expects of a federated credential's assertion, per cloud. */
export const TOKEN_EXCHANGE_AUDIENCES = Object.freeze({
  public: "api://AzureADTokenExchange",
  usgov: "api://AzureADTokenExchangeUSGov",
  china: "api://AzureADTokenExchangeChina",
});

const ASSERTION_OPTIONS: readonly string[] = Object.freeze([...KNOWN_OPTIONS, "audience", "client"]);

/** Options of {@link managedIdentityAssertion}: a managed identity client's, or an existing client. */
export interface ManagedIdentityAssertionOptions extends ManagedIdentityClientOptions {
  /**
   * The audience of the managed identity token sent as the assertion; it must be one of
   * the federated identity credential's audiences. Other clouds:
   * `api://AzureADTokenExchangeUSGov`, `api://AzureADTokenExchangeChina`
   * (see {@link TOKEN_EXCHANGE_AUDIENCES}).
   * @default "api://AzureADTokenExchange"
   */
  audience?: string | undefined;
  /**
   * A managed identity client to get the tokens from, shared with other uses (its cache
   * too). When given, no other client option may be: configure that client instead.
   * It is not disposed with the credential.
   * @default a client created from the other options
   */
  client?: ManagedIdentityClient | undefined;
}

/** A {@link ClientCredential} whose assertion is a managed identity token. */
export interface ManagedIdentityAssertion extends ClientCredential {
  readonly kind: "managed-identity";
  /** `managed identity (<source>, <identity>) for <audience>`; never a token. */
  readonly description: string;
  getAuthentication(context: CredentialContext): Promise<ClientAssertionAuthentication>;
  /** The server rejected the assertion: the next one is a newly fetched token, not the cached one. */
  reload(): Promise<void>;
  /** Disposes the managed identity client it created (not one passed as `client`). Safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * Managed identity as an app registration's federated credential: a `ClientCredential`
 * for `createDaemonClient` that sends a managed identity token for
 * `api://AzureADTokenExchange` as the `client_assertion`. An app registration whose
 * federated identity credential trusts the identity (issuer
 * `https://login.microsoftonline.com/<identity's tenant>/v2.0`, subject = the identity's
 * object id) then gets app tokens in every tenant that consented to it, with no secret
 * or certificate anywhere. The managed identity token is cached and refreshed by the
 * managed identity client's machinery, so most assertions cost no request.
 *
 * @example
 * const client = createDaemonClient({
 *   tenantId: customerTenantId,
 *   clientId: multiTenantAppClientId,
 *   credential: managedIdentityAssertion({ clientId: userAssignedIdentityClientId }),
 * });
 * @see https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity
 */
export function managedIdentityAssertion(options: ManagedIdentityAssertionOptions = {}): ManagedIdentityAssertion {
  const check = optionChecks("managedIdentityAssertion");
  if (options === null || typeof options !== "object") {
    throw check.error("the options must be an object, e.g. {} or { clientId } of a user-assigned identity.");
  }
  check.knownKeys(options, ASSERTION_OPTIONS);
  const { audience = TOKEN_EXCHANGE_AUDIENCES.public, client: given, ...clientOptions } = options;
  if (typeof audience !== "string" || !/^[\x21-\x7e]+$/.test(audience) || audience.endsWith("/.default")) {
    throw check.error("'audience' must be the federated credential's audience, e.g. 'api://AzureADTokenExchange' (without '/.default').");
  }
  if (given !== undefined) {
    if (given === null || typeof given.acquireTokenForClient !== "function" || typeof given.source !== "string") {
      throw check.error("'client' must be a managed identity client from createManagedIdentityClient().");
    }
    const extra = Object.keys(clientOptions).filter((key) => clientOptions[key as keyof typeof clientOptions] !== undefined);
    if (extra.length > 0) {
      throw check.error(`pass either 'client' or client options, not both: configure ${extra.map((key) => `'${key}'`).join(", ")} on the client you pass.`);
    }
  }
  const client = given ?? managedIdentityClient(clientOptions, check);
  const owned = given === undefined;
  const scopes = [`${audience}/.default`];
  let forceNext = false;
  let disposed = false;
  const description = `managed identity (${client.source}, ${client.clientId}) for ${audience}`;

  const credential: ManagedIdentityAssertion = {
    kind: "managed-identity",
    description,
    async getAuthentication(context) {
      throwIfAborted(context.signal, "Getting the managed identity assertion");
      const forceRefresh = forceNext;
      forceNext = false;
      const result = await client.acquireTokenForClient({ scopes, forceRefresh, ...(context.signal && { signal: context.signal }) });
      return { clientAssertion: result.accessToken, clientAssertionType: JWT_BEARER_ASSERTION_TYPE };
    },
    async reload() {
      forceNext = true;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      if (owned) await client.dispose();
    },
  };
  return redacted(credential, description);
}
