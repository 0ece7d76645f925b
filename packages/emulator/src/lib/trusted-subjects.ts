// Subject name + issuer (SN+I) certificate trust: an app registration that trusts a
// subject name and an issuing CA accepts any certificate with that subject issued by
// that CA, identified by the chain the client sends in the assertion's `x5c` header, so
// a certificate renewed by the same CA needs no new registration. Without `x5c` the
// certificate cannot be found, and Entra answers AADSTS700027 as for an unknown key.
import { X509Certificate } from "node:crypto";

/** A validated SN+I trust: the subject's common name and the issuing CA. */
export interface TrustedSubject {
  /** The common name the leaf certificate's subject must carry (compared case-insensitively). */
  readonly commonName: string;
  readonly issuer: X509Certificate;
}

function commonNameOf(certificate: X509Certificate): string | undefined {
  return /^CN=(.*)$/m.exec(certificate.subject)?.[1]?.trim();
}

function issued(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

/**
 * The leaf of an `x5c` chain (base64 DER, leaf first) that one of `trusts` accepts: its
 * common name is the trusted subject's and it chains, through CA certificates of `x5c`,
 * to the trusted issuer with every signature verified. `undefined` otherwise.
 */
export function trustedLeaf(x5c: unknown, trusts: readonly TrustedSubject[]): X509Certificate | undefined {
  if (trusts.length === 0 || !Array.isArray(x5c) || x5c.length === 0 || x5c.length > 10) return undefined;
  let chain: X509Certificate[];
  try {
    chain = x5c.map((entry) => {
      if (typeof entry !== "string") throw new TypeError("not base64");
      return new X509Certificate(Buffer.from(entry, "base64"));
    });
  } catch {
    return undefined;
  }
  const [leaf, ...rest] = chain as [X509Certificate, ...X509Certificate[]];
  const name = commonNameOf(leaf)?.toLowerCase();
  for (const trust of trusts) {
    if (name === undefined || name !== trust.commonName.toLowerCase()) continue;
    let current = leaf;
    for (let step = 0; step <= rest.length; step++) {
      if (issued(current, trust.issuer)) return leaf;
      const parent = rest.find((candidate) => candidate.ca && candidate !== current && issued(current, candidate));
      if (parent === undefined) break;
      current = parent;
    }
  }
  return undefined;
}
