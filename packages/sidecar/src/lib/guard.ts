import { isIP } from "node:net";
import type { IncomingMessage } from "node:http";

/**
 * True for addresses only this host can reach: `localhost`, 127.0.0.0/8 and `::1`
 * (and IPv4-mapped 127.x). `0.0.0.0` and `::` listen on every interface: not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || /^::ffff:127\./.test(bare);
  return false;
}

/**
 * Headers that only a proxy or a browser adds. A proxy in front of the sidecar would
 * hand every caller it serves the daemon's tokens (SSRF); a browser request means a web
 * page is probing the loopback port. The managed identity endpoints refuse both too.
 */
// Not Sec-Fetch-Mode: Node's own fetch sends it. Sec-Fetch-Site comes only from browsers.
const REFUSED_HEADERS = ["x-forwarded-for", "forwarded", "origin", "sec-fetch-site"] as const;

/**
 * Why a request must be refused before its secret header is even looked at, or
 * `undefined` when it may go on. With a loopback bind the `Host` header must name a
 * loopback address too: a page that rebinds its own DNS name to 127.0.0.1 (DNS
 * rebinding) still sends its own name there.
 */
export function refusalReason(request: IncomingMessage, loopbackOnly: boolean): string | undefined {
  for (const name of REFUSED_HEADERS) {
    if (request.headers[name] !== undefined) {
      return name === "x-forwarded-for" || name === "forwarded"
        ? "requests relayed by a proxy are refused"
        : "requests from a web browser are refused";
    }
  }
  if (loopbackOnly) {
    const host = request.headers.host;
    if (host === undefined || !isLoopbackHost(hostName(host))) return "the Host header must name a loopback address";
  }
  return undefined;
}

/** The name part of a `Host` header: `[::1]:80` → `[::1]`, `localhost:80` → `localhost`. */
function hostName(host: string): string {
  const bracket = /^(\[[^\]]*\])(?::\d*)?$/.exec(host);
  if (bracket) return bracket[1] ?? host;
  const colon = host.lastIndexOf(":");
  return colon < 0 ? host : host.slice(0, colon);
}
