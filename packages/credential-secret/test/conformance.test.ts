import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describeClientCredential, type CredentialUnderTest } from "@daemon-auth/conformance";
import { clientSecret, clientSecretFromEnvironment } from "../src/index.js";

// Shaped like an Entra secret value (40 characters, with "~" and "."), unique per credential.
const newSecret = (): string => `Q~${randomUUID().replaceAll("-", "")}.${randomUUID().slice(0, 5)}`;

function callbackCredential(delayMs = 0): CredentialUnderTest {
  const secret = newSecret();
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

function failingCallbackCredential(): CredentialUnderTest {
  const secret = newSecret();
  return {
    credential: clientSecret(async () => {
      // The vault's error must survive as the cause; the secret it guards must not leak.
      throw new Error("vault unreachable: ECONNREFUSED 127.0.0.1:8200");
    }),
    secretMaterial: [secret],
  };
}

describeClientCredential(
  "client secret (static)",
  () => {
    const secret = newSecret();
    return { credential: clientSecret(secret), secretMaterial: [secret] };
  },
  { expectedKind: "secret", createFailing: failingCallbackCredential },
);

describeClientCredential("client secret (callback)", () => callbackCredential(), {
  expectedKind: "secret",
  createFailing: failingCallbackCredential,
  createSlow: () => callbackCredential(300),
});

describeClientCredential(
  "client secret (callback, generic authority)",
  () => callbackCredential(),
  { expectedKind: "secret", authorityKind: "generic" },
);

describeClientCredential(
  "client secret (environment)",
  () => {
    const variable = `DAEMON_AUTH_TEST_SECRET_${randomUUID().replaceAll("-", "_")}`;
    const secret = newSecret();
    process.env[variable] = secret;
    return {
      credential: clientSecretFromEnvironment(variable),
      secretMaterial: [secret],
      cleanup: async () => {
        delete process.env[variable];
      },
    };
  },
  {
    expectedKind: "secret",
    createFailing: () => ({
      credential: clientSecretFromEnvironment(`DAEMON_AUTH_TEST_UNSET_${randomUUID().replaceAll("-", "_")}`),
      secretMaterial: [newSecret()],
    }),
  },
);
