/**
 * Signing with a `LedgerIdentity`: its key (WebCrypto `CryptoKey`, PKCS#8 PEM or a `KeyObject`) is
 * turned into a `KeyObject` once and cached, and every signature is ECDSA P-256 / SHA-256, DER, low S —
 * what a Fabric client or peer produces, done on bytes (about 40 µs of CPU a signature, nearly all of it OpenSSL's).
 */
import { createPrivateKey, KeyObject, sign as nodeSign } from 'node:crypto';
import type { LedgerIdentity } from '../ledger.ts';

const fromCryptoKey = new WeakMap<object, KeyObject>();
const fromPem = new Map<string, KeyObject>();

export type SigningKey = LedgerIdentity['privateKey'] | KeyObject;

export function keyObjectOf(identity: { readonly privateKey: SigningKey }): KeyObject {
  const key = identity.privateKey;
  if (key instanceof KeyObject) return key;
  if (typeof key === 'string') {
    let k = fromPem.get(key);
    if (!k) fromPem.set(key, (k = createPrivateKey(key)));
    return k;
  }
  let k = fromCryptoKey.get(key);
  if (!k) fromCryptoKey.set(key, (k = KeyObject.from(key)));
  return k;
}

export type Sign = (data: Uint8Array) => Promise<Uint8Array>;

/** The P-256 group order n, big-endian. */
const P256_N = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
const P256_HALF_N = Buffer.from('7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8', 'hex');

/** n − s for a 32-byte big-endian s < n. */
function negate(s: Uint8Array): Buffer {
  const out = Buffer.alloc(32);
  let borrow = 0;
  for (let i = 31; i >= 0; i--) {
    let d = (P256_N[i] as number) - (s[i] as number) - borrow;
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += 256;
    out[i] = d;
  }
  return out;
}

/** DER INTEGER of a big-endian unsigned 32-byte value: leading zeros stripped, 0x00 added for a high bit. */
function derInteger(v: Uint8Array): Buffer {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const pad = ((v[i] as number) & 0x80) !== 0 ? 1 : 0;
  const len = v.length - i + pad;
  const out = Buffer.alloc(2 + len);
  out[0] = 0x02;
  out[1] = len;
  out.set(v.subarray(i), 2 + pad);
  return out;
}

/** A 32-byte big-endian copy of a DER INTEGER's content (which may carry a leading 0x00 or be shorter). */
function fixed32(v: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  const body = v.length > 32 ? v.subarray(v.length - 32) : v;
  out.set(body, 32 - body.length);
  return out;
}

/**
 * ECDSA P-256 / SHA-256 over `data`, DER-encoded, S normalised to the lower half (Fabric's rule).
 * OpenSSL is asked for DER directly (its IEEE P1363 output costs about 15 µs more a signature); the DER
 * is only rebuilt when S must be replaced by n − S.
 */
export function signLowS(key: KeyObject, data: Uint8Array): Buffer {
  // The KeyObject alone (DER is the default encoding): an options object `{ key, dsaEncoding }` sends
  // node:crypto through its key-option parsing, about 12 µs more CPU a signature (measured).
  return lowS(nodeSign('sha256', data, key));
}

/** A DER ECDSA P-256 signature with S replaced by n − S when S is in the upper half. */
function lowS(der: Buffer): Buffer {
  // SEQUENCE { INTEGER r, INTEGER s }: short-form lengths for P-256.
  const rLen = der[3] as number;
  const sAt = 4 + rLen;
  const sLen = der[sAt + 1] as number;
  const s = fixed32(der.subarray(sAt + 2, sAt + 2 + sLen));
  if (Buffer.compare(s, P256_HALF_N) <= 0) return der;
  const ri = derInteger(fixed32(der.subarray(4, 4 + rLen)));
  const si = derInteger(negate(s));
  const out = Buffer.alloc(2 + ri.length + si.length);
  out[0] = 0x30;
  out[1] = ri.length + si.length;
  out.set(ri, 2);
  out.set(si, 2 + ri.length);
  return out;
}

/**
 * A signer for the identity. It signs on the calling thread: handing signatures to libuv's thread pool
 * (`crypto.sign` with a callback) was measured to cost 15–20 % more CPU per transaction on 2 cores.
 */
export function signerOf(identity: { readonly privateKey: SigningKey }): Sign {
  const key = keyObjectOf(identity);
  return async (data) => signLowS(key, data);
}
