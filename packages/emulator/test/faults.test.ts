 
import { mkdtemp, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSelfSignedCertificate, EmulatorConfigError, loadEmulatorConfig, startEmulator, type Emulator } from "../src/index.js";
import { assertionForm, CERT_APP, CONTOSO, DAEMON, ISV, ISV_SECRET, postToken, secretForm, signAssertion, testConfig } from "./helpers.js";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ config: testConfig() });
});

afterAll(async () => {
  await emulator.close();
});

afterEach(() => {
  emulator.faults.clear();
  emulator.setLoopDetection(undefined);
  emulator.resetRequests();
});

/** POSTs a token request and returns the raw answer (status, headers, text). */
async function rawToken(tenant = CONTOSO, form: Record<string, string> = secretForm(), signal?: AbortSignal) {
  const response = await fetch(emulator.tokenEndpoint(tenant), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
    ...(signal === undefined ? {} : { signal }),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("fault kinds", () => {
  it("status: an Entra-shaped 429 with Retry-After in seconds, then normal answers once `times` is used up", async () => {
    const handle = emulator.faults.add({ fault: { kind: "status", status: 429, retryAfter: 7 }, times: 2 });
    const first = await postToken(emulator, CONTOSO, secretForm());
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("7");
    expect(first.body).toMatchObject({ error: "temporarily_unavailable", error_codes: [90055] });
    expect(first.body.error_description).toMatch(/^AADSTS90055: /);
    expect(Object.keys(first.body).sort()).toEqual(["correlation_id", "error", "error_codes", "error_description", "error_uri", "timestamp", "trace_id"]);
    expect((await postToken(emulator, CONTOSO, secretForm())).status).toBe(429);
    expect((await postToken(emulator, CONTOSO, secretForm())).status).toBe(200);
    expect(handle.hits).toBe(2);
    expect(emulator.requests.map((r) => [r.status, r.fault, r.clientId])).toEqual([
      [429, "status", DAEMON],
      [429, "status", DAEMON],
      [200, undefined, DAEMON],
    ]);
    expect(emulator.tokenRequestCount({ clientId: DAEMON })).toBe(3);
  });

  it("status: Retry-After as an HTTP-date, 5xx bursts and a chosen AADSTS code", async () => {
    const until = new Date(Date.UTC(2030, 0, 1, 12, 0, 0));
    emulator.faults.add({ fault: { kind: "status", status: 503, retryAfter: until }, times: 1 });
    emulator.faults.add({ fault: { kind: "status", status: 500 }, times: 1 });
    emulator.faults.add({ fault: { kind: "status", status: 400, aadsts: 50196 }, times: 1 });
    const unavailable = await postToken(emulator, CONTOSO, secretForm());
    expect([unavailable.status, unavailable.headers.get("retry-after"), unavailable.body.error, unavailable.body.error_codes]).toEqual([
      503,
      "Tue, 01 Jan 2030 12:00:00 GMT",
      "temporarily_unavailable",
      [90033],
    ]);
    const failed = await postToken(emulator, CONTOSO, secretForm());
    expect([failed.status, failed.headers.get("retry-after"), failed.body.error]).toEqual([500, null, "server_error"]);
    const loop = await postToken(emulator, CONTOSO, secretForm());
    expect([loop.status, loop.body.error, loop.body.error_codes]).toEqual([400, "invalid_grant", [50196]]);
  });

  it("latency: answers normally after the delay", async () => {
    emulator.faults.add({ fault: { kind: "latency", ms: 300 } });
    const started = Date.now();
    const { status } = await postToken(emulator, CONTOSO, secretForm());
    expect(status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(emulator.requests[0]).toMatchObject({ status: 200, fault: "latency" });
  });

  it("hang: never answers until the client gives up", async () => {
    emulator.faults.add({ fault: { kind: "hang" } });
    const error = await rawToken(CONTOSO, secretForm(), AbortSignal.timeout(300)).catch((e: unknown) => e);
    expect((error as Error).name).toBe("TimeoutError");
    await expect.poll(() => emulator.requests[0]?.fault).toBe("hang");
    expect(emulator.requests[0]?.status).toBe(0);
  });

  it("hang: closing the emulator ends hanging requests", async () => {
    const other = await startEmulator({ config: testConfig() });
    other.faults.add({ fault: { kind: "hang" } });
    const pending = fetch(other.tokenEndpoint(CONTOSO), { method: "POST", body: new URLSearchParams(secretForm()) }).catch((e: unknown) => e);
    await expect.poll(() => other.requests.length).toBe(1);
    await other.close();
    expect(await pending).toBeInstanceOf(Error);
  });

  it("reset: the connection is reset without an answer", async () => {
    emulator.faults.add({ fault: { kind: "reset" } });
    const error = await rawToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
    expect(emulator.requests[0]).toMatchObject({ status: 0, fault: "reset" });
  });

  it("malformed-json: 200 application/json with a truncated body", async () => {
    emulator.faults.add({ fault: { kind: "malformed-json" } });
    const { status, headers, text } = await rawToken();
    expect([status, headers.get("content-type")]).toEqual([200, "application/json; charset=utf-8"]);
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
  });

  it("html: a proxy's HTML error page (502 unless told)", async () => {
    emulator.faults.add({ fault: { kind: "html" }, times: 1 });
    emulator.faults.add({ fault: { kind: "html", status: 503, retryAfter: 5 }, times: 1 });
    const bad = await rawToken();
    expect([bad.status, bad.headers.get("content-type"), bad.headers.get("retry-after")]).toEqual([502, "text/html; charset=utf-8", null]);
    expect(bad.text).toMatch(/^<!doctype html>/);
    const unavailable = await rawToken();
    expect([unavailable.status, unavailable.headers.get("retry-after")]).toEqual([503, "5"]);
  });

  it("oversized: a chunked 200 body of the given size", async () => {
    emulator.faults.add({ fault: { kind: "oversized" }, times: 1 });
    emulator.faults.add({ fault: { kind: "oversized", bytes: 5000 }, times: 1 });
    const big = await rawToken();
    expect([big.status, big.headers.get("content-length"), big.text.length]).toEqual([200, null, 2 * 1024 * 1024]);
    expect((JSON.parse(big.text)).token_type).toBe("Bearer");
    expect((await rawToken()).text.length).toBe(5000);
  });

  it("wrong-content-type: the normal answer under another Content-Type", async () => {
    emulator.faults.add({ fault: { kind: "wrong-content-type" }, times: 1 });
    emulator.faults.add({ fault: { kind: "wrong-content-type", contentType: "text/html" }, times: 1 });
    const plain = await rawToken();
    expect([plain.status, plain.headers.get("content-type")]).toEqual([200, "text/plain; charset=utf-8"]);
    expect((JSON.parse(plain.text)).token_type).toBe("Bearer");
    expect((await rawToken()).headers.get("content-type")).toBe("text/html");
  });
});

describe("matching", () => {
  it("applies to token requests by default, and to other paths by path, method and query client_id", async () => {
    emulator.faults.add({ fault: { kind: "status", status: 503 } });
    const discovery = await fetch(`${emulator.url}/${CONTOSO}/v2.0/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    emulator.faults.clear();
    emulator.faults.add({ match: { path: /\/discovery\/v2\.0\/keys$/, method: "get" }, fault: { kind: "status", status: 500 } });
    emulator.faults.add({ match: { path: `/${CONTOSO}/adminconsent`, clientId: ISV }, fault: { kind: "html", status: 503 } });
    expect((await fetch(emulator.jwksUri(CONTOSO))).status).toBe(500);
    expect((await fetch(`${emulator.url}/${CONTOSO}/adminconsent?client_id=${ISV}`)).status).toBe(503);
    expect((await fetch(`${emulator.url}/${CONTOSO}/adminconsent?client_id=${DAEMON}`)).status).not.toBe(503);
    expect((await postToken(emulator, CONTOSO, secretForm())).status).toBe(200);
  });

  it("matches the tenant by id or domain, and the client by form, Basic auth or assertion", async () => {
    emulator.faults.add({ match: { tenant: "contoso.example", clientId: ISV }, fault: { kind: "status", status: 503 } });
    expect((await postToken(emulator, CONTOSO, secretForm())).status).toBe(200);
    expect((await postToken(emulator, "contoso.onmicrosoft.com", secretForm({ client_id: ISV, client_secret: ISV_SECRET }))).status).toBe(503);
    const basic = `Basic ${Buffer.from(`${ISV}:${ISV_SECRET}`).toString("base64")}`;
    const viaBasic = await postToken(emulator, CONTOSO, secretForm({ client_id: undefined, client_secret: undefined }), { authorization: basic });
    expect(viaBasic.status).toBe(503);

    emulator.faults.clear();
    const certificate = await createSelfSignedCertificate();
    emulator.addCertificate(CERT_APP, { pem: certificate.certificatePem });
    emulator.faults.add({ match: { clientId: CERT_APP.toUpperCase() }, fault: { kind: "status", status: 500 } });
    const assertion = await signAssertion(certificate, CERT_APP, emulator.tokenEndpoint(CONTOSO));
    const form = assertionForm(CERT_APP, assertion);
    delete form.client_id;
    const faulted = await postToken(emulator, CONTOSO, form);
    expect(faulted.status).toBe(500);
    expect(emulator.requests.at(-1)).toMatchObject({ clientId: CERT_APP, fault: "status" });
  });

  it("applies a rule with probability 0 never and with 1 always; the first live rule wins; remove stops a rule", async () => {
    const never = emulator.faults.add({ fault: { kind: "status", status: 500 }, probability: 0 });
    const always = emulator.faults.add({ fault: { kind: "status", status: 503 }, probability: 1 });
    const shadowed = emulator.faults.add({ fault: { kind: "status", status: 502 } });
    expect((await postToken(emulator, CONTOSO, secretForm())).status).toBe(503);
    always.remove();
    always.remove();
    expect((await postToken(emulator, CONTOSO, secretForm())).status).toBe(502);
    expect([never.hits, always.hits, shadowed.hits]).toEqual([0, 1, 1]);
  });

  it("refuses invalid rules with EmulatorConfigError", () => {
    const bad: unknown[] = [
      { fault: { kind: "explode" } },
      { fault: { kind: "status", status: 200 } },
      { fault: { kind: "status", status: 429, retryAfter: -1 } },
      { fault: { kind: "latency" } },
      { fault: { kind: "hang" }, times: 0 },
      { fault: { kind: "hang" }, probability: 2 },
      { fault: { kind: "hang" }, match: { host: "x" } },
      { fault: { kind: "oversized", bytes: 0 } },
    ];
    for (const rule of bad) expect(() => emulator.faults.add(rule as never)).toThrow(EmulatorConfigError);
  });
});

describe("loop detection (AADSTS50196)", () => {
  it("refuses the same client asking for the same token too often, per client, tenant and scope, until the window passes", async () => {
    emulator.setLoopDetection({ maxRequests: 3, windowMs: 1500 });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await postToken(emulator, CONTOSO, secretForm())).status);
    expect(statuses).toEqual([200, 200, 200, 400, 400]);
    const refused = await postToken(emulator, CONTOSO, secretForm());
    expect(refused.body).toMatchObject({ error: "invalid_grant", error_codes: [50196] });
    // Another tenant alias of the same tenant is the same token; another scope is not.
    expect((await postToken(emulator, "contoso.onmicrosoft.com", secretForm())).status).toBe(400);
    expect((await postToken(emulator, CONTOSO, secretForm({ scope: "https://x.example//.default" }))).status).not.toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await postToken(emulator, CONTOSO, secretForm())).status).toBe(200);
    emulator.setLoopDetection(undefined);
    for (let i = 0; i < 5; i++) expect((await postToken(emulator, CONTOSO, secretForm())).status).toBe(200);
  });

  it("starts from the emulator options and refuses invalid settings", async () => {
    const other = await startEmulator({ config: testConfig(), loopDetection: { maxRequests: 1, windowMs: 60_000 } });
    try {
      expect((await postToken(other, CONTOSO, secretForm())).status).toBe(200);
      expect((await postToken(other, CONTOSO, secretForm())).status).toBe(400);
      expect(other.requests.map((r) => r.errorCodes)).toEqual([undefined, [50196]]);
    } finally {
      await other.close();
    }
    expect(() => emulator.setLoopDetection({ maxRequests: 0, windowMs: 1 })).toThrow(EmulatorConfigError);
  });
});

describe("configuration file", () => {
  it("accepts fault rules and loop detection", async () => {
    const dir = await mkdtemp(join(tmpdir(), "emulator-faults-"));
    const path = join(dir, "emulator.json");
    const file = {
      ...testConfig(),
      faults: [{ match: { clientId: DAEMON }, fault: { kind: "status", status: 429, retryAfter: "Tue, 01 Jan 2030 12:00:00 GMT" }, times: 1 }],
      loopDetection: { maxRequests: 10, windowMs: 1000 },
    };
    await writeFile(path, JSON.stringify(file));
    const config = await loadEmulatorConfig(path);
    const other = await startEmulator({ config });
    try {
      const throttled = await postToken(other, CONTOSO, secretForm());
      expect([throttled.status, throttled.headers.get("retry-after")]).toEqual([429, "Tue, 01 Jan 2030 12:00:00 GMT"]);
      expect((await postToken(other, CONTOSO, secretForm())).status).toBe(200);
    } finally {
      await other.close();
    }
    await writeFile(path, JSON.stringify({ ...testConfig(), faults: [{ fault: { kind: "status", status: 99 } }] }));
    await expect(loadEmulatorConfig(path)).rejects.toThrow(/faults\[0\]\.fault\.status/);
  });
});

describe("over HTTPS", () => {
  it("resets TLS connections too", async () => {
    const secure = await startEmulator({ config: testConfig(), https: true, certificateDir: await mkdtemp(join(tmpdir(), "emulator-tls-")) });
    try {
      secure.faults.add({ fault: { kind: "reset" } });
      const reset = await new Promise<Error>((resolve) => {
        const req = httpsPost(secure, resolve);
        req.end(new URLSearchParams(secretForm()).toString());
      });
      expect((reset as NodeJS.ErrnoException).code).toBe("ECONNRESET");
      expect(secure.requests[0]).toMatchObject({ status: 0, fault: "reset" });
    } finally {
      await secure.close();
    }
  });
});

function httpsPost(target: Emulator, onError: (error: Error) => void) {
  const url = new URL(target.tokenEndpoint(CONTOSO));
  const request = httpsRequest(url, {
    method: "POST",
    ca: target.caCertificatePem,
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  request.on("error", onError);
  request.on("response", () => onError(new Error("unexpected answer")));
  return request;
}
