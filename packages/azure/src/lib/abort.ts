import type { GetTokenOptions } from "@azure/core-auth";

type AbortSignalLike = NonNullable<GetTokenOptions["abortSignal"]>;

/**
 * Core takes a DOM `AbortSignal`; Azure SDKs may hand over any `AbortSignalLike`
 * (an `@azure/abort-controller` polyfill, for instance). A real signal is passed as is;
 * anything else is mirrored onto a fresh controller. The returned `release` removes the
 * listener so a long-lived signal does not collect one per token request.
 */
export function toAbortSignal(signal: AbortSignalLike | undefined): { signal?: AbortSignal; release: () => void } {
  if (signal === undefined) return { release: noop };
  if (signal instanceof AbortSignal) return { signal, release: noop };
  const controller = new AbortController();
  if (signal.aborted) {
    controller.abort();
    return { signal: controller.signal, release: noop };
  }
  const onAbort = (): void => {
    controller.abort();
  };
  signal.addEventListener("abort", onAbort);
  return { signal: controller.signal, release: () => signal.removeEventListener("abort", onAbort) };
}

function noop(): void {}
