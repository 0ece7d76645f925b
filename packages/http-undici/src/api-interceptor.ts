import type { Dispatcher } from "undici";
import { ApiAuth, CONSENT_BODY_LIMIT, isJson, type ApiAuthOptions, type ConsentSignal, type RetryPlan } from "./lib/api-auth.js";

/** Options of {@link createApiInterceptor}. */
export type ApiInterceptorOptions = ApiAuthOptions;

type Headers = Record<string, string | string[] | undefined>;

/**
 * {@link createApiFetch}'s behaviour as an undici interceptor, for code that calls
 * `undici.request` (or any undici API) directly: bearer injection, one retry after a
 * 401 (with the challenge's claims, or a fresh token), and a {@link ConsentRequiredError}
 * for a 403 that means missing admin consent. Bodies that are streams are never retried.
 *
 * @example
 * const dispatcher = transport.dispatcher.compose(
 *   createApiInterceptor({ client, scopes: ["https://graph.microsoft.com/.default"], origins: ["https://graph.microsoft.com"] }),
 * );
 * const { body } = await request("https://graph.microsoft.com/v1.0/users", { dispatcher });
 *
 * @see https://github.com/nodejs/undici/blob/main/docs/docs/api/Dispatcher.md#dispatchercomposeinterceptors-interceptor
 */
export function createApiInterceptor(options: ApiInterceptorOptions): Dispatcher.DispatcherComposeInterceptor {
  const auth = new ApiAuth(options, "createApiInterceptor");

  return (dispatch) =>
    function apiInterceptor(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      let url: URL;
      try {
        url = new URL(opts.path, opts.origin);
      } catch {
        return dispatch(opts, handler);
      }
      if (!auth.appliesTo(url)) return dispatch(opts, handler);
      const signal = abortSignalOf(opts);
      const attempt = (plan: RetryPlan | undefined, canRetry: boolean, controller: Dispatcher.DispatchController | undefined): void => {
        const fail = (error: unknown): void => {
          try {
            // Like undici, an aborted request rejects with the signal's reason.
            handler.onResponseError?.(controller ?? IDLE_CONTROLLER, signal?.aborted ? toError(signal.reason) : toError(error));
          } catch {
            // The caller's handler has no error callback; there is nobody left to tell.
          }
        };
        void auth
          .authorization({ ...plan, signal })
          .then((authorization) => {
            const next = new ChallengeHandler(handler, auth, url, canRetry, (retryPlan, retryController) => attempt(retryPlan, false, retryController));
            // A synchronous throw (invalid options) lands in fail(), as undici would report it.
            dispatch({ ...opts, headers: withAuthorization(opts.headers, authorization) }, next);
          })
          .catch(fail);
      };
      attempt(undefined, isReplayableDispatchBody(opts.body), undefined);
      return true;
    };
}

/** What the handler does with the response it is given. */
type Mode = "forward" | "retry" | "refuse" | "inspect";

/**
 * Sits between undici and the caller's handler for one attempt. Forwards the response,
 * or swallows a 401 (then retries) or a consent 403 (then errors), reading their small
 * bodies to the end so the connection stays reusable.
 */
class ChallengeHandler implements Dispatcher.DispatchHandler {
  readonly #downstream: Dispatcher.DispatchHandler;
  readonly #auth: ApiAuth;
  readonly #url: URL;
  readonly #canRetry: boolean;
  readonly #retry: (plan: RetryPlan, controller: Dispatcher.DispatchController) => void;
  #mode: Mode = "forward";
  #plan: RetryPlan | undefined;
  #error: Error | undefined;
  #held: { statusCode: number; headers: Headers; statusMessage: string | undefined; chunks: Buffer[]; size: number } | undefined;

