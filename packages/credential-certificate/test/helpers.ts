import { createHash, type X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClientAuthentication, CredentialContext } from "@daemon-auth/core";
import { decodeProtectedHeader, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from "jose";
import { expect, onTestFinished } from "vitest";

export const ENTRA: CredentialContext = {
  tokenEndpoint: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token",
  clientId: "00000000-0000-0000-0000-00000000c1e7",
  authorityKind: "entra",
};

export const GENERIC: CredentialContext = {
  tokenEndpoint: "https://auth.example.test/oauth2/token",
  clientId: "daemon",
  authorityKind: "generic",
};

export function assertionOf(authentication: ClientAuthentication): string {
  if (!("clientAssertion" in authentication)) throw new Error("expected a client assertion");
  expect(authentication.clientAssertionType).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  return authentication.clientAssertion;
}

/** Verifies `assertion` with the certificate's public key and checks the RFC 7523 claims. */
export async function verifyAssertion(
  assertion: string,
  certificate: X509Certificate,
  context: CredentialContext,
  algorithm: string,
  now?: number,
): Promise<{ header: ProtectedHeaderParameters; payload: JWTPayload }> {
  const { payload, protectedHeader } = await jwtVerify(assertion, certificate.publicKey, {
    ...(now === undefined ? {} : { currentDate: new Date(now) }),
    algorithms: [algorithm],
    audience: context.tokenEndpoint,
    issuer: context.clientId,
    subject: context.clientId,
  });
  expect(protectedHeader.alg).toBe(algorithm);
  expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  expect(typeof payload.nbf).toBe("number");
  expect(typeof payload.exp).toBe("number");
  return { header: protectedHeader, payload };
}

export function headerOf(assertion: string): ProtectedHeaderParameters {
  return decodeProtectedHeader(assertion);
}

/** `x5t#S256` / `x5t` of a certificate, computed independently of the package. */
export function expectedThumbprints(certificate: X509Certificate): { x5tS256: string; x5t: string } {
  return {
    x5tS256: Buffer.from(certificate.fingerprint256.replaceAll(":", ""), "hex").toString("base64url"),
    x5t: createHash("sha1").update(certificate.raw).digest("base64url"),
  };
}

/** A fresh temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "daemon-auth-cert-test-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.now()): { now(): number; advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}
