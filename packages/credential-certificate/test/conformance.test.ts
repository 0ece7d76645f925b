import { constants, sign as cryptoSign } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describeClientCredential, type CredentialUnderTest } from "@daemon-auth/conformance";
import { certificateCredential, type CertificateSigner } from "../src/index.js";
import { encryptedKeyPem, forgePfx, makeCertificate } from "./certificates.js";

const leaf = makeCertificate({ commonName: "daemon-auth conformance" });
const password = "conformance-pfx-password";
const secretMaterial = [leaf.keyPem, encryptedKeyPem(leaf.key, password, "pkcs8"), password];
const pfx = forgePfx(leaf, [leaf], password);

async function pemFile(): Promise<CredentialUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), "daemon-auth-cert-conformance-"));
  const path = join(dir, "app.pem");
  await writeFile(path, leaf.certificatePem + encryptedKeyPem(leaf.key, password, "pkcs8"), { mode: 0o600 });
  return {
    credential: certificateCredential({ path, password }),
    secretMaterial,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

function signer(delayMs = 0, fail = false): CertificateSigner & { calls: number } {
  const counted = {
    calls: 0,
    certificate: leaf.certificatePem,
    async sign(input: Uint8Array, algorithm: "PS256" | "RS256") {
      counted.calls += 1;
      if (delayMs > 0) await sleep(delayMs);
      if (fail) throw new Error("the vault refused to sign");
      const key =
        algorithm === "PS256" ? { key: leaf.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : leaf.key;
      return new Uint8Array(cryptoSign("sha256", input, key));
    },
  };
  return counted;
}

describeClientCredential("certificate from an encrypted PEM file", pemFile, {
  expectedKind: "certificate",
  createFailing: async () => {
    const dir = await mkdtemp(join(tmpdir(), "daemon-auth-cert-conformance-"));
    return {
      credential: certificateCredential({ path: join(dir, "missing.pem"), password }),
      secretMaterial: [password],
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

describeClientCredential(
  "certificate from an inline PFX (generic server)",
  () => ({ credential: certificateCredential({ pfx, password }), secretMaterial }),
  { expectedKind: "certificate", authorityKind: "generic" },
);

describeClientCredential(
  "certificate with a remote signer",
  () => {
    const remote = signer();
    return { credential: certificateCredential({ signer: remote }), secretMaterial: [leaf.keyPem], loadCount: () => remote.calls };
  },
  {
    expectedKind: "certificate",
    createSlow: () => ({ credential: certificateCredential({ signer: signer(300) }), secretMaterial: [leaf.keyPem] }),
    createFailing: () => ({ credential: certificateCredential({ signer: signer(0, true) }), secretMaterial: [leaf.keyPem] }),
  },
);
