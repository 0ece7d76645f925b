import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { clientSecret } from "@daemon-auth/credential-secret";
import { describeClientCredential, type CredentialUnderTest } from "../src/index.js";

// The reference credential: the suite must pass against it, every optional group included.
function callback(delayMs: number): CredentialUnderTest {
  const secret = `ref-${randomUUID()}`;
  let loads = 0;
  return {
    credential: clientSecret(async () => {
      loads++;
      if (delayMs > 0) await sleep(delayMs);
      return secret;
    }),
    secretMaterial: [secret],
    loadCount: () => loads,
  };
}

describeClientCredential("@daemon-auth/credential-secret", () => callback(0), {
  expectedKind: "secret",
  createSlow: () => callback(300),
  createFailing: () => ({
    credential: clientSecret(() => {
      throw new Error("source unavailable");
    }),
    secretMaterial: [`ref-${randomUUID()}`],
  }),
});
