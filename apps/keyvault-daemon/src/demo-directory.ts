import {
  demoEmulatorConfig,
  demoEmulatorIdentities as ids,
  GRAPH_RESOURCE,
  GRAPH_USERS_ROLE,
  KEY_VAULT_RESOURCE,
  type Emulator,
  type EmulatorConfig,
  type GeneratedCertificate,
} from "@daemon-auth/emulator";

/** The apps of the demo directory (tenant contoso of the emulator's demo directory). */
export const keyVaultDemoIdentities = Object.freeze({
  tenantId: ids.tenantId,
  /** Stands in for the managed identity that may read the vault: the bootstrap identity. */
  vaultReaderClientId: "4c6e8a0b-2d4f-4b6d-8f0a-2c4e6a8b0d1f",
  /** Only the emulator accepts it. */
  vaultReaderSecret: "vault-reader-secret-for-the-emulator-only",
  /** The daemon's app registration: certificates only, no secret. */
  daemonClientId: "9d1f3b5a-7c9e-4b1d-a3f5-7b9d1f3a5c7e",
  certificateName: "orders-daemon-certificate",
  apiScope: `${GRAPH_RESOURCE}/.default`,
});

/** Microsoft Graph's and Key Vault's well-known app ids. */
const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
const KEY_VAULT_APP_ID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093";

/**
 * The emulator's demo directory plus Key Vault and Microsoft Graph as resources, the
 * vault reader, and the daemon app with `certificate` registered and admin consent to
 * Graph's `User.Read.All`.
 */
export function keyVaultEmulatorConfig(certificate: GeneratedCertificate): EmulatorConfig {
  const config = demoEmulatorConfig();
  const { tenantId, vaultReaderClientId, vaultReaderSecret, daemonClientId } = keyVaultDemoIdentities;
  config.applications.push(
    { clientId: KEY_VAULT_APP_ID, displayName: "Azure Key Vault", homeTenant: tenantId, multiTenant: true, identifierUris: [KEY_VAULT_RESOURCE] },
    { clientId: GRAPH_APP_ID, displayName: "Microsoft Graph", homeTenant: tenantId, multiTenant: true, identifierUris: [GRAPH_RESOURCE], appRoles: [{ value: GRAPH_USERS_ROLE }] },
    { clientId: vaultReaderClientId, displayName: "vault reader (managed identity stand-in)", homeTenant: tenantId, secrets: [{ value: vaultReaderSecret }] },
    { clientId: daemonClientId, displayName: "orders daemon (certificate in Key Vault)", homeTenant: tenantId, certificates: [{ pem: certificate.certificatePem }] },
  );
  config.grants?.push({ tenant: tenantId, clientId: daemonClientId, resource: GRAPH_RESOURCE, roles: [GRAPH_USERS_ROLE] });
  return config;
}

/** A certificate as Key Vault keeps one in PEM form: the secret holds the certificate and its private key. */
export function vaultSecretOf(certificate: GeneratedCertificate): { value: string; contentType: string } {
  return { value: certificate.certificatePem + certificate.privateKeyPem, contentType: "application/x-pem-file" };
}

/**
 * The variables a user sets for Azure, pointed at `emulator` (started with
 * {@link keyVaultEmulatorConfig} and `https: true`): the vault reader as the bootstrap
 * identity, the emulator's vault and Graph, and its CA for Node's TLS (read at start-up).
 */
export function demoEnvironment(emulator: Emulator): Record<string, string> {
  return {
    NODE_EXTRA_CA_CERTS: emulator.caCertificatePath as string,
    AZURE_AUTHORITY_HOST: emulator.url,
    AZURE_TENANT_ID: keyVaultDemoIdentities.tenantId,
    AZURE_CLIENT_ID: keyVaultDemoIdentities.vaultReaderClientId,
    AZURE_CLIENT_SECRET: keyVaultDemoIdentities.vaultReaderSecret,
    DAEMON_CLIENT_ID: keyVaultDemoIdentities.daemonClientId,
    KEY_VAULT_URL: emulator.vaultUrl,
    KEY_VAULT_CERTIFICATE_NAME: keyVaultDemoIdentities.certificateName,
    API_SCOPE: keyVaultDemoIdentities.apiScope,
    API_URL: `${emulator.graphUrl}/users?$top=5`,
  };
}
