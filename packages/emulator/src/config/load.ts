// A whole configuration: its shape, then its references (by building a
// directory from it), from an object or a JSON file.
import { readFile } from "node:fs/promises";
import { Directory } from "../lib/directory.js";
import { validateFaultRule, validateLoopDetection } from "../lib/faults/validation.js";
import { validateApplication, validateGrant, validateTenant } from "./entities.js";
import { EmulatorConfigError, expectArray, expectObject } from "./error.js";
import { validateManagedIdentities, withManagedIdentityPrincipals } from "./managed-identities.js";
import type { EmulatorConfig } from "./types.js";

/**
 * Checks the shape of an emulator configuration. References between tenants,
 * applications and grants are checked when the emulator loads it
 * (`startEmulator` and {@link loadEmulatorConfig} both do).
 */
export function validateEmulatorConfigShape(value: unknown): EmulatorConfig {
  const raw = expectObject(value, "", ["tenants", "applications", "grants", "managedIdentities", "faults", "loopDetection"]);
  const config: EmulatorConfig = {
    tenants: expectArray(raw.tenants, "tenants").map((tenant, index) => validateTenant(tenant, `tenants[${index}]`)),
    applications: expectArray(raw.applications, "applications").map((app, index) => validateApplication(app, `applications[${index}]`)),
  };
  if (raw.managedIdentities !== undefined) config.managedIdentities = validateManagedIdentities(raw.managedIdentities, config);
  if (raw.grants !== undefined) {
    config.grants = expectArray(raw.grants, "grants").map((grant, index) => validateGrant(grant, `grants[${index}]`));
  }
  if (raw.faults !== undefined) {
    config.faults = expectArray(raw.faults, "faults").map((rule, index) => validateFaultRule(rule, `faults[${index}]`));
  }
  if (raw.loopDetection !== undefined) config.loopDetection = validateLoopDetection(raw.loopDetection);
  return config;
}

/**
 * Reads and validates an emulator configuration file (JSON). Errors are
 * {@link EmulatorConfigError}s naming the file, the field and the fix.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator({ config: await loadEmulatorConfig("./emulator.json") });
 * ```
 */
export async function loadEmulatorConfig(path: string): Promise<EmulatorConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new EmulatorConfigError(path, `cannot read the emulator config file (${(error as NodeJS.ErrnoException).code ?? "error"}); check the path.`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new EmulatorConfigError(path, `is not valid JSON (${(error as Error).message}); fix the syntax.`, { cause: error });
  }
  try {
    const config = validateEmulatorConfigShape(json);
    // Building the directory checks the references (tenants, grants, roles).
    new Directory(withManagedIdentityPrincipals(config));
    return config;
  } catch (error) {
    if (error instanceof EmulatorConfigError) {
      throw new EmulatorConfigError(`${path}: ${error.field}`, error.message.slice(error.field.length + 2), { cause: error });
    }
    throw error;
  }
}
