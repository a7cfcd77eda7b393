/**
 * Verifying a signed oadrPayload (R514, §10.6.4; rules digest 9.7 and the rows of 10 on detached vs
 * enveloped forms, ReplayProtect coverage and algorithms). Pure: the clock and the replay cache
 * are arguments. Never throws for a peer's input; answers `{ ok: false, reason }` instead, and the
 * caller ignores the message (R514).
 *
 * Order of the checks: our strict parser first (no DTD, no entities; the DOM library never sees a
 * document it refused), then the structure (one Signature where the schema puts it, exactly one
 * oadrSignedObject, unique ids: no signature wrapping), the algorithms, what the References cover,
 * the certificate (the TLS peer's, within its validity), the timestamp window, then the
 * cryptography (xml-crypto, after a cross-check that its DOM is our tree), and the nonce last, so
 * that only authentic messages enter the replay cache.
 *
 * Accepted on input (rules digest 10): a Reference `#id` to oadrSignedObject with or without a
 * redundant enveloped-signature transform; `URI=""` with the enveloped transform (the whole
 * oadrPayload, which includes oadrSignedObject); exclusive as well as inclusive c14n transforms;
 * ReplayProtect not covered by any Reference (reported as `replayProtectSigned: false`, for the
 * caller to log as weak). SHA-1 variants only with `allowSha1`.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { CodecErrorCode, OadrCodecError } from './errors.ts';
import { NS } from './namespaces.ts';
import {
  CANONICALIZATION_METHODS,
  DIGEST_METHODS,
  ENVELOPED_SIGNATURE,
  EXC_C14N,
  EXC_C14N_WITH_COMMENTS,
  REFERENCE_TRANSFORMS,
  SIGNATURE_METHODS,
  signatureAlgorithmRegistry,
} from './signature-algorithms.ts';
import { domChildren, parseDom, sameTree } from './signature-dom.ts';
import { SignatureFailure, type SignatureFailureCode } from './errors.ts';
import { normalizeDateTime } from './scalars.ts';
import { parseXml, type ParseXmlOptions, type XmlElement } from './xml.ts';

export const DEFAULT_SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

export interface VerifyOptions extends ParseXmlOptions {
  /** The local time the timestamp is compared with. */
  readonly now: Date | number;
  /** Largest accepted |now − timestamp|; default 5 minutes (rules digest 9.7, CHOICE). */
  readonly windowMs?: number;
  /**
   * The replay cache: true when the nonce was seen (refuse), else remember it until `expiresAt`
   * (epoch ms). Called only for messages that passed every other check. See `createNonceCache`.
   */
  readonly seenNonce: (nonce: string, expiresAt: number, now: number) => boolean;
  /** The TLS peer's certificate (PEM, DER or X509Certificate): the signer must be the same certificate. */
  readonly expectedCertificate?: string | Uint8Array | X509Certificate;
  /** Accept rsa-sha1 / ecdsa-sha1 and SHA-1 digests (R514 allows them; §10.6.3 does not); default false. */
  readonly allowSha1?: boolean;
}

export interface VerifiedSignature {
  readonly ok: true;
  /** The signer's certificate (the first X509Certificate in KeyInfo), as PEM. */
  readonly certificatePem: string;
  /** `oadr:Id` of oadrSignedObject (absent in the URI="" form when the object has no id). */
  readonly signedObjectId: string | undefined;
  readonly signatureMethod: string;
  /** `dsp:timestamp`, normalised to `YYYY-MM-DDTHH:MM:SS.sssZ`. */
  readonly timestamp: string;
  readonly nonce: string;
  /** False when no Reference covers ReplayProtect: accepted, but the caller should log it as weak. */
  readonly replayProtectSigned: boolean;
}

export interface RefusedSignature {
  readonly ok: false;
  readonly reason: SignatureFailureCode;
  /** What was wrong, for the log (never sent to the peer). */
  readonly message: string;
}

export type VerifyResult = VerifiedSignature | RefusedSignature;

const ID_NAMES: ReadonlySet<string> = new Set(['Id', 'ID', 'id']);
/**
 * xml-crypto digests every Reference, each through its transforms, before it checks the signature
 * value: without these bounds a payload of many `URI=""` References would canonicalise the whole
 * document once per Reference for anybody, signed or not. An OpenADR signature has one or two
 * References (oadrSignedObject, ReplayProtect) of at most two transforms (enveloped, c14n).
 */
