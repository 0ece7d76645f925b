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
  type Logger,
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
import { fileSource, staticSource, type MaterialSource } from "./lib/source.js";

export type { CertificateThumbprints, SigningAlgorithm, ThumbprintHeader };

/**
 * Signs client assertions with a private key held elsewhere: an HSM, Azure Key Vault, a
 * KMS. The credential builds the JWS header and claims and asks for a signature over
 * the JWS signing input (RFC 7515 §5.1: `base64url(header) "." base64url(payload)`).
 *
 * @example
 * const signer: CertificateSigner = {
 *   certificate: pemChain,
 *   sign: async (input, algorithm) => (await cryptographyClient.signData(algorithm, input)).result,
 * };
 */
export interface CertificateSigner {
  /** The certificate (chain) of the signing key as PEM, leaf first. */
  readonly certificate: string;
  /**
   * Signs `input` (the JWS signing input, not a digest) with `algorithm` and resolves the
   * raw signature: RSASSA-PSS with SHA-256 and a 32-byte salt for `PS256`,
   * RSASSA-PKCS1-v1_5 with SHA-256 for `RS256`.
   */
  sign(input: Uint8Array, algorithm: "PS256" | "RS256"): Promise<Uint8Array>;
}

/**
 * Options of {@link certificateCredential}. Give exactly one source: `path`,
 * `certificatePath` + `privateKeyPath`, `pem`, `pfx` or `signer`.
 */
export interface CertificateCredentialOptions {
  /**
   * A file holding the certificate and its private key: PEM (certificate chain + key), or
   * PFX/PKCS#12 (DER or base64). The format is detected from the contents. Re-read when
   * it changes on disk.
   */
  readonly path?: string | undefined;
  /** A PEM file with the certificate (chain); use with `privateKeyPath`. */
  readonly certificatePath?: string | undefined;
  /** A PEM file with the private key (PKCS#8 or PKCS#1, optionally encrypted); use with `certificatePath`. */
  readonly privateKeyPath?: string | undefined;
  /** PEM text (or its bytes) holding the certificate chain and the private key. */
  readonly pem?: string | Uint8Array | undefined;
  /** A PFX/PKCS#12 archive: its bytes, or base64 text (as Key Vault and CI secrets hold it). */
  readonly pfx?: string | Uint8Array | undefined;
  /**
   * The password of an encrypted PEM key (PKCS#8 `ENCRYPTED PRIVATE KEY` or legacy
   * `Proc-Type: 4,ENCRYPTED`) or of the PFX. A PFX without a password needs none.
   */
  readonly password?: string | undefined;
  /** Sign with a key held elsewhere (HSM, Key Vault). See {@link CertificateSigner}. */
  readonly signer?: CertificateSigner | undefined;
  /**
   * JWS algorithm for RSA keys.
   *
   * @default "PS256" for Entra ID authorities, "RS256" for generic servers (EC keys sign ES256/ES384/ES512 by curve)
   */
  readonly algorithm?: "PS256" | "RS256" | undefined;
  /**
   * Which thumbprint header identifies the certificate: `x5t#S256` (SHA-256), `x5t` (SHA-1) or both.
   *
   * @default "x5t#S256" for Entra ID authorities, "x5t" for generic servers
   */
  readonly thumbprint?: ThumbprintHeader | undefined;
  /**
   * Adds the `x5c` header (the chain, leaf first) for Entra ID subject name + issuer
   * authentication (SNI), where the app trusts a subject and issuer rather than one certificate.
   *
   * @default false
   */
  readonly sendCertificateChain?: boolean | undefined;
  /**
   * Lifetime of an assertion (`exp` − `nbf`), in milliseconds. Entra ID accepts at most 10 minutes.
   *
   * @default 600000
   */
  readonly assertionLifetimeMs?: number | undefined;
  /**
   * Reuse a signed assertion per token endpoint until `reuseMarginMs` before it expires.
   * Entra ID accepts a reused assertion; generic servers may reject a replayed `jti`.
   *
   * @default true for Entra ID authorities, false for generic servers
   */
  readonly reuseAssertions?: boolean | undefined;
  /**
   * A reused assertion is replaced this long before its `exp`, so it cannot expire in flight.
   *
   * @default 120000 (or half of `assertionLifetimeMs` when that is shorter)
   */
  readonly reuseMarginMs?: number | undefined;
  /**
   * Most reused assertions kept (one per client id and token endpoint); the oldest go first.
   *
   * @default 10000
   */
  readonly assertionCacheSize?: number | undefined;
  /**
   * How often, at most, a file-based certificate is checked for changes (a `stat` on use).
   * `Infinity` checks only when {@link CertificateCredential.reload} is called.
   *
   * @default 10000
   */
  readonly reloadCheckIntervalMs?: number | undefined;
  /**
   * The time source for assertion claims, reuse and validity checks.
   *
   * @default systemClock
   */
  readonly clock?: Clock | undefined;
  /** Receives a warning when a changed certificate file cannot be read and the previous certificate stays in use. */
  readonly logger?: Logger | undefined;
}

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

const DEFAULTS = {
  assertionLifetimeMs: 600_000,
  reuseMarginMs: 120_000,
  assertionCacheSize: 10_000,
  reloadCheckIntervalMs: 10_000,
} as const;

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

