// The Microsoft clouds' sign-in hosts, resolved to the emulator: an https.Agent whose name
// lookup answers 127.0.0.1 for those hosts (and refuses every other name, so nothing leaves
// the machine) and which connects to the emulator's port. The URLs stay the clouds' own:
// TLS checks the emulator's certificate against the requested host name (its SANs cover
// the clouds' hosts and `*.login.microsoft.com`), and the emulator reads the host from `Host`.
// Both our client (as an HttpTransport) and msal-node (as its network module) use it.
import type { INetworkModule, NetworkResponse } from "@azure/msal-node";
import type { Emulator } from "@daemon-auth/emulator";
import type { LookupAddress, LookupOptions } from "node:dns";
import { Agent, request } from "node:https";
import type { HttpTransport } from "../../src/index.js";

const CLOUD_HOST = /(^|\.)(login\.microsoftonline\.com|login\.microsoft\.com|login\.windows\.net|login\.microsoftonline\.us|login\.chinacloudapi\.cn)$/i;

/** A request as it left a client. */
export interface SentRequest {
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly form: URLSearchParams;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function loopbackLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  if (!CLOUD_HOST.test(hostname)) {
    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (only the Microsoft clouds' hosts resolve in this test)`), { code: "ENOTFOUND" }), "");
    return;
  }
  if (options.all === true) callback(null, [{ address: "127.0.0.1", family: 4 }]);
  else callback(null, "127.0.0.1", 4);
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** The agent, a transport and an msal-node network module reaching the emulator under the clouds' names. */
export function cloudLoopback(emulator: Emulator): { transport: HttpTransport; network: INetworkModule; sent: SentRequest[]; close(): void } {
  if (emulator.caCertificatePem === undefined) throw new Error("cloudLoopback needs an HTTPS emulator (startEmulator({ https: true }))");
  // Agent options override each request's: every connection goes to the emulator's port.
  const options = { ca: emulator.caCertificatePem, port: Number(new URL(emulator.url).port), lookup: loopbackLookup, keepAlive: true };
  const agent = new Agent(options);
  const sent: SentRequest[] = [];

  const send = (url: string, method: string, headers: Record<string, string>, body: string | undefined, signal?: AbortSignal) =>
    new Promise<{ status: number; headers: Headers; body: Buffer }>((resolve, reject) => {
      if (method === "POST") sent.push({ url: new URL(url), headers: lowerCased(headers), form: new URLSearchParams(body ?? "") });
      const outgoing = request(url, { method, headers, agent, ...(signal === undefined ? {} : { signal }) }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("error", reject);
        incoming.on("end", () => {
          const answered = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) {
            for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) answered.append(name, one);
          }
          resolve({ status: incoming.statusCode ?? 0, headers: answered, body: Buffer.concat(chunks) });
        });
      });
      outgoing.on("error", reject);
      outgoing.end(body);
    });

  const transport: HttpTransport = async (url, init) => {
    const answer = await send(url, init.method, init.headers, init.body, init.signal);
    return new Response(answer.body.length === 0 ? null : new Uint8Array(answer.body), { status: answer.status, headers: answer.headers });
  };

  const respond = async <T>(url: string, method: string, headers: Record<string, string> | undefined, body: string | undefined): Promise<NetworkResponse<T>> => {
    const answer = await send(url, method, headers ?? {}, body);
    const answered: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      answered[name] = value;
    });
    return { status: answer.status, headers: answered, body: JSON.parse(answer.body.toString("utf8")) as T };
  };
  const network: INetworkModule = {
    sendGetRequestAsync: <T>(url: string, options?: { headers?: Record<string, string> }) => respond<T>(url, "GET", options?.headers, undefined),
    sendPostRequestAsync: <T>(url: string, options?: { headers?: Record<string, string>; body?: string }) => respond<T>(url, "POST", options?.headers, options?.body),
  };
  return { transport, network, sent, close: () => agent.destroy() };
}
