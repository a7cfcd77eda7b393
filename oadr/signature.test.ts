/**
 * XML signatures (R514, §10.6; rules digest 9.6, 9.7 and the rows of 10 on detached vs enveloped
 * forms, ReplayProtect coverage, algorithms): sign and verify in both key profiles, every refusal
 * with its stable code, the tolerated forms other implementations emit, and signature wrapping.
 * The cross-check with Debian's xmlsec1 is in signature-xmlsec.test.ts.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignedXml } from 'xml-crypto';
import { validateXsdMany } from '../conformance/index.ts';
import { decodeOadr, encodeOadr } from './codec.ts';
import { NS } from './namespaces.ts';
import { C14N, DIGEST_SHA256, ENVELOPED_SIGNATURE, ECDSA_SHA256, RSA_SHA1, RSA_SHA256, signatureAlgorithmRegistry } from './signature-algorithms.ts';
import { OadrSignatureError, SignatureErrorCode, SignatureFailure, type SignatureFailureCode } from './errors.ts';
import { createNonceCache } from './signature-nonce-cache.ts';
import { signOadr } from './signature-sign.ts';
import { verifyOadr, type VerifyOptions, type VerifyResult } from './signature-verify.ts';
import { signingCredentials } from './testing/signing-credentials.ts';
import type { Credential } from '../certs/index.ts';

const creds = await signingCredentials();
/** The one clock of this file: certificates are valid around it, messages are stamped with it. */
const NOW = Date.now();
const MINUTE = 60_000;

const POLL = encodeOadr({ type: 'Poll', schemaVersion: '2.0b', venId: 'ven-7' });
const EVENT = encodeOadr(decodeOadr(readFileSync(new URL('../test/fixtures/oadr/oadrDistributeEvent-load-dispatch-48.xml', import.meta.url), 'utf8')));

const sign = (cred: Credential, xml = POLL, extra: { now?: number; nonce?: string } = {}): string =>
  signOadr(xml, { certificatePem: cred.certificatePem, privateKey: cred.privateKeyPem, now: extra.now ?? NOW, ...(extra.nonce === undefined ? {} : { nonce: extra.nonce }) });

/** Verify with a fresh replay cache (unless given) at NOW. */
function verify(xml: string | Uint8Array, options: Partial<VerifyOptions> = {}): VerifyResult {
  const cache = createNonceCache();
  return verifyOadr(xml, { now: NOW, seenNonce: cache.seenNonce, ...options });
}

function assertRefused(result: VerifyResult, reason: SignatureFailureCode): void {
  assert.equal(result.ok, false, 'expected a refusal, the signature was accepted');
  if (!result.ok) assert.equal(result.reason, reason, result.message);
}

function assertAccepted(result: VerifyResult): asserts result is Extract<VerifyResult, { ok: true }> {
  assert.equal(result.ok, true, result.ok ? '' : `${result.reason}: ${result.message}`);
}

/** The text of the first element with this local name (test inspection only). */
const textOf = (xml: string, local: string): string => {
  const m = new RegExp(`<(?:\\w+:)?${local}[^>]*>([^<]*)<`).exec(xml);
  if (m === null) throw new Error(`no ${local} in the document`);
  return m[1] as string;
};

// ---- sign + verify ----------------------------------------------------------------------------

for (const [profile, method] of [['rsa', RSA_SHA256], ['ecc', ECDSA_SHA256]] as const) {
  test(`[R514] ${profile}: signOadr writes ${method.split('#')[1]}, verifyOadr accepts it, decodeOadr reads the same payload`, (t: TestContext) => {
    const cred = creds[profile];
    for (const xml of [POLL, EVENT]) {
      const signed = sign(cred, xml);
      const result = verify(signed, { expectedCertificate: cred.certificatePem });
      assertAccepted(result);
      t.assert.equal(result.signatureMethod, method);
      t.assert.equal(result.replayProtectSigned, true);
      t.assert.equal(result.timestamp, new Date(NOW).toISOString());
      t.assert.equal(new X509Certificate(result.certificatePem).fingerprint256, new X509Certificate(cred.certificatePem).fingerprint256);
      const decoded = decodeOadr(signed);
      t.assert.equal(decoded.signedObjectId, result.signedObjectId);
      t.assert.deepEqual(decoded.payload, decodeOadr(xml).payload);
    }
  });
}

