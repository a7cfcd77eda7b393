/**
 * Key pairs of the two OpenADR 2.0b profiles (§10.1, R68): RSA 2048 with SHA-256
 * (RSASSA-PKCS1-v1_5) and ECDSA P-256 with SHA-256, held as WebCrypto keys and written as PKCS#8
 * PEM. Fabric identities always use the `ecc` profile (the key type Fabric's MSP signs with).
 *
 * `pkiCrypto` is the WebCrypto provider the PKI hands to @peculiar/x509: Node's, except that ECDSA
 * P-256 signatures come out with a low S value, as Fabric's BCCSP signs (Fabric CA's certificates
 * and CRLs are low-S, and a Fabric MSP rewrites any high-S certificate signature it meets).
 */
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { CertsError } from './errors.ts';

export type CryptoKey = webcrypto.CryptoKey;

export const KEY_PROFILES = ['rsa', 'ecc'] as const;
/** `rsa`: RSA 2048 / SHA-256; `ecc`: ECDSA P-256 / SHA-256. */
export type KeyProfile = (typeof KEY_PROFILES)[number];

export interface KeyPair {
  readonly profile: KeyProfile;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

const RSA_IMPORT = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const RSA_GENERATE = { ...RSA_IMPORT, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
const ECC = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** The signature algorithm @peculiar/x509 signs with for a key of this profile. */
export function signingAlgorithm(profile: KeyProfile): { name: string; hash: string } {
  return profile === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', hash: 'SHA-256' };
}

export async function generateKeyPair(profile: KeyProfile): Promise<KeyPair> {
  const pair = (await webcrypto.subtle.generateKey(profile === 'rsa' ? RSA_GENERATE : ECC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  return { profile, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) of an extractable private key. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return toPem('PRIVATE KEY', der);
}

export function toPem(label: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Read a private key (PKCS#8, or the PKCS#1 / SEC1 forms OpenSSL writes) and return it with its
 * public half as WebCrypto keys. Only RSA (≥ 2048 bits) and ECDSA P-256 keys are accepted.
 */
export async function importPrivateKeyPem(pem: string | Uint8Array): Promise<KeyPair> {
  let keyObject;
  try {
    keyObject = createPrivateKey(typeof pem === 'string' ? pem : Buffer.from(pem));
  } catch (err) {
    throw new CertsError('INVALID_KEY', 'not a private key in PEM or DER form; give the key.pem / priv_sk file written by `certs init`', { cause: err });
  }
  const details = keyObject.asymmetricKeyDetails ?? {};
  let profile: KeyProfile;
  if (keyObject.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) profile = 'rsa';
  else if (keyObject.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') profile = 'ecc';
  else {
    throw new CertsError('INVALID_KEY', `unsupported key (${keyObject.asymmetricKeyType} ${JSON.stringify(details, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}); the PKI uses RSA 2048+ or ECDSA P-256 keys only`);
  }
  const algorithm = profile === 'rsa' ? RSA_IMPORT : ECC;
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', spki, algorithm, true, ['verify']);
  return { profile, privateKey, publicKey };
}

// Order n of P-256: a signature (r, s) is also valid as (r, n − s); Fabric accepts only s ≤ n/2.
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** Turn an ECDSA P-256 signature in IEEE P1363 form (r ‖ s, 64 bytes) into its low-S form. */
export function toLowS(signature: Uint8Array): Uint8Array {
  if (signature.length !== 64) return signature;
  const s = BigInt(`0x${Buffer.from(signature.subarray(32)).toString('hex')}`);
  if (s <= P256_N / 2n) return signature;
  const out = new Uint8Array(64);
  out.set(signature.subarray(0, 32), 0);
  out.set(Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex'), 32);
  return out;
}

const subtle = webcrypto.subtle;

async function signLowS(algorithm: webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams, key: CryptoKey, data: webcrypto.BufferSource): Promise<ArrayBuffer> {
  const raw = await subtle.sign(algorithm as never, key, data);
  const curve = (key.algorithm as { namedCurve?: string }).namedCurve;
  if (key.algorithm.name !== 'ECDSA' || curve !== 'P-256') return raw;
  const low = toLowS(new Uint8Array(raw));
  return low.buffer.slice(low.byteOffset, low.byteOffset + low.byteLength) as ArrayBuffer;
}

/** Node's WebCrypto with low-S ECDSA P-256 signatures; pass it to @peculiar/x509's generators. */
export const pkiCrypto = {
  getRandomValues: <T extends ArrayBufferView | null>(array: T): T => webcrypto.getRandomValues(array as never) as T,
  randomUUID: () => webcrypto.randomUUID(),
  subtle: new Proxy(subtle, {
    get(target, property) {
      if (property === 'sign') return signLowS;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }),
} as unknown as webcrypto.Crypto;
