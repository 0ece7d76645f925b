import { ConfigurationError, CredentialError, systemClock, type ClientCredential } from "@daemon-auth/core";
import { loadedSecretCredential } from "./lib/secret-source.js";

/** The environment variable the Azure SDKs read a client secret from. */
export const DEFAULT_SECRET_VARIABLE = "AZURE_CLIENT_SECRET";

interface ProcessLike {
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A client secret read from an environment variable. The variable is read on first
 * use, not at construction, so the credential can be created before the environment
 * is populated; `reload()` reads it again.
 *
 * Works wherever `globalThis.process.env` exists (Node, Bun, Deno).
 *
 * @param variable - the variable's name.
 * @default variable "AZURE_CLIENT_SECRET"
 *
 * @example
 * const credential = clientSecretFromEnvironment(); // AZURE_CLIENT_SECRET
 */
export function clientSecretFromEnvironment(variable: string = DEFAULT_SECRET_VARIABLE): ClientCredential {
  if (typeof variable !== "string" || variable.trim() === "") {
    throw new ConfigurationError(
      `clientSecretFromEnvironment: pass the name of the environment variable that holds the secret, for example "${DEFAULT_SECRET_VARIABLE}".`,
    );
  }
  return loadedSecretCredential({
    description: `client secret (environment variable ${variable})`,
    maxAgeMs: undefined,
    clock: systemClock,
    async load() {
      let value: string | undefined;
      try {
        value = (globalThis as { process?: ProcessLike }).process?.env?.[variable];
      } catch (error) {
        // Deno without --allow-env throws here rather than returning undefined.
        throw new CredentialError(
          `clientSecretFromEnvironment: reading the environment variable ${variable} failed. Allow environment access (Deno: --allow-env=${variable}).`,
          { cause: error },
        );
      }
      if (value === undefined || value.trim() === "") {
        throw new ConfigurationError(
          `clientSecretFromEnvironment: the environment variable ${variable} is ${value === undefined ? "not set" : "empty"}. Set it to the client secret's value, or pass the secret with clientSecret().`,
          { cause: new Error(`${variable} is ${value === undefined ? "undefined" : "empty"}`) },
        );
      }
      return value;
    },
  });
}