test('[R514 §10.6.3] the signed document has the 2.0b structure and is valid against the XSD', async (t: TestContext) => {
  const docs = [sign(creds.rsa), sign(creds.ecc), sign(creds.ecc, EVENT)];
  const results = await validateXsdMany(docs);
  for (const r of results) t.assert.deepEqual(r.errors, []);
  const signed = docs[0] as string;
  // Signature first, then oadrSignedObject with a qualified oadr:Id that the first Reference names.
  const m = /<oadr:oadrPayload [^>]*><ds:Signature Id="([^"]+)"[^>]*>.*<\/ds:Signature><oadr:oadrSignedObject oadr:Id="([^"]+)">/s.exec(signed);
  t.assert.ok(m, 'ds:Signature then oadrSignedObject oadr:Id');
  const [, sigId, objId] = m as unknown as [string, string, string];
  const refs = [...signed.matchAll(/<ds:Reference URI="#([^"]+)">/g)].map((x) => x[1]);
  t.assert.equal(refs.length, 2);
  t.assert.equal(refs[0], objId);
  t.assert.match(signed, new RegExp(`<ds:SignatureProperty Id="${refs[1]}" Target="#${sigId}"><dsp:ReplayProtect xmlns:dsp="${NS.dsp}">`));
  t.assert.match(signed, /<ds:CanonicalizationMethod Algorithm="http:\/\/www\.w3\.org\/TR\/2001\/REC-xml-c14n-20010315"\/>/);
  t.assert.equal([...signed.matchAll(/<ds:DigestMethod Algorithm="http:\/\/www\.w3\.org\/2001\/04\/xmlenc#sha256"\/>/g)].length, 2);
  t.assert.doesNotMatch(signed, /enveloped-signature/);
  t.assert.match(signed, /<ds:KeyInfo><ds:X509Data><ds:X509Certificate>[A-Za-z0-9+/=]+<\/ds:X509Certificate><\/ds:X509Data><\/ds:KeyInfo>/);
});

test('ECDSA signature values are the raw r‖s form of XML-DSig (64 bytes for P-256), not DER', (t: TestContext) => {
  for (let i = 0; i < 5; i++) {
    const value = Buffer.from(textOf(sign(creds.ecc, POLL, { nonce: `n${i}` }), 'SignatureValue'), 'base64');
    t.assert.equal(value.length, 64);
  }
});

test('signOadr keeps an existing oadr:Id, takes the nonce given, and accepts a KeyObject', (t: TestContext) => {
  const withId = encodeOadr({ signedObjectId: 'my-object', payload: { type: 'Poll', schemaVersion: '2.0b', venId: 'ven-7' } });
  const signed = signOadr(withId, { certificatePem: creds.ecc.certificatePem, privateKey: createPrivateKey(creds.ecc.privateKeyPem), now: new Date(NOW), nonce: 'nonce-42' });
  t.assert.match(signed, /<oadr:oadrSignedObject oadr:Id="my-object">/);
  t.assert.match(signed, /<ds:Reference URI="#my-object">/);
  const result = verify(signed);
  assertAccepted(result);
  t.assert.equal(result.signedObjectId, 'my-object');
  t.assert.equal(result.nonce, 'nonce-42');
});

test('signOadr refuses a key of another certificate, a signed document, and what is not an oadrPayload', (t: TestContext) => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      if (err instanceof OadrSignatureError) return err.code;
      throw err;
    }
    assert.fail('signOadr succeeded');
  };
  t.assert.equal(code(() => signOadr(POLL, { certificatePem: creds.ecc.certificatePem, privateKey: creds.other.privateKeyPem, now: NOW })), SignatureErrorCode.INVALID_KEY);
  t.assert.equal(code(() => sign(creds.ecc, sign(creds.ecc))), SignatureErrorCode.INVALID_DOCUMENT);
  t.assert.equal(code(() => sign(creds.ecc, '<x/>')), SignatureErrorCode.INVALID_DOCUMENT);
  t.assert.equal(code(() => sign(creds.ecc, POLL, { nonce: ' ' })), SignatureErrorCode.INVALID_OPTIONS);
});

