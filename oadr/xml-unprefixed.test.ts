/**
 * The unprefixed form (xml-unprefixed.ts) and signatures in it (R514 over XMPP): the form is what
 * Prosody writes (checked byte for byte on a small document), writing it twice changes nothing, a
 * payload signed in it still verifies after an XMPP server re-writes it into that form while one
 * signed with prefixes does not, and mixed content is refused. (test/security-xmpp-signature.test.ts
 * sends signed payloads through a real Prosody.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeOadr, encodeOadr } from './codec.ts';
import { OadrCodecError } from './errors.ts';
import { signOadr } from './signature-sign.ts';
import { verifyOadr } from './signature-verify.ts';
import { unprefixedXml } from './xml-unprefixed.ts';
import { signingCredentials } from './testing/signing-credentials.ts';

const creds = await signingCredentials();
const NOW = Date.now();
const EVENT = encodeOadr(decodeOadr(readFileSync(new URL('../test/fixtures/oadr/oadrDistributeEvent-load-dispatch-48.xml', import.meta.url), 'utf8')));
const verify = (xml: string) => verifyOadr(xml, { now: NOW, seenNonce: () => false });

test('the unprefixed form: default xmlns where the namespace changes, each namespaced attribute under ns1 on its element (as Prosody writes)', () => {
  const poll = encodeOadr({ type: 'Poll', schemaVersion: '2.0b', venId: 'ven-7' });
  assert.equal(
    unprefixedXml(poll),
    '<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07"><oadrSignedObject><oadrPoll xmlns:ns1="http://docs.oasis-open.org/ns/energyinterop/201110" ns1:schemaVersion="2.0b">' +
      '<venID xmlns="http://docs.oasis-open.org/ns/energyinterop/201110">ven-7</venID></oadrPoll></oadrSignedObject></oadrPayload>',
  );
  assert.equal(unprefixedXml('<a xmlns:p="u"><p:b p:x="1&amp;2" y="&lt;">t&gt;</p:b><c/>\n</a>'), '<a><b xmlns="u" xmlns:ns1="u" ns1:x="1&amp;2" y="&lt;">t&gt;</b><c/></a>');
  assert.equal(unprefixedXml('<a xmlns="u"><c xmlns=""/></a>'), '<a xmlns="u"><c xmlns=""/></a>');
});

test('the unprefixed form is a fixed point, and the payload decodes the same', () => {
  const once = unprefixedXml(EVENT);
  assert.equal(unprefixedXml(once), once);
  assert.deepEqual(decodeOadr(once).payload, decodeOadr(EVENT).payload);
});

for (const profile of ['rsa', 'ecc'] as const) {
  test(`R514 ${profile}: signed in the unprefixed form, a payload verifies after a server re-writes it; signed with prefixes, it does not`, () => {
    const cred = creds[profile];
    const sign = (form: 'prefixed' | 'unprefixed') => signOadr(EVENT, { certificatePem: cred.certificatePem, privateKey: cred.privateKeyPem, now: NOW, form });
    const unprefixed = sign('unprefixed');
    assert.doesNotMatch(unprefixed, /<[a-zA-Z]+:/, 'no element prefix');
    const carried = verify(unprefixedXml(unprefixed));
    assert.ok(carried.ok, carried.ok ? '' : carried.message);
    const prefixed = verify(unprefixedXml(sign('prefixed')));
    assert.equal(prefixed.ok ? 'ok' : prefixed.reason, 'BAD_DIGEST');
  });
}

test('mixed content is refused with a codec error; whitespace between elements is dropped', () => {
  assert.throws(() => unprefixedXml('<a>text<b/></a>'), (err: unknown) => err instanceof OadrCodecError && err.code === 'MALFORMED_XML');
  assert.equal(unprefixedXml('<a>\n  <b/>\n</a>'), '<a><b/></a>');
});
