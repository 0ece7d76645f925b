import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { ConfigurationError, CredentialError } from "@daemon-auth/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FEDERATED_TOKEN_FILE_VARIABLE, federatedTokenFileCredential } from "../src/index.js";
import { CONTEXT, assertionOf, fakeJwt, manualClock } from "./helpers.js";

let dir: string;
let path: string;
const savedVariable = process.env[FEDERATED_TOKEN_FILE_VARIABLE];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "daemon-auth-federated-"));
  path = join(dir, "azure-identity-token");
});

afterEach(async () => {
  if (savedVariable === undefined) delete process.env[FEDERATED_TOKEN_FILE_VARIABLE];
  else process.env[FEDERATED_TOKEN_FILE_VARIABLE] = savedVariable;
  await rm(dir, { recursive: true, force: true });
});

/** Replaces the token the way the kubelet does: write aside, then swap in. */
async function rotate(token: string): Promise<void> {
  await writeFile(`${path}.new`, token);
  await rename(`${path}.new`, path);
}

describe("federatedTokenFileCredential", () => {
  it("reads the file named by AZURE_FEDERATED_TOKEN_FILE", async () => {
    const token = fakeJwt(Date.now() + 3_600_000);
    await writeFile(path, `${token}\n`);
    process.env[FEDERATED_TOKEN_FILE_VARIABLE] = path;
    const credential = federatedTokenFileCredential();
    expect(credential.kind).toBe("assertion");
    expect(credential.description).toBe(`assertion (file "${path}")`);
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(token);
  });

  it("re-reads the file after maxAgeMs", async () => {
    const clock = manualClock();
    const first = fakeJwt(clock.now() + 3_600_000, "first");
    const second = fakeJwt(clock.now() + 3_600_000, "second");
    await writeFile(path, first);
    const credential = federatedTokenFileCredential({ path, clock });

    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(first);
    await rotate(second);
    clock.advance(299_999);
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(first);
    clock.advance(1);
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(second);
  });

  it("re-reads before the token's exp, even within maxAgeMs", async () => {
    const clock = manualClock();
    const first = fakeJwt(clock.now() + 10 * 60_000, "first");
    const second = fakeJwt(clock.now() + 70 * 60_000, "second");
    await writeFile(path, first);
    const credential = federatedTokenFileCredential({ path, clock, maxAgeMs: 3_600_000 });
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(first);
    await rotate(second);
    clock.advance(8 * 60_000);
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(first);
    clock.advance(60_000); // a minute before exp
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(second);
  });

  it("reload() re-reads at once (the server rejected the token)", async () => {
    const first = fakeJwt(Date.now() + 3_600_000, "first");
    const second = fakeJwt(Date.now() + 3_600_000, "second");
    await writeFile(path, first);
    const credential = federatedTokenFileCredential({ path });
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(first);
    await writeFile(path, second);
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(first);
    await credential.reload({ error: "invalid_client", errorCodes: [700024] });
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(second);
  });

  it("an empty file is a CredentialError naming the path and the volume", async () => {
    await writeFile(path, "\n");
    const error = await federatedTokenFileCredential({ path }).getAuthentication(CONTEXT).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as Error).message).toContain(`"${path}" is empty`);
    expect((error as Error).message).toMatch(/projected service account token volume mounted/);
  });

  it("a missing file or a directory is a CredentialError naming the path, with the cause", async () => {
    const missing = await federatedTokenFileCredential({ path }).getAuthentication(CONTEXT).catch((caught: unknown) => caught);
    expect(missing).toBeInstanceOf(CredentialError);
    expect((missing as Error).message).toMatch(/"[^"]+azure-identity-token" does not exist: is the projected service account token volume mounted\?/);
    expect(((missing as Error).cause as NodeJS.ErrnoException).code).toBe("ENOENT");

    await mkdir(path);
    const directory = await federatedTokenFileCredential({ path }).getAuthentication(CONTEXT).catch((caught: unknown) => caught);
    expect((directory as Error).message).toMatch(/is a directory/);
  });

  it("recovers once the file appears", async () => {
    const credential = federatedTokenFileCredential({ path });
    await expect(credential.getAuthentication(CONTEXT)).rejects.toBeInstanceOf(CredentialError);
    const token = fakeJwt(Date.now() + 3_600_000);
    await writeFile(path, token);
    expect(assertionOf(await credential.getAuthentication(CONTEXT))).toBe(token);
  });

  it("no path and no AZURE_FEDERATED_TOKEN_FILE is a ConfigurationError naming the variable", () => {
    delete process.env[FEDERATED_TOKEN_FILE_VARIABLE];
    expect(() => federatedTokenFileCredential()).toThrow(ConfigurationError);
    expect(() => federatedTokenFileCredential()).toThrow(/^federatedTokenFileCredential: 'path' must name the federated token file: pass it, or set AZURE_FEDERATED_TOKEN_FILE /);
    expect(() => federatedTokenFileCredential({ path: "" })).toThrow(/^federatedTokenFileCredential: 'path' must name the federated token file/);
    expect(() => federatedTokenFileCredential({ path, maxAgeMs: -1 })).toThrow(
      /^federatedTokenFileCredential: 'maxAgeMs' must be a non-negative number of milliseconds, like 300000; got -1\.$/,
    );
  });

  it("never prints the token", async () => {
    const token = fakeJwt(Date.now() + 3_600_000);
    await writeFile(path, token);
    const credential = federatedTokenFileCredential({ path });
    await credential.getAuthentication(CONTEXT);
    for (const output of [String(credential), JSON.stringify(credential), inspect(credential, { showHidden: true, depth: 5 })]) {
      expect(output).toContain(path);
      expect(output).not.toContain(token.split(".")[1]);
    }
  });
});
