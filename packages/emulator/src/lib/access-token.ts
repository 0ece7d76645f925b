// The app-only access tokens the emulator issues: Entra v2.0 claims, signed
// with the emulator's key. Resources served by the emulator (Graph, Key Vault)
// read the same claims back.
import { createHash, randomBytes } from "node:crypto";
import type { TenantConfig } from "../config/types.js";
import { normalizeClientId } from "../identifiers.js";
import type { ApplicationState } from "./directory.js";
import { recordSecret } from "./secret-ledger.js";
import type { TokenSigner } from "./signing-key.js";

/** Claim added to tokens requested with `claims`: the `iat` they answer (a resource's claims challenge checks it). */
export const CLAIMS_MARKER = "xms_claims_iat";

/** A successful token response body. */
export interface TokenResponseBody {
  token_type: "Bearer";
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_in?: number;
}

/** What a token is issued for. */
export interface AccessTokenGrant {
  /** The origin of the `iss` claim (the global host's on a regional one). */
  issuerBase: string;
  tenant: TenantConfig;
  client: ApplicationState;
  resource: ApplicationState;
  /** The resource as the scope named it (identifier URI or client id). */
  resourceName: string;
  roles: readonly string[];
  /** Entra's authentication context class: "1" shared secret, "2" certificate or assertion. */
  authenticationClass: "1" | "2";
  /** Whether the request carried `claims` (answering a claims challenge). */
  answersClaims: boolean;
  /** Client capabilities the request declared (`cp1` for CAE): the token's `xms_cc` claim, as Entra issues it. */
  clientCapabilities: readonly string[];
  now: number;
  lifetimeSeconds: number;
  refreshInSeconds: number | undefined;
}

/**
 * The service principal's object id of an app in a tenant: stable across runs,
 * different per tenant, like Entra's.
 */
export function servicePrincipalId(clientId: string, tenantId: string): string {
  const hex = createHash("sha256").update(`sp:${tenantId}:${clientId}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Signs an access token and builds the token response. */
export async function issueAccessToken(signer: TokenSigner, grant: AccessTokenGrant): Promise<TokenResponseBody> {
  const { client, resource, tenant } = grant;
  const iat = Math.floor(grant.now / 1000);
  const servicePrincipal = servicePrincipalId(client.config.clientId, tenant.id);
  const uti = randomBytes(16).toString("base64url");
  const claims: Record<string, unknown> = {
    // A resource named by its client id gets the client id as audience (Entra v2.0 tokens do).
    aud: resource.config.clientId === normalizeClientId(grant.resourceName) ? resource.config.clientId : grant.resourceName,
    iss: `${grant.issuerBase}/${tenant.id}/v2.0`,
    iat,
    nbf: iat,
    exp: iat + grant.lifetimeSeconds,
    azp: client.config.clientId,
    azpacr: grant.authenticationClass,
    appid: client.config.clientId,
    appidacr: grant.authenticationClass,
    idtyp: "app",
    oid: servicePrincipal,
    ...(grant.roles.length > 0 ? { roles: [...grant.roles] } : {}),
    ...(grant.answersClaims ? { [CLAIMS_MARKER]: iat } : {}),
    ...(grant.clientCapabilities.length > 0 ? { xms_cc: [...grant.clientCapabilities] } : {}),
    sub: servicePrincipal,
    tid: tenant.id,
    uti,
    jti: uti,
    ver: "2.0",
  };
  const body: TokenResponseBody = {
    token_type: "Bearer",
    expires_in: grant.lifetimeSeconds,
    ext_expires_in: grant.lifetimeSeconds,
    access_token: await signer.sign(claims),
  };
  if (grant.refreshInSeconds !== undefined) body.refresh_in = grant.refreshInSeconds;
  recordSecret("access token", body.access_token);
  return body;
}
