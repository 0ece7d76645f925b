// Validates client assertions (RFC 7523 §3) the way Entra ID does: the key is
// found through the header's certificate thumbprint, then signature, audience,
// issuer/subject and time range are checked, each failure with Entra's code.
import { createHash } from "node:crypto";
import { compactVerify, decodeProtectedHeader, errors, type ProtectedHeaderParameters } from "jose";
import { AadstsFailure } from "../aadsts.js";
import { normalizeClientId } from "../identifiers.js";
import { certificateThumbprints } from "../certificate.js";
import type { ApplicationState, RegisteredCertificate } from "./directory.js";
import { trustedLeaf } from "./trusted-subjects.js";

/** Clock skew Entra tolerates on `nbf`. */
const SKEW_MS = 5 * 60_000;
const ALGORITHMS = ["PS256", "RS256"];

/** What a client assertion is checked against. */
export interface AssertionCheck {
  assertion: string;
  app: ApplicationState;
  /** Token endpoint URLs the `aud` may equal (without trailing slash, lower-case). */
  audiences: ReadonlySet<string>;
  /** Printed in the audience error. */
  expectedAudience: string;
  now: number;
  /** When given, a `jti` is accepted once: jti → expiry (ms). */
  seenJtis?: Map<string, number>;
}

function invalid(reason: string): AadstsFailure {
  return new AadstsFailure(50013, `Assertion is invalid. [Reason - ${reason}]`);
}

function findCertificate(header: ProtectedHeaderParameters, app: ApplicationState): { certificate?: RegisteredCertificate; thumbprint?: string } {
  const s256 = header["x5t#S256"];
  if (typeof s256 === "string") {
    const certificate = app.certificates.find((known) => known.thumbprints.x5tS256 === s256);
    if (certificate !== undefined) return { certificate };
  }
  const sha1 = header.x5t;
  if (typeof sha1 === "string") {
    const certificate = app.certificates.find((known) => known.thumbprints.x5t === sha1);
    if (certificate !== undefined) return { certificate };
  }
  const leaf = Array.isArray(header.x5c) ? header.x5c[0] : undefined;
  if (typeof leaf === "string") {
    const x5tS256 = createHash("sha256").update(Buffer.from(leaf, "base64")).digest("base64url");
    const certificate = app.certificates.find((known) => known.thumbprints.x5tS256 === x5tS256);
    if (certificate !== undefined) return { certificate };
  }
  // Subject name + issuer: the chain in x5c, leaf first, vouches for a certificate no thumbprint names.
  const trusted = trustedLeaf(header.x5c, app.trustedSubjects);
  if (trusted !== undefined) return { certificate: { pem: trusted.toString(), x509: trusted, thumbprints: certificateThumbprints(trusted) } };
  const shown = typeof s256 === "string" ? s256 : typeof sha1 === "string" ? sha1 : undefined;
  const thumbprint = shown === undefined ? undefined : Buffer.from(shown, "base64url").toString("hex").toUpperCase();
  return thumbprint === undefined ? {} : { thumbprint };
}

/** Returns normally for a valid assertion; throws an {@link AadstsFailure} otherwise. */
export async function validateClientAssertion(check: AssertionCheck): Promise<void> {
  const { assertion, app, now } = check;
  const clientId = app.config.clientId;
  let header: ProtectedHeaderParameters;
  try {
    if (assertion.split(".").length !== 3) throw new Error("not compact");
    header = decodeProtectedHeader(assertion);
  } catch {
    throw invalid("client_assertion is not a JWT in compact serialization (header.payload.signature); sign it with the certificate's private key");
  }
  if (typeof header.alg !== "string" || !ALGORITHMS.includes(header.alg)) {
    throw invalid(`alg '${String(header.alg)}' is not supported; sign with PS256 (or RS256)`);
  }
  const { certificate, thumbprint } = findCertificate(header, app);
  if (certificate === undefined) {
    throw new AadstsFailure(
      700027,
      `Client assertion failed signature validation. (Reason - The key was not found., Thumbprint of key used by client: '${thumbprint ?? "none: the header has no x5t#S256 or x5t"}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/${clientId}')`,
    );
  }
  const validFrom = Date.parse(certificate.x509.validFrom);
  const validTo = Date.parse(certificate.x509.validTo);
  if (now < validFrom || now > validTo) {
    throw new AadstsFailure(
      1000502,
      `The provided certificate with thumbprint '${certificate.thumbprints.sha1Hex}' used to sign the client assertion is outside its validity window (valid from ${new Date(validFrom).toISOString()} to ${new Date(validTo).toISOString()}) for app '${clientId}'. Upload a current certificate.`,
    );
  }
  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(assertion, certificate.x509.publicKey, { algorithms: ALGORITHMS }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      throw new AadstsFailure(
        7000274,
        `Key was found, but use of the key to verify the signature failed. (Thumbprint of key used by client: '${certificate.thumbprints.sha1Hex}'.) Sign the assertion with the private key of that certificate.`,
      );
    }
    throw invalid("the signature could not be verified with the registered certificate (wrong key type or malformed JWS)");
  }
  let claims: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(payloadBytes));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
    claims = parsed as Record<string, unknown>;
  } catch {
    throw invalid("the payload is not a JSON object of claims");
  }
  const expected = normalizeClientId(clientId);
  if (typeof claims.iss !== "string" || normalizeClientId(claims.iss) !== expected || typeof claims.sub !== "string" || normalizeClientId(claims.sub) !== expected) {
    throw invalid(`iss and sub must both be the client id '${clientId}'`);
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const audienceOk = audiences.some((aud) => typeof aud === "string" && check.audiences.has(aud.toLowerCase().replace(/\/$/, "")));
  if (!audienceOk) {
    throw invalid(`the audience claim must be the token endpoint '${check.expectedAudience}', got ${JSON.stringify(claims.aud ?? null)}`);
  }
  if (typeof claims.exp !== "number") throw invalid("the exp claim is missing; add an expiry (at most 10 minutes ahead)");
  if (claims.nbf !== undefined && typeof claims.nbf !== "number") throw invalid("the nbf claim must be a number (seconds since the epoch)");
  const nbf = typeof claims.nbf === "number" ? claims.nbf : undefined;
  if (claims.exp * 1000 <= now || (nbf !== undefined && nbf * 1000 > now + SKEW_MS)) {
    const iso = (seconds: number | undefined): string => (seconds === undefined ? "(none)" : new Date(seconds * 1000).toISOString());
    throw new AadstsFailure(
      700024,
      `Client assertion is not within its valid time range. Current time: ${new Date(now).toISOString()}, assertion valid from ${iso(nbf)}, expiry time of assertion ${iso(claims.exp)}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .`,
    );
  }
  if (check.seenJtis !== undefined) {
    for (const [jti, expiresAt] of check.seenJtis) if (expiresAt <= now) check.seenJtis.delete(jti);
    if (typeof claims.jti !== "string" || claims.jti === "") throw invalid("the jti claim is missing; give every assertion a unique jti");
    const key = `${clientId}\u0000${claims.jti}`;
    if (check.seenJtis.has(key)) throw invalid("the jti was already used; sign a new assertion with a fresh jti for every request");
    check.seenJtis.set(key, claims.exp * 1000);
  }
}
