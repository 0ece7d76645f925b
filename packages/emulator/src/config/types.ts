// The emulator configuration: the JSON shape of a directory (tenants, app
// registrations, grants) and of the faults active from the start. Types only.
import type { FaultRule, LoopDetectionOptions } from "../lib/faults/types.js";

/** A directory (Entra ID tenant). */
export interface TenantConfig {
  /** The tenant id, a GUID. Appears as `tid` and in the issuer. */
  id: string;
  /** Verified domains (e.g. `contoso.onmicrosoft.com`), usable in place of the id in URLs. */
  domains?: string[];
  /** Shown in error messages. */
  displayName?: string;
}

/** A client secret of an application. */
export interface SecretConfig {
  /** The secret value clients send. */
  value: string;
  /** ISO 8601 expiry; the secret is refused with AADSTS7000222 from then on. */
  expiresAt?: string;
  /** The secret's id (a "key id" in the portal); sending it instead of the value fails like Entra does. */
  id?: string;
}

/** A certificate credential of an application. */
export interface CertificateConfig {
  /** The X.509 certificate, PEM: public part only, never the private key. */
  pem: string;
}

/**
 * A subject name + issuer (SN+I) trust, as Entra's `trustedCertificateSubjects`: any
 * certificate with this subject, issued by this CA, authenticates the app when the client
 * assertion carries the chain in `x5c`.
 */
export interface TrustedCertificateSubjectConfig {
  /** The subject's common name, with or without `CN=`: `"CN=orders-daemon.contoso.com"`. */
  subjectName: string;
  /** The issuing CA's certificate, PEM (public part only). */
  issuerPem: string;
}

/** An application permission (app role) a resource application exposes. */
export interface AppRoleConfig {
  /** The value that appears in the `roles` claim, e.g. `Orders.Read.All`. */
  value: string;
  /** The role's id (GUID). */
  id?: string;
  description?: string;
}

/** An app registration (application object), with its credentials and exposed API. */
export interface ApplicationConfig {
  /** The application (client) id. */
  clientId: string;
  displayName?: string;
  /** Id or domain of the tenant the app is registered in (it has a service principal there). */
  homeTenant: string;
  /**
   * Whether other tenants can consent to it; it then has a service principal in
   * each tenant that has a grant for it.
   * @default false
   */
  multiTenant?: boolean;
  secrets?: SecretConfig[];
  certificates?: CertificateConfig[];
  /** Subject name + issuer trusts (SN+I): certificates accepted by subject and issuing CA, with `x5c`. */
  trustedCertificateSubjects?: TrustedCertificateSubjectConfig[];
  /** Application ID URIs clients use as the resource, e.g. `api://orders` or `https://x.example/`. */
  identifierUris?: string[];
  /** Application permissions this app exposes as a resource. */
  appRoles?: AppRoleConfig[];
  /**
   * Application permissions the app declares (the portal's "API permissions"):
   * what the admin consent endpoint grants.
   */
  requiredResourceAccess?: RequiredResourceAccessConfig[];
  /** Redirect URIs the admin consent endpoint may redirect to; when absent, any http(s) URL is accepted. */
  redirectUris?: string[];
  /**
   * Federated identity credentials: tokens of an external issuer (Kubernetes,
   * GitHub Actions, another emulator) the app accepts as client assertions.
   */
  federatedCredentials?: FederatedCredentialConfig[];
}

/** The audience Entra ID suggests for federated tokens. */
export const DEFAULT_FEDERATED_AUDIENCE = "api://AzureADTokenExchange";

/**
 * A federated identity credential of an application: a token whose `iss`,
 * `sub` and `aud` match is accepted as the app's client assertion.
 */
export interface FederatedCredentialConfig {
  /** The external issuer URL, exactly as in the token's `iss`; https, or http on a loopback host. */
  issuer: string;
  /** The token's `sub`, matched exactly (e.g. `system:serviceaccount:default:daemon`). */
  subject: string;
  /**
   * Accepted `aud` values.
   * @default ["api://AzureADTokenExchange"]
   */
  audiences?: string[];
  /** A unique name within the app, used to remove it. */
  name?: string;
}

/** App roles of one resource that an application declares it needs. */
export interface RequiredResourceAccessConfig {
  /** Identifier URI or client id of the resource application. */
  resource: string;
  /** App role values of the resource. */
  roles: string[];
}

/** Admin consent: app roles of a resource granted to a client in a tenant. */
export interface GrantConfig {
  /** Id or domain of the consenting tenant. */
  tenant: string;
  /** The client application that receives the roles. */
  clientId: string;
  /** Identifier URI or client id of the resource application. */
  resource: string;
  /** App role values of the resource. */
  roles: string[];
}

/**
 * A managed identity the emulator's managed identity endpoints (IMDS, App Service) serve.
 * Its app roles come from `grants` whose `clientId` is the identity's client id, as for apps.
 */
export interface ManagedIdentityConfig {
  /** Id or domain of the tenant the identity lives in. */
  tenant: string;
  /** The identity's client (application) id, a GUID: `appid`/`azp` of its tokens. */
  clientId: string;
  /** The identity's object (principal) id, a GUID: `oid` and `sub` of its tokens. */
  objectId: string;
  /**
   * ARM id of a user-assigned identity,
   * `/subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`
   * (the `xms_mirid` claim, and `msi_res_id`/`mi_res_id` in requests).
   */
  resourceId?: string;
  /**
   * The host's system-assigned identity, used when a request names no identity. At most one.
   * @default false
   */
  systemAssigned?: boolean;
  displayName?: string;
}

/** The emulator's directory: JSON-serialisable. */
export interface EmulatorConfig {
  tenants: TenantConfig[];
  applications: ApplicationConfig[];
  grants?: GrantConfig[];
  /** Managed identities served by the IMDS and App Service endpoints. */
  managedIdentities?: ManagedIdentityConfig[];
  /** Fault rules active from the start (in a JSON file, `match.path` is an exact path and `retryAfter` seconds or a date string). */
  faults?: FaultRule[];
  /** Entra's loop detection (AADSTS50196); the `loopDetection` option of `startEmulator` overrides it. */
  loopDetection?: LoopDetectionOptions;
}

