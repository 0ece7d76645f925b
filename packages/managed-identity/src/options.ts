import { isGuid, type DaemonClient } from "@daemon-auth/core";
import type { AcquisitionOptions } from "@daemon-auth/core/acquisition";
import type { OptionChecks } from "@daemon-auth/core/adapter";

/**
 * Where a managed identity's tokens come from, detected from the environment in
 * `@azure/msal-node`'s order: Service Fabric, App Service (also Functions and Container
 * Apps), Azure Machine Learning, Cloud Shell, Azure Arc, then the VM's Instance Metadata
 * Service (IMDS).
 */
export type ManagedIdentitySource = "service-fabric" | "app-service" | "machine-learning" | "cloud-shell" | "azure-arc" | "imds";

/**
 * Options of {@link createManagedIdentityClient}. Name at most one of `clientId`,
 * `objectId` and `resourceId` for a user-assigned identity; none means the resource's
 * system-assigned identity.
 */
export interface ManagedIdentityClientOptions extends Omit<AcquisitionOptions, "retry"> {
  /** A user-assigned identity by its client (application) id, a GUID. */
  clientId?: string | undefined;
  /** A user-assigned identity by its object (principal) id, a GUID. */
  objectId?: string | undefined;
  /**
   * A user-assigned identity by its ARM resource id:
   * `/subscriptions/…/resourceGroups/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>`.
   */
  resourceId?: string | undefined;
  /**
   * The environment the source is detected from (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`,
   * `IDENTITY_SERVER_THUMBPRINT`, `MSI_ENDPOINT`, `MSI_SECRET`, `IMDS_ENDPOINT`,
   * `AZURE_POD_IDENTITY_AUTHORITY_HOST`, …). Read once, when the client is created.
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * For tests only; never set this in production. Azure Arc's key file is trusted
   * because it is read only from the agent's own token directory
   * (`/var/opt/azcmagent/tokens` on Linux, `%ProgramData%\AzureConnectedMachineAgent\Tokens`
   * on Windows); a test points this at a directory it controls instead.
   * @default the platform's Azure Arc token directory
   */
  azureArcKeyDirectoryForTests?: string | undefined;
}

/** A {@link DaemonClient} whose tokens are a managed identity's. */
export interface ManagedIdentityClient extends DaemonClient {
  /** Where the tokens come from, as detected from the environment when the client was created. */
  readonly source: ManagedIdentitySource;
  /**
   * The configured user-assigned id (client id, object id or resource id), or
   * `"system-assigned"`.
   */
  readonly clientId: string;
  /** Always `undefined`: a managed identity's tokens come from its own tenant (a request's `tenantId` is ignored). */
  readonly tenantId: undefined;
}

/** How a user-assigned identity is named; `undefined` for the system-assigned one. */
export type IdentitySelector = { readonly kind: "clientId" | "objectId" | "resourceId"; readonly value: string } | undefined;

/**
 * The options of {@link createManagedIdentityClient}, for the unknown-option check
 * (`check.knownKeys`): a misspelt one would silently pick the system-assigned identity.
 */
export const KNOWN_OPTIONS: readonly string[] = Object.freeze([
  "clientId",
  "objectId",
  "resourceId",
  "env",
  "azureArcKeyDirectoryForTests",
  "cache",
  "transport",
  "clock",
  "logger",
  "telemetry",
  "expiryMarginMs",
  "maxTokenLifetimeMs",
  "storeTimeoutMs",
  "requestTimeoutMs",
  "maxCachedTokens",
  "errorCacheMs",
]);

/** An ARM id of a user-assigned identity; the provider segment is compared case-insensitively, as ARM does. */
const USER_ASSIGNED_RESOURCE_ID = /^\/subscriptions\/[^/\s]+\/resourcegroups\/[^/\s]+\/providers\/microsoft\.managedidentity\/userassignedidentities\/[^/\s]+$/i;

/** The user-assigned identity the options name (at most one of them), checked. */
export function resolveIdentity(options: ManagedIdentityClientOptions, check: OptionChecks): IdentitySelector {
  const given = (["clientId", "objectId", "resourceId"] as const).filter((kind) => options[kind] !== undefined);
  if (given.length > 1) {
    throw check.error(
      `name a user-assigned managed identity by one id only: got ${given.map((kind) => `'${kind}'`).join(" and ")}. ` +
        "Keep one of 'clientId', 'objectId' or 'resourceId' (or none, for the system-assigned identity).",
    );
  }
  const kind = given[0];
  if (kind === undefined) return undefined;
  const value: unknown = options[kind];
  if (kind === "resourceId") {
    if (typeof value !== "string" || !USER_ASSIGNED_RESOURCE_ID.test(value)) {
      throw check.error(
        "'resourceId' must be the ARM id of a user-assigned identity: " +
          "'/subscriptions/<subscription>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>' (Azure portal: the identity's Properties).",
      );
    }
    return { kind, value };
  }
  if (!isGuid(value)) {
    throw check.error(
      `'${kind}' must be the user-assigned identity's ${kind === "clientId" ? "client id" : "object (principal) id"}, a GUID ` +
        "(Azure portal: the identity's Overview). Leave it out for the system-assigned identity.",
    );
  }
  return { kind, value: value.toLowerCase() };
}

/** What the client reports as its `clientId`: the configured id, or `"system-assigned"`. */
export function describeIdentity(identity: IdentitySelector): string {
  return identity === undefined ? "system-assigned" : identity.value;
}

/** The `env` option, checked: an object of strings. */
export function resolveEnvironment(env: unknown, check: OptionChecks): Readonly<Record<string, string | undefined>> {
  if (env === undefined) return process.env;
  if (env === null || typeof env !== "object" || Array.isArray(env)) {
    throw check.error("'env' must be an object of environment variables (name → string), e.g. process.env.");
  }
  return env as Readonly<Record<string, string | undefined>>;
}
