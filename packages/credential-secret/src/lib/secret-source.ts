import {
  redacted,
  type ClientCredential,
  type ClientSecretAuthentication,
  type Clock,
  raceAbort,
  throwIfAborted,
} from "@daemon-auth/core";

/** How a loaded-on-demand secret credential reads its secret; throws core errors itself. */
export interface SecretLoader {
  readonly description: string;
  /** Reads the secret; resolves a non-empty string or rejects with a typed error. */
  load(): Promise<string>;
  /** Re-read the secret after this long, in milliseconds; `undefined` keeps it until reload(). */
  readonly maxAgeMs: number | undefined;
  readonly clock: Clock;
}

/**
 * A secret credential that reads its secret on first use and keeps it until
 * `reload()` or `maxAgeMs`. Concurrent uses share one read; a failed read is not
 * kept, so the next use tries again.
 */
export function loadedSecretCredential(loader: SecretLoader): ClientCredential {
  let cached: { readonly secret: string; readonly loadedAt: number } | undefined;
  let inflight: Promise<string> | undefined;
  // Bumped by reload() and dispose(): a read that started before them must not
  // repopulate the cache with material the caller asked to drop.
  let generation = 0;

  const fresh = (): string | undefined => {
    if (cached === undefined) return undefined;
    if (loader.maxAgeMs !== undefined && loader.clock.now() - cached.loadedAt >= loader.maxAgeMs) {
      cached = undefined;
      return undefined;
    }
    return cached.secret;
  };

  const load = (): Promise<string> => {
    if (inflight !== undefined) return inflight;
    const started = generation;
    const reading = loader.load().then(
      (secret) => {
        if (generation === started) cached = { secret, loadedAt: loader.clock.now() };
        return secret;
      },
    );
    const settled = (): void => {
      if (inflight === reading) inflight = undefined;
    };
    reading.then(settled, settled);
    inflight = reading;
    return reading;
  };

  const forget = async (): Promise<void> => {
    generation++;
    cached = undefined;
    inflight = undefined;
  };

  return redacted<ClientCredential>(
    {
      kind: "secret",
      description: loader.description,
      async getAuthentication(context): Promise<ClientSecretAuthentication> {
        throwIfAborted(context.signal, "Reading the client secret");
        const secret = fresh() ?? (await raceAbort(load(), context.signal, "Reading the client secret"));
        return secretAuthentication(secret);
      },
      reload: forget,
      dispose: forget,
    },
    loader.description,
  );
}

/**
 * The authentication handed to core, printing as redacted in case a caller logs it;
 * core reads `clientSecret` directly.
 */
export function secretAuthentication(secret: string): ClientSecretAuthentication {
  return redacted({ clientSecret: secret }, "{ clientSecret: [redacted] }");
}
