import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { CredentialError, type Clock } from "@daemon-auth/core";
import { optionChecks } from "@daemon-auth/core/adapter";
import { createAssertionCredential, type AssertionCredential } from "./assertion-credential.js";

/** The variable Azure Workload Identity sets in the pod to the projected token's path. */
export const FEDERATED_TOKEN_FILE_VARIABLE = "AZURE_FEDERATED_TOKEN_FILE";

/** Options of {@link federatedTokenFileCredential}. */
export interface FederatedTokenFileCredentialOptions {
  /**
   * The file holding the federated token (a JWT), such as a Kubernetes projected service
   * account token.
   *
   * @default process.env.AZURE_FEDERATED_TOKEN_FILE
   */
  readonly path?: string | undefined;
  /**
   * How long a read is used before the file is read again, in milliseconds. The kubelet
   * rewrites the file before the token expires; a token's own `exp` also triggers a re-read.
   *
   * @default 300000
   */
  readonly maxAgeMs?: number | undefined;
  /**
   * The time source for `maxAgeMs` and `exp`.
   *
   * @default systemClock
   */
  readonly clock?: Clock | undefined;
}

/**
 * A credential that sends the federated token in a file as its client assertion:
 * Kubernetes workload identity (Azure Workload Identity sets `AZURE_FEDERATED_TOKEN_FILE`
 * and mounts a projected service account token there). The file is read on first use,
 * again at least every `maxAgeMs`, before the token's `exp`, and after `reload()`.
 *
 * @example
 * const client = createDaemonClient({
 *   tenantId: process.env.AZURE_TENANT_ID!,
 *   clientId: process.env.AZURE_CLIENT_ID!,
 *   credential: federatedTokenFileCredential(),
 * });
 *
 * @throws {ConfigurationError} when neither `path` nor `AZURE_FEDERATED_TOKEN_FILE` is set, or an
 *   option is invalid (`"federatedTokenFileCredential: 'path' must …"`).
 * @see https://azure.github.io/azure-workload-identity/docs/
 */
export function federatedTokenFileCredential(options: FederatedTokenFileCredentialOptions = {}): AssertionCredential {
  const check = optionChecks("federatedTokenFileCredential");
  if (options === null || typeof options !== "object") {
    throw check.error("the options must be an object, e.g. {} or { path }.");
  }
  const configured = options.path ?? process.env[FEDERATED_TOKEN_FILE_VARIABLE];
  if (typeof configured !== "string" || configured.trim() === "") {
    throw check.error(
      `'path' must name the federated token file: pass it, or set ${FEDERATED_TOKEN_FILE_VARIABLE} ` +
        "(Azure Workload Identity sets it in pods labelled azure.workload.identity/use: \"true\").",
    );
  }
  const path = resolve(configured);
  const load = async (): Promise<string> => {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw fileError(path, error);
    }
    const token = text.trim();
    if (token === "") {
      throw new CredentialError(
        `The federated token file "${path}" is empty: is the projected service account token volume mounted, and does the kubelet refresh it?`,
      );
    }
    return token;
  };
  return createAssertionCredential(check, load, `assertion (file "${path}")`, options);
}

function fileError(path: string, error: unknown): CredentialError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `The federated token file "${path}"`;
  const message =
    code === "ENOENT"
      ? `${where} does not exist: is the projected service account token volume mounted? Check \`path\` or ${FEDERATED_TOKEN_FILE_VARIABLE}.`
      : code === "EACCES" || code === "EPERM"
        ? `${where} is not readable by this process: give its user read access (for a pod, set securityContext.fsGroup).`
        : code === "EISDIR"
          ? `${where} is a directory: point \`path\` or ${FEDERATED_TOKEN_FILE_VARIABLE} at the token file inside it.`
          : `${where} could not be read${code ? ` (${code})` : ""}: check that the path names a readable file.`;
  return new CredentialError(message, { cause: error });
}
