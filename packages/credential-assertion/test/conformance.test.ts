import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describeClientCredential } from "@daemon-auth/conformance";
import { assertionCredential, federatedTokenFileCredential } from "../src/index.js";
import { fakeJwt } from "./helpers.js";

const token = fakeJwt(Date.now() + 3_600_000);

describeClientCredential(
  "assertion from a callback",
  () => {
    let calls = 0;
    const credential = assertionCredential(() => {
      calls += 1;
      return token;
    });
    return { credential, secretMaterial: [token], loadCount: () => calls };
  },
  {
    expectedKind: "assertion",
    createSlow: () => ({
      credential: assertionCredential(async () => {
        await sleep(300);
        return token;
      }),
      secretMaterial: [token],
    }),
    createFailing: () => ({
      credential: assertionCredential(() => {
        throw new Error("identity provider unavailable");
      }),
      secretMaterial: [token],
    }),
  },
);

describeClientCredential(
  "federated token file",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "daemon-auth-federated-conformance-"));
    const path = join(dir, "token");
    await writeFile(path, `${token}\n`);
    return {
      credential: federatedTokenFileCredential({ path }),
      secretMaterial: [token],
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  {
    expectedKind: "assertion",
    authorityKind: "generic",
    createFailing: async () => {
      const dir = await mkdtemp(join(tmpdir(), "daemon-auth-federated-conformance-"));
      return {
        credential: federatedTokenFileCredential({ path: join(dir, "missing") }),
        secretMaterial: [token],
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
);
