/**
 * XML signatures on the VEN side (R514, §10.6; rules digest 9.6–9.7): the VEN signs every payload
 * it sends with its own certificate and key (the TLS client pair), and verifies every payload it
 * receives — poll answers and pushed payloads — with the TLS peer's certificate as the expected
 * signer, a timestamp window and a bounded replay cache. What is refused is never acted on.
 */
import { createNonceCache, DEFAULT_SIGNATURE_WINDOW_MS, signOadr, verifyOadr, type NonceCache, type SignatureForm, type VerifyResult } from '../oadr/index.ts';
import { VenError, VenErrorCode } from './errors.ts';

export interface VenSignatureOptions {
  /** The VEN's certificate (PEM; a chain after it is published too) and its private key (PEM). */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** Largest accepted |now − timestamp|, ms (default 5 minutes, as the VTN). */
  readonly windowMs?: number | undefined;
  /** Nonces remembered (default 10,000: one VTN talks to one VEN). */
  readonly nonceCacheEntries?: number | undefined;
  readonly clock?: (() => number) | undefined;
}

export interface VenSignature {
  /** Signs an unsigned oadrPayload as `encodeOadr` writes it; `unprefixed` over XMPP (signOadr's `form`). */
  sign(xml: string, form?: SignatureForm): string;
  /**
   * Verifies a received body. `peerCertificatePem`: the VTN's TLS certificate on that connection, or
   * over XMPP the certificate of the VTN's first accepted signature; undefined on plain HTTP
   * (loopback tests only) and for that first XMPP payload, where any valid signer is accepted.
   */
  verify(body: Uint8Array, peerCertificatePem: string | undefined): VerifyResult;
}

/** The `securityEvent` of a log line about a payload ignored for its signature (the VTN logs the same name). */
export const SIGNATURE_REFUSED_EVENT = 'XML_SIGNATURE_REFUSED';

/** Default replay-cache bound of a VEN. */
export const VEN_NONCE_CACHE_ENTRIES = 10_000;

export function createVenSignature(options: Readonly<VenSignatureOptions>): VenSignature {
  if (options.certificatePem === '' || options.privateKeyPem === '') {
    throw new VenError(VenErrorCode.INVALID_CONFIG, 'xmlSignature needs the VEN certificate and key (tls.cert and tls.key, or --cert and --key)');
  }
  const clock = options.clock ?? Date.now;
  const windowMs = options.windowMs ?? DEFAULT_SIGNATURE_WINDOW_MS;
  const nonces: NonceCache = createNonceCache({ maxEntries: options.nonceCacheEntries ?? VEN_NONCE_CACHE_ENTRIES });
  return {
    sign: (xml, form) => signOadr(xml, { certificatePem: options.certificatePem, privateKey: options.privateKeyPem, now: clock(), ...(form === undefined ? {} : { form }) }),
    verify: (body, peer) =>
      verifyOadr(body, {
        now: clock(),
        windowMs,
        seenNonce: (n, exp, at) => nonces.seenNonce(n, exp, at),
        ...(peer === undefined ? {} : { expectedCertificate: peer }),
      }),
  };
}

/** The leaf certificate of a TLS socket as PEM; undefined on plain sockets. */
export function peerCertificatePem(socket: unknown): string | undefined {
  const s = socket as { getPeerCertificate?: (detailed: boolean) => { raw?: Buffer } | undefined } | null;
  if (s === null || typeof s?.getPeerCertificate !== 'function') return undefined;
  const raw = s.getPeerCertificate(false)?.raw;
  if (raw === undefined || raw.length === 0) return undefined;
  const b64 = raw.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}
