/**
 * Signing an oadrPayload (R514, §10.6.3; rules digest 9.6). Pure apart from the default nonce: the
 * clock is an argument and the nonce can be.
 *
 * The form we emit (rules digest 10, "detached vs enveloped"): `ds:Signature` as the first child of
 * `oadrPayload`, a Reference `#<oadr:Id>` to `oadrSignedObject` (inclusive c14n, SHA-256, no
 * enveloped transform), a second Reference to the `ds:SignatureProperty` holding
 * `dsp:ReplayProtect` (timestamp = send time, random nonce), SignatureMethod rsa-sha256 or
 * ecdsa-sha256 after the key, and the signer's certificate in `KeyInfo/X509Data`.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { NS } from './namespaces.ts';
import { C14N, DIGEST_SHA256, signatureAlgorithmRegistry, signatureMethodFor } from './signature-algorithms.ts';
import { OadrSignatureError, SignatureErrorCode } from './errors.ts';
import { escapeXmlAttr, escapeXmlText, parseXml, type XmlElement } from './xml.ts';
import { unprefixedXml } from './xml-unprefixed.ts';

export interface SignOptions {
  /** The signer's certificate (PEM; further certificates after it, its chain, are published too). */
  readonly certificatePem: string;
  /** The certificate's private key: PEM (PKCS#8, PKCS#1 or SEC1) or a KeyObject. RSA or EC. */
  readonly privateKey: string | KeyObject;
  /** The send time written as `dsp:timestamp`. */
  readonly now: Date | number;
  /** The `dsp:nonce`; default 16 random bytes as hex. */
  readonly nonce?: string;
  /**
   * `prefixed` (default): as above, for HTTP. `unprefixed`: the whole signed document in the form
   * XMPP servers forward unchanged (xml-unprefixed.ts): no element prefixes, the Signature in the
   * default namespace, namespaced attributes under `ns1`. Verified the same way.
   */
  readonly form?: SignatureForm;
}

export type SignatureForm = 'prefixed' | 'unprefixed';

const ID_NAMES: ReadonlySet<string> = new Set(['Id', 'ID', 'id']);

function fail(code: (typeof SignatureErrorCode)[keyof typeof SignatureErrorCode], message: string, cause?: unknown): never {
  throw new OadrSignatureError(code, message, cause === undefined ? undefined : { cause });
}

/** Every Id / ID / id attribute value in the document. */
function collectIds(root: XmlElement): Set<string> {
  const ids = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    const el = stack.pop() as XmlElement;
    for (const a of el.attrs) if (ID_NAMES.has(a.local)) ids.add(a.value);
    for (const c of el.children) stack.push(c);
  }
  return ids;
}

function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/**
 * Signs `xml` (an oadrPayload as `encodeOadr` writes it, not yet signed) and returns the signed
 * document. Throws `OadrSignatureError` when the document or the key cannot be used.
 */
