import type { ClientCredential, ReloadReason } from "../../src/index.js";

/**
 * A minimal secret credential for core's own tests, so they do not depend on an
 * adapter package; adapters are tested against the real client in their packages.
 */
export function testSecret(value: string, onReload?: (reason: ReloadReason) => void): ClientCredential & { loads: number } {
  const credential = {
    kind: "secret",
    loads: 0,
    async getAuthentication() {
      credential.loads += 1;
      return { clientSecret: value };
    },
    async reload(reason: ReloadReason) {
      onReload?.(reason);
    },
  };
  return credential;
}
