// What every Key Vault data-plane route (secrets, keys, certificates) shares:
// Key Vault's answer and error shapes, the api-version check and the bearer
// token check (audience https://vault.azure.net, tokens of the vault's tenant
// signed by this emulator), with Key Vault's WWW-Authenticate challenge.
import { randomBytes } from "node:crypto";
import { importJWK, jwtVerify, type JWTPayload } from "jose";
import type { Directory } from "./directory.js";
import type { TokenSigner } from "./signing-key.js";
import { json, NO_STORE, requestId, type Answer } from "../server/answer.js";
import type { Route } from "../server/pipeline.js";
import type { EmulatorRequest } from "../server/request.js";

/** The resource (audience) of Key Vault tokens. */
export const KEY_VAULT_RESOURCE = "https://vault.azure.net";
// Key Vault's first-party application id: a token may carry it as `aud` too.
const KEY_VAULT_APP_ID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093";
const AUDIENCES = [KEY_VAULT_RESOURCE, `${KEY_VAULT_RESOURCE}/`, KEY_VAULT_APP_ID];

/** Names of secrets, keys and certificates: 1–127 letters, digits and dashes. */
export const VAULT_OBJECT_NAME = /^[0-9a-zA-Z-]{1,127}$/;

/** A Key Vault JSON answer (never cached, with a request id). */
export function vaultAnswer(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return json(status, body, { ...NO_STORE, "x-ms-request-id": requestId(), ...headers });
}

/** A Key Vault error answer: `{ error: { code, message[, innererror] } }`. */
export function vaultError(status: number, code: string, message: string, options: { headers?: Record<string, string>; inner?: string } = {}): Answer {
  return vaultAnswer(status, { error: { code, message, ...(options.inner === undefined ? {} : { innererror: { code: options.inner } }) } }, options.headers);
}

/** Key Vault's version ids: 32 lower-case hex characters. */
export function newVaultVersion(): string {
  return randomBytes(16).toString("hex");
}

/** Who called, as the vault's access checks see it. */
export interface VaultCaller {
  /** The client (application) id of the token: `azp`, or `appid` of a v1 token. */
  readonly clientId: string | undefined;
  readonly claims: JWTPayload;
}

/** Checks api-version and the bearer token of a Key Vault request. */
export class VaultGate {
  private verificationKey: ReturnType<typeof importJWK> | undefined;

  constructor(
    private readonly tenant: string | undefined,
    private readonly signer: TokenSigner,
    private readonly directory: Directory,
  ) {}

  private tenantId(): string {
    const configured = this.tenant === undefined ? undefined : (this.directory.resolveTenant(this.tenant)?.id ?? this.tenant);
    return configured ?? this.directory.tenantIds()[0] ?? "organizations";
  }

  private challenge(baseUrl: string): Record<string, string> {
    // keyvault-common splits the header on spaces: no value may contain one.
    return { "WWW-Authenticate": `Bearer authorization="${baseUrl}/${this.tenantId()}", resource="${KEY_VAULT_RESOURCE}"` };
  }

  /** The caller, or the answer that refuses the request (400 without api-version, 401 with the challenge). */
  async admit(request: EmulatorRequest): Promise<VaultCaller | Answer> {
    if ((request.query.get("api-version") ?? "") === "") {
      return vaultError(400, "BadParameter", "The request URI contains no api-version; add ?api-version=7.5 (the Azure SDKs do).");
    }
    const headers = this.challenge(request.baseUrl);
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
    if (match?.[1] === undefined) return vaultError(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.", { headers });
    this.verificationKey ??= importJWK({ ...this.signer.jwk() }, "RS256");
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(match[1], await this.verificationKey, {
        algorithms: ["RS256"],
        audience: AUDIENCES,
        currentDate: new Date(request.now),
      }));
    } catch (cause) {
      const reason = cause instanceof Error && "code" in cause ? String(cause.code) : "invalid token";
      return vaultError(401, "Unauthorized", `AKV10022: The access token is not valid for this vault (${reason}); request a token for ${KEY_VAULT_RESOURCE}/.default from this emulator.`, { headers });
    }
    const tenantId = this.tenantId();
    if (claims.iss !== `${request.baseUrl}/${String(claims.tid)}/v2.0` || claims.tid !== tenantId) {
      return vaultError(401, "Unauthorized", `AKV10032: Invalid issuer. Expected a token of tenant ${tenantId} issued by this emulator.`, { headers });
    }
    const clientId = typeof claims.azp === "string" ? claims.azp : typeof claims.appid === "string" ? claims.appid : undefined;
    return { clientId, claims };
  }
}

/** Whether a step ({@link VaultGate.admit}, {@link vaultJsonBody}) answered instead of returning its value. */
export function isAnswer<T extends object>(value: T | Answer): value is Answer {
  return "status" in value && "body" in value && "headers" in value;
}

/** A request's JSON object, wrapped so that no body can pass for an {@link Answer}. */
export interface VaultJsonBody {
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The JSON object a POST or PUT carries, or the 400 answer for anything else. */
export async function vaultJsonBody(request: EmulatorRequest, example: string): Promise<VaultJsonBody | Answer> {
  let body: unknown;
  try {
    body = JSON.parse((await request.text()) ?? "");
  } catch {
    body = undefined;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return vaultError(400, "BadParameter", `The request body must be a JSON object such as ${example}.`);
  }
  return { fields: body as Record<string, unknown> };
}

/**
 * The 403 Key Vault's RBAC answers when `permissions` (by client id) do not allow
 * `operation` to the caller; `undefined` when allowed. Unlisted clients may do everything.
 */
export function forbiddenByRbac(
  caller: VaultCaller,
  permissions: Readonly<Record<string, readonly string[]>> | undefined,
  operation: string,
  action: string,
  resource: string,
): Answer | undefined {
  const allowed = caller.clientId === undefined ? undefined : permissions?.[caller.clientId];
  if (allowed === undefined || allowed.includes(operation)) return undefined;
  return vaultError(
    403,
    "Forbidden",
    `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${caller.clientId ?? "unknown"}\r\nAction: '${action}'\r\nResource: '${resource}'\r\nAssignment: (not found)`,
    { inner: "ForbiddenByRbac" },
  );
}

/** Operations allowed per client id (`keyPermissions`); unlisted clients may do everything. */
export type VaultPermissions = Readonly<Record<string, readonly string[]>> | undefined;

/** A vault route: the gate admits the request (api-version, token), then {@link serve} answers it. */
export abstract class GatedVaultRoute implements Route {
  constructor(
    private readonly gate: VaultGate,
    private readonly permissions: VaultPermissions,
  ) {}

  async handle(request: EmulatorRequest): Promise<Answer> {
    const caller = await this.gate.admit(request);
    return isAnswer(caller) ? caller : this.serve(request, caller);
  }

  /** 403 unless the caller may do `operation` (see {@link forbiddenByRbac}). */
  protected denied(caller: VaultCaller, operation: string, action: string, resource: string): Answer | undefined {
    return forbiddenByRbac(caller, this.permissions, operation, action, resource);
  }

  protected abstract serve(request: EmulatorRequest, caller: VaultCaller): Promise<Answer>;
}
