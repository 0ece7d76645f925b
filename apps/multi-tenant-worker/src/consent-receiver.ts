import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { parseAdminConsentCallback, type AdminConsentResult } from "@daemon-auth/core/protocol";

/** An admin's answer for one tenant, from {@link ConsentReceiver}. */
export interface ConsentAnswer {
  /** The tenant as the consent request named it (id or domain). */
  readonly tenant: string;
  readonly result: AdminConsentResult;
}

/** A loopback HTTP server at the app's redirect URI that receives admin consent redirects. */
export interface ConsentReceiver {
  /** The redirect URI it serves (the configured one, with the actual port when it was 0). */
  readonly redirectUri: string;
  /** A fresh `state` for a consent request for `tenant`; the answer carrying it is attributed to that tenant. */
  stateFor(tenant: string): string;
  /** Resolves the answers for `tenant`s as they come in. */
  next(): Promise<ConsentAnswer>;
  close(): Promise<void>;
}

function page(title: string, text: string): string {
  const escape = (value: string): string => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${escape(text)}</p></body></html>\n`;
}

/**
 * Listens on the host and port of `redirectUri` (loopback only) and reads each redirect
 * with `parseAdminConsentCallback`. A redirect whose `state` this receiver did not hand
 * out is refused with 400 and not reported: it is not the answer to one of our requests.
 */
export async function startConsentReceiver(redirectUri: string): Promise<ConsentReceiver> {
  const configured = new URL(redirectUri);
  if (!["localhost", "127.0.0.1", "[::1]"].includes(configured.hostname) || configured.protocol !== "http:") {
    throw new Error(`CONSENT_REDIRECT_URI ${redirectUri} is not a loopback http URL; onboard receives the admins' answers on this machine (use e.g. http://localhost:8400/consent).`);
  }
  const pending = new Map<string, string>();
  const answers: ConsentAnswer[] = [];
  const waiters: ((answer: ConsentAnswer) => void)[] = [];

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", configured);
    const reply = (status: number, title: string, text: string): void => {
      response.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      response.end(page(title, text));
    };
    if (request.method !== "GET" || url.pathname !== configured.pathname) {
      reply(404, "Not found", `This server only receives admin consent redirects at ${configured.pathname}.`);
      return;
    }
    const tenant = pending.get(url.searchParams.get("state") ?? "");
    if (tenant === undefined) {
      reply(400, "Unknown consent answer", "This answer does not belong to a consent request of this onboarding run (unknown or reused state). Start onboarding again.");
      return;
    }
    let result: AdminConsentResult;
    try {
      result = parseAdminConsentCallback(url);
    } catch (error) {
      reply(400, "Malformed consent answer", error instanceof Error ? error.message : String(error));
      return;
    }
    pending.delete(url.searchParams.get("state") ?? "");
    const answer = { tenant, result };
    const waiter = waiters.shift();
    if (waiter === undefined) answers.push(answer);
    else waiter(answer);
    if (result.granted) reply(200, "Admin consent received", `Thank you: ${tenant} is onboarded. You can close this window.`);
    else reply(200, "Admin consent not given", `${tenant}: ${result.error}${result.errorDescription === undefined ? "" : ` (${result.errorDescription})`}.`);
  });

  const host = configured.hostname === "localhost" ? "127.0.0.1" : configured.hostname.replace(/^\[|\]$/g, "");
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new Error(`Port ${configured.port} of ${redirectUri} is in use; pick another CONSENT_REDIRECT_URI (and register it on the app).`, { cause: error }) : error),
    );
    server.listen(Number(configured.port || 80), host, () => resolve());
  });
  const address = server.address();
  const actual = new URL(configured);
  if (typeof address === "object" && address !== null) actual.port = String(address.port);

  return {
    redirectUri: actual.toString(),
    stateFor(tenant) {
      const state = randomBytes(16).toString("base64url");
      pending.set(state, tenant);
      return state;
    },
    next() {
      const ready = answers.shift();
      return ready !== undefined ? Promise.resolve(ready) : new Promise((resolve) => waiters.push(resolve));
    },
    close() {
      return new Promise((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      });
    },
  };
}