export function signOadr(input: string, options: Readonly<SignOptions>): string {
  const unprefixed = options.form === 'unprefixed';
  let root: XmlElement;
  let xml = input;
  try {
    if (unprefixed) xml = unprefixedXml(input);
    root = parseXml(xml);
  } catch (err) {
    fail(SignatureErrorCode.INVALID_DOCUMENT, `the document to sign is not well-formed XML: ${(err as Error).message}`, err);
  }
  const signed = root.children[0];
  if (root.uri !== NS.oadr || root.local !== 'oadrPayload' || root.children.length !== 1 || signed === undefined || signed.uri !== NS.oadr || signed.local !== 'oadrSignedObject') {
    fail(SignatureErrorCode.INVALID_DOCUMENT, 'signOadr needs an unsigned oadrPayload holding only oadrSignedObject, as encodeOadr writes it; sign before adding anything else, and sign once');
  }

  let key: KeyObject;
  try {
    key = typeof options.privateKey === 'string' ? createPrivateKey(options.privateKey) : options.privateKey;
  } catch (err) {
    fail(SignatureErrorCode.INVALID_KEY, 'the private key could not be read; give a PEM private key (PKCS#8, PKCS#1 or SEC1) or a KeyObject', err);
  }
  if (key.type !== 'private') fail(SignatureErrorCode.INVALID_KEY, `a private key is needed to sign, got a ${key.type} key`);
  const method = signatureMethodFor(key);
  if (method === undefined) fail(SignatureErrorCode.INVALID_KEY, `OpenADR signs with RSA or ECDSA keys (R514), got ${key.asymmetricKeyType}`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(options.certificatePem);
  } catch (err) {
    fail(SignatureErrorCode.INVALID_KEY, 'the signing certificate could not be read; give it as PEM', err);
  }
  if (!spkiDer(cert.publicKey).equals(spkiDer(createPublicKey(key)))) {
    fail(SignatureErrorCode.INVALID_KEY, `the private key does not belong to the certificate ${cert.subject.replace(/\n/g, ', ')}; pass the key issued with that certificate`);
  }

  const time = new Date(options.now);
  if (Number.isNaN(time.getTime())) fail(SignatureErrorCode.INVALID_OPTIONS, `now is not a valid time: ${String(options.now)}`);
  const timestamp = time.toISOString();
  const nonce = options.nonce ?? randomBytes(16).toString('hex');
  if (nonce.trim() === '' || /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(nonce)) {
    fail(SignatureErrorCode.INVALID_OPTIONS, 'the nonce must be a non-empty string of XML characters');
  }

  // Ids: the signed object keeps its own; ours are derived from the nonce and time, so unique per message.
  const tag = createHash('sha256').update(`${nonce}\n${timestamp}`).digest('hex').slice(0, 16);
  const ids = collectIds(root);
  const existingId = signed.attrs.find((a) => a.local === 'Id' && (a.uri === NS.oadr || a.uri === ''))?.value;
  const objectId = existingId ?? `oadr-obj-${tag}`;
  const signatureId = `oadr-sig-${tag}`;
  const propertyId = `oadr-replay-${tag}`;
  for (const id of existingId === undefined ? [objectId, signatureId, propertyId] : [signatureId, propertyId]) {
    if (ids.has(id)) fail(SignatureErrorCode.INVALID_DOCUMENT, `the document already uses the id ${id}; ids must be unique in a signed document`);
  }

  let source = xml;
  if (existingId === undefined) {
    // oadr:Id (the XSD qualifies it, attributeFormDefault="qualified"), with the element's own prefix.
    const at = signed.offset + 1 + signed.qname.length;
    if (xml.slice(signed.offset, at) !== `<${signed.qname}`) fail(SignatureErrorCode.INVALID_DOCUMENT, 'internal: oadrSignedObject was not found where the parser put it');
    const colon = signed.qname.indexOf(':');
    const qualified = signed.attrs.filter((a) => a.uri !== '').length;
    const attr = unprefixed
      ? ` xmlns:ns${qualified + 1}="${NS.oadr}" ns${qualified + 1}:Id="${escapeXmlAttr(objectId)}"`
      : colon > 0 ? ` ${signed.qname.slice(0, colon)}:Id="${escapeXmlAttr(objectId)}"` : ` xmlns:oadrid="${NS.oadr}" oadrid:Id="${escapeXmlAttr(objectId)}"`;
    source = xml.slice(0, at) + attr + xml.slice(at);
  }

  const ds = unprefixed ? '' : 'ds:';
  const dsp = unprefixed ? '' : 'dsp:';
  const replayProtect =
    `<${ds}SignatureProperties><${ds}SignatureProperty Id="${propertyId}" Target="#${signatureId}">` +
    `<${dsp}ReplayProtect xmlns${unprefixed ? '' : ':dsp'}="${NS.dsp}"><${dsp}timestamp>${timestamp}</${dsp}timestamp><${dsp}nonce>${escapeXmlText(nonce)}</${dsp}nonce></${dsp}ReplayProtect>` +
    `</${ds}SignatureProperty></${ds}SignatureProperties>`;
  const sig = new SignedXml({
    privateKey: key,
    publicCert: options.certificatePem,
    signatureAlgorithm: method,
    canonicalizationAlgorithm: C14N,
    objects: [{ content: replayProtect }],
  });
  sig.SignatureAlgorithms = signatureAlgorithmRegistry(false);
  sig.addReference({
    xpath: `/*/*[local-name()='oadrSignedObject' and namespace-uri()='${NS.oadr}']`,
    transforms: [C14N],
    digestAlgorithm: DIGEST_SHA256,
  });
  // Matches nothing in the document yet: xml-crypto then looks inside the Signature it inserts.
  sig.addReference({
    xpath: `//*[local-name()='SignatureProperty' and @Id='${propertyId}']`,
    transforms: [C14N],
    digestAlgorithm: DIGEST_SHA256,
  });
  try {
    sig.computeSignature(source, { prefix: unprefixed ? '' : 'ds', attrs: { Id: signatureId }, location: { reference: '/*', action: 'prepend' } });
  } catch (err) {
    fail(SignatureErrorCode.INVALID_DOCUMENT, `the payload could not be signed: ${(err as Error).message}`, err);
  }
  return sig.getSignedXml();
}
