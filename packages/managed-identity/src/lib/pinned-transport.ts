import type { TLSSocket } from "node:tls";
import type { HttpTransport } from "@daemon-auth/core";
import { Agent, buildConnector, fetch } from "undici";

/** Why a connection to a pinned endpoint was closed: its certificate is not the pinned one. */
export class CertificatePinError extends Error {
  override readonly name = "CertificatePinError";
}

/** A transport and what closes its connections. */
export interface OwnedTransport {
  readonly transport: HttpTransport;
  close(): Promise<void>;
}

/**
 * An HTTPS transport that trusts exactly one server certificate: the one whose SHA-1
 * (or SHA-256) thumbprint is `thumbprint`, as Service Fabric's managed identity endpoint
 * presents a self-signed certificate named by `IDENTITY_SERVER_THUMBPRINT`. The chain is
 * not checked (it is self-signed); every new connection is closed before any byte is
 * sent unless its certificate has that thumbprint.
 */
export function pinnedTransport(thumbprint: string): OwnedTransport {
  const connect = buildConnector({ rejectUnauthorized: false });
  const agent = new Agent({
    connect: (options, callback) => {
      connect(options, (error, socket) => {
        if (error !== null) {
          callback(error, null);
          return;
        }
        const certificate = (socket as Partial<TLSSocket>).getPeerCertificate?.();
        const presented = [certificate?.fingerprint, certificate?.fingerprint256].map((print) => print?.replace(/:/g, "").toUpperCase());
        if (!presented.includes(thumbprint)) {
          socket.destroy();
          callback(
            new CertificatePinError(
              "The Service Fabric managed identity endpoint presented a certificate whose thumbprint is not IDENTITY_SERVER_THUMBPRINT; the connection was closed before anything was sent.",
            ),
            null,
          );
          return;
        }
        callback(null, socket);
      });
    },
  });
  return {
    transport: (url, init) => fetch(url, { ...init, redirect: "manual", dispatcher: agent }) as unknown as Promise<Response>,
    close: () => agent.close(),
  };
}
