import { resolve } from "node:path";
import {
  ConfigurationError,
  CredentialError,
  JWT_BEARER_ASSERTION_TYPE,
  redacted,
  systemClock,
  type ClientAssertionAuthentication,
  type ClientCredential,
  type Clock,
  type CredentialContext,
  type ReloadReason,
  raceAbort,
  throwIfAborted,
} from "@daemon-auth/core";
import { signAssertion, type AssertionSpec, type ThumbprintHeader } from "./lib/assertion.js";
import {
  materialFromBytes,
  materialFromChain,
  materialFromPem,
  materialFromPemPair,
  materialFromPfx,
  pfxBytes,
  type CertificateMaterial,
  type CertificateThumbprints,
  type SigningAlgorithm,
} from "./lib/material.js";
import { ReuseCache } from "./lib/reuse-cache.js";
import { validateOptions, type Settings } from "./lib/settings.js";
import { fileSource, staticSource, type MaterialSource } from "./lib/source.js";
import type { CertificateCredentialOptions } from "./options.js";

export type { CertificateThumbprints, SigningAlgorithm, ThumbprintHeader };
export type { CertificateCredentialOptions, CertificateSigner } from "./options.js";

/** What the credential's certificate is, for diagnostics. No key material. */
export interface CertificateInfo {
  /** `CN=…` of the leaf, or its whole subject when it has no common name. */
  readonly subject: string;
  readonly issuer: string;
  readonly thumbprints: CertificateThumbprints;
  /** The `x5t#S256` header value: base64url SHA-256 of the leaf's DER. */
  readonly x5tS256: string;
  /** The `x5t` header value: base64url SHA-1 of the leaf's DER. */
  readonly x5t: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Certificates in the chain, leaf included. */
  readonly chainLength: number;
  /** Where the certificate comes from: `file "/path"`, `` the `pem` option ``, … */
  readonly source: string;
  /** `"remote"` when a {@link CertificateSigner} holds the key. */
  readonly key: "rsa" | "ec" | "remote";
}

/** A {@link ClientCredential} that signs RFC 7523 client assertions with a certificate. */
export interface CertificateCredential extends ClientCredential {
  readonly kind: "certificate";
  /** `certificate CN=…, x5t#S256=…` once loaded; names the file before. */
  readonly description: string;
  /** Thumbprints of the leaf (hex, uppercase); `undefined` until a file-based certificate is loaded. */
  readonly thumbprints: CertificateThumbprints | undefined;
  /** Start of the leaf's validity; `undefined` until a file-based certificate is loaded. */
  readonly notBefore: Date | undefined;
  /** End of the leaf's validity; `undefined` until a file-based certificate is loaded. */
  readonly notAfter: Date | undefined;
  getAuthentication(context: CredentialContext): Promise<ClientAssertionAuthentication>;
  /** Re-reads a file-based certificate and drops every reused assertion. */
  reload(reason?: ReloadReason): Promise<void>;
  /** Loads the certificate if needed and describes it (for `doctor` and logs). */
  certificateInfo(): Promise<CertificateInfo>;
  /** Drops reused assertions. Safe to call twice. */
  dispose(): Promise<void>;
  /** The {@link description}; `JSON.stringify` and `util.inspect` print it too, never key material. */
  toString(): string;
}

/**
 * A client credential that authenticates with a certificate: it signs a client
 * assertion (RFC 7523) with the certificate's private key. For Entra ID it signs PS256
 * with `x5t#S256` and reuses an assertion per token endpoint until shortly before it
 * expires; for generic servers it signs RS256 with `x5t`, fresh per request.
 *
 * Inline material (`pem`, `pfx`, `signer`) is checked here and throws at once; files are
 * read on first use, and re-read when they change.
 *
 * @throws {ConfigurationError} when the options are inconsistent.
 * @throws {CredentialError} when inline material is unusable (wrong password, missing key, expired, …).
 *
 * @example
 * const credential = certificateCredential({ path: "./app.pfx", password: process.env.PFX_PASSWORD });
 *
 * @see https://learn.microsoft.com/entra/identity-platform/certificate-credentials
 * @see https://www.rfc-editor.org/rfc/rfc7523
 */
