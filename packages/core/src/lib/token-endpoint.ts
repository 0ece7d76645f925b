import type { RetryOptions } from "../client-types.js";
import type { Clock, Logger, TelemetryHooks } from "../seams.js";
import {
  AbortError,
  DaemonAuthError,
  HttpError,
  InvalidResponseError,
  ServerError,
  ThrottledError,
  TimeoutError,
} from "../errors.js";
import type { HttpTransport } from "../transport.js";
import { parseRetryAfter, readJsonObject, refuseRedirect, sleepOn, withDeadline } from "./http.js";
import { parseErrorResponse, parseTokenResponse, type TokenResponse } from "./token-response.js";

/** One token request, ready to send: everything but the wire is decided. */
export interface TokenEndpointCall {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly correlationId: string;
  /** Fires when the client is disposed; ends the call with {@link AbortError}. */
  readonly signal: AbortSignal;
  /** Records a server-imposed pause for this token key (429/503 `Retry-After`). */
  readonly onRetryAfter: (until: number) => void;
}

/** The client-wide settings of {@link postTokenRequest}. */
export interface TokenEndpointSettings {
  readonly transport: HttpTransport;
  readonly clock: Clock;
  readonly logger: Logger | undefined;
  readonly telemetry: TelemetryHooks | undefined;
  readonly timeoutMs: number;
  readonly retry: Required<RetryOptions>;
}

/** Statuses worth another attempt: the server or the path may recover. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** A token response and when the attempt that got it was sent. */
export interface TokenEndpointAnswer {
  readonly response: TokenResponse;
  /**
   * Clock time the successful attempt was sent: the token's lifetime counts from here,
   * not from before earlier attempts and their backoff.
   */
  readonly sentAt: number;
}

/**
 * POSTs a token request with a timeout per attempt and bounded retries: full-jitter
 * exponential backoff on 5xx, 408, 429 and network errors, `Retry-After` honoured,
 * no retry on 4xx protocol errors.
 */
export async function postTokenRequest(settings: TokenEndpointSettings, call: TokenEndpointCall): Promise<TokenEndpointAnswer> {
  const { retry, clock } = settings;
  let lastError: DaemonAuthError | undefined;
  for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
    const outcome = await attemptOnce(settings, call, attempt);
    if ("response" in outcome) return outcome;
    lastError = outcome.error;
    if (!outcome.retryable) break;
    let delay = Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
    if (outcome.retryAfterMs !== undefined) {
      // The pause applies to every caller of this key, not just this loop.
      const until = clock.now() + outcome.retryAfterMs;
      call.onRetryAfter(until);
      if (outcome.retryAfterMs > retry.maxDelayMs || attempt === retry.maxAttempts) throw throttled(until, outcome.error);
      delay = outcome.retryAfterMs;
    }
    if (attempt === retry.maxAttempts) break;
    settings.logger?.debug?.("daemon-auth: retrying the token request", {
      attempt,
      delayMs: Math.round(delay),
      reason: outcome.error.message,
      correlationId: call.correlationId,
    });
    await sleepOn(clock, delay, call.signal);
  }
  throw lastError ?? new HttpError("The token request made no attempt; check 'retry.maxAttempts'.");
}

type AttemptOutcome =
  | TokenEndpointAnswer
  | { error: DaemonAuthError; retryable: boolean; retryAfterMs?: number | undefined };

async function attemptOnce(settings: TokenEndpointSettings, call: TokenEndpointCall, attempt: number): Promise<AttemptOutcome> {
  const started = settings.clock.now();
  const seen: { status: number | undefined } = { status: undefined };
  let outcome: AttemptOutcome | undefined;
  try {
    outcome = await sendOnce(settings, call, started, seen);
    return outcome;
  } finally {
    const error = outcome !== undefined && "error" in outcome ? outcome.error : undefined;
    settings.telemetry?.onTokenRequest?.({
      tokenEndpoint: call.url,
      status: seen.status,
      durationMs: settings.clock.now() - started,
      attempt,
      correlationId: call.correlationId,
      errorCode: error?.code,
      error: error instanceof ServerError ? error.error : undefined,
      errorCodes: error instanceof ServerError ? error.errorCodes : undefined,
    });
  }
}

