/**
 * Signing with a `LedgerIdentity`: its key (WebCrypto `CryptoKey` or PKCS#8 PEM) is turned into a
 * `KeyObject` once and cached, and every signature is ECDSA P-256 / SHA-256, DER, low S — what a Fabric
 * client or peer produces (chaincode/testing's `signFabric`).
 */
import { createPrivateKey, KeyObject } from 'node:crypto';
import { signFabric } from '../chaincode/testing/index.ts';
import type { LedgerIdentity } from './ledger.ts';

const fromCryptoKey = new WeakMap<object, KeyObject>();
const fromPem = new Map<string, KeyObject>();

export function keyObjectOf(identity: LedgerIdentity): KeyObject {
  const key = identity.privateKey;
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

export function signerOf(identity: LedgerIdentity): Sign {
  const key = keyObjectOf(identity);
  return async (data) => signFabric(key, data);
}
