// The options of one acquisition, checked before any I/O: what the caller may ask of a
// single request (force a refresh, a claims challenge, a signal, a correlation id) and the
// flight mode the acquirer derives from them.
import { InvalidRequestError } from "../errors.js";

/** How one acquisition may be answered; the fields of `AcquireTokenRequest` past its target. */
export interface AcquireOptions {
  /** Skip the cache read and fetch a new token (it is still stored). */
  readonly forceRefresh?: boolean | undefined;
  /** A claims challenge (JSON object text); bypasses the cache read and is passed to the fetcher. */
  readonly claims?: string | undefined;
  /** Cancels this caller's wait (a shared flight goes on for the others). */
  readonly signal?: AbortSignal | undefined;
  /** @default a random UUID */
  readonly correlationId?: string | undefined;
  /** Ask the server to echo the correlation id; passed to the fetcher, not part of the flight. @default false */
  readonly returnClientRequestId?: boolean | undefined;
}

export interface FlightMode {
  readonly bypassRead: boolean;
  readonly claims: string | undefined;
  readonly correlationId: string;
  readonly returnClientRequestId: boolean;
}

/** Checks the per-request options before any I/O. */
export function flightMode(options: AcquireOptions): FlightMode {
  const claims = options.claims === undefined ? undefined : checkClaims(options.claims);
  checkSignal(options.signal);
  const correlationId = options.correlationId === undefined ? newCorrelationId() : checkCorrelationId(options.correlationId);
  const returnClientRequestId: unknown = options.returnClientRequestId;
  if (returnClientRequestId !== undefined && typeof returnClientRequestId !== "boolean") {
    throw new InvalidRequestError("'returnClientRequestId' must be true or false.");
  }
  return { bypassRead: options.forceRefresh === true || claims !== undefined, claims, correlationId, returnClientRequestId: returnClientRequestId === true };
}

/**
 * A random UUID as one flat string. Node builds `randomUUID()` by concatenation, a tree of
 * ~15 strings (~480 bytes) that every cached token kept; `toLowerCase()` (a UUID is lower
 * case already) hands back its flat 56-byte copy.
 */
export function newCorrelationId(): string {
  return crypto.randomUUID().toLowerCase();
}

function checkCorrelationId(correlationId: unknown): string {
  // Sent as the client-request-id header: visible ASCII only, or fetch refuses the request.
  if (typeof correlationId !== "string" || !/^[\x21-\x7e]{1,256}$/.test(correlationId)) {
    throw new InvalidRequestError("'correlationId' must be 1 to 256 visible ASCII characters, e.g. a UUID.");
  }
  return correlationId;
}

function checkSignal(signal: unknown): void {
  const candidate = signal as Partial<AbortSignal> | null | undefined;
  if (signal !== undefined && (typeof candidate?.aborted !== "boolean" || typeof candidate.addEventListener !== "function")) {
    throw new InvalidRequestError("'signal' must be an AbortSignal, e.g. AbortSignal.timeout(5000).");
  }
}

function checkClaims(claims: unknown): string {
  if (typeof claims === "string") {
    try {
      const parsed: unknown = JSON.parse(claims);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return claims;
    } catch {
      // fall through to the error below
    }
  }
  throw new InvalidRequestError(
    "'claims' must be a JSON object string, as decoded from the base64 'claims' of a WWW-Authenticate challenge.",
  );
}