// ---- refusals ---------------------------------------------------------------------------------

test('[§10.6.4 step 2] altered content → BAD_DIGEST, in the payload and in the signed ReplayProtect', (t: TestContext) => {
  for (const cred of [creds.rsa, creds.ecc]) {
    const signed = sign(cred);
    t.assert.ok(signed.includes('<ei:venID>ven-7</ei:venID>'));
    assertRefused(verify(signed.replace('<ei:venID>ven-7</ei:venID>', '<ei:venID>ven-8</ei:venID>')), SignatureFailure.BAD_DIGEST);
    const ts = textOf(signed, 'timestamp');
    assertRefused(verify(signed.replace(ts, new Date(NOW + 1000).toISOString())), SignatureFailure.BAD_DIGEST);
  }
});

test('[§10.6.4 step 1] an altered SignatureValue, or another key than the one that signed → BAD_SIGNATURE', () => {
  for (const cred of [creds.rsa, creds.ecc]) {
    const signed = sign(cred);
    const value = textOf(signed, 'SignatureValue');
    const bytes = Buffer.from(value, 'base64');
    bytes[10] = (bytes[10] as number) ^ 1;
    assertRefused(verify(signed.replace(value, bytes.toString('base64'))), SignatureFailure.BAD_SIGNATURE);
  }
  // Another key's signature over the same SignedInfo: the certificate in KeyInfo swapped.
  const signed = sign(creds.ecc);
  const swappedCert = signed.replace(textOf(signed, 'X509Certificate'), textOf(sign(creds.other), 'X509Certificate'));
  assertRefused(verify(swappedCert), SignatureFailure.BAD_SIGNATURE);
});

test('[R514] a stripped signature → UNSIGNED, and so is a bare payload', () => {
  const signed = sign(creds.ecc);
  assertRefused(verify(signed.replace(/<ds:Signature .*<\/ds:Signature>/s, '')), SignatureFailure.UNSIGNED);
  assertRefused(verify(POLL), SignatureFailure.UNSIGNED);
  assertRefused(verify('<oadr:oadrPoll xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110" ei:schemaVersion="2.0b"><ei:venID>v</ei:venID></oadr:oadrPoll>'), SignatureFailure.UNSIGNED);
});

test('[R514 §10.6.4 step 3] a repeated nonce → REPLAYED_NONCE; refused messages do not enter the cache', (t: TestContext) => {
  const cache = createNonceCache();
  const options = { now: NOW, seenNonce: cache.seenNonce };
  const signed = sign(creds.ecc, POLL, { nonce: 'once' });
  // A forgery with the same nonce first: refused, and the nonce is not burnt by it.
  assertRefused(verifyOadr(signed.replace('ven-7', 'ven-9'), options), SignatureFailure.BAD_DIGEST);
  assertAccepted(verifyOadr(signed, options));
  assertRefused(verifyOadr(signed, options), SignatureFailure.REPLAYED_NONCE);
  // Another message with the same nonce is a replay too.
  assertRefused(verifyOadr(sign(creds.rsa, EVENT, { nonce: 'once' }), options), SignatureFailure.REPLAYED_NONCE);
  t.assert.equal(cache.size, 1);
});

test('[§10.6.4 step 3] a timestamp outside the window → STALE_TIMESTAMP, in the past and in the future', () => {
  for (const skew of [-6 * MINUTE, 6 * MINUTE, -24 * 60 * MINUTE]) {
    assertRefused(verify(sign(creds.ecc, POLL, { now: NOW + skew })), SignatureFailure.STALE_TIMESTAMP);
  }
  assertAccepted(verify(sign(creds.ecc, POLL, { now: NOW - 4 * MINUTE })));
  assertAccepted(verify(sign(creds.ecc, POLL, { now: NOW + 4 * MINUTE })));
  assertRefused(verify(sign(creds.ecc, POLL, { now: NOW - 2 * MINUTE }), { windowMs: MINUTE }), SignatureFailure.STALE_TIMESTAMP);
});

