// Versions of named vault objects (keys, certificates): names compare without
// case, as in Key Vault; versions are kept oldest first.

/** Named objects with versions. */
export class VaultVersions<T extends { readonly version: string }> {
  private readonly byName = new Map<string, T[]>();

  /** Adds `entry` as the newest version of `name`. */
  add(name: string, entry: T): T {
    const versions = this.byName.get(name.toLowerCase()) ?? [];
    versions.push(entry);
    this.byName.set(name.toLowerCase(), versions);
    return entry;
  }

  /** The version asked for, or the newest one (no or empty version); `undefined` when there is none. */
  find(name: string, version?: string): T | undefined {
    const versions = this.byName.get(name.toLowerCase());
    if (version === undefined || version === "") return versions?.at(-1);
    return versions?.find((entry) => entry.version === version.toLowerCase());
  }

  /** Every version of `name`, oldest first. */
  versions(name: string): readonly T[] {
    return this.byName.get(name.toLowerCase()) ?? [];
  }
}