interface Settings {
  readonly assertionLifetimeMs: number;
  readonly reuseMarginMs: number;
  readonly assertionCacheSize: number;
  readonly reloadCheckIntervalMs: number;
  /** The source, for the description before a file is loaded. */
  readonly sourceLabel: string;
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

const ALGORITHMS = new Set(["PS256", "RS256"]);
const THUMBPRINTS = new Set(["x5t#S256", "x5t", "both"]);

function validateOptions(options: CertificateCredentialOptions): Settings {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError("certificateCredential needs options: pass `{ path }`, `{ pem }`, `{ pfx }` or `{ signer }`.");
  }
  const given = (["path", "certificatePath", "privateKeyPath", "pem", "pfx", "signer"] as const).filter((name) => options[name] !== undefined);
  const pair = given.includes("certificatePath") || given.includes("privateKeyPath");
  const sources = given.filter((name) => name !== "certificatePath" && name !== "privateKeyPath").length + (pair ? 1 : 0);
  if (sources === 0) {
    throw new ConfigurationError(
      "certificateCredential needs a certificate: pass `path` (PEM or PFX file), `certificatePath` + `privateKeyPath`, `pem`, `pfx` or `signer`.",
    );
  }
  if (sources > 1) {
    throw new ConfigurationError(`certificateCredential takes one certificate source, but got ${given.map((name) => `\`${name}\``).join(", ")}: keep one.`);
  }
  if (pair && (options.certificatePath === undefined || options.privateKeyPath === undefined)) {
    throw new ConfigurationError(
      "`certificatePath` and `privateKeyPath` go together: pass both, or use `path` for one file holding the certificate and the key.",
    );
  }
  for (const name of ["path", "certificatePath", "privateKeyPath"] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== "string" || value.trim() === "")) {
      throw new ConfigurationError(`\`${name}\` must be a non-empty file path.`);
    }
  }
  if (options.pem !== undefined && typeof options.pem !== "string" && !(options.pem instanceof Uint8Array)) {
    throw new ConfigurationError("`pem` must be PEM text (a string) or its bytes (a Buffer or Uint8Array).");
  }
  if (options.pfx !== undefined && typeof options.pfx !== "string" && !(options.pfx instanceof Uint8Array)) {
    throw new ConfigurationError("`pfx` must be the PFX bytes (a Buffer or Uint8Array) or base64 text.");
  }
  if (options.password !== undefined && typeof options.password !== "string") {
    throw new ConfigurationError("`password` must be a string.");
  }
  if (options.signer !== undefined) {
    const signer = options.signer as Partial<CertificateSigner> | null;
    if (typeof signer !== "object" || signer === null || typeof signer.certificate !== "string" || typeof signer.sign !== "function") {
      throw new ConfigurationError("`signer` must be `{ certificate: <PEM chain>, sign(input, algorithm) }`.");
    }
    if (options.password !== undefined) {
      throw new ConfigurationError("`password` has no effect with `signer`: the signer holds the key. Remove `password`.");
    }
  }
  if (options.algorithm !== undefined && !ALGORITHMS.has(options.algorithm)) {
    throw new ConfigurationError(`\`algorithm\` must be "PS256" or "RS256", not ${JSON.stringify(options.algorithm)}.`);
  }
  if (options.thumbprint !== undefined && !THUMBPRINTS.has(options.thumbprint)) {
    throw new ConfigurationError(`\`thumbprint\` must be "x5t#S256", "x5t" or "both", not ${JSON.stringify(options.thumbprint)}.`);
  }
  const assertionLifetimeMs = options.assertionLifetimeMs ?? DEFAULTS.assertionLifetimeMs;
  if (!Number.isFinite(assertionLifetimeMs) || assertionLifetimeMs < 1000) {
    throw new ConfigurationError("`assertionLifetimeMs` must be a finite number of milliseconds, at least 1000 (Entra ID accepts at most 600000).");
  }
  const reuseMarginMs = options.reuseMarginMs ?? Math.min(DEFAULTS.reuseMarginMs, assertionLifetimeMs / 2);
  if (!Number.isFinite(reuseMarginMs) || reuseMarginMs < 0 || reuseMarginMs >= assertionLifetimeMs) {
    throw new ConfigurationError("`reuseMarginMs` must be at least 0 and less than `assertionLifetimeMs`.");
  }
  const assertionCacheSize = options.assertionCacheSize ?? DEFAULTS.assertionCacheSize;
  if (!Number.isInteger(assertionCacheSize) || assertionCacheSize < 1) {
    throw new ConfigurationError("`assertionCacheSize` must be a positive integer.");
  }
  const reloadCheckIntervalMs = options.reloadCheckIntervalMs ?? DEFAULTS.reloadCheckIntervalMs;
  if (typeof reloadCheckIntervalMs !== "number" || Number.isNaN(reloadCheckIntervalMs) || reloadCheckIntervalMs < 0) {
    throw new ConfigurationError("`reloadCheckIntervalMs` must be a number of milliseconds ≥ 0 (or Infinity to check only on reload).");
  }
  const sourceLabel =
    options.path !== undefined
      ? `file "${resolve(options.path)}"`
      : options.certificatePath !== undefined
        ? `file "${resolve(options.certificatePath)}"`
        : (given[0] ?? "certificate");
  return { assertionLifetimeMs, reuseMarginMs, assertionCacheSize, reloadCheckIntervalMs, sourceLabel };
}

function checkContext(context: CredentialContext): void {
  if (typeof context?.tokenEndpoint !== "string" || context.tokenEndpoint === "") {
    throw new ConfigurationError("A client assertion needs the token endpoint (`context.tokenEndpoint`) as its audience.");
  }
  if (typeof context.clientId !== "string" || context.clientId === "") {
    throw new ConfigurationError("A client assertion needs the client id (`context.clientId`) as its issuer and subject.");
  }
}

