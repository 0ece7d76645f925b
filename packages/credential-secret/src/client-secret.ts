import {
  CredentialError,
  redacted,
  systemClock,
  type ClientCredential,
  type Clock,
  throwIfAborted,
} from "@daemon-auth/core";
import { optionChecks } from "@daemon-auth/core/adapter";
import { loadedSecretCredential, secretAuthentication } from "./lib/secret-source.js";

/** Where a client secret comes from: the value itself, or a callback that returns it. */
export type ClientSecretSource = string | (() => string | Promise<string>);

/** Options of {@link clientSecret}. */
export interface ClientSecretOptions {
  /**
   * For a callback source: call it again once the secret it returned is this old, in
   * milliseconds, so a secret rotated in a vault is picked up without a rejection
   * first. Not allowed with a static secret.
   * @default undefined — keep the secret until `reload()` (core calls it when the server rejects the secret)
   */
  maxAgeMs?: number;
  /**
   * The time source for `maxAgeMs`; inject one in tests.
   * @default systemClock
   */
  clock?: Clock;
}

/**
 * A client secret credential (`client_secret_post` or `client_secret_basic`, as the
 * client is configured). Pass the secret's **value** — not its id — or a callback that
 * fetches it, for example from a vault.
 *
 * A callback is called on first use (concurrent first uses share one call) and its
 * result is kept until `reload()` — which core calls when the server rejects the
 * secret as wrong or expired (AADSTS7000215, 7000222) — or until `maxAgeMs` passes.
 *
 * @example
 * clientSecret(process.env.APP_SECRET!);
 * clientSecret(async () => (await vault.getSecret("app-secret")).value!, { maxAgeMs: 3_600_000 });
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#first-case-access-token-request-with-a-shared-secret
 */
export function clientSecret(source: ClientSecretSource, options: ClientSecretOptions = {}): ClientCredential {
  const check = optionChecks("clientSecret");
  if (typeof source === "string") {
    if (source.trim() === "") {
      throw check.error(
        "the client secret is empty. Pass the secret's value (shown once when the secret is created in the app registration), or a callback that returns it.",
      );
    }
    if (options.maxAgeMs !== undefined) {
      throw check.error("'maxAgeMs' only applies to a callback source. Remove 'maxAgeMs', or pass a callback that returns the current secret.");
    }
    return staticSecretCredential(source);
  }
  if (typeof source !== "function") {
    throw check.error(
      `the source must be the secret's value (a string) or a callback that returns it; got ${source === null ? "null" : typeof source}.`,
    );
  }
  // Unlike a duration with a default, an unset maxAgeMs means "never": only undefined is unset.
  const maxAgeMs =
    options.maxAgeMs === undefined
      ? undefined
      : check.milliseconds("maxAgeMs", options.maxAgeMs ?? Number.NaN, 0, { example: "{ maxAgeMs: 3600000 } to re-read the secret hourly" });
  const clock = check.clock("clock", options.clock, systemClock);
  const callback = source;
  return loadedSecretCredential({
    description: "client secret (callback)",
    maxAgeMs,
    clock,
    async load() {
      let value: unknown;
      try {
        value = await callback();
      } catch (error) {
        throw new CredentialError(
          "clientSecret: the client secret callback threw. Check the secret's source (vault access, network, permissions); the cause has the details.",
          { cause: error },
        );
      }
      if (typeof value !== "string" || value.trim() === "") {
        const received = typeof value === "string" ? "an empty string" : value === null ? "null" : `a value of type ${typeof value}`;
        throw new CredentialError(
          `clientSecret: the client secret callback returned ${received}. Make it resolve the secret's value as a non-empty string.`,
          { cause: new TypeError(`Expected a non-empty string, received ${received}.`) },
        );
      }
      return value;
    },
  });
}

function staticSecretCredential(secret: string): ClientCredential {
  const description = "client secret (static)";
  const authentication = secretAuthentication(secret);
  return redacted<ClientCredential>(
    {
      kind: "secret",
      description,
      async getAuthentication(context) {
        throwIfAborted(context.signal, "Reading the client secret");
        return authentication;
      },
    },
    description,
  );
}
