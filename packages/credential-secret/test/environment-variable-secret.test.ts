import { randomUUID } from "node:crypto";
import { assertNoSecretIn, renderings, sampleCredentialContext } from "@daemon-auth/conformance";
import { ConfigurationError, type ClientCredential } from "@daemon-auth/core";
import { afterEach, describe, expect, it } from "vitest";
import { clientSecretFromEnvironment, DEFAULT_SECRET_VARIABLE } from "../src/index.js";

const SECRET = "Q~envS3cr3tValueThatMustNeverBeLogged.0123";

async function secretOf(credential: ClientCredential): Promise<string> {
  const authentication = await credential.getAuthentication(sampleCredentialContext());
  if (!("clientSecret" in authentication)) throw new Error("expected a client secret");
  return authentication.clientSecret;
}

const touched: string[] = [];
function variableName(): string {
  const name = `DAEMON_AUTH_TEST_${randomUUID().replaceAll("-", "_")}`;
  touched.push(name);
  return name;
}

afterEach(() => {
  for (const name of touched.splice(0)) delete process.env[name];
});

describe("clientSecretFromEnvironment", () => {
  it(`reads ${DEFAULT_SECRET_VARIABLE} by default`, async () => {
    const previous = process.env[DEFAULT_SECRET_VARIABLE];
    process.env[DEFAULT_SECRET_VARIABLE] = SECRET;
    try {
      const credential = clientSecretFromEnvironment();
      expect(credential.description).toBe(`client secret (environment variable ${DEFAULT_SECRET_VARIABLE})`);
      expect(await secretOf(credential)).toBe(SECRET);
    } finally {
      if (previous === undefined) delete process.env[DEFAULT_SECRET_VARIABLE];
      else process.env[DEFAULT_SECRET_VARIABLE] = previous;
    }
  });

  it("reads the variable at first use, not at construction", async () => {
    const name = variableName();
    const credential = clientSecretFromEnvironment(name);
    process.env[name] = SECRET;
    expect(await secretOf(credential)).toBe(SECRET);
  });

  it("keeps the value until reload(), then reads the variable again", async () => {
    const name = variableName();
    process.env[name] = SECRET;
    const credential = clientSecretFromEnvironment(name);
    expect(await secretOf(credential)).toBe(SECRET);
    process.env[name] = "Q~rotated";
    expect(await secretOf(credential)).toBe(SECRET);
    await credential.reload?.({ error: "invalid_client", errorCodes: [7000222] });
    expect(await secretOf(credential)).toBe("Q~rotated");
  });

  it("names a missing variable and the fix in a ConfigurationError", async () => {
    const name = variableName();
    const error = await secretOf(clientSecretFromEnvironment(name)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain(`${name} is not set`);
    expect((error as Error).message).toMatch(/Set it to the client secret's value/);
  });

  it.each(["", "   "])("names an empty variable (%j) in a ConfigurationError", async (value) => {
    const name = variableName();
    process.env[name] = value;
    await expect(secretOf(clientSecretFromEnvironment(name))).rejects.toThrow(`${name} is empty`);
  });

  it("works once the missing variable is set", async () => {
    const name = variableName();
    const credential = clientSecretFromEnvironment(name);
    await expect(secretOf(credential)).rejects.toThrow(ConfigurationError);
    process.env[name] = SECRET;
    expect(await secretOf(credential)).toBe(SECRET);
  });

  it.each(["", "  ", 42])("refuses a blank or non-string variable name (%j)", (name) => {
    expect(() => clientSecretFromEnvironment(name as string)).toThrow(ConfigurationError);
  });

  it("keeps the secret out of every rendering", async () => {
    const name = variableName();
    process.env[name] = SECRET;
    const credential = clientSecretFromEnvironment(name);
    await secretOf(credential);
    assertNoSecretIn(renderings(credential), [SECRET]);
  });
});
