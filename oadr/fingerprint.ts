/**
 * The OpenADR 2.0b certificate fingerprint (§10.5.1): SHA-256 of the DER certificate, last 10
 * bytes, as upper-case hex pairs joined by `:` (29 characters), e.g. `5E:71:FA:E4:61:75:9C:EF:A4:D6`.
 */
import { createHash, X509Certificate } from 'node:crypto';

/** Fingerprint of a certificate given as PEM text, DER bytes or an `X509Certificate`. */
export function certificateFingerprint(cert: string | Uint8Array | X509Certificate): string {
  const der = cert instanceof X509Certificate ? cert.raw : new X509Certificate(cert).raw;
  return formatFingerprint(createHash('sha256').update(der).digest().subarray(-10));
}

function formatFingerprint(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

/**
 * Normalise a fingerprint written by a person or another implementation: `:`, `-` and
 * whitespace dropped, upper-cased; a full SHA-256 (64 hex digits) keeps its last 20. Returns the
 * canonical colon-separated form, or `undefined` when it is not a fingerprint.
 */
export function normalizeFingerprint(input: string): string | undefined {
  const hex = input.replace(/[\s:-]/g, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex)) return undefined;
  const last = hex.length === 64 ? hex.slice(-20) : hex;
  if (last.length !== 20) return undefined;
  return last.match(/../g)?.join(':');
}

/** True when two fingerprints (in any of the accepted spellings) are the same. */
export function fingerprintsEqual(a: string, b: string): boolean {
  const x = normalizeFingerprint(a);
  return x !== undefined && x === normalizeFingerprint(b);
}
