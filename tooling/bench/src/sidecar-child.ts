// The servers of the sidecar throughput figure, in a process of their own so the load
// generator does not share their event loop: the sidecar, and beside it a bare node:http
// server answering a fixed body of the same size (the floor).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { clientSecret } from "@daemon-auth/credential-secret";
import { createUndiciTransport } from "@daemon-auth/http-undici";
import { startSidecar } from "@daemon-auth/sidecar";

const [authority, caPath, clientId, scope] = process.argv.slice(2);
const header = process.env["SIDECAR_HEADER"];
const secret = process.env["TEST_CLIENT_SECRET"];
if (authority === undefined || caPath === undefined || clientId === undefined || scope === undefined || header === undefined || secret === undefined) {
  throw new Error("Usage: SIDECAR_HEADER=… TEST_CLIENT_SECRET=… sidecar-child.js <authority> <ca file> <client id> <scope>");
}
const { readFileSync } = await import("node:fs");
const transport = createUndiciTransport({ ca: readFileSync(caPath, "utf8") });
const sidecar = await startSidecar({ client: { authority, clientId, credential: clientSecret(secret), transport }, header, allowScopes: [scope] });

// The floor answers what the sidecar answers for a cached token, byte for byte in size.
const warm = await fetch(`${sidecar.url}/token?scope=${encodeURIComponent(scope)}`, { headers: { "x-identity-header": header } });
if (warm.status !== 200) throw new Error(`The sidecar answered ${String(warm.status)} to the warm-up request.`);
const body = await warm.text();
const floor = createServer((_request, response) => {
  response.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  response.end(body);
});
await new Promise<void>((resolve) => floor.listen(0, "127.0.0.1", resolve));
process.stdout.write(`${JSON.stringify({ sidecar: sidecar.url, floor: `http://127.0.0.1:${String((floor.address() as AddressInfo).port)}` })}\n`);

process.once("SIGTERM", () => {
  floor.close();
  void sidecar.close().then(() => transport.dispose());
});