test('[rules 9.7 step 2] a signer other than the TLS peer → CERT_MISMATCH; the peer itself is accepted in any form', () => {
  const signed = sign(creds.ecc);
  assertRefused(verify(signed, { expectedCertificate: creds.other.certificatePem }), SignatureFailure.CERT_MISMATCH);
  assertRefused(verify(sign(creds.rsa), { expectedCertificate: creds.ecc.certificatePem }), SignatureFailure.CERT_MISMATCH);
  assertAccepted(verify(signed, { expectedCertificate: creds.ecc.certificatePem }));
  assertAccepted(verify(signed, { expectedCertificate: new X509Certificate(creds.ecc.certificatePem) }));
  assertAccepted(verify(signed, { expectedCertificate: new X509Certificate(creds.ecc.certificatePem).raw }));
});

test('[R516] a signing certificate outside its validity → CERT_EXPIRED', () => {
  const later = creds.ecc.certificate.notAfter.getTime() + 24 * 60 * MINUTE;
  assertRefused(verify(sign(creds.ecc, POLL, { now: later }), { now: later }), SignatureFailure.CERT_EXPIRED);
});

test('[R514 §10.6.3] algorithms outside the allowed set → UNSUPPORTED_ALGORITHM; SHA-1 only behind allowSha1', () => {
  const signed = sign(creds.rsa);
  assertRefused(verify(signed.replace(RSA_SHA256, 'http://www.w3.org/2000/09/xmldsig#hmac-sha1')), SignatureFailure.UNSUPPORTED_ALGORITHM);
  assertRefused(verify(signed.replace(/(<ds:CanonicalizationMethod Algorithm=")[^"]+/, '$1http://www.w3.org/2001/10/xml-exc-c14n#')), SignatureFailure.UNSUPPORTED_ALGORITHM);
  assertRefused(verify(signed.replace(/(<ds:Transform Algorithm=")[^"]+/, '$1http://www.w3.org/TR/1999/REC-xpath-19991116')), SignatureFailure.UNSUPPORTED_ALGORITHM);
  const sha1 = signVariant(POLL, creds.rsa, { method: RSA_SHA1 });
  assertRefused(verify(sha1), SignatureFailure.UNSUPPORTED_ALGORITHM);
  assertAccepted(verify(sha1, { allowSha1: true }));
});

test('[R514] a signature without ReplayProtect, or without a certificate, is MALFORMED; a DTD never reaches the DOM', () => {
  const signed = sign(creds.ecc);
  assertRefused(verify(signed.replace(/<ds:Object>.*<\/ds:Object>/s, '')), SignatureFailure.MALFORMED);
  assertRefused(verify(signed.replace(/<ds:KeyInfo>.*<\/ds:KeyInfo>/s, '')), SignatureFailure.MALFORMED);
  const dtd = signed.replace('<?xml version="1.0" encoding="UTF-8"?>\n', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "ven-9">]>\n');
  assertRefused(verify(dtd), SignatureFailure.MALFORMED);
  assertRefused(verify('not xml'), SignatureFailure.MALFORMED);
  assertRefused(verify(new Uint8Array([0xff, 0xfe, 0x00])), SignatureFailure.MALFORMED);
});

// ---- signature wrapping -----------------------------------------------------------------------

test('signature wrapping: the signed object moved into ds:Object and a forged one put in its place → NOT_COVERED', () => {
  const signed = sign(creds.ecc);
  const original = /<oadr:oadrSignedObject .*<\/oadr:oadrSignedObject>/s.exec(signed)?.[0] as string;
  const forged = '<oadr:oadrSignedObject><oadr:oadrPoll ei:schemaVersion="2.0b"><ei:venID>ven-evil</ei:venID></oadr:oadrPoll></oadr:oadrSignedObject>';
  const moved = signed.replace(original, forged).replace('</ds:Signature>', `<ds:Object>${original}</ds:Object></ds:Signature>`);
  assert.equal(decodeOadr(moved).payload.type, 'Poll'); // decodeOadr would read the forged one
  assertRefused(verify(moved), SignatureFailure.NOT_COVERED);
  // The original kept as an extra child of oadrPayload, the forged one last.
  assertRefused(verify(signed.replace(original, original + forged)), SignatureFailure.NOT_COVERED);
});

