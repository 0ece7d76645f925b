import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: the OS picks it (port 0), we
 * release it and hand it over. Another process could take it in between, which is
 * why servers started by these helpers retry on a fresh port when binding fails.
 */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("freePort: the OS did not report a TCP port"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