export const MAX_SIGNATURE_REFERENCES = 4;
export const MAX_REFERENCE_TRANSFORMS = 2;
/** Elements xml-crypto looks up by local name anywhere in the Signature or the document: there must be at most one of each. */
const SINGLETONS: ReadonlySet<string> = new Set(['Signature', 'SignedInfo', 'CanonicalizationMethod', 'SignatureMethod', 'SignatureValue', 'KeyInfo', 'ReplayProtect']);

class Refusal {
  readonly reason: SignatureFailureCode;
  readonly message: string;
  constructor(reason: SignatureFailureCode, message: string) {
    this.reason = reason;
    this.message = message;
  }
}

function refuse(reason: SignatureFailureCode, message: string): never {
  throw new Refusal(reason, message);
}

const isDs = (el: XmlElement | undefined, local: string): el is XmlElement => el !== undefined && el.uri === NS.ds && el.local === local;
const dsChildren = (el: XmlElement, local: string): XmlElement[] => el.children.filter((c) => isDs(c, local));
const attr = (el: XmlElement, local: string): string | undefined => el.attrs.find((a) => a.local === local && a.uri === '')?.value;

function one(parent: XmlElement, local: string): XmlElement {
  const found = dsChildren(parent, local);
  if (found.length !== 1) refuse(SignatureFailure.MALFORMED, `${parent.local} must hold exactly one ds:${local}, found ${found.length}`);
  return found[0] as XmlElement;
}

function algorithm(el: XmlElement): string {
  const a = attr(el, 'Algorithm');
  if (a === undefined) refuse(SignatureFailure.MALFORMED, `ds:${el.local} has no Algorithm attribute`);
  return a;
}

interface Scan {
  readonly parents: Map<XmlElement, XmlElement>;
  readonly ids: Map<string, XmlElement>;
  readonly signatures: XmlElement[];
  readonly signedObjects: XmlElement[];
  readonly duplicateId: string | undefined;
  readonly repeated: string | undefined;
}

function scan(root: XmlElement): Scan {
  const parents = new Map<XmlElement, XmlElement>();
  const ids = new Map<string, XmlElement>();
  const seen = new Set<string>();
  const signatures: XmlElement[] = [];
  const signedObjects: XmlElement[] = [];
  const counts = new Map<string, number>();
  let duplicateId: string | undefined;
  let repeated: string | undefined;
  const stack = [root];
  while (stack.length > 0) {
    const el = stack.pop() as XmlElement;
    if (isDs(el, 'Signature')) signatures.push(el);
    if (el.uri === NS.oadr && el.local === 'oadrSignedObject') signedObjects.push(el);
    if (SINGLETONS.has(el.local)) {
      const n = (counts.get(el.local) ?? 0) + 1;
      counts.set(el.local, n);
      if (n > 1) repeated ??= el.local;
    }
    for (const a of el.attrs) {
      if (!ID_NAMES.has(a.local)) continue;
      if (seen.has(a.value)) duplicateId ??= a.value;
      seen.add(a.value);
      // References resolve through `Id` (the name both XSDs use); ID and id only count for uniqueness.
      if (a.local === 'Id') ids.set(a.value, el);
    }
    for (const c of el.children) {
      parents.set(c, el);
      stack.push(c);
    }
  }
  return { parents, ids, signatures, signedObjects, duplicateId, repeated };
}

function isWithin(el: XmlElement, ancestor: XmlElement, parents: ReadonlyMap<XmlElement, XmlElement>): boolean {
  for (let e: XmlElement | undefined = el; e !== undefined; e = parents.get(e)) if (e === ancestor) return true;
  return false;
}

function sha256(der: Uint8Array): Buffer {
  return createHash('sha256').update(der).digest();
}

function expectedDer(cert: string | Uint8Array | X509Certificate): Buffer {
  return cert instanceof X509Certificate ? cert.raw : new X509Certificate(cert).raw;
}

const toMs = (t: Date | number): number => (t instanceof Date ? t.getTime() : t);

