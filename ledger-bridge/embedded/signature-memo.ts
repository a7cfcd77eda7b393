/**
 * A memo of the signatures this process made itself, so that the committer does not spend an ECDSA
 * verification (~65 µs of CPU) on a signature it watched being made a moment earlier.
 *
 * An entry is (certificate of the signing key, the exact signed bytes, the exact DER signature bytes),
 * recorded by the signer right after signing. `consume` answers true only for that certificate, the
 * same bytes (compared byte for byte) and those signature bytes, and forgets the entry. ECDSA
 * verification is deterministic, so for such a triple it would have answered true as well, provided the
 * private key belongs to the certificate: `keyMatchesCertificate` checks that once per identity
 * (one real sign + verify), and a signer whose key does not match records nothing.
 *
 * Where it is used: only for envelopes the ledger assembled in-process (`submit`, on its thread or an
 * endorsement worker), for the creator's envelope signature and the endorsements. Envelopes that come
 * from outside (the Gateway service's Submit, `submitEnvelope`) and every proposal or request a
 * Gateway client signed are verified with ECDSA as before. What is given up: an independent check of
 * our own signer's output. If the signing path produced a signature that does not verify (a bug in the
 * low-S rewrite, a key that is not the certificate's — the latter is probed once per identity), the
 * memo would let it into a block, where a Fabric peer or `ledger verify` (which re-checks every
 * signature on disk with ECDSA) would reject it. Outcomes the committer decides are otherwise the same:
 * a memo hit implies the ECDSA check would have passed, and a miss falls back to that check.
 *
 * Bounded: at most `limit` entries (oldest dropped first); a dropped entry only means a real
 * verification. Entries made for transactions that never reach a block (evaluations, refusals) age out.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { isLowS } from './msp.ts';

export interface SignatureRecord {
  /** PEM of the certificate whose private key made the signature. */
  readonly certificatePem: string;
  /** The signed bytes, in the parts they were handed to the signer (their concatenation was signed). */
  readonly parts: readonly Uint8Array[];
  /** The DER signature, exactly as it travels. */
  readonly signature: Uint8Array;
}

/** Where a signer reports what it signed (the memo itself, or a list a worker ships to the ledger thread). */
export type RecordSignature = (record: SignatureRecord) => void;

export interface SignatureMemo {
  readonly add: RecordSignature;
  /**
   * True when this process signed exactly `parts` (concatenated) with the key of `certificatePem` and
   * produced exactly `signature`; the entry is then forgotten. False means: verify it for real.
   */
  consume(certificatePem: string, parts: readonly Uint8Array[], signature: Uint8Array): boolean;
  readonly size: number;
}

export interface SignatureMemoOptions {
  /** Most entries kept (default 65,536: more than 10 s of signatures at 5,000 tx/s, 2 per tx). */
  readonly limit?: number;
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Whether two lists of parts have the same concatenation (a memcmp per part when they split alike). */
export function sameBytes(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  if (a.length === b.length && a.every((p, i) => p.byteLength === (b[i] as Uint8Array).byteLength)) {
    return a.every((p, i) => asBuffer(p).equals(b[i] as Uint8Array));
  }
  return Buffer.concat(a).equals(Buffer.concat(b));
}

const memoKey = (signature: Uint8Array): string => Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('latin1');

export function createSignatureMemo(options: Readonly<SignatureMemoOptions> = {}): SignatureMemo {
  const limit = options.limit ?? 65_536;
  const entries = new Map<string, SignatureRecord>();
  return {
    add(record) {
      if (limit <= 0) return;
      if (entries.size >= limit) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(memoKey(record.signature), record);
    },
    consume(certificatePem, parts, signature) {
      const key = memoKey(signature);
      const entry = entries.get(key);
      if (!entry || entry.certificatePem !== certificatePem || !isLowS(signature)) return false;
      if (!sameBytes(parts, entry.parts)) return false;
      entries.delete(key);
      return true;
    },
    get size() {
      return entries.size;
    },
  };
}

const matches = new WeakMap<KeyObject, Map<string, boolean>>();

/** Whether `key` is the private key of the certificate (one real signature and verification, cached). */
export function keyMatchesCertificate(key: KeyObject, certificatePem: string): boolean {
  let byCert = matches.get(key);
  if (!byCert) matches.set(key, (byCert = new Map()));
  let ok = byCert.get(certificatePem);
  if (ok === undefined) {
    const probe = Buffer.from('oadr-ledger signature memo probe', 'utf8');
    try {
      ok = verify('sha256', probe, createPublicKey(certificatePem), sign('sha256', probe, key));
    } catch {
      ok = false;
    }
    byCert.set(certificatePem, ok);
  }
  return ok;
}
