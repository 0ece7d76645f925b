import {
  AbortError,
  ConfigurationError,
  DaemonAuthError,
  HttpError,
  redacted,
  ThrottledError,
  TimeoutError,
  type HttpTransport,
  type ServerError,
} from "@daemon-auth/core";
import {
  callHook,
  parseRetryAfter,
  sleepOn,
  withDeadline,
  type AcquisitionSettings,
  type FetchedToken,
  type TokenFetchContext,
  type TokenFetcher,
  type TokenTarget,
} from "@daemon-auth/core/acquisition";
import { readJsonObject, refuseRedirect } from "@daemon-auth/core/protocol";
import type { IdentitySelector } from "../options.js";
import { readArcKey } from "./azure-arc-key.js";
import { CertificatePinError } from "./pinned-transport.js";
import { MAX_POLICY_DELAY_MS, RetrySchedule } from "./retry-policy.js";
import { buildRequest, type SourceEndpoint } from "./sources.js";
import { isIdentityMissing, parseRefusal, parseTokenAnswer } from "./token-answer.js";

/** What the fetcher needs besides the source. */
export interface FetcherSettings {
  readonly settings: AcquisitionSettings;
  readonly transport: HttpTransport;
  /** Azure Arc's key directory and platform. */
  readonly arc: { readonly directory: string | undefined; readonly platform: NodeJS.Platform };
  /** Closes a transport the fetcher owns (Service Fabric's pinned one). */
  readonly closeTransport?: (() => Promise<void>) | undefined;
}

/** An attempt's outcome: the token, or the refusal's status, headers and body (read within the attempt's timeout). */
type Attempt = { readonly token: FetchedToken } | { readonly status: number; readonly headers: Headers; readonly refusal: ServerError | undefined };

/**
 * The managed identity {@link TokenFetcher}: one token request to the detected source,
 * with the platform's retries, Azure Arc's key challenge, and errors that name the source
 * and the fix. Caching, single-flight and refresh are the {@link TokenAcquirer}'s.
 */
export class ManagedIdentityFetcher implements TokenFetcher {
  readonly kind = "managed-identity";
  readonly authority: string;
  readonly clientId: string;
  /** "Identity not assigned" holds for every resource: remembered for `errorCacheMs` across them. */
  private identityMissing: { error: ConfigurationError; until: number } | undefined;

  constructor(
    private readonly source: SourceEndpoint,
    private readonly identity: IdentitySelector,
    private readonly options: FetcherSettings,
  ) {
    this.authority = `managed-identity:${source.name}:${source.url.origin}${source.url.pathname}`;
    this.clientId = identity === undefined ? "system-assigned" : `${identity.kind}:${identity.value}`;
    redacted(this, `ManagedIdentityFetcher(${source.name}, ${this.clientId})`);
  }