/** One attempt on the wire, sent at `started`; `seen.status` is the answer's status as soon as one arrives. */
async function sendOnce(
  settings: TokenEndpointSettings,
  call: TokenEndpointCall,
  started: number,
  seen: { status: number | undefined },
): Promise<AttemptOutcome> {
  const deadline = withDeadline(call.signal, settings.timeoutMs);
  const signal = deadline.signal;
  let status: number | undefined;
  let retryAfterMs: number | undefined;
  try {
    const response = await settings.transport(call.url, {
      method: "POST",
      headers: call.headers,
      body: call.body,
      signal,
      redirect: "manual",
    });
    status = response.status;
    seen.status = status;
    await refuseRedirect(response, call.url, "token endpoint");
    // Read before the body: a proxy's HTML 503 or 429 page carries Retry-After too.
    if (status !== 200) retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), settings.clock.now());
    const body = await readJsonObject(response, "token");
    if (status === 200) return { response: parseTokenResponse(body, status), sentAt: started };
    const serverError = parseErrorResponse(body, status, sentSecrets(call));
    const retryable = isRetryableStatus(status);
    if (serverError) return { error: serverError, retryable, retryAfterMs };
    return {
      error: new InvalidResponseError(`The token endpoint answered HTTP ${status} without an OAuth 2.0 error.`, { status }),
      retryable,
      retryAfterMs,
    };
  } catch (cause) {
    if (call.signal.aborted) {
      return { error: new AbortError("The client was disposed during the token request.", { cause }), retryable: false };
    }
    if (deadline.timedOut()) {
      return {
        error: new TimeoutError(`The token endpoint did not answer within ${settings.timeoutMs} ms.`, { cause }),
        retryable: true,
      };
    }
    if (cause instanceof InvalidResponseError) {
      return { error: cause, retryable: status !== undefined && isRetryableStatus(status), retryAfterMs };
    }
    if (cause instanceof DaemonAuthError) return { error: cause, retryable: false };
    return {
      error: new HttpError(`The token endpoint could not be reached (${describeNetworkError(cause)}).`, { cause }),
      retryable: true,
    };
  } finally {
    deadline.dispose();
  }
}

/** The secret values a token request carries, for redaction from the server's echo of them. */
function sentSecrets(call: TokenEndpointCall): string[] {
  const form = new URLSearchParams(call.body);
  const sent = [form.get("client_secret"), form.get("client_assertion")].filter((value): value is string => value !== null);
  const basic = /^basic\s+(\S+)$/i.exec(call.headers["authorization"] ?? "")?.[1];
  if (basic !== undefined) {
    sent.push(basic);
    try {
      // RFC 6749 §2.3.1: "id:secret", each form-encoded, then Base64.
      const password = atob(basic).split(":").slice(1).join(":");
      sent.push(decodeURIComponent(password.replace(/\+/g, " ")));
    } catch {
      // Not the encoding this client writes; the Base64 form is redacted all the same.
    }
  }
  return sent;
}

function throttled(until: number, cause: DaemonAuthError): ThrottledError {
  return new ThrottledError(
    `The token endpoint is throttling this client until ${new Date(until).toISOString()}; no request is sent before then. ` +
      "Cache tokens (do not force refreshes) and spread load across time.",
    { retryAfter: new Date(until), cause },
  );
}

export function throttledUntil(until: number): ThrottledError {
  return new ThrottledError(
    `The token endpoint asked this client to wait until ${new Date(until).toISOString()} (Retry-After); no request is sent before then.`,
    { retryAfter: new Date(until) },
  );
}

function describeNetworkError(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code ?? (cause.cause as { code?: unknown } | undefined)?.code;
    return typeof code === "string" ? code : cause.name;
  }
  return "unknown error";
}
