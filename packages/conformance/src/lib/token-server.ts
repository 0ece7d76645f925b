import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A loopback token endpoint that issues a new token per request and records who asked. */
export interface LoopbackTokenServer {
  readonly url: string;
  /** The `client_id` of every token request, in order. */
  readonly clientIds: string[];
  close(): Promise<void>;
}

/** Starts a {@link LoopbackTokenServer} on 127.0.0.1 on a free port. */
export async function startLoopbackTokenServer(): Promise<LoopbackTokenServer> {
  const clientIds: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      clientIds.push(new URLSearchParams(Buffer.concat(chunks).toString("utf8")).get("client_id") ?? "");
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ token_type: "Bearer", expires_in: 3600, access_token: `conformance-${randomUUID()}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
    clientIds,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