test('signature wrapping: a duplicated Id → NOT_COVERED, whatever its namespace or case', () => {
  const signed = sign(creds.ecc);
  const id = /oadr:Id="([^"]+)"/.exec(signed)?.[1] as string;
  const forged = signed.replace('</ds:Signature>', `<ds:Object Id="${id}"><x/></ds:Object></ds:Signature>`);
  assertRefused(verify(forged), SignatureFailure.NOT_COVERED);
  assertRefused(verify(signed.replace('<ei:venID>', `<ei:venID ID="${id}">`)), SignatureFailure.NOT_COVERED);
  // A namespace declaration named Id would look like an id to xml-crypto's XPath: refused.
  assertRefused(verify(signed.replace('<ei:venID>', `<ei:venID xmlns:Id="${id}">`)), SignatureFailure.MALFORMED);
});

test('a signature that covers only ReplayProtect, not oadrSignedObject → NOT_COVERED', () => {
  assertRefused(verify(signVariant(POLL, creds.ecc, { objectRef: 'none' })), SignatureFailure.NOT_COVERED);
});

// ---- forms other implementations emit (rules digest 10) ----------------------------------------

test('[rules 10] accepted: an extra enveloped transform, URI="" over oadrPayload, exclusive c14n, ReplayProtect unsigned', (t: TestContext) => {
  const accepted = (xml: string): Extract<VerifyResult, { ok: true }> => {
    const r = verify(xml);
    assertAccepted(r);
    return r;
  };
  t.assert.equal(accepted(signVariant(POLL, creds.rsa, { objectRef: 'id', enveloped: true })).replayProtectSigned, true);
  t.assert.equal(accepted(signVariant(EVENT, creds.ecc, { objectRef: 'empty' })).replayProtectSigned, true);
  t.assert.equal(accepted(signVariant(POLL, creds.ecc, { objectRef: 'id', exclusive: true })).replayProtectSigned, true);
  t.assert.equal(accepted(signVariant(POLL, creds.ecc, { objectRef: 'id', replayRef: false })).replayProtectSigned, false);
  // URI="" without the enveloped transform would digest the signature itself: it never verifies.
  assertRefused(verify(signVariant(POLL, creds.ecc, { objectRef: 'empty' }).replace(`<ds:Transform Algorithm="${ENVELOPED_SIGNATURE}"/>`, '')), SignatureFailure.NOT_COVERED);
});

test('CRLF line ends, as a Windows peer may send them, still verify', () => {
  const signed = sign(creds.ecc, EVENT);
  assertAccepted(verify(signed.replace(/\n/g, '\r\n')));
});

// ---- the replay cache -------------------------------------------------------------------------

test('createNonceCache: remembers until expiry, forgets after, and stays within its bound', (t: TestContext) => {
  const cache = createNonceCache({ maxEntries: 3 });
  t.assert.equal(cache.seenNonce('a', 1000, 0), false);
  t.assert.equal(cache.seenNonce('a', 1000, 500), true);
  t.assert.equal(cache.seenNonce('a', 3000, 1001), false); // expired, so recorded again
  for (const n of ['b', 'c', 'd']) t.assert.equal(cache.seenNonce(n, 5000, 1002), false);
  t.assert.equal(cache.size, 3);
  t.assert.equal(cache.evicted, 1);
  t.assert.equal(cache.seenNonce('d', 5000, 1003), true);
  t.assert.equal(cache.seenNonce('x', 9000, 6000), false); // the sweep drops b, c, d
  t.assert.equal(cache.size, 1);
  t.assert.throws(() => createNonceCache({ maxEntries: 0 }), RangeError);
});

// ---- helpers ----------------------------------------------------------------------------------

