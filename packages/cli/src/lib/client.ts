import { createDaemonClient, type DaemonClient } from "@daemon-auth/core";
import { createUndiciTransport, type UndiciTransport } from "@daemon-auth/http-undici";
import type { CliConfiguration } from "./configuration.js";

/** A client for one command run, with the transport it owns (proxy settings from the environment). */
export interface CliClient {
  readonly client: DaemonClient;
  readonly transport: UndiciTransport;
  /** Disposes the client and closes the transport's connections, so the process can exit. */
  close(): Promise<void>;
}

/** Opens a client for `configuration`, over undici (keep-alive, timeouts, HTTPS_PROXY / NO_PROXY). */
export function openClient(configuration: CliConfiguration): CliClient {
  const transport = createUndiciTransport();
  let client: DaemonClient;
  try {
    client = createDaemonClient({ ...configuration.clientOptions, transport });
  } catch (error) {
    void transport.dispose();
    throw error;
  }
  return {
    client,
    transport,
    async close() {
      await client.dispose();
      await transport.dispose();
    },
  };
}
