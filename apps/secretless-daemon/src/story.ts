// The offline story of this sample, shared by `pnpm demo` and the smoke test. The emulator
// serves Entra ID, the "VM"'s IMDS and Key Vault on one HTTPS port; the customer's orders
// API runs beside it; the daemon (`pnpm start`'s entry point) runs as a child process —
// the VM — with the variables a user sets on Azure, pointed at the emulator.
import { startEmulator, type Emulator, type RecordedRequest } from "@daemon-auth/emulator";
import { startOrdersApi, type OrdersApi } from "@daemon-auth/sample-call-own-api";
import { startNode } from "@daemon-auth/test-utils";
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from "undici";
import { daemonEnvironment, demoEnvironment, secretlessDemoIdentities as demo, secretlessEmulatorConfig, trustUserAssignedIdentity } from "./demo-directory.js";

/** Options of {@link runSecretlessStory}. */
export interface StoryOptions {
  /** The daemon's entry point: `dist/start.js`, or `src/start.ts` (run through tsx from the sources). */
  readonly script: string;
  /** Each line the daemon prints, and the story's own notes. @default console.log */
  readonly onLine?: (line: string) => void;
  /** Each daemon run is killed after this long. @default 60000 */
  readonly timeoutMs?: number;
}

/** One token request of the app, as the emulator saw it. */
export interface AppTokenRequest {
  readonly status: number;
  readonly errorCode?: number | undefined;
  readonly clientAuth?: string | undefined;
  readonly tenant?: string | undefined;
}

/** One daemon run: what it printed and the requests it made. */
export interface DaemonRunResult {
  readonly exitCode: number | null;
  readonly lines: readonly string[];
  /** Requests to the VM's IMDS endpoint. */
  readonly imdsRequests: number;
  readonly appTokenRequests: readonly AppTokenRequest[];
  /** Key Vault `sign` operations. */
  readonly vaultSignatures: number;
}

/** What happened, for the story check. */
export interface StoryResult {
  /** (a) The user-assigned identity as the app's federated credential. */
  readonly federated: DaemonRunResult;
  /** (b) A certificate whose key stays in Key Vault, rotated while the daemon runs. */
  readonly keyVault: DaemonRunResult & { readonly versions: readonly [before: string, after: string | undefined] };
}

/** Calls of the Key Vault daemon; the certificate is rotated once it has reported {@link ROTATE_AFTER_RUN}. */
export const KEY_VAULT_RUNS = 3;
export const ROTATE_AFTER_RUN = 1;
// Tokens live 3 s, so each call of the Key Vault daemon (2 s apart) needs a new one and
// meets the rotation within seconds instead of an hour.
const TOKEN_LIFETIME_SECONDS = 3;
const INTERVAL_MS = 2_000;

/**
 * Runs the daemon twice against the emulator: (a) with the user-assigned identity as its
 * app's federated credential, getting tokens in the customer's tenant; (b) with the
 * app's certificate in Key Vault, the vault reached with the system-assigned identity,
 * rotating the certificate after call {@link ROTATE_AFTER_RUN} as an operator would.
 */
