/**
 * What the Gateway service checks of a caller before it acts on a signed request (SignedProposal for
 * qscc, Envelope at Submit, SignedCommitStatusRequest, SignedChaincodeEventsRequest): the serialized
 * identity belongs to an MSP of the channel, its certificate was issued by one of that MSP's root CAs
 * and is within its validity period, and the signature is ECDSA/SHA-256 over the request bytes, DER,
 * with a low S (Fabric's bccsp refuses high-S signatures). Checked identities are cached by their bytes.
 */
import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { decodeCreator } from './messages.ts';

export interface TrustedOrg {
  readonly mspId: string;
  readonly rootCertificates: readonly string[];
}

export type CallerCheck = { readonly ok: true; readonly mspId: string; readonly publicKey: KeyObject; /** The certificate's notAfter, ms since the epoch. */ readonly expiresAt: number } | { readonly ok: false; readonly reason: string };

export interface CallerVerifier {
  /** Checks `signature` over `data` by the serialized identity `creator`. */
  verify(creator: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<CallerCheck>;
}

const P256_HALF_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n / 2n;
const CACHE_LIMIT = 10_000;

/** True when `sig` is a DER `SEQUENCE { INTEGER r, INTEGER s }` with s ≤ n/2 (P-256). */
export function hasLowS(sig: Uint8Array): boolean {
  if (sig.length < 8 || sig[0] !== 0x30 || sig[1] !== sig.length - 2 || sig[2] !== 0x02) return false;
  const sAt = 4 + (sig[3] as number);
  if (sig[sAt] !== 0x02 || sAt + 2 + (sig[sAt + 1] as number) !== sig.length) return false;
  const s = BigInt(`0x${Buffer.from(sig.subarray(sAt + 2)).toString('hex') || '0'}`);
  return s > 0n && s <= P256_HALF_N;
}

export function createCallerVerifier(orgs: readonly TrustedOrg[], clock: () => Date = () => new Date()): CallerVerifier {
  const roots = new Map(orgs.map((o) => [o.mspId, o.rootCertificates.map((pem) => new X509Certificate(pem))]));
  const cache = new Map<string, { check: CallerCheck; notAfter: number; notBefore: number }>();

  function identityOf(creator: Uint8Array): CallerCheck {
    const key = Buffer.from(creator).toString('base64');
    const now = clock().getTime();
    const hit = cache.get(key);
    if (hit && (!hit.check.ok || (now >= hit.notBefore && now <= hit.notAfter))) return hit.check;
    let check: CallerCheck;
    let notBefore = 0;
    let notAfter = 0;
    try {
      const id = decodeCreator(creator);
      const trusted = roots.get(id.mspId);
      if (!trusted) {
        check = { ok: false, reason: `MSP '${id.mspId}' is not a member of the channel (members: ${[...roots.keys()].join(', ')})` };
      } else {
        const cert = new X509Certificate(id.certificatePem);
        const subject = cert.subject.replace(/\n/g, ',');
        notBefore = cert.validFromDate.getTime();
        notAfter = cert.validToDate.getTime();
        if (!trusted.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
          check = { ok: false, reason: `certificate ${subject} was not issued by a root CA of ${id.mspId}` };
        } else if (now < notBefore || now > notAfter) {
          check = { ok: false, reason: `certificate ${subject} is outside its validity period` };
        } else {
          check = { ok: true, mspId: id.mspId, publicKey: createPublicKey(id.certificatePem), expiresAt: notAfter };
        }
      }
    } catch {
      check = { ok: false, reason: 'the identity is not a serialized MSP identity with a PEM X.509 certificate' };
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, { check, notBefore, notAfter });
    return check;
  }

  return {
    async verify(creator, data, signature) {
      const check = identityOf(creator);
      if (!check.ok) return check;
      if (!hasLowS(signature)) return { ok: false, reason: 'the signature is not a DER ECDSA signature with a low S' };
      const valid = await new Promise<boolean>((resolve) => verify('sha256', data, check.publicKey, signature, (err, ok) => resolve(!err && ok)));
      return valid ? check : { ok: false, reason: `the signature does not verify against the certificate of the ${check.mspId} identity` };
    },
  };
}