interface Variant {
  /** How oadrSignedObject is referenced: by id, by URI="" (with the enveloped transform), or not at all. */
  readonly objectRef?: 'id' | 'empty' | 'none';
  /** Add the enveloped transform to the `#id` reference. */
  readonly enveloped?: boolean;
  readonly exclusive?: boolean;
  readonly replayRef?: boolean;
  readonly method?: string;
}

/** A signature in a form other implementations write, made with xml-crypto directly. */
function signVariant(xml: string, cred: Credential, v: Variant): string {
  const objectRef = v.objectRef ?? 'id';
  const source = objectRef === 'id' ? xml.replace('<oadr:oadrSignedObject>', '<oadr:oadrSignedObject oadr:Id="obj-1">') : xml;
  const c14n = v.exclusive === true ? 'http://www.w3.org/2001/10/xml-exc-c14n#' : C14N;
  const sig = new SignedXml({
    privateKey: cred.privateKeyPem,
    publicCert: cred.certificatePem,
    signatureAlgorithm: v.method ?? (cred.profile === 'rsa' ? RSA_SHA256 : ECDSA_SHA256),
    canonicalizationAlgorithm: C14N,
    objects: [{
      content: `<ds:SignatureProperties><ds:SignatureProperty Id="prop-1" Target="#sig-1"><dsp:ReplayProtect xmlns:dsp="${NS.dsp}">` +
        `<dsp:timestamp>${new Date(NOW).toISOString()}</dsp:timestamp><dsp:nonce>variant</dsp:nonce></dsp:ReplayProtect></ds:SignatureProperty></ds:SignatureProperties>`,
    }],
  });
  sig.SignatureAlgorithms = signatureAlgorithmRegistry(true);
  const digest = v.method === RSA_SHA1 ? 'http://www.w3.org/2000/09/xmldsig#sha1' : DIGEST_SHA256;
  if (objectRef === 'id') {
    sig.addReference({ xpath: "/*/*[local-name()='oadrSignedObject']", transforms: v.enveloped === true ? [ENVELOPED_SIGNATURE, c14n] : [c14n], digestAlgorithm: digest });
  } else if (objectRef === 'empty') {
    sig.addReference({ xpath: '/*', transforms: [ENVELOPED_SIGNATURE, c14n], digestAlgorithm: digest, isEmptyUri: true });
  }
  if (v.replayRef !== false) sig.addReference({ xpath: "//*[@Id='prop-1']", transforms: [c14n], digestAlgorithm: digest });
  sig.computeSignature(source, { prefix: 'ds', attrs: { Id: 'sig-1' }, location: { reference: '/*', action: 'prepend' } });
  return sig.getSignedXml();
}

// ---- hostile shapes ---------------------------------------------------------------------------

test('security: 60,000 attributes with signatures on are refused by the strict reader (LIMIT_EXCEEDED), before the DOM library', () => {
  const signed = sign(creds.ecc);
  const many = Array.from({ length: 60_000 }, (_, i) => ` a${i}=""`).join('');
  const result = verify(signed.replace('<oadr:oadrPoll ', `<oadr:oadrPoll${many} `));
  assertRefused(result, SignatureFailure.MALFORMED);
  assert.match(result.ok ? '' : result.message, /^not an acceptable XML document \(LIMIT_EXCEEDED\)/);
});

test('security: more than 4 References, or a Reference with more than 2 transforms, is refused before any digest', () => {
  const signed = sign(creds.ecc);
  const reference = /<ds:Reference .*?<\/ds:Reference>/s.exec(signed)?.[0] as string;
  // Four more References to the signed object (six in all): each would be canonicalised and digested by xml-crypto.
  const six = verify(signed.replace(reference, reference.repeat(5)));
  assertRefused(six, SignatureFailure.MALFORMED);
  assert.match(six.ok ? '' : six.message, /6 References; at most 4/);
  const transform = /<ds:Transform [^>]*\/>/.exec(reference)?.[0] as string;
  const three = verify(signed.replace(reference, reference.replace(transform, transform.repeat(3))));
  assertRefused(three, SignatureFailure.MALFORMED);
  assert.match(three.ok ? '' : three.message, /3 transforms; at most 2/);
});
