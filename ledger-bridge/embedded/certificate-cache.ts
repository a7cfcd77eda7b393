/**
 * fabric-shim builds a `ClientIdentity` for every transaction, and that parses the creator's PEM
 * certificate with `@fidm/x509` (`Certificate.fromPEM`: base64, ASN.1, every extension) — about a tenth
 * of a transaction's CPU, for the same handful of certificates again and again. A peer's MSP caches its
 * deserialized identities; this does the same for the shim: `Certificate.fromPEM` is wrapped so that a
 * PEM text seen before returns the certificate parsed the first time.
 *
 * The shim only reads the parsed certificate (subject, issuer, extensions), so sharing one object is
 * safe. Bounded: the cache is emptied when it holds `CERTIFICATE_CACHE_LIMIT` certificates. Idempotent.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const CERTIFICATE_CACHE_LIMIT = 10_000;

interface CertificateClass {
  fromPEM(pem: Buffer | string): unknown;
}

const CACHED = Symbol.for('oadr-ledger.certificate-cache');

/** Makes fabric-shim's certificate parsing cached (see the module comment). Returns the cache size probe. */
export function cacheShimCertificates(): { readonly size: () => number } {
  // The very module instance fabric-shim required (fabric-shim's own dependency, hoisted or nested).
  const fidm = require(require.resolve('@fidm/x509', { paths: [require.resolve('fabric-shim')] })) as { Certificate: CertificateClass & { [CACHED]?: Map<string, unknown> } };
  const Certificate = fidm.Certificate;
  let cache = Certificate[CACHED];
  if (!cache) {
    const parsed = new Map<string, unknown>();
    cache = parsed;
    const original = Certificate.fromPEM.bind(Certificate);
    Certificate.fromPEM = (pem: Buffer | string) => {
      const text = typeof pem === 'string' ? pem : pem.toString('latin1');
      let cert = parsed.get(text);
      if (cert === undefined) {
        cert = original(pem);
        if (parsed.size >= CERTIFICATE_CACHE_LIMIT) parsed.clear();
        parsed.set(text, cert);
      }
      return cert;
    };
    Certificate[CACHED] = parsed;
  }
  const size = cache;
  return { size: () => size.size };
}
