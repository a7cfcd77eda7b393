/**
 * The XML-signature algorithms of OpenADR 2.0b (R514, §10.6.3; rules digest 9.6) and their
 * implementations for xml-crypto, which has RSA but no ECDSA.
 *
 * XML-DSig ECDSA signature values are the raw concatenation r‖s of two fixed-width integers
 * (RFC 4050 / XML Signature 1.1 §6.4.3), not the DER `Ecdsa-Sig-Value` OpenSSL writes by default:
 * Node's `dsaEncoding: 'ieee-p1363'` produces and reads exactly that form.
 *
 * Each algorithm checks the key type too, so an EC key can never verify an `rsa-sha256` signature
 * (or the reverse): the SignatureMethod names the key type, not just the hash.
 */
import { createPrivateKey, createPublicKey, sign, verify, type BinaryLike, type KeyLike, type KeyObject } from 'node:crypto';

export const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
export const C14N_WITH_COMMENTS = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const EXC_C14N_WITH_COMMENTS = 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments';
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
export const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
export const ECDSA_SHA1 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1';

export const DIGEST_SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const DIGEST_SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';

/** The SignedInfo canonicalisation methods R514 allows. */
export const CANONICALIZATION_METHODS: ReadonlySet<string> = new Set([C14N, C14N_WITH_COMMENTS]);
/**
 * Reference transforms we accept from peers: the two inclusive c14n (R514), the exclusive ones some
 * libraries write by habit (harmless: they only narrow the namespaces rendered), and the enveloped
 * transform of the URI="" form (rules digest 10). Never XPath or XSLT.
 */
export const REFERENCE_TRANSFORMS: ReadonlySet<string> = new Set([C14N, C14N_WITH_COMMENTS, EXC_C14N, EXC_C14N_WITH_COMMENTS, ENVELOPED_SIGNATURE]);

interface AlgorithmSpec {
  readonly hash: 'sha256' | 'sha1';
  readonly keyType: 'rsa' | 'ec';
  /** SHA-1 variants: accepted only when the verifier is told to (rules digest 10). */
  readonly legacy: boolean;
}

export const SIGNATURE_METHODS: ReadonlyMap<string, AlgorithmSpec> = new Map([
  [RSA_SHA256, { hash: 'sha256', keyType: 'rsa', legacy: false }],
  [ECDSA_SHA256, { hash: 'sha256', keyType: 'ec', legacy: false }],
  [RSA_SHA1, { hash: 'sha1', keyType: 'rsa', legacy: true }],
  [ECDSA_SHA1, { hash: 'sha1', keyType: 'ec', legacy: true }],
]);

export const DIGEST_METHODS: ReadonlyMap<string, { readonly legacy: boolean }> = new Map([
  [DIGEST_SHA256, { legacy: false }],
  [DIGEST_SHA1, { legacy: true }],
]);

/** The SignatureMethod we emit for a key: ecdsa-sha256 for EC keys, rsa-sha256 for RSA (R514: match the TLS key type). */
export function signatureMethodFor(key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  return type === 'rsa' ? RSA_SHA256 : type === 'ec' ? ECDSA_SHA256 : undefined;
}

type Callback<T> = (err: Error | null, result?: T) => void;

/** A public-key signature algorithm in the shape xml-crypto's `SignatureAlgorithms` registry instantiates. */
export interface XmlSignatureAlgorithm {
  getSignature(signedInfo: BinaryLike, privateKey: KeyLike, callback?: Callback<string>): string;
  verifySignature(material: string, key: KeyLike, signatureValue: string, callback?: Callback<boolean>): boolean;
  getAlgorithmName(): string;
}

function asPrivateKey(key: KeyLike): KeyObject {
  return typeof key === 'object' && 'asymmetricKeyType' in key ? key : createPrivateKey(key as string | Buffer);
}

function asPublicKey(key: KeyLike): KeyObject {
  // A certificate PEM, an SPKI PEM, or a key object (a private key object yields its public half).
  return createPublicKey(key as string | Buffer | KeyObject);
}

/** The xml-crypto class for one of SIGNATURE_METHODS. */
export function algorithmClass(uri: string): new () => XmlSignatureAlgorithm {
  const spec = SIGNATURE_METHODS.get(uri);
  if (spec === undefined) throw new Error(`internal: no signature algorithm ${uri}`);
  const dsaEncoding = spec.keyType === 'ec' ? 'ieee-p1363' : undefined;
  return class implements XmlSignatureAlgorithm {
    getSignature(signedInfo: BinaryLike, privateKey: KeyLike, callback?: Callback<string>): string {
      const key = asPrivateKey(privateKey);
      if (key.asymmetricKeyType !== spec.keyType) throw new Error(`${uri} needs an ${spec.keyType.toUpperCase()} key, got ${key.asymmetricKeyType ?? 'a symmetric key'}`);
      const data = typeof signedInfo === 'string' ? Buffer.from(signedInfo, 'utf8') : signedInfo;
      const value = sign(spec.hash, data as NodeJS.ArrayBufferView, dsaEncoding === undefined ? key : { key, dsaEncoding }).toString('base64');
      callback?.(null, value);
      return value;
    }
    verifySignature(material: string, key: KeyLike, signatureValue: string, callback?: Callback<boolean>): boolean {
      let ok = false;
      try {
        const pub = asPublicKey(key);
        if (pub.asymmetricKeyType === spec.keyType) {
          const sig = Buffer.from(signatureValue.replace(/\s+/g, ''), 'base64');
          ok = verify(spec.hash, Buffer.from(material, 'utf8'), dsaEncoding === undefined ? pub : { key: pub, dsaEncoding }, sig);
        }
      } catch {
        ok = false; // a malformed value or key is a signature that does not verify
      }
      callback?.(null, ok);
      return ok;
    }
    getAlgorithmName(): string {
      return uri;
    }
  };
}

/** xml-crypto's registry restricted to the OpenADR methods (no HMAC, no RSA-PSS, no SHA-512). */
export function signatureAlgorithmRegistry(allowSha1: boolean): Record<string, new () => XmlSignatureAlgorithm> {
  const out: Record<string, new () => XmlSignatureAlgorithm> = {};
  for (const [uri, spec] of SIGNATURE_METHODS) {
    if (!spec.legacy || allowSha1) out[uri] = algorithmClass(uri);
  }
  return out;
}
