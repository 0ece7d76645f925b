// Managed identity tokens as Entra issues them to the platforms' endpoints: which
// configured identity a request names, and the signed app-only token for a resource
// (roles from grants, `xms_mirid` for user-assigned identities). The endpoints only
// shape the answer the way their platform does.
import { randomBytes } from "node:crypto";
import { AadstsFailure } from "../aadsts.js";
import type { ManagedIdentityConfig, TenantConfig } from "../config/types.js";
import { normalizeClientId } from "../identifiers.js";
import type { Directory } from "./directory.js";
import { recordSecret } from "./secret-ledger.js";
import type { TokenSigner } from "./signing-key.js";

/** Audiences of the token exchange (managed identity as an app's federated credential), in every cloud: Entra knows them without an app. */
const TOKEN_EXCHANGE_AUDIENCES = new Set(["api://AzureADTokenExchange", "api://AzureADTokenExchangeUSGov", "api://AzureADTokenExchangeChina"]);
const DEFAULT_SUFFIX = "/.default";

/** How a request names a user-assigned identity (the platforms' query parameters map onto these). */
export type IdentitySelector = { kind: "clientId" | "objectId" | "resourceId"; value: string };

/** Why no identity answers a request. */
export type IdentityMiss = "not-found" | "ambiguous";

/** A token for a managed identity, with the numbers the platforms put in their answers. */
export interface ManagedIdentityToken {
  accessToken: string;
  /** The resource as the request gave it. */
  resource: string;
  clientId: string;
  expiresIn: number;
  /** Epoch seconds. */
  expiresOn: number;
  /** Epoch seconds. */
  notBefore: number;
}

/** The configured identities and the tokens they get. */
export class ManagedIdentityTokens {
  constructor(
    private readonly identities: readonly ManagedIdentityConfig[],
    private readonly directory: Directory,
    private readonly signer: TokenSigner,
    private readonly lifetimeSeconds: number,
  ) {}

  /**
   * The identity a request names, or why there is none. Without a selector, the
   * system-assigned identity; without one, the only user-assigned identity, as IMDS does.
   */
  find(selector: IdentitySelector | undefined): ManagedIdentityConfig | IdentityMiss {
    if (selector === undefined) {
      const system = this.identities.find((identity) => identity.systemAssigned === true);
      if (system !== undefined) return system;
      if (this.identities.length === 1) return this.identities[0]!;
      return this.identities.length === 0 ? "not-found" : "ambiguous";
    }
    const wanted = selector.value.toLowerCase();
    const match = this.identities.find((identity) => {
      const value = selector.kind === "clientId" ? identity.clientId : selector.kind === "objectId" ? identity.objectId : identity.resourceId;
      return value?.toLowerCase() === wanted;
    });
    return match ?? "not-found";
  }

  /** Signs a token of `identity` for `resource` (a trailing `/.default` is dropped); an unknown resource fails with AADSTS500011. */
  async issue(identity: ManagedIdentityConfig, requested: string, baseUrl: string, now: number): Promise<ManagedIdentityToken> {
    const resourceName = requested.endsWith(DEFAULT_SUFFIX) ? requested.slice(0, -DEFAULT_SUFFIX.length) : requested;
    const tenant = this.directory.resolveTenant(identity.tenant) as TenantConfig;
    let audience = resourceName;
    let roles: string[] = [];
    if (!TOKEN_EXCHANGE_AUDIENCES.has(resourceName)) {
      const resource = this.directory.findResource(resourceName);
      if (resource === undefined || !this.directory.hasServicePrincipal(resource, tenant.id)) {
        throw new AadstsFailure(
          500011,
          `The resource principal named ${resourceName} was not found in the tenant named ${tenant.displayName ?? tenant.id}. This can happen if the application has not been installed by the administrator of the tenant. Register the resource in the emulator's config (identifierUris).`,
        );
      }
      // A resource named by its client id gets the client id as audience, as for app tokens.
      if (resource.config.clientId === normalizeClientId(resourceName)) audience = resource.config.clientId;
      roles = this.directory.roles(tenant.id, identity.clientId, resource);
    }
    const iat = Math.floor(now / 1000);
    const uti = randomBytes(16).toString("base64url");
    const accessToken = await this.signer.sign({
      aud: audience,
      iss: `${baseUrl}/${tenant.id}/v2.0`,
      iat,
      nbf: iat,
      exp: iat + this.lifetimeSeconds,
      azp: identity.clientId,
      azpacr: "2",
      appid: identity.clientId,
      appidacr: "2",
      idp: `${baseUrl}/${tenant.id}/v2.0`,
      idtyp: "app",
      oid: identity.objectId,
      ...(roles.length > 0 ? { roles } : {}),
      sub: identity.objectId,
      tid: tenant.id,
      uti,
      jti: uti,
      ver: "2.0",
      ...(identity.resourceId === undefined ? {} : { xms_mirid: identity.resourceId }),
    });
    recordSecret("access token", accessToken);
    return { accessToken, resource: requested, clientId: identity.clientId, expiresIn: this.lifetimeSeconds, expiresOn: iat + this.lifetimeSeconds, notBefore: iat };
  }
}