/** Verifies a signed oadrPayload; see the module comment for what is checked and in which order. */
export function verifyOadr(input: string | Uint8Array, options: Readonly<VerifyOptions>): VerifyResult {
  try {
    return check(input, options);
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, reason: err.reason, message: err.message };
    // Defensive: whatever else goes wrong with a peer's input is a refusal, never a crash.
    return { ok: false, reason: SignatureFailure.MALFORMED, message: `the signature could not be checked: ${(err as Error)?.message}` };
  }
}

function check(input: string | Uint8Array, options: Readonly<VerifyOptions>): VerifiedSignature {
  const now = toMs(options.now);
  const windowMs = options.windowMs ?? DEFAULT_SIGNATURE_WINDOW_MS;
  const allowSha1 = options.allowSha1 ?? false;

  // 1. Our strict parser first: a DTD, an entity, a malformed or oversized document goes no further.
  let text: string;
  let root: XmlElement;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
    // Line ends as every XML parser must see them (XML 1.0 §2.11), so that both parsers below agree.
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    root = parseXml(text, options);
  } catch (err) {
    const code = err instanceof OadrCodecError ? err.code : CodecErrorCode.MALFORMED_XML;
    refuse(SignatureFailure.MALFORMED, `not an acceptable XML document (${code}): ${(err as Error).message}`);
  }
  if (root.uri !== NS.oadr || root.local !== 'oadrPayload') {
    refuse(SignatureFailure.UNSIGNED, `the root is {${root.uri}}${root.local}, not oadrPayload: a bare payload cannot carry a signature`);
  }

  // 2. Structure: one Signature, THE oadrSignedObject, unique ids.
  const s = scan(root);
  if (s.signatures.length === 0) refuse(SignatureFailure.UNSIGNED, 'the payload has no ds:Signature');
  const signedObject = root.children[root.children.length - 1] as XmlElement;
  if (s.signedObjects.length !== 1) {
    refuse(SignatureFailure.NOT_COVERED, `the document holds ${s.signedObjects.length} oadrSignedObject elements; exactly one, the last child of oadrPayload, may be signed (signature wrapping)`);
  }
  if (s.duplicateId !== undefined) refuse(SignatureFailure.NOT_COVERED, `the id ${JSON.stringify(s.duplicateId)} is used more than once, so a Reference to it is ambiguous (signature wrapping)`);
  if (s.repeated !== undefined) refuse(SignatureFailure.MALFORMED, `the document holds more than one ${s.repeated} element`);
  const signature = root.children[0];
  if (root.children.length !== 2 || !isDs(signature, 'Signature') || signedObject !== s.signedObjects[0]) {
    refuse(SignatureFailure.MALFORMED, 'oadrPayload must hold ds:Signature, then oadrSignedObject, and nothing else (§10.6.3)');
  }

  // 3. The Signature's parts and its algorithms.
  const signedInfo = one(signature, 'SignedInfo');
  if (signature.children[0] !== signedInfo) refuse(SignatureFailure.MALFORMED, 'ds:SignedInfo must be the first child of ds:Signature');
  const c14n = algorithm(one(signedInfo, 'CanonicalizationMethod'));
  if (!CANONICALIZATION_METHODS.has(c14n)) refuse(SignatureFailure.UNSUPPORTED_ALGORITHM, `canonicalization ${c14n} is not allowed (R514: inclusive c14n)`);
  const signatureMethod = algorithm(one(signedInfo, 'SignatureMethod'));
  const methodSpec = SIGNATURE_METHODS.get(signatureMethod);
  if (methodSpec === undefined || (methodSpec.legacy && !allowSha1)) {
    refuse(SignatureFailure.UNSUPPORTED_ALGORITHM, `signature method ${signatureMethod} is not allowed (rsa-sha256 or ecdsa-sha256${allowSha1 ? ', or their SHA-1 variants' : ''})`);
  }
  const references = dsChildren(signedInfo, 'Reference');
  if (references.length === 0 || references.length + 2 !== signedInfo.children.length) {
    refuse(SignatureFailure.MALFORMED, 'ds:SignedInfo must hold CanonicalizationMethod, SignatureMethod and one or more References, nothing else');
  }
  if (references.length > MAX_SIGNATURE_REFERENCES) {
    refuse(SignatureFailure.MALFORMED, `ds:SignedInfo holds ${references.length} References; at most ${MAX_SIGNATURE_REFERENCES} are accepted`);
  }
  one(signature, 'SignatureValue');

  // The signer's certificate: the first X509Certificate of KeyInfo/X509Data.
  const keyInfo = one(signature, 'KeyInfo');
  const certText = dsChildren(keyInfo, 'X509Data').flatMap((d) => dsChildren(d, 'X509Certificate'))[0]?.text;
  if (certText === undefined) refuse(SignatureFailure.MALFORMED, 'ds:KeyInfo carries no X509Data/X509Certificate; OpenADR signatures carry the signer certificate (§10.6.3)');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(certText.replace(/\s+/g, ''), 'base64'));
  } catch {
    refuse(SignatureFailure.MALFORMED, 'the KeyInfo X509Certificate is not a DER certificate in base64');
  }

  // ReplayProtect: in Object/SignatureProperties/SignatureProperty (R514).
  let replayProtect: XmlElement | undefined;
  for (const obj of dsChildren(signature, 'Object')) {
    for (const props of dsChildren(obj, 'SignatureProperties')) {
      for (const prop of dsChildren(props, 'SignatureProperty')) {
        for (const c of prop.children) if (c.uri === NS.dsp && c.local === 'ReplayProtect') replayProtect = c;
      }
    }
  }
  if (replayProtect === undefined) refuse(SignatureFailure.MALFORMED, `no dsp:ReplayProtect (namespace ${NS.dsp}) in ds:Object/SignatureProperties/SignatureProperty (R514)`);
  const [tsEl, nonceEl] = replayProtect.children;
  if (tsEl?.uri !== NS.dsp || tsEl.local !== 'timestamp' || nonceEl?.uri !== NS.dsp || nonceEl.local !== 'nonce' || replayProtect.children.length !== 2) {
    refuse(SignatureFailure.MALFORMED, 'dsp:ReplayProtect must hold dsp:timestamp then dsp:nonce');
  }
  const timestamp = normalizeDateTime(tsEl.text.trim());
  if (typeof timestamp !== 'string') refuse(SignatureFailure.MALFORMED, `dsp:timestamp ${JSON.stringify(tsEl.text)} is not an xs:dateTime in UTC`);
  const nonce = nonceEl.text.trim();
  if (nonce === '') refuse(SignatureFailure.MALFORMED, 'dsp:nonce is empty');

  // 4. What the References cover.
  let covered = false;
  let replayProtectSigned = false;
  for (const ref of references) {
    const transforms = dsChildren(ref, 'Transforms').flatMap((t) => dsChildren(t, 'Transform'));
    if (transforms.length > MAX_REFERENCE_TRANSFORMS) {
      refuse(SignatureFailure.MALFORMED, `a Reference has ${transforms.length} transforms; at most ${MAX_REFERENCE_TRANSFORMS} (enveloped-signature and c14n) are accepted`);
    }
    const names = transforms.map(algorithm);
    for (const [i, name] of names.entries()) {
      if (!REFERENCE_TRANSFORMS.has(name)) refuse(SignatureFailure.UNSUPPORTED_ALGORITHM, `transform ${name} is not allowed (c14n and enveloped-signature only)`);
      const t = transforms[i] as XmlElement;
      const exclusive = name === EXC_C14N || name === EXC_C14N_WITH_COMMENTS;
      if (t.children.some((c) => !(exclusive && c.uri === name && c.local === 'InclusiveNamespaces'))) {
        refuse(SignatureFailure.UNSUPPORTED_ALGORITHM, `transform ${name} has parameters we do not accept`);
      }
    }
    const digest = algorithm(one(ref, 'DigestMethod'));
    const digestSpec = DIGEST_METHODS.get(digest);
    if (digestSpec === undefined || (digestSpec.legacy && !allowSha1)) refuse(SignatureFailure.UNSUPPORTED_ALGORITHM, `digest ${digest} is not allowed (SHA-256${allowSha1 ? ' or SHA-1' : ''})`);
    const uri = attr(ref, 'URI') ?? '';
    const enveloped = names.includes(ENVELOPED_SIGNATURE);
    let target: XmlElement | undefined;
    if (uri === '') target = enveloped ? root : undefined;
    else if (uri.startsWith('#') && !uri.includes("'") && !uri.startsWith('#xpointer(')) target = s.ids.get(uri.slice(1));
    else refuse(SignatureFailure.MALFORMED, `Reference URI ${JSON.stringify(uri)} is not a same-document reference (#id or "")`);
    if (target === undefined) continue; // digested as given; it covers nothing we rely on
    if (target === signedObject || target === root) covered = true;
    if (target !== signature && isWithin(replayProtect, target, s.parents) && isWithin(target, signature, s.parents)) replayProtectSigned = true;
  }
  if (!covered) refuse(SignatureFailure.NOT_COVERED, 'no Reference covers the oadrSignedObject of this payload');

  // 5. The certificate: the key type of the SignatureMethod, the TLS peer's, valid now.
  if (cert.publicKey.asymmetricKeyType !== methodSpec.keyType) {
    refuse(SignatureFailure.BAD_SIGNATURE, `${signatureMethod} needs an ${methodSpec.keyType.toUpperCase()} key, the certificate holds ${cert.publicKey.asymmetricKeyType}`);
  }
  if (options.expectedCertificate !== undefined && !sha256(cert.raw).equals(sha256(expectedDer(options.expectedCertificate)))) {
    refuse(SignatureFailure.CERT_MISMATCH, `the payload is signed with ${cert.subject.replace(/\n/g, ', ')}, not with the certificate of the TLS peer; sign with the TLS client certificate`);
  }
  if (now < cert.validFromDate.getTime() || now > cert.validToDate.getTime()) {
    refuse(SignatureFailure.CERT_EXPIRED, `the signing certificate is valid from ${cert.validFrom} to ${cert.validTo} (R516)`);
  }

  // 6. The timestamp window (§10.6.4 step 3).
  const ts = Date.parse(timestamp);
  if (Math.abs(now - ts) > windowMs) {
    refuse(SignatureFailure.STALE_TIMESTAMP, `dsp:timestamp ${timestamp} is ${Math.round((now - ts) / 1000)} s from our clock; the window is ±${windowMs / 1000} s`);
  }

  // 7. The cryptography, on a DOM that must be our tree.
  const doc = parseDom(text);
  const domRoot = doc?.documentElement;
  if (doc === undefined || domRoot == null || !sameTree(root, domRoot)) {
    refuse(SignatureFailure.MALFORMED, 'the DOM library reads this document differently from our parser; refused');
  }
  const domSignature = domChildren(domRoot)[0];
  const sx = new SignedXml({ publicCert: cert.toString() });
  // Resolve `#id` through `Id` only, as step 4 did (xml-crypto's XPath per id name is its slowest part).
  sx.idAttributes = ['Id'];
  sx.SignatureAlgorithms = signatureAlgorithmRegistry(allowSha1);
  if (!allowSha1) delete (sx.HashAlgorithms as Record<string, unknown>)['http://www.w3.org/2000/09/xmldsig#sha1'];
  delete (sx.HashAlgorithms as Record<string, unknown>)['http://www.w3.org/2001/04/xmlenc#sha512'];
  let valid: boolean;
  try {
    sx.loadSignature(domSignature as unknown as Parameters<SignedXml['loadSignature']>[0]);
    valid = sx.checkSignature(text);
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (message.startsWith('invalid signature: the signature value')) refuse(SignatureFailure.BAD_SIGNATURE, 'the SignatureValue does not verify with the KeyInfo certificate');
    refuse(SignatureFailure.MALFORMED, `the signature could not be checked: ${message}`);
  }
  if (!valid) {
    const bad = sx.getReferences().find((r) => r.validationError !== undefined);
    refuse(SignatureFailure.BAD_DIGEST, `a Reference does not match its content (${bad?.uri === '' ? 'URI=""' : bad?.uri ?? '?'}): the payload was altered`);
  }

  // 8. The nonce, last: only authentic messages enter the replay cache.
  if (options.seenNonce(nonce, ts + windowMs, now)) refuse(SignatureFailure.REPLAYED_NONCE, `nonce ${JSON.stringify(nonce.slice(0, 64))} was already used within the window`);

  const signedObjectId = signedObject.attrs.find((a) => a.local === 'Id' && (a.uri === NS.oadr || a.uri === ''))?.value;
  return { ok: true, certificatePem: cert.toString(), signedObjectId, signatureMethod, timestamp, nonce, replayProtectSigned };
}
