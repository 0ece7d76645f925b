// Entra ID error responses: the AADSTS codes the emulator emits and the exact
// JSON shape (RFC 6749 §5.2 plus Entra's fields).
import { randomUUID } from "node:crypto";

/** How the emulator answers one AADSTS code. */
export interface CodeInfo {
  /** The OAuth `error` Entra pairs with the code. */
  error: string;
  /** The HTTP status of the answer. */
  status: number;
  /** What the code means, as the emulator's error page says. */
  summary: string;
}

/** The AADSTS codes the emulator emits, with the OAuth `error` and HTTP status Entra pairs them with. */
export const AADSTS_CODES: Readonly<Record<number, CodeInfo>> = {
  50013: { error: "invalid_client", status: 401, summary: "Assertion is invalid (malformed, wrong audience, issuer or subject)." },
  50196: { error: "invalid_grant", status: 400, summary: "Loop detected: the client asked for the same token too many times in a short time. Cache tokens and reuse them until they near expiry." },
  50059: { error: "invalid_request", status: 400, summary: "No tenant-identifying information found: client credentials need a concrete tenant, not common, organizations or consumers." },
  70003: { error: "unsupported_grant_type", status: 400, summary: "The app requested an unsupported grant type." },
  70011: { error: "invalid_scope", status: 400, summary: "The provided value for the input parameter 'scope' is not valid (missing, or no resource before /.default): use {resource}/.default." },
  90061: { error: "invalid_client", status: 401, summary: "Request to the external OIDC endpoint failed: the federated token's issuer does not serve its discovery document or JWKS." },
  90033: { error: "temporarily_unavailable", status: 503, summary: "A transient error has occurred in the service: try again later." },
  90055: { error: "temporarily_unavailable", status: 429, summary: "Too many requests for the tenant: back off for the time Retry-After gives, then try again." },
  90002: { error: "invalid_request", status: 400, summary: "Tenant not found: check the tenant id or domain." },
  500011: { error: "invalid_resource", status: 400, summary: "The resource principal was not found in the tenant: the API is not provisioned there or admin consent is missing." },
  700016: { error: "unauthorized_client", status: 400, summary: "Application not found in the directory: wrong client id or tenant, or the app is not provisioned in that tenant." },
  700211: { error: "invalid_client", status: 401, summary: "No matching federated identity record for the assertion's issuer: add a federated credential with that issuer to the app." },
  700212: { error: "invalid_client", status: 401, summary: "No matching federated identity record for the assertion's audience: request the token for api://AzureADTokenExchange or list its audience on the credential." },
  700213: { error: "invalid_client", status: 401, summary: "No matching federated identity record for the assertion's subject: the credential's subject must equal the token's sub exactly." },
  700022: { error: "invalid_scope", status: 400, summary: "The scope contains more than one resource: request one resource per token." },
  700024: { error: "invalid_client", status: 401, summary: "Client assertion is not within its valid time range: check the clock and sign a new assertion." },
  700027: { error: "invalid_client", status: 401, summary: "Client assertion failed signature validation: the key was not found (certificate not uploaded, or rotated)." },
  900023: { error: "invalid_request", status: 400, summary: "The tenant identifier is neither a GUID nor a valid DNS name." },
  900144: { error: "invalid_request", status: 400, summary: "The request body is missing a required parameter." },
  900561: { error: "invalid_request", status: 400, summary: "The endpoint only accepts POST requests." },
  1002012: { error: "invalid_scope", status: 400, summary: "A client credentials request must ask for {resource}/.default: permissions are granted to the app by admin consent, not requested one by one." },
  1000502: { error: "invalid_client", status: 401, summary: "The certificate used to sign the client assertion is outside its validity window: rotate it." },
  7000215: { error: "invalid_client", status: 401, summary: "Invalid client secret: send the secret value, not its id; check rotation." },
  7000218: { error: "invalid_client", status: 401, summary: "The request body must contain client_assertion or client_secret: configure a credential." },
  7000222: { error: "invalid_client", status: 401, summary: "The client secret is expired: create a new secret." },
  7000274: { error: "invalid_client", status: 401, summary: "The key was found, but verifying the assertion signature with it failed: check the key/certificate pair." },
  9002313: { error: "invalid_request", status: 400, summary: "Invalid request: the request is malformed or invalid." },
};

/** A failure of a token request, turned into an Entra error response by {@link errorResponse}. */
export class AadstsFailure extends Error {
  readonly aadsts: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = "AadstsFailure";
    this.aadsts = code;
  }
}

/** AADSTS9002313, Entra's answer to a request it cannot parse; `detail` says what is wrong. */
export function malformedRequest(detail: string): AadstsFailure {
  return new AadstsFailure(9002313, `Invalid request. Request is malformed or invalid. (${detail})`);
}

/** Entra's timestamp format in error responses: `2026-01-01 12:00:00Z`. */
export function entraTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** The body Entra sends for an error. */
export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

/** Builds the status and Entra-shaped body for a failure. */
export function errorResponse(
  failure: AadstsFailure,
  context: { baseUrl: string; correlationId: string; now: number },
): { status: number; body: EntraErrorBody } {
  const info = AADSTS_CODES[failure.aadsts] ?? { error: "invalid_request", status: 400, summary: "" };
  const traceId = randomUUID();
  const timestamp = entraTimestamp(context.now);
  return {
    status: info.status,
    body: {
      error: info.error,
      error_description: `AADSTS${failure.aadsts}: ${failure.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${context.correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [failure.aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: context.correlationId,
      error_uri: `${context.baseUrl}/error?code=${failure.aadsts}`,
    },
  };
}

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A minimal HTML page (error_uri target, admin consent outcome). */
export function htmlPage(title: string, text: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p><p>Served by the daemon-auth emulator.</p></body></html>\n`;
}

/** The small HTML page behind `error_uri`. */
export function errorPage(code: string | null): string {
  const number = Number(code);
  const info = Number.isInteger(number) ? AADSTS_CODES[number] : undefined;
  const title = info === undefined ? `Error code ${code ?? "(none)"}` : `AADSTS${number}: ${info.error}`;
  const text = info?.summary ?? "The daemon-auth emulator does not emit this code. See the Microsoft Entra error code reference.";
  return htmlPage(title, text);
}
