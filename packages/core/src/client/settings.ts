import type { DaemonClientOptions } from "../client-types.js";
import type { ClientCredential } from "../credential.js";
import type { TelemetryHooks } from "../seams.js";
import { acquisitionSettings, checkStore, type AcquisitionSettings } from "../acquisition/settings.js";
import { optionChecks, type OptionChecks } from "../lib/option-checks.js";
import { resolveAuthority, type Authority } from "../lib/authority.js";
import { regionalBase, resolveRegion } from "../client-credentials/region.js";
import { printable, printableValue } from "../lib/validation.js";

// The option messages speak optionChecks' dialect, as acquisition/settings.ts does:
// "createDaemonClient: '<option>' must …".

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
  /** `xms_cc` values for the `claims` parameter; empty when none. */
  readonly clientCapabilities: readonly string[];
  readonly extraQueryParameters: readonly (readonly [string, string])[];
  readonly extraParameters: readonly (readonly [string, string])[];
  readonly returnClientRequestId: boolean;
  /** The regional base of the authority (ESTS-R), when `azureRegion` applies to it. */
  readonly regionalBase: string | undefined;
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
  knownAuthorities: true,
  validateAuthority: true,
  azureRegion: true,
  clientId: true,
  credential: true,
  clientCapabilities: true,
  extraQueryParameters: true,
  extraParameters: true,
  returnClientRequestId: true,
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
  const check = optionChecks("createDaemonClient");
  if (options === null || typeof options !== "object") {
    throw check.error("the options must be an object: { tenantId, clientId, credential }.");
  }
  // A misspelt option (expiryMarginMS) would otherwise be ignored without a word.
  check.knownKeys(options, Object.keys(KNOWN_OPTIONS));
  // In this order, so that the first mistake of a wholly wrong configuration is the one reported.
  const clientId = checkClientId(check, options.clientId);
  const authority = resolveAuthority(options, check);
  const credentials = checkCredentials(check, options.credential);
  const store = checkStore(options.cache, check);
  const method = options.tokenEndpointAuthMethod;
  if (method !== undefined && method !== "client_secret_post" && method !== "client_secret_basic") {
    throw check.error(
      `'tokenEndpointAuthMethod' must be "client_secret_post" or "client_secret_basic", not '${printableValue(method)}'.`,
    );
  }
  return Object.freeze({
    ...acquisitionSettings(options, store, check),
    clientId,
    authority,
    authorityId: authority.kind === "entra" ? authority.base : authority.issuer,
    credentials,
    authMethod: method,
    telemetry: options.telemetry,
    clientCapabilities: checkCapabilities(check, options.clientCapabilities),
    extraQueryParameters: checkExtraParameters(check, options.extraQueryParameters, "extraQueryParameters"),
    extraParameters: checkExtraParameters(check, options.extraParameters, "extraParameters"),
    returnClientRequestId: checkFlag(check, options.returnClientRequestId, "returnClientRequestId"),
    regionalBase: checkRegion(check, options.azureRegion, authority),
  });
}

/**
 * Parameters the client sets itself: an extra parameter must never swap the client, its
 * authentication, the grant, the resource or the claims (Entra reads form names
 * case-insensitively, so neither may a different spelling).
 */
const RESERVED_PARAMETER = /^(client_id|client_secret|client_assertion.*|grant_type|scope|claims)$/i;

function checkExtraParameters(check: OptionChecks, value: unknown, option: string): readonly (readonly [string, string])[] {
  if (value === undefined) return [];
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw check.error(`'${option}' must be an object of string parameters, e.g. { dc: "…" }.`);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [name, parameter] of entries) {
    if (name.length === 0 || /[\s\u0000-\u001f&=]/.test(name)) {
      throw check.error(`'${option}' has a parameter name '${printable(name)}' that is empty or holds spaces, '&' or '='.`);
    }
    if (RESERVED_PARAMETER.test(name)) {
      throw check.error(
        `'${option}.${printable(name)}' would replace a parameter the client sets itself; remove it (client_id, client_secret, client_assertion*, grant_type, scope and claims come from the client's options and the request).`,
      );
    }
    if (typeof parameter !== "string") {
      throw check.error(`'${option}.${printable(name)}' must be a string, not '${printableValue(parameter)}'.`);
    }
  }
  return Object.freeze(entries.map(([name, parameter]) => Object.freeze([name, parameter as string] as const)));
}

function checkRegion(check: OptionChecks, value: unknown, authority: Authority): string | undefined {
  const { region, detected } = resolveRegion(value, check);
  if (region === undefined) return undefined;
  const base = authority.kind === "entra" ? regionalBase(authority, region) : undefined;
  // A detected region is a hint (MSAL ignores it where it cannot apply); a named one is a request.
  if (base === undefined && !detected) {
    throw check.error(
      "'azureRegion' applies to the Microsoft clouds' authorities only (login.microsoftonline.com, .us, .cn); remove it for this authority.",
    );
  }
  return base;
}

function checkCapabilities(check: OptionChecks, value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((capability) => typeof capability !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(capability))) {
    throw check.error(`'clientCapabilities' must be a list of capability names, e.g. ["cp1"].`);
  }
  return Object.freeze([...(value as string[])]);
}

function checkFlag(check: OptionChecks, value: unknown, option: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw check.error(`'${option}' must be true or false, not '${printableValue(value)}'.`);
  return value;
}

function checkClientId(check: OptionChecks, clientId: unknown): string {
  if (typeof clientId !== "string" || clientId.length === 0) {
    throw check.error("'clientId' must be the application (client) id of the app registration.");
  }
  if (clientId.length > 256 || /[\s\u0000-\u001f]/.test(clientId)) {
    throw check.error(`'clientId' '${printable(clientId)}' contains spaces or control characters; copy the application (client) id again.`);
  }
  return clientId;
}

function checkCredentials(check: OptionChecks, credential: unknown): readonly ClientCredential[] {
  const list: unknown[] = Array.isArray(credential) ? credential : [credential];
  if (list.length === 0 || list.some((item) => typeof (item as ClientCredential | undefined)?.getAuthentication !== "function")) {
    throw check.error(
      "'credential' must be a client credential (e.g. clientSecret(…) or certificateCredential(…)) or a non-empty list of them.",
    );
  }
  return Object.freeze(list as ClientCredential[]);
}
