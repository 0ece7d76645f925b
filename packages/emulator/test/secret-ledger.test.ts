import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSelfSignedCertificate, demoEmulatorConfig, demoEmulatorIdentities, startEmulator, type Emulator } from "../src/index.js";

const ids = demoEmulatorIdentities;
const LEDGER_ENV = "DAEMON_AUTH_SECRET_LEDGER";

describe("secret ledger", () => {
  let directory: string;
  let ledger: string;
  let runLedger: string | undefined;
  let emulator: Emulator | undefined;

  beforeEach(async () => {
    // The run's own ledger (set by the shared vitest config) is put back afterwards.
    runLedger = process.env[LEDGER_ENV];
    directory = await mkdtemp(join(tmpdir(), "emulator-ledger-"));
    ledger = join(directory, "ledger.jsonl");
    process.env[LEDGER_ENV] = ledger;
  });

  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
    if (runLedger === undefined) delete process.env[LEDGER_ENV];
    else process.env[LEDGER_ENV] = runLedger;
    await rm(directory, { recursive: true, force: true });
  });

  async function entries(): Promise<{ kind: string; value: string }[]> {
    const text = await readFile(ledger, "utf8");
    return text.trim().split("\n").map((line) => JSON.parse(line) as { kind: string; value: string });
  }

  async function requestToken(secret: string): Promise<Response> {
    return fetch(emulator!.tokenEndpoint(ids.tenantId), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: ids.daemonClientId, client_secret: secret, scope: `${ids.apiIdentifierUri}/.default` }),
    });
  }

  it("records the secrets a token request sent, right or wrong, and the token it issued, in a 0600 file", async () => {
    emulator = await startEmulator({ config: demoEmulatorConfig() });
    const response = await requestToken(ids.daemonClientSecret);
    const { access_token: token } = (await response.json()) as { access_token: string };
    expect((await requestToken("a-wrong-secret-value")).status).toBe(401);
    expect(await entries()).toEqual([
      { kind: "client secret", value: ids.daemonClientSecret },
      { kind: "access token", value: token },
      { kind: "client secret", value: "a-wrong-secret-value" },
    ]);
    expect((await stat(ledger)).mode & 0o777).toBe(0o600);
  });

  it("records the private key of a generated certificate", async () => {
    const certificate = await createSelfSignedCertificate();
    expect(await entries()).toEqual([{ kind: "private key", value: certificate.privateKeyPem }]);
  });

  it("writes nothing without the variable", async () => {
    delete process.env[LEDGER_ENV];
    emulator = await startEmulator({ config: demoEmulatorConfig() });
    expect((await requestToken(ids.daemonClientSecret)).status).toBe(200);
    await expect(stat(ledger)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
