import { createRequire } from "node:module";
import { ConfidentialClientApplication, LogLevel } from "@azure/msal-node";
import { createDaemonClient, type ClientCredential } from "@daemon-auth/core";
import { certificateCredential } from "@daemon-auth/credential-certificate";
import { createSelfSignedCertificate } from "@daemon-auth/emulator";
import { BENCH_IDS, benchTenant, msalAuthority } from "./clients.js";
import { authorityMetadata, CLOUD_DISCOVERY_METADATA, createFakeNetwork } from "./fake-network.js";
import { medianMicrosPerCall } from "./measure.js";
import { settle, type BenchSizes, type Figure } from "./scenarios.js";

/** Counts the assertions msal-node signs: it signs with `jsonwebtoken`'s `sign`, looked up on each call. */
function countMsalSignatures(): { readonly count: number; restore(): void } {
  const msalNode = createRequire(import.meta.url).resolve("@azure/msal-node");
  const jwt = createRequire(msalNode)("jsonwebtoken") as {
    sign: (...args: unknown[]) => unknown;
  };
  const original = jwt.sign;
  let count = 0;
  jwt.sign = (...args: unknown[]) => {
    count += 1;
    return original(...args);
  };
  return {
    get count() {
      return count;
    },
    restore: () => void (jwt.sign = original),
  };
}

/** A credential that counts the distinct assertions it hands out: each new one was signed. */
function countingCredential(credential: ClientCredential): ClientCredential & { readonly signed: number } {
  const seen = new Set<string>();
  return {
    kind: credential.kind,
    async getAuthentication(context) {
      const authentication = await credential.getAuthentication(context);
      if ("clientAssertion" in authentication) seen.add(authentication.clientAssertion);
      return authentication;
    },
    get signed() {
      return seen.size;
    },
  };
}

/**
 * Scenario 6: a certificate credential, cache hits going round `certificateTenants` tenants.
 * Figures: µs per hit, and assertions signed while serving those hits.
 */
export async function certificateRoundRobin(sizes: BenchSizes): Promise<Figure[]> {
  const tenants = Array.from({ length: sizes.certificateTenants }, (_, t) => benchTenant(t));
  const certificate = await createSelfSignedCertificate({ subject: "daemon-auth bench" });
  const network = createFakeNetwork();
  const credential = countingCredential(certificateCredential({ pem: `${certificate.certificatePem}\n${certificate.privateKeyPem}` }));
  const ours = createDaemonClient({ tenantId: BENCH_IDS.tenantId, clientId: BENCH_IDS.clientId, credential, transport: network.transport });
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: BENCH_IDS.clientId,
      clientCertificate: { thumbprintSha256: certificate.thumbprintSha256, privateKey: certificate.privateKeyPem },
      authority: msalAuthority(BENCH_IDS.tenantId),
      cloudDiscoveryMetadata: CLOUD_DISCOVERY_METADATA,
      authorityMetadata: authorityMetadata(BENCH_IDS.tenantId),
    },
    system: { networkClient: network.networkClient, loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false } },
  });
  const scopes = [BENCH_IDS.scope];
  const oursHit = (i: number) => ours.acquireTokenForClient({ scopes, tenantId: tenants[i % tenants.length] as string });
  const msalHit = (i: number) => msal.acquireTokenByClientCredential({ scopes, authority: msalAuthority(tenants[i % tenants.length] as string) });
  const signatures = countMsalSignatures();
  try {
    // Each library fills its cache and is timed before the next one starts, as in scenario 2.
    for (let i = 0; i < tenants.length; i++) await oursHit(i);
    await settle();
    const oursBefore = credential.signed;
    const oursUs = await medianMicrosPerCall(sizes.repetitions, Math.max(sizes.hitIterations, tenants.length), oursHit);
    const oursSigned = credential.signed - oursBefore;
    for (let i = 0; i < tenants.length; i++) await msalHit(i);
    await settle();
    const msalBefore = signatures.count;
    // msal-node signs on each tenant switch (~1 ms), so it gets fewer calls, still a whole round.
    const msalIterations = Math.max(tenants.length, Math.min(sizes.hitIterations, 2_000));
    const msalUs = await medianMicrosPerCall(sizes.repetitions, msalIterations, msalHit);
    const msalSigned = signatures.count - msalBefore;
    const runs = sizes.repetitions + 1;
    const round = `${tenants.length.toLocaleString("en-US")} tenants`;
    return [
      { scenario: `certificate, cache hit round-robin over ${round}`, unit: "µs/call", ours: oursUs, msal: msalUs, identity: undefined },
      {
        scenario: `certificate, assertions signed per 1,000 cache hits (${round})`,
        unit: "signatures",
        ours: (oursSigned / (runs * Math.max(sizes.hitIterations, tenants.length))) * 1000,
        msal: (msalSigned / (runs * msalIterations)) * 1000,
        identity: undefined,
        note: `filling the cache signed ${String(credential.signed)} assertions for daemon-auth (one per tenant's token endpoint)`,
      },
    ];
  } finally {
    signatures.restore();
    await ours.dispose();
  }
}
