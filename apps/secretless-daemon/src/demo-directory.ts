import { demoEmulatorConfig, demoEmulatorIdentities as ids, KEY_VAULT_RESOURCE, type Emulator, type EmulatorConfig } from "@daemon-auth/emulator";

/**
 * The demo's directory: Contoso (the ISV, whose "VM" has the emulator's demo managed
 * identities) publishes a multi-tenant daemon app; Fabrikam (a customer) consented to it
 * and runs the orders API it calls.
 */
export const secretlessDemoIdentities = Object.freeze({
  /** The ISV's tenant: the VM, its managed identities and the app registration live here. */
  homeTenantId: ids.tenantId,
  /** The customer's tenant, which consented to the app. */
  customerTenantId: "6e8a0c2e-4a6c-4e8a-9c2e-4a6c8e0a2c4e",
  /** The multi-tenant app registration: no secret, only a federated credential (and later a certificate). */
  appClientId: "1f3b5d7f-9a1c-4e3b-8d5f-7a9c1e3b5d7f",
  /** The customer's orders API. */
  apiClientId: "2a4c6e8b-0d2f-4a4c-9e6b-8d0f2a4c6e8b",
  apiIdentifierUri: "api://fabrikam-orders",
  apiScope: "api://fabrikam-orders/.default",
  /** The user-assigned identity the app's federated credential trusts. */
  userIdentityClientId: ids.userIdentityClientId,
  userIdentityObjectId: ids.userIdentityObjectId,
  /** The system-assigned identity, which may read certificates and sign with keys in the vault. */
  systemIdentityClientId: ids.systemIdentityClientId,
  certificateName: "secretless-daemon",
});

const KEY_VAULT_APP_ID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093";

/** The emulator's demo directory plus the customer tenant, its API, Key Vault and the app. */
export function secretlessEmulatorConfig(): EmulatorConfig {
  const config = demoEmulatorConfig();
  const demo = secretlessDemoIdentities;
  config.tenants.push({ id: demo.customerTenantId, domains: ["fabrikam.onmicrosoft.com"], displayName: "fabrikam" });
  config.applications.push(
    { clientId: KEY_VAULT_APP_ID, displayName: "Azure Key Vault", homeTenant: demo.homeTenantId, multiTenant: true, identifierUris: [KEY_VAULT_RESOURCE] },
    { clientId: demo.apiClientId, displayName: "fabrikam orders API", homeTenant: demo.customerTenantId, identifierUris: [demo.apiIdentifierUri], appRoles: [{ value: "Orders.Read.All" }] },
    {
      clientId: demo.appClientId,
      displayName: "secretless daemon (multi-tenant)",
      homeTenant: demo.homeTenantId,
      multiTenant: true,
    },
  );
  config.grants = [...(config.grants ?? []), { tenant: demo.customerTenantId, clientId: demo.appClientId, resource: demo.apiIdentifierUri, roles: ["Orders.Read.All"] }];
  return config;
}

/**
 * The app registration trusts the user-assigned identity, as in Entra: a federated
 * credential whose issuer is the identity's tenant and whose subject is its object id.
 */
export function trustUserAssignedIdentity(emulator: Emulator): void {
  const demo = secretlessDemoIdentities;
  emulator.addFederatedCredential(demo.appClientId, { name: "vm-identity", issuer: emulator.issuer(demo.homeTenantId), subject: demo.userIdentityObjectId });
}

/**
 * The variables `pnpm start` reads on an Azure host, pointed at `emulator` (HTTPS): the
 * managed identity's IMDS, the authority host, the customer tenant and the app, and the
 * emulator's CA for Node's TLS.
 */
export function demoEnvironment(emulator: Emulator, apiUrl: string): Record<string, string> {
  const demo = secretlessDemoIdentities;
  return {
    NODE_EXTRA_CA_CERTS: emulator.caCertificatePath as string,
    ...emulator.managedIdentityEnvironment("imds"),
    AZURE_AUTHORITY_HOST: emulator.url,
    AZURE_TENANT_ID: demo.customerTenantId,
    APP_CLIENT_ID: demo.appClientId,
    API_SCOPE: demo.apiScope,
    API_URL: apiUrl,
  };
}

/** Variables of the caller's shell that would configure the daemon, or its managed identity, differently. */
const DAEMON_VARIABLES = /^(AZURE_|APP_|DAEMON_|KEY_VAULT_|API_|MANAGED_IDENTITY_|IDENTITY_|IMDS_|MSI_)/;

/**
 * `variables` for a daemon child process (as `startNode` of `@daemon-auth/test-utils` reads
 * them: `undefined` removes a variable of this process's environment), without any daemon
 * variable of the shell that started the demo or the test.
 */
export function daemonEnvironment(variables: Readonly<Record<string, string>>): Record<string, string | undefined> {
  const cleared = Object.keys(process.env).filter((name) => DAEMON_VARIABLES.test(name));
  return { ...Object.fromEntries(cleared.map((name) => [name, undefined])), ...variables };
}
