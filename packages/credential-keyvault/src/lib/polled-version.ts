// One value read from the vault (a secret or a certificate version), kept and
// shared: concurrent first uses share one read; the vault is checked again at
// most every pollIntervalMs, on use (no timer, so nothing keeps the process
// alive), or after forget(). A failed poll keeps the value already read.
import type { Clock } from "@daemon-auth/core";

export interface PolledVersionOptions<T> {
  /** Reads the vault. */
  readonly fetch: () => Promise<T>;
  /** A pinned version is read once and never polled. */
  readonly pinned: boolean;
  readonly pollIntervalMs: number;
  readonly clock: Clock;
}

/** The latest version, shared by concurrent callers, re-checked on a schedule. */
export class PolledVersion<T> {
  private current: { readonly value: T; checkedAt: number } | undefined;
  private inflight: Promise<T> | undefined;
  // Bumped by forget(): a read that started before must not repopulate what the caller asked to drop.
  private generation = 0;

  constructor(private readonly options: PolledVersionOptions<T>) {}

  /** The value kept now, if any (for descriptions). */
  peek(): T | undefined {
    return this.current?.value;
  }

  /** The value to use now: the kept one, or a fresh read when none is kept or the poll is due. */
  async get(): Promise<T> {
    const current = this.current;
    if (current === undefined) return this.read();
    if (this.options.pinned) return current.value;
    if (this.options.clock.now() - current.checkedAt < this.options.pollIntervalMs) return current.value;
    try {
      return await this.read();
    } catch {
      // The kept version still works until the server says otherwise; a vault
      // outage must not break token acquisition. Wait a full interval to retry.
      current.checkedAt = this.options.clock.now();
      return current.value;
    }
  }

  /** Drops the kept value: the next get() reads the vault. */
  forget(): void {
    this.generation++;
    this.current = undefined;
    this.inflight = undefined;
  }

  private read(): Promise<T> {
    if (this.inflight !== undefined) return this.inflight;
    const started = this.generation;
    const reading = this.options.fetch().then((value) => {
      if (this.generation === started) this.current = { value, checkedAt: this.options.clock.now() };
      return value;
    });
    const settled = (): void => {
      if (this.inflight === reading) this.inflight = undefined;
    };
    reading.then(settled, settled);
    this.inflight = reading;
    return reading;
  }
}

/** `HTTP 403 Forbidden`: what an Azure SDK error says, never its request. */
export function reasonOf(error: unknown): string {
  if (typeof error !== "object" || error === null) return "unknown error";
  const { statusCode, code, name } = error as { statusCode?: unknown; code?: unknown; name?: unknown };
  const parts = [typeof statusCode === "number" ? `HTTP ${statusCode}` : undefined, typeof code === "string" ? code : undefined].filter((part) => part !== undefined);
  return parts.length > 0 ? parts.join(" ") : typeof name === "string" ? name : "unknown error";
}

/** Which vault object a source reads: for labels and messages, never its value. */
export interface VaultObjectReference {
  readonly kind: "secret" | "certificate";
  /** The vault URL, or a stand-in for a given client. */
  readonly vaultLabel: string;
  readonly name: string;
  /** A pinned version, or undefined to follow the latest. */
  readonly version: string | undefined;
  readonly pollIntervalMs: number;
  readonly clock: Clock;
}

/** A vault object (secret, certificate) read through {@link PolledVersion}; subclasses say how to read it. */
export abstract class VaultObjectSource<T extends { readonly version: string }> {
  private readonly polled: PolledVersion<T>;
  /** How many times the object was read from the vault. */
  reads = 0;

  constructor(protected readonly reference: VaultObjectReference) {
    const fetch = (): Promise<T> => {
      this.reads++;
      return this.fetch();
    };
    this.polled = new PolledVersion({ fetch, pinned: reference.version !== undefined, pollIntervalMs: reference.pollIntervalMs, clock: reference.clock });
  }

  /** `Key Vault <url>, secret "<name>" (version <v>)`: names the object, never its value. */
  get label(): string {
    const { vaultLabel, kind, name } = this.reference;
    return `Key Vault ${vaultLabel}, ${kind} "${name}"${this.versionSuffix(this.polled.peek()?.version ?? this.reference.version)}`;
  }

  /** The version to use now: the kept one, or a fresh read when none is kept or the poll is due. */
  get(): Promise<T> {
    return this.polled.get();
  }

  /** Drops the kept version: the next get() reads the vault. */
  forget(): void {
    this.polled.forget();
  }

  /** Reads the vault once. */
  protected abstract fetch(): Promise<T>;

  /** `secret "<name>" (version <v>) in Key Vault <url>`, for error messages. */
  protected describe(): string {
    const { vaultLabel, kind, name, version } = this.reference;
    return `${kind} "${name}"${this.versionSuffix(version)} in Key Vault ${vaultLabel}`;
  }

  private versionSuffix(version: string | undefined): string {
    return version === undefined ? "" : ` (version ${version})`;
  }
}
