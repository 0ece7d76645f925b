// The certificate credential signing for the version of a certificate in use:
// kept while that version stays, replaced (and the old one disposed, dropping
// its reused assertions) when the vault hands out another version.
import type { CertificateCredential } from "@daemon-auth/credential-certificate";

/** A {@link CertificateCredential} per version of a vault object, the newest one kept. */
export class VersionedDelegate<V> {
  private active: { readonly version: V; readonly delegate: CertificateCredential } | undefined;

  constructor(
    private readonly same: (a: V, b: V) => boolean,
    private readonly build: (version: V) => CertificateCredential,
    /** Called after a new delegate replaced the previous one (e.g. to refresh a description). */
    private readonly onSwap: () => void,
  ) {}

  /** The delegate for `version`: the kept one, or a new one built for it. */
  for(version: V): CertificateCredential {
    if (this.active !== undefined && this.same(this.active.version, version)) return this.active.delegate;
    const delegate = this.build(version);
    const previous = this.active?.delegate;
    this.active = { version, delegate };
    if (previous !== undefined) void previous.dispose().catch(() => undefined);
    this.onSwap();
    return delegate;
  }

  /** The delegate in use, if any. */
  get current(): CertificateCredential | undefined {
    return this.active?.delegate;
  }

  /** Disposes the kept delegate. */
  async dispose(): Promise<void> {
    const previous = this.active?.delegate;
    this.active = undefined;
    await previous?.dispose();
  }
}
