// Garbled certificate material, generated with fast-check: truncated, bit-flipped and
// spliced PEM and PFX bytes, inline and in files, with arbitrary passwords and options.
// Whatever comes in, the credential either signs or fails with a DaemonAuthError, and
// neither the private key nor the password shows up in what it throws.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { inspect } from "node:util";
import { DaemonAuthError } from "@daemon-auth/core";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { certificateCredential, type CertificateCredentialOptions } from "../src/index.js";
import { encryptedKeyPem, forgePfx, keyFragments, makeCertificate, type TestCertificate } from "./certificates.js";
import { ENTRA, GENERIC, tempDir } from "./helpers.js";

const PASSWORD = "fuzz-Pa55word~for-the-key";
/** Any outcome must arrive within this; longer is a hang. */
const HANG_MS = 5_000;

let certificate: TestCertificate;
let plainPem: string;
let encryptedPem: string;
let pfx: Buffer;
let secrets: string[];

beforeAll(() => {
  certificate = makeCertificate({ commonName: "fuzz" });
  plainPem = certificate.certificatePem + certificate.keyPem;
  encryptedPem = certificate.certificatePem + encryptedKeyPem(certificate.key, PASSWORD, "pkcs8");
  // A low iteration count keeps a run fast; the structure is what is fuzzed.
  pfx = forgePfx(certificate, [certificate], PASSWORD);
  secrets = [...keyFragments(certificate.keyPem), PASSWORD];
});

/** Ways real files get damaged: cut short, bits flipped, bytes inserted or dropped, pieces swapped. */
function garble(source: () => Uint8Array): fc.Arbitrary<Uint8Array> {
  const position = fc.double({ min: 0, max: 1, noNaN: true });
  return fc.oneof(
    position.map((at) => source().subarray(0, Math.floor(at * source().length))),
    fc.array(fc.tuple(position, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((flips) => {
      const bytes = Uint8Array.from(source());
      for (const [at, value] of flips) bytes[Math.min(bytes.length - 1, Math.floor(at * bytes.length))] = value;
      return bytes;
    }),
    fc.tuple(position, fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([at, inserted]) => {
      const bytes = source();
      const cut = Math.floor(at * bytes.length);
      return Buffer.concat([bytes.subarray(0, cut), inserted, bytes.subarray(cut)]);
    }),
    fc.tuple(position, position).map(([a, b]) => {
      const bytes = source();
      const [from, to] = [Math.floor(Math.min(a, b) * bytes.length), Math.floor(Math.max(a, b) * bytes.length)];
      return Buffer.concat([bytes.subarray(to), bytes.subarray(from, to), bytes.subarray(0, from)]);
    }),
    fc.uint8Array({ maxLength: 512 }),
  );
}

const pemText = (source: () => string) =>
  fc.oneof(
    garble(() => Buffer.from(source())).map((bytes) => Buffer.from(bytes).toString("latin1")),
    fc.string({ maxLength: 200 }).map((text) => `-----BEGIN CERTIFICATE-----\n${text}\n-----END CERTIFICATE-----\n`),
    fc.constantFrom("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----", "-----BEGIN DSA PRIVATE KEY-----\nAA==\n-----END DSA PRIVATE KEY-----", ""),
  );
const passwords = fc.option(fc.oneof(fc.constant(PASSWORD), fc.string({ maxLength: 40 }), fc.constant("")), { nil: undefined });

/** Runs `make` (construction and one signing), bounded in time; returns the outcome. */
async function settle(make: () => Promise<unknown>): Promise<{ ok: true } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: no outcome within ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([make().then(() => ({ ok: true as const }), (error: unknown) => ({ ok: false as const, error })), hang]);
  } finally {
    clearTimeout(timer);
  }
}

function expectTypedError(error: unknown, password: string | undefined): void {
  if (!(error instanceof DaemonAuthError)) throw new Error(`Expected a DaemonAuthError, got ${inspect(error)}`);
  expect(error.code).toMatch(/^ERR_(CONFIGURATION|CREDENTIAL)$/);
  const outputs = [error.message, String(error), inspect(error, { depth: Infinity, showHidden: true })];
  const needles = [...secrets, ...(password !== undefined && password.length >= 8 ? [password] : [])];
  for (const output of outputs) for (const needle of needles) expect(output).not.toContain(needle);
}