export async function runSecretlessStory(options: StoryOptions): Promise<StoryResult> {
  const note = options.onLine ?? ((line: string) => console.log(line));
  const emulator = await startEmulator({
    https: true,
    config: secretlessEmulatorConfig(),
    tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS,
    // Least privilege: the system-assigned identity may read certificates and sign, nothing else.
    keyVault: { keyPermissions: { [demo.systemIdentityClientId]: ["get", "sign"] } },
  });
  // The orders API fetches the emulator's keys with fetch(): this process trusts its CA, as the daemon does with NODE_EXTRA_CA_CERTS.
  const previousDispatcher = getGlobalDispatcher();
  const trusting = new Agent({ connect: { ca: emulator.caCertificatePem as string } });
  setGlobalDispatcher(trusting);
  let api: OrdersApi | undefined;
  try {
    api = await startOrdersApi({ issuer: emulator.issuer(demo.customerTenantId), jwksUri: emulator.jwksUri(demo.customerTenantId), audience: demo.apiIdentifierUri });
    const base = demoEnvironment(emulator, api.url);

    note(`(a) the app registration ${demo.appClientId} trusts the VM's user-assigned identity (federated credential: issuer = Contoso, subject = the identity's object id)`);
    trustUserAssignedIdentity(emulator);
    const federated = await runDaemon(emulator, options, { ...base, MANAGED_IDENTITY_CLIENT_ID: demo.userIdentityClientId, DAEMON_RUNS: "2", DAEMON_INTERVAL_MS: "500" }, note);

    const first = await emulator.createVaultCertificate(demo.certificateName, { subject: "CN=secretless daemon 2026-A" });
    emulator.addCertificate(demo.appClientId, { pem: first.certificatePem });
    note(`\n(b) the app's certificate "${demo.certificateName}" is created in Key Vault with a non-exportable key (version ${first.version}) and its public part uploaded to the app`);
    let rotated: string | undefined;
    const rotate = async (): Promise<void> => {
      const second = await emulator.createVaultCertificate(demo.certificateName, { subject: "CN=secretless daemon 2026-B" });
      emulator.addCertificate(demo.appClientId, { pem: second.certificatePem });
      emulator.removeCertificate(demo.appClientId, first.certificatePem);
      rotated = second.version;
      note(`>> rotated: Key Vault version ${second.version} created and uploaded to the app; version ${first.version} removed from the app`);
    };
    const keyVaultEnv = { ...base, KEY_VAULT_URL: emulator.vaultUrl, KEY_VAULT_CERTIFICATE_NAME: demo.certificateName, DAEMON_RUNS: String(KEY_VAULT_RUNS), DAEMON_INTERVAL_MS: String(INTERVAL_MS) };
    const keyVault = await runDaemon(emulator, options, keyVaultEnv, note, { after: new RegExp(`^run ${ROTATE_AFTER_RUN}: .*\\n`, "m"), rotate });
    return { federated, keyVault: { ...keyVault, versions: [first.version, rotated] } };
  } finally {
    await api?.close();
    await emulator.close();
    setGlobalDispatcher(previousDispatcher);
    await trusting.close();
  }
}

/** The rotation of the Key Vault run: done once the daemon printed a line matching `after`. */
interface Rotation {
  readonly after: RegExp;
  rotate(): Promise<void>;
}

/** Runs the daemon once, passing its lines on as they complete, and collects the requests it made. */
async function runDaemon(emulator: Emulator, options: StoryOptions, env: Record<string, string>, onLine: (line: string) => void, rotation?: Rotation): Promise<DaemonRunResult> {
  emulator.resetRequests();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const daemon = startNode(options.script, [], { env: daemonEnvironment(env), timeoutMs });
  let passedOn = 0;
  const passOn = (stdout: string): void => {
    const complete = stdout.split("\n").slice(0, -1);
    for (const line of complete.slice(passedOn)) onLine(line);
    passedOn = complete.length;
  };
  if (rotation !== undefined) {
    // A daemon that exits before the line is reported below, by its exit code and output.
    const reached = await daemon.waitForOutput(rotation.after, timeoutMs).then(() => true, () => false);
    if (reached) {
      passOn(daemon.stdout());
      await rotation.rotate();
    }
  }
  const { code, stdout, stderr } = await daemon.exited;
  passOn(stdout.endsWith("\n") ? stdout : `${stdout}\n`);
  const errors = stderr.split("\n").filter(Boolean);
  for (const line of errors) onLine(line);
  const { requests } = emulator;
  return {
    exitCode: code,
    lines: [...stdout.split("\n").filter(Boolean), ...errors],
    imdsRequests: requests.filter((request) => request.path.startsWith("/metadata/identity/oauth2/token")).length,
    appTokenRequests: requests.filter((request) => isTokenRequest(request) && request.clientId === demo.appClientId).map((request) => ({
      status: request.status,
      errorCode: request.errorCodes?.[0],
      clientAuth: request.clientAuth,
      tenant: request.tenant,
    })),
    vaultSignatures: requests.filter((request) => request.method === "POST" && /^\/keys\/[^/]+\/[^/]*\/sign$/.test(request.path)).length,
  };
}

function isTokenRequest(request: RecordedRequest): boolean {
  return request.method === "POST" && request.path.endsWith("/oauth2/v2.0/token");
}
