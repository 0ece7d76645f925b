import {
  AbortError,
  DaemonAuthError,
  type ClientAuthentication,
  type ClientCredential,
  type CredentialContext,
} from "@daemon-auth/core";
import { afterEach, describe, expect, it } from "vitest";
import { sampleCredentialContext } from "./context.js";
import { sleep } from "./lib/wait.js";
import { assertNoSecretIn, errorRenderings, renderings } from "./secrets.js";

/** A credential built for one test, what it must keep secret, and how to tear it down. */
export interface CredentialUnderTest {
  /** A fresh credential that has not been used yet. */
  credential: ClientCredential;
  /**
   * Every secret string the credential holds (secret value, private key PEM,
   * assertion…), to be searched for in outputs.
   */
  secretMaterial: string[];
  /** How many times the credential loaded its material from its source so far. */
  loadCount?: () => number;
  /** Runs after the suite has disposed `credential`: remove files, stop servers. */
  cleanup?: () => Promise<void>;
}

/** Options of {@link describeClientCredential}. */
export interface CredentialSuiteOptions {
  /** The `kind` the credential must report, e.g. `"secret"`. */
  expectedKind: string;
  /** A credential whose source fails (unreadable file, callback throws…). */
  createFailing?: () => Promise<CredentialUnderTest> | CredentialUnderTest;
  /** A credential whose source is slow (≥ 200 ms), for the abort test. */
  createSlow?: () => Promise<CredentialUnderTest> | CredentialUnderTest;
  /**
   * The kind of authority the credential is used against.
   * @default "entra"
   */
  authorityKind?: "entra" | "generic";
}

const GENERIC_TOKEN_ENDPOINT = "https://issuer.example.com/oauth2/token";

/** How soon an aborted load must reject, in milliseconds. */
const ABORT_DEADLINE_MS = 100;

/**
 * Registers the `ClientCredential` conformance suite under `describe(name)`: kind,
 * authentication shape, single load under concurrent first use, abort handling, typed
 * failures, secret material kept out of every rendering and error, and `dispose`.
 * Every test gets fresh credentials, disposed and cleaned up after it.
 *
 * @example
 * describeClientCredential("static secret", () => ({
 *   credential: clientSecret("s3cr3t-value"),
 *   secretMaterial: ["s3cr3t-value"],
 * }), { expectedKind: "secret" });
 */
