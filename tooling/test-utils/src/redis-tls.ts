import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { startRedisServer, type RedisServer, type RedisServerOptions } from "./redis-server.js";

/** A certificate authority made for one test, and a server certificate it signed. */
export interface TestCertificateAuthority {
  /** The CA certificate, PEM: what a client trusts. */
  readonly caPem: string;
  /** Files of the CA certificate, the server certificate and its key (PEM). */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Removes the files. Safe to call twice. */
  remove(): void;
}

/**
 * Makes a throwaway CA with `openssl` and a server certificate for `127.0.0.1` and
 * `localhost` signed by it, in a private temporary directory.
 */
export function createTestCertificateAuthority(): TestCertificateAuthority {
  const dir = mkdtempSync(join(tmpdir(), "daemon-auth-ca-"));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  try {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=daemon-auth test CA",
      "-keyout", file("ca.key"), "-out", file("ca.crt"));
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", file("server.key"), "-out", file("server.csr"));
    writeFileSync(file("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    openssl("x509", "-req", "-in", file("server.csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key"), "-CAcreateserial",
      "-days", "1", "-extfile", file("server.ext"), "-out", file("server.crt"));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`openssl could not make a test CA (is openssl installed?): ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    caPem: readFileSync(file("ca.crt"), "utf8"),
    caFile: file("ca.crt"),
    certFile: file("server.crt"),
    keyFile: file("server.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A `redis-server` that speaks TLS on {@link TlsRedisServer.tlsPort}, with its own CA. */
export interface TlsRedisServer extends RedisServer {
  /** `rediss://127.0.0.1:<tlsPort>`. */
  readonly tlsUrl: string;
  /** The TLS port; {@link RedisServer.port} stays plain TCP, for the test's own `command()` checks. */
  readonly tlsPort: number;
  /** The CA that signed the server certificate: trust it with ioredis' `tls: { ca }`. */
  readonly ca: TestCertificateAuthority;
}

/**
 * Starts `redis-server` with TLS on a free port (no client certificates required) and
 * a certificate from a CA made for it; the plain port stays open on 127.0.0.1 so that
 * `command()` keeps working. `stop()` also removes the CA's files.
 *
 * @example
 * const redis = await startTlsRedisServer();
 * const store = createRedisCache({ url: redis.tlsUrl, tls: { ca: redis.ca.caPem } });
 */
export async function startTlsRedisServer(options: RedisServerOptions = {}): Promise<TlsRedisServer> {
  const ca = createTestCertificateAuthority();
  try {
    for (let attempt = 1; ; attempt++) {
      // startRedisServer retries its plain port only; a taken TLS port is retried here.
      const tlsPort = await freePort();
      try {
        const server = await startRedisServer({
          ...options,
          args: [
            "--tls-port", String(tlsPort),
            "--tls-cert-file", ca.certFile,
            "--tls-key-file", ca.keyFile,
            "--tls-ca-cert-file", ca.caFile,
            "--tls-auth-clients", "no",
            ...(options.args ?? []),
          ],
        });
        return {
          url: server.url,
          host: server.host,
          port: server.port,
          get running() {
            return server.running;
          },
          kill: () => server.kill(),
          restart: () => server.restart(),
          pause: () => server.pause(),
          resume: () => server.resume(),
          command: (...args) => server.command(...args),
          tlsUrl: `rediss://127.0.0.1:${String(tlsPort)}`,
          tlsPort,
          ca,
          async stop() {
            await server.stop();
            ca.remove();
          },
        };
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  } catch (error) {
    ca.remove();
    throw error;
  }
}
