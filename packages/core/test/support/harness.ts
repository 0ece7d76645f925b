import { afterEach } from "vitest";
import { createDaemonClient, type DaemonClient, type DaemonClientOptions } from "../../src/index.js";
import { startTokenServer, tokenReply, type Reply } from "./token-server.js";

/**
 * Per-test token servers and clients, closed and disposed after each test of the calling
 * file. Call it once at the top level of a test file.
 */
export function useTestHarness(defaults: Partial<DaemonClientOptions> = {}) {
  let servers: Awaited<ReturnType<typeof startTokenServer>>[] = [];
  let clients: DaemonClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await Promise.all(servers.map((server) => server.close()));
    servers = [];
    clients = [];
  });
  return {
    /** A loopback token server answering with `reply` (a fresh token by default). */
    async server(reply: Reply = tokenReply()) {
      const started = await startTokenServer(reply);
      servers.push(started);
      return started;
    },
    /** A client with the harness' defaults under `options`, disposed after the test. */
    client(options: DaemonClientOptions): DaemonClient {
      const created = createDaemonClient({ ...defaults, ...options });
      clients.push(created);
      return created;
    },
  };
}