export function certificateCredential(options: CertificateCredentialOptions): CertificateCredential {
  const settings = validateOptions(options);
  const clock = options.clock ?? systemClock;
  const cache = new ReuseCache(settings.assertionCacheSize, settings.reuseMarginMs);
  const remoteSign = options.signer ? options.signer.sign.bind(options.signer) : undefined;

  const describe = (material: CertificateMaterial | undefined): string =>
    material ? `certificate ${material.subject}, x5t#S256=${material.x5tS256}` : `certificate (${settings.sourceLabel}, not loaded yet)`;

  const source = createSource(options, settings, clock, (material) => {
    // A new certificate invalidates every assertion signed with the old one.
    cache.clear();
    redacted(credential, describe(material));
  });

  const currentMaterial = async (now: number): Promise<CertificateMaterial> => {
    const material = await source.get(now);
    assertValid(material, now);
    return material;
  };

  const specFor = (material: CertificateMaterial, authorityKind: CredentialContext["authorityKind"]): AssertionSpec => {
    const rsa = material.keyAlgorithms.includes("PS256");
    if (!rsa && options.algorithm) {
      throw new CredentialError(
        `\`algorithm: "${options.algorithm}"\` needs an RSA key, but ${material.origin} holds an EC key: remove the \`algorithm\` option or use an RSA certificate.`,
      );
    }
    if (!rsa && authorityKind === "entra") {
      throw new CredentialError(
        `Entra ID accepts RSA certificates only, but ${material.origin} holds an EC key: create an RSA certificate (2048 bits or more).`,
      );
    }
    const algorithm: SigningAlgorithm = options.algorithm ?? (rsa ? (authorityKind === "entra" ? "PS256" : "RS256") : material.keyAlgorithms[0]!);
    return {
      algorithm,
      thumbprint: options.thumbprint ?? (authorityKind === "entra" ? "x5t#S256" : "x5t"),
      sendCertificateChain: options.sendCertificateChain ?? false,
      lifetimeMs: settings.assertionLifetimeMs,
    };
  };

  const authenticate = async (context: CredentialContext): Promise<ClientAssertionAuthentication> => {
    const now = clock.now();
    const material = await currentMaterial(now);
    const spec = specFor(material, context.authorityKind);
    const sign = () => signAssertion(material, context, spec, now, remoteSign);
    const reuse = options.reuseAssertions ?? context.authorityKind === "entra";
    const signed = reuse ? await cache.get(`${context.authorityKind}\n${context.clientId}\n${context.tokenEndpoint}`, now, sign) : await sign();
    return { clientAssertion: signed.assertion, clientAssertionType: JWT_BEARER_ASSERTION_TYPE };
  };

  const credential: CertificateCredential = {
    kind: "certificate",
    get description() {
      return describe(source.current);
    },
    get thumbprints() {
      return source.current?.thumbprints;
    },
    get notBefore() {
      return source.current?.notBefore;
    },
    get notAfter() {
      return source.current?.notAfter;
    },
    async getAuthentication(context) {
      checkContext(context);
      throwIfAborted(context.signal, "Signing the client assertion");
      return raceAbort(authenticate(context), context.signal, "Signing the client assertion");
    },
    async reload() {
      cache.clear();
      await source.reload(clock.now());
    },
    async certificateInfo() {
      const material = await source.get(clock.now());
      return {
        subject: material.subject,
        issuer: material.issuer,
        thumbprints: material.thumbprints,
        x5tS256: material.x5tS256,
        x5t: material.x5t,
        notBefore: material.notBefore,
        notAfter: material.notAfter,
        chainLength: material.chain.length,
        source: material.origin,
        key: material.key === undefined ? "remote" : material.keyAlgorithms.includes("PS256") ? "rsa" : "ec",
      };
    },
    async dispose() {
      cache.clear();
    },
  };
  return redacted(credential, describe(source.current));
}

function createSource(
  options: CertificateCredentialOptions,
  settings: Settings,
  clock: Clock,
  onLoad: (material: CertificateMaterial) => void,
): MaterialSource {
  const inline = (material: CertificateMaterial): MaterialSource => {
    assertValid(material, clock.now());
    return staticSource(material);
  };
  if (options.signer) return inline(materialFromChain(options.signer.certificate, "the `signer.certificate` option"));
  if (options.pem !== undefined) {
    const text = typeof options.pem === "string" ? options.pem : Buffer.from(options.pem).toString("utf8");
    return inline(materialFromPem(text, options.password, "the `pem` option"));
  }
  if (options.pfx !== undefined) {
    const origin = "the `pfx` option";
    return inline(materialFromPfx(pfxBytes(options.pfx, origin), options.password, origin));
  }
  const common = { checkIntervalMs: settings.reloadCheckIntervalMs, onLoad, logger: options.logger };
  if (options.path !== undefined) {
    const path = resolve(options.path);
    return fileSource({
      ...common,
      files: [{ path, option: "path" }],
      parse: ([data]) => materialFromBytes(data!, options.password, `file "${path}"`),
    });
  }
  const certificatePath = resolve(options.certificatePath!);
  const privateKeyPath = resolve(options.privateKeyPath!);
  return fileSource({
    ...common,
    files: [
      { path: certificatePath, option: "certificatePath" },
      { path: privateKeyPath, option: "privateKeyPath" },
    ],
    parse: ([certificate, key]) =>
      materialFromPemPair(
        certificate!.toString("utf8"),
        `file "${certificatePath}"`,
        key!.toString("utf8"),
        `file "${privateKeyPath}"`,
        options.password,
      ),
  });
}

function assertValid(material: CertificateMaterial, now: number): void {
  const range = `valid from ${material.notBefore.toISOString()} to ${material.notAfter.toISOString()}`;
  const which = `The certificate ${material.subject} (x5t#S256=${material.x5tS256}) from ${material.origin}`;
  if (now > material.notAfter.getTime()) {
    throw new CredentialError(
      `${which} expired on ${material.notAfter.toISOString()} (${range}): rotate to a new certificate and upload it to the app registration.`,
    );
  }
  if (now < material.notBefore.getTime()) {
    throw new CredentialError(
      `${which} is not valid before ${material.notBefore.toISOString()} (${range}): check the system clock, or keep the current certificate until then and rotate afterwards.`,
    );
  }
}

function checkContext(context: CredentialContext): void {
  if (typeof context?.tokenEndpoint !== "string" || context.tokenEndpoint === "") {
    throw new ConfigurationError("A client assertion needs the token endpoint (`context.tokenEndpoint`) as its audience.");
  }
  if (typeof context.clientId !== "string" || context.clientId === "") {
    throw new ConfigurationError("A client assertion needs the client id (`context.clientId`) as its issuer and subject.");
  }
}

