/** A PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, …) and its full text, armour included. */
export interface PemBlock {
  readonly label: string;
  readonly text: string;
}

// Encapsulated headers (Proc-Type, DEK-Info of legacy encrypted keys) stay inside `text`:
// OpenSSL needs them to decrypt.
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** The PEM blocks of `text`, in file order. Text outside blocks (bag attributes, comments) is ignored. */
export function pemBlocks(text: string): PemBlock[] {
  return Array.from(text.matchAll(PEM_BLOCK), (match) => ({ label: match[1] ?? "", text: match[0] }));
}

/** True when `data` looks like PEM rather than DER. */
export function looksLikePem(data: Uint8Array): boolean {
  return Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, 64 * 1024)).includes("-----BEGIN ");
}
