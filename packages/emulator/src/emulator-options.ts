// The options of startEmulator, and their checks.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmulatorConfigError, expectInteger } from "./config/error.js";
import type { EmulatorConfig } from "./config/types.js";
import type { LoopDetectionOptions } from "./lib/faults/types.js";
import type { GraphOptions } from "./routes/graph.js";
import type { KeyVaultOptions } from "./routes/key-vault.js";

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /**
   * Port to listen on; 0 picks a free port.
   * @default 0
   */
  port?: number;
  /**
   * Interface to listen on.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * Serve HTTPS with a certificate from the emulator's local CA (see `certificateDir`).
   * @default false
   */
  https?: boolean;
  /**
   * Tenants, applications and grants.
   * @default an empty directory
   */
  config?: EmulatorConfig;
  /**
   * Lifetime of issued access tokens (`expires_in`).
   * @default 3599
   */
  tokenLifetimeSeconds?: number;
  /**
   * When set, token responses carry `refresh_in` with this value.
   * @default undefined (no refresh_in)
   */
  refreshInSeconds?: number;
  /**
   * Where the generated TLS CA and server certificate are kept and reused
   * (0700 directory, 0600 key files).
   * @default `<os tmpdir>/daemon-auth-emulator`
   */
  certificateDir?: string;
  /**
   * Receives one line per request. Lines never contain secrets, assertions or tokens.
   * @default no logging
   */
  log?: (line: string) => void;
  /**
   * Current time in ms since the epoch, for token times, secret expiry and
   * assertion checks (tests of expiry move it).
   * @default Date.now
   */
  clock?: () => number;
  /**
   * Reject a client assertion whose `jti` was already used, as generic OAuth
   * servers may. Entra ID accepts reuse within the assertion's lifetime.
   * @default false
   */
  strictJti?: boolean;
  /**
   * Entra's loop detection: the same client asking for the same token (client,
   * tenant, scope) more than `maxRequests` times within `windowMs` gets AADSTS50196.
   * Change it at run time with {@link Emulator.setLoopDetection}.
   * @default off (or the config file's `loopDetection`)
   */
  loopDetection?: LoopDetectionOptions;
  /**
   * An Azure Key Vault (secrets, keys and certificates) served at {@link Emulator.vaultUrl}, for
   * `SecretClient`, `KeyClient`, `CryptographyClient` and `CertificateClient` with tokens this emulator issues for `https://vault.azure.net`
   * (that resource must exist as an app in the config).
   * @default an empty vault
   */
  keyVault?: KeyVaultOptions;
  /**
   * A sample Microsoft Graph (`GET /v1.0/users`) served at {@link Emulator.graphUrl}, for
   * tokens this emulator issues for `https://graph.microsoft.com` with the `User.Read.All`
   * role (that resource must exist as an app in the config).
   * @default 25 generated users per tenant
   */
  graph?: GraphOptions;
  /**
   * Where the Azure Arc managed identity endpoint writes the key files its 401 challenge
   * names (directory 0700, files 0600, deleted when the emulator closes).
   * @default `<os tmpdir>/daemon-auth-emulator/arc-tokens`
   */
  arcKeyDirectory?: string;
}

/** The options with their defaults applied, checked. */
export interface ResolvedOptions {
  host: string;
  port: number;
  tokenLifetimeSeconds: number;
  refreshInSeconds: number | undefined;
  clock: () => number;
  /** The user's log callback made safe: a throwing callback must not break request handling. */
  log: ((line: string) => void) | undefined;
  /** Where the TLS material lives, when serving HTTPS. */
  certificateDir: string | undefined;
  /** Where Azure Arc challenge key files are written. */
  arcKeyDirectory: string;
}

/** Applies the defaults and checks the numbers; throws {@link EmulatorConfigError} naming the option. */
export function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  const port = expectInteger(options.port ?? 0, "port", 0, 65535, "a port from 0 (a free port) to 65535");
  const tokenLifetimeSeconds = expectInteger(options.tokenLifetimeSeconds ?? 3599, "tokenLifetimeSeconds", 1, Number.MAX_SAFE_INTEGER, "a positive whole number of seconds");
  const refreshInSeconds =
    options.refreshInSeconds === undefined
      ? undefined
      : expectInteger(options.refreshInSeconds, "refreshInSeconds", 1, Number.MAX_SAFE_INTEGER, "a positive whole number of seconds");
  const userLog = options.log;
  if (userLog !== undefined && typeof userLog !== "function") throw new EmulatorConfigError("log", "expected a function that takes one line of text.");
  return {
    host: options.host ?? "127.0.0.1",
    port,
    tokenLifetimeSeconds,
    refreshInSeconds,
    clock: options.clock ?? Date.now,
    log:
      userLog === undefined
        ? undefined
        : (line) => {
            try {
              userLog(line);
            } catch {
              // Ignored on purpose: logging is best effort.
            }
          },
    certificateDir: options.https === true ? (options.certificateDir ?? join(tmpdir(), "daemon-auth-emulator")) : undefined,
    arcKeyDirectory: options.arcKeyDirectory ?? join(tmpdir(), "daemon-auth-emulator", "arc-tokens"),
  };
}
