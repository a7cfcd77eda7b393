/**
 * The membership service of the embedded channel: which MSP ids exist, which root certificates each
 * trusts, and what a peer checks of an identity before it believes a signature (Fabric's bccsp/msp):
 * the certificate was issued by one of the MSP's roots and is within its validity period, its NodeOU
 * (`OU=peer`, `client`, `admin`, `orderer`) gives its roles, and an ECDSA signature must be DER with a
 * low S. Identities are parsed once and cached by their serialized bytes; signature checks run on
 * libuv's thread pool (`crypto.verify` with a callback), so they overlap with contract execution.
 */
import { createPublicKey, verify as verifyAsync, X509Certificate, type KeyObject } from 'node:crypto';
import type { Role, Signer } from './policy.ts';
import { decodeIdentity, type DecodedIdentity } from '../fabric/fabric-messages.ts';

export interface MspDefinition {
  readonly mspId: string;
  /** PEM certificates of the CAs whose certificates this MSP accepts. */
  readonly rootCertificates: readonly string[];
}

export interface ValidIdentity extends Signer {
  readonly certificatePem: string;
  readonly publicKey: KeyObject;
}

export type IdentityCheck = { readonly ok: true; readonly identity: ValidIdentity } | { readonly ok: false; readonly reason: string };

export interface Msps {
  readonly mspIds: readonly string[];
  /** Validates a serialized identity (cached). */
  check(identityBytes: Uint8Array): IdentityCheck;
  /** ECDSA-SHA256 DER low-S signature check on the thread pool. */
  verify(identity: ValidIdentity, data: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

const P256_HALF_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n / 2n;
const NODE_OUS: readonly Role[] = ['client', 'peer', 'admin', 'orderer'];
const CACHE_LIMIT = 10_000;

/** True when `sig` is a DER ECDSA signature whose S is at most n/2 (Fabric rejects high-S signatures). */
export function isLowS(sig: Uint8Array): boolean {
  // SEQUENCE { INTEGER r, INTEGER s }, short lengths for P-256.
  if (sig.length < 8 || sig[0] !== 0x30 || sig[2] !== 0x02) return false;
  const rLen = sig[3] as number;
  const sAt = 4 + rLen;
  if (sig[sAt] !== 0x02) return false;
  const sLen = sig[sAt + 1] as number;
  if (sAt + 2 + sLen !== sig.length) return false;
  const s = BigInt(`0x${Buffer.from(sig.subarray(sAt + 2)).toString('hex') || '0'}`);
  return s <= P256_HALF_N;
}

function rolesOf(cert: X509Certificate): Set<Role> {
  const roles = new Set<Role>(['member']);
  for (const line of cert.subject.split('\n')) {
    if (!line.startsWith('OU=')) continue;
    const ou = line.slice(3).toLowerCase();
    const role = NODE_OUS.find((r) => r === ou);
    if (role) roles.add(role);
  }
  return roles;
}

export function createMsps(definitions: readonly MspDefinition[], clock: () => Date = () => new Date()): Msps {
  const roots = new Map<string, X509Certificate[]>();
  for (const d of definitions) roots.set(d.mspId, d.rootCertificates.map((pem) => new X509Certificate(pem)));
  const cache = new Map<string, IdentityCheck>();

  function validate(id: DecodedIdentity): IdentityCheck {
    const trusted = roots.get(id.mspId);
    if (!trusted) return { ok: false, reason: `MSP ${id.mspId} is not a member of the channel (known: ${[...roots.keys()].join(', ')})` };
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(id.certificatePem);
    } catch {
      return { ok: false, reason: `the identity of MSP ${id.mspId} is not a PEM X.509 certificate` };
    }
    const issuer = trusted.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    if (!issuer) return { ok: false, reason: `certificate ${cert.subject.replace(/\n/g, ',')} was not issued by a root CA of ${id.mspId}` };
    const now = clock().getTime();
    if (now < cert.validFromDate.getTime() || now > cert.validToDate.getTime()) {
      return { ok: false, reason: `certificate ${cert.subject.replace(/\n/g, ',')} is outside its validity period` };
    }
    return {
      ok: true,
      identity: { mspId: id.mspId, certificatePem: id.certificatePem, publicKey: createPublicKey(id.certificatePem), roles: rolesOf(cert) },
    };
  }

  return {
    mspIds: [...roots.keys()],
    check(identityBytes) {
      const key = Buffer.from(identityBytes.buffer, identityBytes.byteOffset, identityBytes.byteLength).toString('latin1');
      let result = cache.get(key);
      if (!result) {
        try {
          result = validate(decodeIdentity(identityBytes));
        } catch {
          result = { ok: false, reason: 'the identity is not a serialized MSP identity' };
        }
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(key, result);
      }
      return result;
    },
    verify(identity, data, signature) {
      if (!isLowS(signature)) return Promise.resolve(false);
      return new Promise((resolve) => {
        verifyAsync('sha256', data, identity.publicKey, signature, (err, ok) => resolve(!err && ok));
      });
    },
  };
}
