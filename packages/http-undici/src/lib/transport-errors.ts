import { AbortError, DaemonAuthError, HttpError, TimeoutError } from "@daemon-auth/core";

/** The limits a transport error message can quote. */
export interface TransportLimits {
  readonly connectTimeoutMs: number | undefined;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly maxResponseBytes: number;
}

/** `origin + path` of a URL: never its query, which may carry a SAS token or the like. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return "the server";
  }
}

/** The error for a response body larger than the cap. */
export function tooLargeError(url: string, limits: TransportLimits, status: number | undefined, cause?: unknown): HttpError {
  return new HttpError(
    `The response from ${safeUrl(url)} was too large: it exceeds maxResponseBytes (${limits.maxResponseBytes} bytes), so it was discarded. ` +
      "Check that the URL points at the right endpoint, or raise maxResponseBytes.",
    { status, cause },
  );
}

/** The error for an aborted request: the signal's own reason when it is one of ours. */
export function abortError(url: string, reason: unknown): DaemonAuthError {
  if (reason instanceof DaemonAuthError) return reason;
  if (isNamed(reason, "TimeoutError")) {
    return new TimeoutError(`The request to ${safeUrl(url)} was cancelled by its timeout signal; retry, or allow it more time.`, { cause: reason });
  }
  return new AbortError(`The request to ${safeUrl(url)} was aborted by the caller's AbortSignal.`, { cause: reason });
}

const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|HOSTNAME_MISMATCH/;

/**
 * Maps an undici (or socket) error to core's error classes. The message quotes only the
 * URL without query, the error code and the limit that fired: never a request body or
 * header, which may hold a client secret or assertion. The original stays in `cause`.
 */
export function transportError(error: unknown, url: string, signal: AbortSignal | undefined, limits: TransportLimits): DaemonAuthError {
  if (error instanceof DaemonAuthError) return error;
  if (signal?.aborted) return abortError(url, signal.reason);
  const where = safeUrl(url);
  const code = errorCode(error);
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return new TimeoutError(
        `Connecting to ${where} timed out` +
          (limits.connectTimeoutMs === undefined ? "" : ` after ${limits.connectTimeoutMs} ms`) +
          ". Check that the host is reachable from here (DNS, firewall, proxy: HTTPS_PROXY/NO_PROXY), or raise connectTimeoutMs.",
        { cause: error },
      );
    case "UND_ERR_HEADERS_TIMEOUT":
      return new TimeoutError(
        `${where} sent no response headers within ${limits.headersTimeoutMs} ms. The server is slow or stuck: retry later, or raise headersTimeoutMs.`,
        { cause: error },
      );
    case "UND_ERR_BODY_TIMEOUT":
      return new TimeoutError(
        `${where} stopped sending its response body for ${limits.bodyTimeoutMs} ms. The server is slow or stuck: retry later, or raise bodyTimeoutMs.`,
        { cause: error },
      );
    case "UND_ERR_RES_EXCEEDED_MAX_SIZE":
      return tooLargeError(url, limits, undefined, error);
    case "UND_ERR_ABORTED": {
      const proxyStatus = /Proxy response \((\d+)\)/.exec(messageOf(error))?.[1];
      if (proxyStatus !== undefined) {
        return new HttpError(
          `The proxy refused to open a tunnel to ${where} (HTTP ${proxyStatus}). Check the proxy URL and its credentials (the proxy option, or HTTPS_PROXY/HTTP_PROXY), or exempt the host with NO_PROXY.`,
          { cause: error },
        );
      }
      return new AbortError(`The request to ${where} was aborted.`, { cause: error });
    }
    case "UND_ERR_DESTROYED":
    case "UND_ERR_CLOSED":
      return new HttpError(`The transport was disposed before the request to ${where} was sent. Create a new transport (and dispose it only at shutdown).`, {
        cause: error,
      });
    case "UND_ERR_INVALID_ARG":
      return new HttpError(`The request to ${where} was refused before sending: ${messageOf(error)}. Fix the request's headers or body.`, { cause: error });
    case "ECONNREFUSED":
      return new HttpError(`${where} refused the connection (ECONNREFUSED). Check the URL and port, and that the server is running.`, { cause: error });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new HttpError(`The host of ${where} could not be resolved (${code}). Check the URL, DNS, or the proxy settings (HTTPS_PROXY/NO_PROXY).`, {
        cause: error,
      });
    case "UND_ERR_SOCKET":
    case "ECONNRESET":
    case "EPIPE":
      return new HttpError(
        `The connection to ${where} closed before a complete response arrived (${code}). Retry; if it keeps happening, check the proxy or the server's keep-alive timeout.`,
        { cause: error },
      );
    default:
      if (code !== undefined && TLS_CODE.test(code)) {
        return new HttpError(
          `The TLS handshake with ${where} failed (${code}): its certificate is not trusted or does not match the host. ` +
            "If the server uses a private CA (such as the emulator's), pass that CA with the ca option or NODE_EXTRA_CA_CERTS.",
          { cause: error },
        );
      }
      return new HttpError(`The request to ${where} failed (${code ?? nameOf(error)}). Check the URL and the network path to the server, then retry.`, {
        cause: error,
      });
  }
}

function errorCode(error: unknown, depth = 0): string | undefined {
  if (typeof error !== "object" || error === null || depth > 4) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // Node nests the socket error of a failed connect (AggregateError with autoSelectFamily).
  const inner = (error as { errors?: unknown }).errors;
  if (Array.isArray(inner) && inner.length > 0) return errorCode(inner[0], depth + 1);
  return errorCode((error as { cause?: unknown }).cause, depth + 1);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function isNamed(value: unknown, name: string): boolean {
  return typeof value === "object" && value !== null && (value as { name?: unknown }).name === name;
}
