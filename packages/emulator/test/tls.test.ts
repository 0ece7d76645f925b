import { execFileSync } from "node:child_process";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../src/index.js";
import { buildCertificate, toPem } from "../src/lib/x509.js";
import { CONTOSO, testConfig } from "./helpers.js";

let root: string;

/** The old EC CA is built with openssl (the emulator no longer builds EC certificates). */
function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "emulator-tls-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function httpsGet(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { ...(ca === undefined ? {} : { ca }), agent: false }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
  });
}

async function withEmulator<T>(certificateDir: string, run: (emulator: Emulator) => Promise<T>, host?: string): Promise<T> {
  const emulator = await startEmulator({ https: true, certificateDir, config: testConfig(), ...(host === undefined ? {} : { host }) });
  try {
    return await run(emulator);
  } finally {
    await emulator.close();
  }
}

describe("HTTPS certificates", () => {
  it("creates a CA and a server certificate with safe permissions, and serves HTTPS the CA validates", async () => {
    const dir = join(root, "fresh");
    await withEmulator(dir, async (emulator) => {
      expect(emulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(emulator.caCertificatePath).toBe(join(dir, "ca.pem"));
      expect(await readFile(emulator.caCertificatePath!, "utf8")).toBe(emulator.caCertificatePem);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      expect((await stat(join(dir, "ca-key.pem"))).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, "server-key.pem"))).mode & 0o777).toBe(0o600);

      const ca = new X509Certificate(emulator.caCertificatePem!);
      const server = new X509Certificate(await readFile(join(dir, "server.pem")));
      expect(ca.ca).toBe(true);
      expect(server.ca).toBe(false);
      expect(server.checkIssued(ca)).toBe(true);
      expect(server.verify(ca.publicKey)).toBe(true);
      expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
      expect(server.checkIP("::1")).toBeDefined();
      expect(server.checkHost("localhost")).toBe("localhost");

      const { status, body } = await httpsGet(`${emulator.url}/${CONTOSO}/v2.0/.well-known/openid-configuration`, emulator.caCertificatePem);
      expect(status).toBe(200);
      expect(JSON.parse(body).issuer).toBe(`${emulator.url}/${CONTOSO}/v2.0`);
      await expect(httpsGet(emulator.url)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    });
  });

  it("reuses the CA and server certificate across runs", async () => {
    const dir = join(root, "reuse");
    const first = await withEmulator(dir, async (emulator) => [emulator.caCertificatePem, await readFile(join(dir, "server.pem"), "utf8")]);
    const second = await withEmulator(dir, async (emulator) => [emulator.caCertificatePem, await readFile(join(dir, "server.pem"), "utf8")]);
    expect(second).toEqual(first);
  });

  it("regenerates unreadable material, and an expired server certificate under the same CA", async () => {
    const dir = join(root, "repair");
    const original = await withEmulator(dir, async (emulator) => emulator.caCertificatePem);

    const caKey = createPrivateKey(await readFile(join(dir, "ca-key.pem"), "utf8"));
    const serverKey = createPrivateKey(await readFile(join(dir, "server-key.pem"), "utf8"));
    const ca = new X509Certificate(original!);
    const expired = buildCertificate({
      subject: "daemon-auth emulator",
      issuer: "daemon-auth emulator local CA",
      publicKey: createPublicKey(serverKey),
      issuerPublicKey: ca.publicKey,
      signingKey: caKey,
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2021-01-01T00:00:00Z"),
      altNames: ["localhost", "127.0.0.1", "::1"],
    });
    await writeFile(join(dir, "server.pem"), toPem("CERTIFICATE", expired));
    await withEmulator(dir, async (emulator) => {
      expect(emulator.caCertificatePem).toBe(original);
      const server = new X509Certificate(await readFile(join(dir, "server.pem")));
      expect(Date.parse(server.validTo)).toBeGreaterThan(Date.now());
      expect((await httpsGet(emulator.jwksUri(CONTOSO), emulator.caCertificatePem)).status).toBe(200);
    });

    await writeFile(join(dir, "ca-key.pem"), "corrupted", { mode: 0o600 });
    await withEmulator(dir, async (emulator) => {
      expect(emulator.caCertificatePem).not.toBe(original);
      expect((await httpsGet(emulator.jwksUri(CONTOSO), emulator.caCertificatePem)).status).toBe(200);
    });
  });

  it("covers a custom host name and gives concurrent first starts one consistent CA", async () => {
    const dir = join(root, "concurrent");
    const emulators = await Promise.all([0, 1, 2].map(() => startEmulator({ https: true, certificateDir: dir, config: testConfig() })));
    try {
      const pems = new Set(emulators.map((emulator) => emulator.caCertificatePem));
      expect(pems.size).toBe(1);
      for (const emulator of emulators) {
        expect((await httpsGet(emulator.jwksUri(CONTOSO), await readFile(join(dir, "ca.pem"), "utf8"))).status).toBe(200);
      }
    } finally {
      await Promise.all(emulators.map((emulator) => emulator.close()));
    }
    await withEmulator(
      dir,
      async (emulator) => {
        expect(emulator.url).toMatch(/^https:\/\/localhost:\d+$/);
        expect((await httpsGet(emulator.jwksUri(CONTOSO), emulator.caCertificatePem)).status).toBe(200);
      },
      "localhost",
    );
  });

  it.runIf(hasOpenssl())("replaces a CA whose EC key (from an earlier version) cannot sign the server certificate it must renew", async () => {
    const dir = join(root, "ec-ca");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=daemon-auth emulator local CA", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE", "-keyout", join(dir, "ca-key.pem"), "-out", join(dir, "ca.pem")], { stdio: "ignore" });
    const old = await readFile(join(dir, "ca.pem"), "utf8");
    await withEmulator(dir, async (emulator) => {
      expect(emulator.caCertificatePem).not.toBe(old);
      expect(new X509Certificate(emulator.caCertificatePem!).publicKey.asymmetricKeyType).toBe("rsa");
      expect((await httpsGet(emulator.jwksUri(CONTOSO), emulator.caCertificatePem)).status).toBe(200);
    });
  });
});