  constructor(
    downstream: Dispatcher.DispatchHandler,
    auth: ApiAuth,
    url: URL,
    canRetry: boolean,
    retry: (plan: RetryPlan, controller: Dispatcher.DispatchController) => void,
  ) {
    this.#downstream = downstream;
    this.#auth = auth;
    this.#url = url;
    this.#canRetry = canRetry;
    this.#retry = retry;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#downstream.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(...args: Parameters<NonNullable<Dispatcher.DispatchHandler["onRequestUpgrade"]>>): void {
    this.#downstream.onRequestUpgrade?.(...args);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers, statusMessage?: string): void {
    const challenge = headers["www-authenticate"];
    if (statusCode === 401 && this.#canRetry) {
      try {
        this.#plan = this.#auth.retryPlan(challenge, this.#url);
        this.#mode = "retry";
      } catch (error) {
        this.#refuse(toError(error));
      }
      return;
    }
    if (statusCode === 403) {
      const consent = this.#auth.consentFromChallenge(challenge);
      if (consent !== undefined) {
        this.#refuse(this.#auth.consentError(statusCode, this.#url, consent));
        return;
      }
      if (isJson(headerValue(headers["content-type"]))) {
        this.#mode = "inspect";
        this.#held = { statusCode, headers, statusMessage, chunks: [], size: 0 };
        return;
      }
    }
    this.#downstream.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#mode === "forward") {
      this.#downstream.onResponseData?.(controller, chunk);
    } else if (this.#mode === "inspect" && this.#held !== undefined) {
      this.#held.chunks.push(chunk);
      this.#held.size += chunk.byteLength;
      // Too big to be a consent refusal worth parsing: hand it over as it comes.
      if (this.#held.size > CONSENT_BODY_LIMIT) this.#release(controller);
    }
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Headers): void {
    switch (this.#mode) {
      case "forward":
        this.#downstream.onResponseEnd?.(controller, trailers);
        return;
      case "retry":
        this.#retry(this.#plan ?? { forceRefresh: true }, controller);
        return;
      case "refuse":
        this.#downstream.onResponseError?.(controller, this.#error ?? new Error("refused"));
        return;
      case "inspect": {
        const held = this.#held;
        if (held === undefined) return;
        const consent: ConsentSignal | undefined = this.#auth.consentFromBody("application/json", Buffer.concat(held.chunks, held.size));
        if (consent !== undefined) {
          this.#downstream.onResponseError?.(controller, this.#auth.consentError(held.statusCode, this.#url, consent));
          return;
        }
        this.#release(controller);
        this.#downstream.onResponseEnd?.(controller, trailers);
      }
    }
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.#downstream.onResponseError?.(controller, error);
  }

  #refuse(error: Error): void {
    this.#mode = "refuse";
    this.#error = error;
  }

  /** Replays a held response to the caller and forwards the rest of it. */
  #release(controller: Dispatcher.DispatchController): void {
    const held = this.#held;
    this.#held = undefined;
    this.#mode = "forward";
    if (held === undefined) return;
    this.#downstream.onResponseStart?.(controller, held.statusCode, held.headers, held.statusMessage);
    for (const chunk of held.chunks) this.#downstream.onResponseData?.(controller, chunk);
  }
}

/** Stands in for a controller when the request fails before undici started it. */
const IDLE_CONTROLLER: Dispatcher.DispatchController = {
  aborted: false,
  paused: false,
  reason: null,
  abort: () => {},
  pause: () => {},
  resume: () => {},
};

/** Bodies undici can send again: none, strings, bytes, FormData. Streams cannot. */
function isReplayableDispatchBody(body: unknown): boolean {
  return body === null || body === undefined || typeof body === "string" || body instanceof Uint8Array || body instanceof FormData || isUndiciFormData(body);
}

function isUndiciFormData(body: unknown): boolean {
  return typeof body === "object" && body !== null && (body as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "FormData";
}

function abortSignalOf(opts: Dispatcher.DispatchOptions): AbortSignal | undefined {
  const signal = (opts as { signal?: unknown }).signal;
  return signal instanceof AbortSignal ? signal : undefined;
}

/** The request headers with `authorization` set (any casing replaced), whatever shape undici was given. */
function withAuthorization(headers: Dispatcher.DispatchOptions["headers"], authorization: string): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  const add = (name: string, value: string | string[] | undefined | null): void => {
    if (value === undefined || value === null || name.toLowerCase() === "authorization") return;
    const existing = result[name];
    result[name] = existing === undefined ? value : ([] as string[]).concat(existing, value);
  };
  if (Array.isArray(headers)) {
    // undici's flat form: [name, value, name, value, …]
    for (let index = 0; index + 1 < headers.length; index += 2) add(String(headers[index]), String(headers[index + 1]));
  } else if (headers !== null && headers !== undefined) {
    if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === "function") {
      for (const [name, value] of headers as Iterable<[string, string | string[] | undefined]>) add(name, value);
    } else {
      for (const [name, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) add(name, value);
    }
  }
  result.authorization = authorization;
  return result;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