  async fetchToken(target: TokenTarget, context: TokenFetchContext): Promise<FetchedToken> {
    const { clock, errorCacheMs } = this.options.settings;
    const missing = this.identityMissing;
    if (missing !== undefined && clock.now() < missing.until) throw missing.error;
    const request = buildRequest(this.source, resourceOf(target.scopes), this.identity);
    if (this.source.name === "imds") request.headers["x-ms-client-request-id"] = context.correlationId;
    const schedule = new RetrySchedule(this.source.retry);
    const secrets = [...this.source.secrets];
    let answeredChallenge = false;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(request, context, attempt, secrets);
      if ("token" in outcome) return outcome.token;
      const { status, headers, refusal } = outcome;
      if (status === 401 && this.source.name === "azure-arc" && !answeredChallenge) {
        const key = await readArcKey(headers.get("www-authenticate"), this.options.arc.directory, this.options.arc.platform);
        secrets.push(key, `Basic ${key}`);
        request.headers["Authorization"] = `Basic ${key}`;
        answeredChallenge = true;
        continue;
      }
      if (refusal !== undefined && isIdentityMissing(refusal)) {
        const error = this.identityMissingError(refusal);
        this.identityMissing = { error, until: clock.now() + errorCacheMs };
        throw error;
      }
      let delay = schedule.next(status);
      const retryAfter = parseRetryAfter(headers.get("retry-after"), clock.now());
      if (retryAfter !== undefined && (delay !== undefined || status === 429 || status === 503)) {
        // The server's pause holds for every caller of this token, not only this loop.
        const until = clock.now() + retryAfter;
        context.pauseUntil(until);
        if (retryAfter > MAX_POLICY_DELAY_MS || (delay === undefined && (status === 429 || status === 503))) {
          throw new ThrottledError(
            `Managed identity (${this.source.name}): the endpoint asked to wait until ${new Date(until).toISOString()} (HTTP ${status}, Retry-After); no request is sent before then. Cache tokens and do not force refreshes.`,
            { retryAfter: new Date(until), ...(refusal && { cause: refusal }) },
          );
        }
        if (delay !== undefined) delay = Math.max(delay, retryAfter);
      }
      if (delay === undefined) throw this.refusedError(status, refusal, attempt);
      this.options.settings.logger?.debug?.("daemon-auth: retrying the managed identity request", {
        source: this.source.name,
        status,
        attempt,
        delayMs: delay,
        correlationId: context.correlationId,
      });
      await sleepOn(clock, delay, context.signal);
    }
  }

  async dispose(): Promise<void> {
    await this.options.closeTransport?.();
  }

  /** One request on the wire, answer read, within `requestTimeoutMs`: the token, or the refusal to decide on. */
  private async attempt(request: ReturnType<typeof buildRequest>, context: TokenFetchContext, attempt: number, secrets: readonly string[]): Promise<Attempt> {
    const { clock, requestTimeoutMs, telemetry } = this.options.settings;
    const sentAt = clock.now();
    const deadline = withDeadline(context.signal, requestTimeoutMs);
    let status: number | undefined;
    let failure: DaemonAuthError | undefined;
    try {
      const response = await this.options.transport(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body !== undefined && { body: request.body }),
        signal: deadline.signal,
        redirect: "manual",
      });
      status = response.status;
      await refuseRedirect(response, request.url, `${this.source.name} managed identity endpoint`);
      if (status !== 200) return { status, headers: response.headers, refusal: await readRefusal(response, secrets) };
      const body = await readJsonObject(response, `${this.source.name} managed identity`);
      const token = parseTokenAnswer(body, status, sentAt, this.source.name);
      this.checkEcho(body);
      return { token };
    } catch (cause) {
      failure = this.transportError(cause, context.signal, deadline.timedOut());
      throw failure;
    } finally {
      deadline.dispose();
      if (telemetry?.onTokenRequest !== undefined) {
        const event = {
          tokenEndpoint: `${this.source.url.origin}${this.source.url.pathname}`,
          status,
          durationMs: clock.now() - sentAt,
          attempt,
          correlationId: context.correlationId,
          errorCode: failure?.code ?? (status !== undefined && status !== 200 ? "ERR_HTTP" : undefined),
        };
        callHook(this.options.settings.logger, "onTokenRequest", () => telemetry.onTokenRequest?.(event));
      }
    }
  }

  /** Azure Arc may ignore a user-assigned id and answer with the system-assigned identity: refused, as msal-node does. */
  private checkEcho(body: Record<string, unknown>): void {
    if (this.source.name !== "azure-arc" || this.identity === undefined) return;
    const fields = { clientId: ["client_id"], objectId: ["object_id"], resourceId: ["msi_res_id", "mi_res_id"] }[this.identity.kind];
    const echoed = fields.map((field) => body[field]).find((value): value is string => typeof value === "string");
    if (echoed?.toLowerCase() !== this.identity.value.toLowerCase()) {
      throw new ConfigurationError(
        `Managed identity (azure-arc): the agent did not confirm the user-assigned identity ${this.identity.kind}=${this.identity.value} and may have answered with the system-assigned one; the token was refused. ` +
          "Use the machine's system-assigned identity (remove the id), or update the Azure Arc agent.",
      );
    }
  }

  private identityMissingError(refusal: ServerError): ConfigurationError {
    const source = this.source.name;
    const fix =
      this.identity === undefined
        ? "enable the system-assigned identity on this Azure resource (portal: Identity → System assigned → On), or, if only user-assigned identities are assigned, pass the one to use as 'clientId'."
        : `assign that identity to this Azure resource (portal: Identity → User assigned → Add), or pass the '${this.identity.kind}' of an identity that is assigned.`;
    const which = this.identity === undefined ? "the system-assigned identity" : `the user-assigned identity ${this.identity.kind}=${this.identity.value}`;
    return new ConfigurationError(`Managed identity (${source}): the endpoint says ${which} is not available on this resource (HTTP ${refusal.status}): ${fix}`, {
      cause: refusal,
    });
  }

  private refusedError(status: number, refusal: ServerError | undefined, attempts: number): HttpError {
    const source = this.source.name;
    const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
    const what = refusal === undefined ? "" : `, '${refusal.error}'${refusal.errorCodes.length > 0 ? ` (AADSTS${refusal.errorCodes.join(", AADSTS")})` : ""}`;
    const fix =
      refusal?.mitigation ??
      (status >= 500 || status === 429 || status === 410 || status === 404 || status === 408
        ? "The platform's identity service is unavailable or busy; the client retries on the next call."
        : status === 401 || status === 403
          ? `Check the source's variables (${source === "app-service" || source === "service-fabric" ? "IDENTITY_HEADER" : "the endpoint"}); they are set by the platform when the identity is enabled.`
          : "Check the requested scope: one '<resource>/.default' of a resource the identity's tenant knows.");
    return new HttpError(`Managed identity (${source}): the endpoint refused the token request (HTTP ${status}${what})${tries}. ${fix}`, {
      status,
      ...(refusal && { cause: refusal }),
    });
  }

  private transportError(cause: unknown, signal: AbortSignal, timedOut: boolean): DaemonAuthError {
    const source = this.source.name;
    if (signal.aborted) return new AbortError(`Managed identity (${source}): the client was disposed during the token request.`);
    if (timedOut) {
      return new TimeoutError(
        `Managed identity (${source}): the endpoint ${this.source.url.origin} did not answer within ${this.options.settings.requestTimeoutMs} ms; is this process running on Azure with a managed identity?`,
      );
    }
    if (cause instanceof DaemonAuthError) return cause;
    if (hasCause(cause, CertificatePinError)) {
      return new HttpError(
        `Managed identity (${source}): the endpoint's TLS certificate does not have the thumbprint in IDENTITY_SERVER_THUMBPRINT; nothing was sent. Check the variables Service Fabric set for this process.`,
      );
    }
    // The code only, and no cause: a foreign error may quote the request and its identity header.
    return new HttpError(
      `Managed identity (${source}): the endpoint ${this.source.url.origin} could not be reached (${networkCode(cause)}). ` +
        (source === "imds"
          ? "Outside Azure there is no IMDS: run on an Azure VM, scale set or AKS node with a managed identity, or use another credential."
          : "Check that the platform's identity endpoint is running and the variables point at it."),
    );
  }
}

/** The resource of a managed identity token: the scope without `/.default` (see scope.ts). */
function resourceOf(scopes: readonly string[]): string {
  const scope = scopes[0] ?? "";
  return scope.endsWith("/.default") ? scope.slice(0, -"/.default".length) : scope;
}

/** The refusal in an error answer's body, or `undefined` when the body is no JSON object. */
async function readRefusal(response: Response, secrets: readonly string[]): Promise<ServerError | undefined> {
  try {
    return parseRefusal(await readJsonObject(response, "managed identity error"), response.status, secrets);
  } catch {
    return undefined;
  }
}

/** `error` and its causes, five deep at most. */
function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let current: unknown = error; current instanceof Error && chain.length < 5; current = current.cause) chain.push(current);
  return chain;
}

function hasCause(error: unknown, type: new (...args: never[]) => Error): boolean {
  return causeChain(error).some((current) => current instanceof type);
}

/** A network error's code (`ECONNREFUSED`), else its name: never its message. */
function networkCode(error: unknown): string {
  const code = causeChain(error)
    .map((current) => (current as { code?: unknown }).code)
    .find((value): value is string => typeof value === "string");
  return code ?? (error instanceof Error ? error.name : "unknown error");
}
