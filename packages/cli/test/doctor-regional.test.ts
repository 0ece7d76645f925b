// `daemon-auth doctor` and `token` on hosts that are not the emulator's loopback URL: a
// regional host (ESTS-R) and a custom host listed with --known-authority. The CLI runs as a
// child process with HTTPS_PROXY set to a CONNECT proxy that tunnels every host to the HTTPS
// emulator, so the CLI's real transport opens a real TLS session to the real host name.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { demoEmulatorConfig, demoEmulatorIdentities as ids, startEmulator, type Emulator } from "@daemon-auth/emulator";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { daemonAuth, doctorCheck, doctorStatuses } from "./helpers.js";

let emulator: Emulator;
let certificateDir: string;
let proxy: Server;
let proxyUrl: string;
/** The `host:port` of every tunnel the CLI asked the proxy for. */
let tunnels: string[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  certificateDir = await mkdtemp(join(tmpdir(), "daemon-auth-doctor-regional-"));
  emulator = await startEmulator({ config: demoEmulatorConfig(), https: true, certificateDir });
  const port = Number(new URL(emulator.url).port);
  proxy = createServer((_request, response) => response.writeHead(405).end());
  proxy.on("connect", (request, client: Socket, head: Buffer) => {
    tunnels.push(request.url ?? "");
    const upstream = connect(port, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => (socket === client ? upstream : client).destroy());
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => proxy?.close(() => resolve()));
  await emulator?.close();
  await rm(certificateDir, { recursive: true, force: true });
});

beforeEach(() => {
  tunnels = [];
  emulator.resetRequests();
});

/** The app's variables, with the proxy and the emulator's CA; no authority host. */
function environment(): Record<string, string> {
  return {
    AZURE_CLIENT_ID: ids.daemonClientId,
    AZURE_CLIENT_SECRET: ids.daemonClientSecret,
    HTTPS_PROXY: proxyUrl,
    NO_PROXY: "",
    NODE_EXTRA_CA_CERTS: emulator.caCertificatePath ?? "",
  };
}

describe("daemon-auth doctor on a regional host", () => {
  it("passes the tenant check although the issuer names the global host, and gets a token there", async () => {
    const run = await daemonAuth(["doctor", "--scope", ids.apiScope, "--authority", `https://westus2.login.microsoft.com/${ids.tenantId}`], { env: environment() });
    expect(run.stderr).toBe("");
    expect(doctorStatuses(run.stdout)).toMatchObject({ configuration: "PASS", tenant: "PASS", "token endpoint": "PASS", token: "PASS" });
    expect(doctorCheck(run.stdout, "tenant")).toContain(`(issuer https://login.microsoftonline.com/${ids.tenantId}/v2.0)`);
    expect(run.code).toBe(0);
    // Every request went to the regional host, and the emulator saw it as such.
    expect(new Set(tunnels)).toEqual(new Set(["westus2.login.microsoft.com:443"]));
    expect(emulator.requests.length).toBeGreaterThanOrEqual(3);
    expect(emulator.requests.every((request) => request.region === "westus2")).toBe(true);
  });

  it("reads another cloud's regional host the same way: <region>.login.microsoftonline.us issues as login.microsoftonline.us", async () => {
    const run = await daemonAuth(["doctor", "--scope", ids.apiScope, "--authority", `https://usgovvirginia.login.microsoftonline.us/${ids.tenantId}`], {
      env: environment(),
    });
    expect(doctorStatuses(run.stdout)["tenant"]).toBe("PASS");
    expect(doctorCheck(run.stdout, "tenant")).toContain(`(issuer https://login.microsoftonline.us/${ids.tenantId}/v2.0)`);
    expect(run.code).toBe(0);
    expect(emulator.requests.every((request) => request.region === "usgovvirginia")).toBe(true);
  });
});

describe("--known-authority", () => {
  it("lets a custom host receive the credential only when listed, repeatable", async () => {
    const refused = await daemonAuth(["doctor", "--scope", ids.apiScope, "--authority", `https://login.contoso.test/${ids.tenantId}`], { env: environment() });
    expect(doctorStatuses(refused.stdout)["configuration"]).toBe("FAIL");
    expect(doctorCheck(refused.stdout, "configuration")).toContain(`knownAuthorities: ["login.contoso.test"]`);
    expect(tunnels).toEqual([]);

    const listed = await daemonAuth(
      ["doctor", "--scope", ids.apiScope, "--authority", `https://login.contoso.test/${ids.tenantId}`, "--known-authority", "other.example", "--known-authority", "login.contoso.test"],
      { env: environment() },
    );
    expect(doctorStatuses(listed.stdout)["configuration"]).toBe("PASS");
    expect(doctorCheck(listed.stdout, "configuration")).toContain("known authorities other.example, login.contoso.test (--known-authority)");
    // The CLI went to the host; the emulator's certificate does not name it, so TLS refuses it.
    expect(tunnels).toContain("login.contoso.test:443");
    expect(doctorStatuses(listed.stdout)["tenant"]).toBe("FAIL");
    expect(emulator.requests).toEqual([]);
  });

  it("token --json says which authority form was used", async () => {
    const run = await daemonAuth(["token", "--json", "--scope", ids.apiScope, "--authority", `https://login.microsoftonline.com/${ids.tenantId}`], { env: environment() });
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as { authority: { host: string; tenant: string; form: string }; source: string };
    expect(printed.authority).toEqual({ host: "https://login.microsoftonline.com", tenant: ids.tenantId, form: "host-and-tenant" });
    expect(tunnels).toContain("login.microsoftonline.com:443");
  });
});