/** Builds the credential and signs once for Entra and once for a generic server. */
async function useCredential(options: CertificateCredentialOptions): Promise<void> {
  const credential = certificateCredential(options);
  try {
    for (const context of [ENTRA, GENERIC]) {
      const authentication = await credential.getAuthentication(context);
      expect(authentication.clientAssertion.split(".")).toHaveLength(3);
    }
    for (const output of [inspect(credential, { depth: Infinity, showHidden: true }), JSON.stringify(credential), String(credential)]) {
      for (const needle of secrets) expect(output).not.toContain(needle);
    }
  } finally {
    await credential.dispose();
  }
}

describe("fuzz: certificate material", () => {
  it("garbled PEM (plain or encrypted key) signs or fails with a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(pemText(() => plainPem), pemText(() => encryptedPem)), passwords, async (pem, password) => {
        const outcome = await settle(() => useCredential({ pem, password }));
        if (!outcome.ok) expectTypedError(outcome.error, password);
      }),
      { numRuns: 300 },
    );
  });

  it("garbled PFX bytes and base64 text sign or fail with a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(garble(() => pfx), garble(() => pfx).map((bytes) => Buffer.from(bytes).toString("base64")), fc.string({ maxLength: 100 })),
        passwords,
        async (archive, password) => {
          const outcome = await settle(() => useCredential({ pfx: archive, password }));
          if (!outcome.ok) expectTypedError(outcome.error, password);
        },
      ),
      { numRuns: 120 },
    );
  });

  it("garbled certificate files sign or fail with a typed error", async () => {
    const dir = await tempDir();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(garble(() => Buffer.from(plainPem)), garble(() => pfx)),
        fc.oneof(garble(() => Buffer.from(certificate.keyPem)), fc.constant(Buffer.from(certificate.keyPem))),
        passwords,
        async (bytes, keyBytes, password) => {
          const path = join(dir, `${randomBytes(6).toString("hex")}.pem`);
          const keyPath = `${path}.key`;
          await writeFile(path, bytes, { mode: 0o600 });
          await writeFile(keyPath, keyBytes, { mode: 0o600 });
          for (const options of [{ path }, { certificatePath: path, privateKeyPath: keyPath }]) {
            const outcome = await settle(() => useCredential({ ...options, password }));
            if (!outcome.ok) expectTypedError(outcome.error, password);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("fuzz: certificate credential options", () => {
  const anyValue = fc.anything({ maxDepth: 2, withNullPrototype: true, withBoxedValues: true, withBigInt: true, withTypedArray: true, withMap: true });
  const options = fc.record(
    {
      pem: fc.oneof(fc.constant("plain"), anyValue),
      path: anyValue,
      certificatePath: anyValue,
      privateKeyPath: anyValue,
      pfx: anyValue,
      password: anyValue,
      signer: fc.oneof(anyValue, fc.record({ certificate: fc.oneof(fc.constant("cert"), anyValue), sign: fc.oneof(fc.constant("fn"), anyValue) })),
      algorithm: fc.oneof(fc.constantFrom("PS256", "RS256", "ES256", "none"), anyValue),
      thumbprint: fc.oneof(fc.constantFrom("x5t#S256", "x5t", "both", "sha1"), anyValue),
      sendCertificateChain: anyValue,
      assertionLifetimeMs: fc.oneof(fc.double(), fc.integer(), anyValue),
      reuseAssertions: anyValue,
      reuseMarginMs: fc.oneof(fc.double(), fc.integer(), anyValue),
      assertionCacheSize: fc.oneof(fc.integer(), anyValue),
      reloadCheckIntervalMs: fc.oneof(fc.double(), anyValue),
      clock: anyValue,
      logger: anyValue,
    },
    { requiredKeys: [] },
  );

  it("accepts or refuses any options with a typed error, and an accepted credential signs or fails typed", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(options, anyValue), async (fuzzed) => {
        const resolved: Record<string, unknown> = typeof fuzzed === "object" && fuzzed !== null ? { ...fuzzed } : { value: fuzzed };
        // Stand-ins the generators cannot express: real material and a working signer.
        if (resolved["pem"] === "plain") resolved["pem"] = plainPem;
        const signer = resolved["signer"] as Record<string, unknown> | undefined;
        if (signer?.["certificate"] === "cert" && signer["sign"] === "fn") {
          resolved["signer"] = { certificate: certificate.certificatePem, sign: () => Promise.resolve(new Uint8Array(256)) };
        }
        const input = typeof fuzzed === "object" && fuzzed !== null ? resolved : fuzzed;
        const outcome = await settle(() => useCredential(input as CertificateCredentialOptions));
        if (!outcome.ok) expectTypedError(outcome.error, undefined);
      }),
      { numRuns: 300 },
    );
  });
});
