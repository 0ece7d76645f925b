/** This package's version, sent as `x-client-VER`. */
export const LIBRARY_VERSION = "0.1.0";

/** What every token request says about the library, as MSAL does (`x-client-*`, `x-ms-lib-capability`). */
export const LIBRARY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "x-client-sku": "daemon-auth",
  "x-client-ver": LIBRARY_VERSION,
  ...platformHeaders(),
  // The client honours Retry-After on 429 and 5xx, so Entra may throttle it with one.
  "x-ms-lib-capability": "retry-after, h429",
});

interface RuntimeGlobals {
  readonly process?: { readonly platform?: unknown; readonly arch?: unknown };
  readonly navigator?: { readonly userAgentData?: { readonly platform?: unknown } };
}

/**
 * `x-client-OS` and `x-client-CPU` from whatever the runtime tells without an import
 * (core runs on Node, Deno, Bun and edge runtimes); a header is left out when unknown.
 */
function platformHeaders(): Record<string, string> {
  const runtime = globalThis as RuntimeGlobals;
  const headers: Record<string, string> = {};
  const os = headerValue(runtime.process?.platform) ?? headerValue(runtime.navigator?.userAgentData?.platform);
  const cpu = headerValue(runtime.process?.arch);
  if (os !== undefined) headers["x-client-os"] = os;
  if (cpu !== undefined) headers["x-client-cpu"] = cpu;
  return headers;
}

function headerValue(value: unknown): string | undefined {
  return typeof value === "string" && /^[A-Za-z0-9._ -]{1,32}$/.test(value) ? value : undefined;
}