export function describeClientCredential(
  name: string,
  create: () => Promise<CredentialUnderTest> | CredentialUnderTest,
  options: CredentialSuiteOptions,
): void {
  const authorityKind = options.authorityKind ?? "entra";
  const context = (overrides: Partial<CredentialContext> = {}): CredentialContext =>
    sampleCredentialContext({
      authorityKind,
      ...(authorityKind === "generic" ? { tokenEndpoint: GENERIC_TOKEN_ENDPOINT } : {}),
      ...overrides,
    });

  let opened: CredentialUnderTest[] = [];
  const open = async (factory: () => Promise<CredentialUnderTest> | CredentialUnderTest): Promise<CredentialUnderTest> => {
    const underTest = await factory();
    opened.push(underTest);
    return underTest;
  };

  describe(`ClientCredential conformance: ${name}`, () => {
    afterEach(async () => {
      const done = opened;
      opened = [];
      for (const underTest of done) {
        try {
          await underTest.credential.dispose?.();
        } finally {
          await underTest.cleanup?.();
        }
      }
    });

    describe("identity", () => {
      it(`has kind "${options.expectedKind}"`, async () => {
        const { credential } = await open(create);
        expect(credential.kind).toBe(options.expectedKind);
      });

      it("declares its secret material", async () => {
        const { secretMaterial } = await open(create);
        expect(secretMaterial.length, "secretMaterial lists no secret").toBeGreaterThan(0);
        for (const secret of secretMaterial) expect(typeof secret === "string" && secret.length > 0).toBe(true);
      });
    });

    describe("authentication", () => {
      it("resolves a client secret or a client assertion", async () => {
        const { credential } = await open(create);
        expectAuthentication(await credential.getAuthentication(context()));
      });

      it("keeps authenticating on later uses", async () => {
        const { credential } = await open(create);
        expectAuthentication(await credential.getAuthentication(context()));
        expectAuthentication(await credential.getAuthentication(context()));
      });

      it("serves 20 concurrent first uses, loading its material once", async () => {
        const { credential, loadCount } = await open(create);
        const results = await Promise.all(Array.from({ length: 20 }, () => credential.getAuthentication(context())));
        for (const result of results) expectAuthentication(result);
        if (loadCount) expect(loadCount(), "concurrent first uses loaded the material more than once").toBe(1);
      });

      it("authenticates again after reload()", async ({ skip }) => {
        const { credential, secretMaterial } = await open(create);
        if (!credential.reload) skip("the credential has no reload()");
        expectAuthentication(await credential.getAuthentication(context()));
        await credential.reload?.({ error: "invalid_client", errorCodes: [7000215] });
        expectAuthentication(await credential.getAuthentication(context()));
        assertNoSecretIn(renderings(credential), secretMaterial);
      });
    });

    describe("abort", () => {
      it("rejects an already-aborted signal with AbortError", async () => {
        const { credential, secretMaterial } = await open(create);
        const error = await failureOf(credential.getAuthentication(context({ signal: AbortSignal.abort() })));
        expect(error).toBeInstanceOf(AbortError);
        expect((error as AbortError).code).toBe("ERR_ABORTED");
        assertNoSecretIn(errorRenderings(error), secretMaterial);
      });

      it("still authenticates after an aborted call", async () => {
        const { credential } = await open(create);
        await failureOf(credential.getAuthentication(context({ signal: AbortSignal.abort() })));
        expectAuthentication(await credential.getAuthentication(context()));
      });

      if (options.createSlow) {
        const createSlow = options.createSlow;

        it(`rejects within ${ABORT_DEADLINE_MS} ms when aborted mid-load`, async () => {
          const { credential } = await open(createSlow);
          const controller = new AbortController();
          const outcome = failureOf(credential.getAuthentication(context({ signal: controller.signal })));
          await sleep(20);
          const abortedAt = performance.now();
          controller.abort();
          const error = await outcome;
          const elapsed = performance.now() - abortedAt;
          expect(error).toBeInstanceOf(AbortError);
          expect(elapsed, "the credential did not stop waiting when the signal fired").toBeLessThan(ABORT_DEADLINE_MS);
        });

        it("does not fail other callers sharing the load when one aborts", async () => {
          const { credential } = await open(createSlow);
          const controller = new AbortController();
          const aborted = failureOf(credential.getAuthentication(context({ signal: controller.signal })));
          const patient = credential.getAuthentication(context());
          await sleep(20);
          controller.abort();
          expect(await aborted).toBeInstanceOf(AbortError);
          expectAuthentication(await patient);
        });
      }
    });

    if (options.createFailing) {
      const createFailing = options.createFailing;

      describe("failures", () => {
        it("rejects with a typed error that keeps its cause", async () => {
          const { credential } = await open(createFailing);
          const error = await failureOf(credential.getAuthentication(context()));
          expect(error).toBeInstanceOf(DaemonAuthError);
          expect(error).not.toBeInstanceOf(AbortError);
          expect((error as DaemonAuthError).code).toMatch(/^ERR_[A-Z_]+$/);
          expect((error as DaemonAuthError).cause, "the error dropped the underlying cause").toBeDefined();
          expect((error as Error).message.length, "the error has no message").toBeGreaterThan(0);
        });

        it("keeps secret material out of the error", async () => {
          const { credential, secretMaterial } = await open(createFailing);
          const error = await failureOf(credential.getAuthentication(context()));
          assertNoSecretIn(errorRenderings(error), secretMaterial);
          assertNoSecretIn(renderings(credential), secretMaterial);
        });
      });
    }

    describe("secrecy", () => {
      it("keeps secret material out of every rendering, before and after use", async () => {
        const { credential, secretMaterial } = await open(create);
        assertNoSecretIn(prefixed("before use", renderings(credential)), secretMaterial);
        await credential.getAuthentication(context());
        assertNoSecretIn(prefixed("after use", renderings(credential)), secretMaterial);
        assertNoSecretIn(
          { kind: credential.kind, description: credential.description ?? "", keys: Reflect.ownKeys(credential).map(String).join(",") },
          secretMaterial,
        );
      });
    });

    describe("lifecycle", () => {
      it("can be disposed twice", async () => {
        const { credential } = await open(create);
        await credential.getAuthentication(context());
        await credential.dispose?.();
        await credential.dispose?.();
      });
    });
  });
}

function expectAuthentication(authentication: ClientAuthentication): void {
  if ("clientSecret" in authentication) {
    expect(typeof authentication.clientSecret).toBe("string");
    expect(authentication.clientSecret.length, "the client secret is empty").toBeGreaterThan(0);
    return;
  }
  expect(typeof authentication.clientAssertion).toBe("string");
  expect(authentication.clientAssertion.length, "the client assertion is empty").toBeGreaterThan(0);
  if (authentication.clientAssertionType !== undefined) {
    expect(authentication.clientAssertionType.length).toBeGreaterThan(0);
  }
}

/** The rejection reason of `promise`; fails the test if it resolves. */
async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("Expected the call to reject, but it resolved.");
}

function prefixed(prefix: string, outputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(outputs).map(([where, output]) => [`${prefix}: ${where}`, output]));
}
