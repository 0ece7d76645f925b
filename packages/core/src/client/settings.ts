import type { DaemonClientOptions } from "../client-types.js";
import type { ClientCredential } from "../credential.js";
import type { TelemetryHooks } from "../environment.js";
import { ConfigurationError } from "../errors.js";
import { acquisitionSettings, checkKnownKeys, checkStore, type AcquisitionSettings } from "../acquisition/settings.js";
import { resolveAuthority, type Authority } from "../lib/authority.js";
import { printable, printableValue } from "../lib/validation.js";

// The option messages follow acquisition/settings.ts: the option in quotes, what it must be.

/** {@link DaemonClientOptions}, checked, with defaults applied. Frozen. */
export interface ClientSettings extends AcquisitionSettings {
  readonly clientId: string;
  readonly authority: Authority;
  /** The Entra authority base or the generic issuer: part of every key and every shared entry. */
  readonly authorityId: string;
  /** In the order to try them; rotation moves to the next one. */
  readonly credentials: readonly ClientCredential[];
  /** The method the user chose; `undefined` lets a generic issuer's metadata decide. */
  readonly authMethod: "client_secret_post" | "client_secret_basic" | undefined;
  readonly telemetry: TelemetryHooks | undefined;
}

/**
 * Every option {@link createDaemonClient} knows. `satisfies` makes the compiler refuse
 * this list when an option is added to {@link DaemonClientOptions} and not here.
 */
const KNOWN_OPTIONS = {
  authority: true,
  tenantId: true,
  cloud: true,
  authorityHost: true,
  issuer: true,
  clientId: true,
  credential: true,
  tokenEndpointAuthMethod: true,
  cache: true,
  transport: true,
  clock: true,
  logger: true,
  telemetry: true,
  expiryMarginMs: true,
  maxTokenLifetimeMs: true,
  storeTimeoutMs: true,
  requestTimeoutMs: true,
  retry: true,
  maxCachedTokens: true,
  errorCacheMs: true,
} as const satisfies Record<keyof DaemonClientOptions, true>;

/** Checks the options of {@link createDaemonClient}, before any I/O. */
export function resolveClientSettings(options: DaemonClientOptions): ClientSettings {
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError("createDaemonClient needs an options object: { tenantId, clientId, credential }.");
  }
  // A misspelt option (expiryMarginMS) would otherwise be ignored without a word.
  checkKnownKeys(options, KNOWN_OPTIONS, "");
  // In this order, so that the first mistake of a wholly wrong configuration is the one reported.
  const clientId = checkClientId(options.clientId);
  const authority = resolveAuthority(options);
  const credentials = checkCredentials(options.credential);
  const store = checkStore(options.cache);
  const method = options.tokenEndpointAuthMethod;
  if (method !== undefined && method !== "client_secret_post" && method !== "client_secret_basic") {
    throw new ConfigurationError(
      `'tokenEndpointAuthMethod' must be "client_secret_post" or "client_secret_basic", not '${printableValue(method)}'.`,
    );
  }
  return Object.freeze({
    ...acquisitionSettings(options, store),
    clientId,
    authority,
    authorityId: authority.kind === "entra" ? authority.base : authority.issuer,
    credentials,
    authMethod: method,
    telemetry: options.telemetry,
  });
}

function checkClientId(clientId: unknown): string {
  if (typeof clientId !== "string" || clientId.length === 0) {
    throw new ConfigurationError("'clientId' must be the application (client) id of the app registration.");
  }
  if (clientId.length > 256 || /[\s\u0000-\u001f]/.test(clientId)) {
    throw new ConfigurationError(`'clientId' '${printable(clientId)}' contains spaces or control characters; copy the application (client) id again.`);
  }
  return clientId;
}

function checkCredentials(credential: unknown): readonly ClientCredential[] {
  const list: unknown[] = Array.isArray(credential) ? credential : [credential];
  if (list.length === 0 || list.some((item) => typeof (item as ClientCredential | undefined)?.getAuthentication !== "function")) {
    throw new ConfigurationError(
      "'credential' must be a client credential (e.g. clientSecret(…) or certificateCredential(…)) or a non-empty list of them.",
    );
  }
  return Object.freeze(list as ClientCredential[]);
}
