// The public shapes of the sidecar: its options, and the sidecar before and after it listens.
import type { RequestListener } from "node:http";
import type { DaemonClient, DaemonClientOptions } from "@daemon-auth/core";
import type { SidecarLog } from "./lib/log.js";

/** Options of {@link createSidecar} and {@link startSidecar}. */
export interface SidecarOptions {
  /**
   * The daemon client's options (tenant, client id, credential, `cache`…). The sidecar
   * creates the client, wraps its `transport` and adds its own telemetry hooks (yours
   * still run). It disposes the client on close; the `cache` store's owner disposes it.
   */
  client: DaemonClientOptions;
  /**
   * The shared secret callers send in `X-IDENTITY-HEADER` (App Service's `IDENTITY_HEADER`):
   * printable ASCII, at least 16 characters.
   */
  header: string;
  /** The scopes served, as `<resource>/.default`; any other is refused without a token request. */
  allowScopes: readonly string[];
  /**
   * Tenants a caller may name (`tenant=` on `/token`), besides the client's own tenant,
   * which requests without a tenant use.
   * @default none
   */
  allowTenants?: readonly string[];
  /**
   * The address to listen on.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * The TCP port; 0 picks a free one (read it from {@link RunningSidecar.port}).
   * @default 0
   */
  port?: number;
  /**
   * Must be true to listen on an address other hosts can reach: whoever reaches the port
   * and knows the header gets the daemon's tokens.
   * @default false
   */
  allowRemote?: boolean;
  /**
   * Receives the access log (one record per request) and lifecycle records; core's own
   * records go here too.
   * @default no logging
   */
  log?: SidecarLog;
  /**
   * How long {@link RunningSidecar.close} waits for requests in flight before cutting
   * their connections, in milliseconds.
   * @default 10000
   */
  shutdownTimeoutMs?: number;
}

/** A listening sidecar. */
export interface RunningSidecar {
  /** `http://127.0.0.1:<port>` (no trailing slash); the App Service endpoint is `${url}/msi/token`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, answers the requests in flight, then disposes the client. Safe to call twice. */
  close(): Promise<void>;
}

/** A sidecar that is not listening yet, or is served by your own HTTP server. */
export interface Sidecar {
  /** The client the sidecar acquires tokens with. */
  readonly client: DaemonClient;
  /** The request handler, to mount on a server you own (TLS, a Unix socket…). */
  readonly requestListener: RequestListener;
  /** The metrics in Prometheus text format, as `GET /metrics` answers. */
  metrics(): Promise<string>;
  /** Starts listening on `host:port`. */
  listen(): Promise<RunningSidecar>;
  /** Stops the server if listening, answers the requests in flight, disposes the client. */
  close(): Promise<void>;
}
