/**
 * Cross-check of the XML signatures with an independent implementation (issue 7): Debian's
 * `xmlsec1` (libxmlsec1 with OpenSSL) must verify what signOadr writes, against the CA, in both
 * profiles (RSA-SHA256 and ECDSA-SHA256), and verifyOadr must accept what `xmlsec1 --sign` makes
 * from a template, in the detached `#id` form of the spec and in the enveloped `URI=""` form.
 *
 * xmlsec1 flags (1.2.x): `--id-attr:Id <ns>:oadrSignedObject` declares oadr:Id an ID attribute
 * (there is no DTD or schema to say so); `--trusted-pem ca.pem` makes it verify the KeyInfo
 * certificate's chain; `--privkey-pem key.pem,cert.pem` signs and fills `X509Data` with the cert.
 * xmlsec1 writes and reads ECDSA values as r‖s, as XML-DSig wants.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeOadr } from './codec.ts';
import { NS } from './namespaces.ts';
import { C14N, DIGEST_SHA256, ECDSA_SHA256, ENVELOPED_SIGNATURE, RSA_SHA256 } from './signature-algorithms.ts';
import { SignatureFailure } from './errors.ts';
import { createNonceCache } from './signature-nonce-cache.ts';
import { signOadr } from './signature-sign.ts';
import { verifyOadr, type VerifyResult } from './signature-verify.ts';
import { signingCredentials } from './testing/signing-credentials.ts';
import type { Credential } from '../certs/index.ts';

const XMLSEC = 'xmlsec1';
const INSTALL_HINT = 'xmlsec1 was not found on PATH; install it with `apt-get install xmlsec1` (Debian/Ubuntu) to run the XML-signature interoperability tests';
const ID_ATTR = ['--id-attr:Id', `${NS.oadr}:oadrSignedObject`];

const creds = await signingCredentials();
const NOW = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'oadr-xmlsec-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const caPem = file('ca.pem', creds.ca.certificatePem);

interface Run {
  readonly status: number | null;
  readonly output: string;
}

function xmlsec(args: readonly string[]): Run {
  const r = spawnSync(XMLSEC, args, { cwd: dir, encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(INSTALL_HINT, { cause: r.error });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const POLL = encodeOadr({ type: 'Poll', schemaVersion: '2.0b', venId: 'ven-7' });

function verify(xml: string, cred: Credential): VerifyResult {
  return verifyOadr(xml, { now: NOW, seenNonce: createNonceCache().seenNonce, expectedCertificate: cred.certificatePem });
}

test('xmlsec1 is installed (the interoperability tests need it)', (t: TestContext) => {
  const r = xmlsec(['--version']);
  t.assert.equal(r.status, 0, r.output);
  t.assert.match(r.output, /xmlsec1 1\.\d+\.\d+ \(openssl\)/);
});

for (const [profile, method] of [['rsa', RSA_SHA256], ['ecc', ECDSA_SHA256]] as const) {
  test(`${profile}: xmlsec1 verifies what signOadr writes (${method.split('#')[1]}, chain to the CA), and refuses it once altered`, (t: TestContext) => {
    const cred = creds[profile];
    const signed = signOadr(POLL, { certificatePem: cred.certificatePem, privateKey: cred.privateKeyPem, now: NOW });
    const ok = xmlsec(['--verify', '--trusted-pem', caPem, ...ID_ATTR, file(`ours-${profile}.xml`, signed)]);
    t.assert.equal(ok.status, 0, ok.output);
    t.assert.match(ok.output, /^OK$/m);
    t.assert.match(ok.output, /SignedInfo References \(ok\/all\): 2\/2/);
    const altered = xmlsec(['--verify', '--trusted-pem', caPem, ...ID_ATTR, file(`ours-${profile}-altered.xml`, signed.replace('ven-7', 'ven-8'))]);
    t.assert.notEqual(altered.status, 0, 'xmlsec1 accepted an altered payload');
    // Another CA's trust: xmlsec1 refuses the certificate, so it does check the chain.
    const otherCa = xmlsec(['--verify', '--trusted-pem', file('other-ca.pem', creds.other.certificatePem), ...ID_ATTR, join(dir, `ours-${profile}.xml`)]);
    t.assert.notEqual(otherCa.status, 0, 'xmlsec1 verified against a certificate that is not the CA');
  });
}

/** A signature template as another implementation would write it, with blanks for xmlsec1 to fill. */
function template(method: string, form: 'detached' | 'enveloped'): string {
  const objectRef =
    form === 'detached'
      ? `<ds:Reference URI="#obj-x"><ds:DigestMethod Algorithm="${DIGEST_SHA256}"/><ds:DigestValue/></ds:Reference>`
      : `<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="${ENVELOPED_SIGNATURE}"/><ds:Transform Algorithm="${C14N}"/></ds:Transforms>` +
        `<ds:DigestMethod Algorithm="${DIGEST_SHA256}"/><ds:DigestValue/></ds:Reference>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<oadr:oadrPayload xmlns:oadr="${NS.oadr}" xmlns:ei="${NS.ei}">
  <ds:Signature xmlns:ds="${NS.ds}" Id="sig-x">
    <ds:SignedInfo>
      <ds:CanonicalizationMethod Algorithm="${C14N}"/>
      <ds:SignatureMethod Algorithm="${method}"/>
      ${objectRef}
      <ds:Reference URI="#prop-x"><ds:DigestMethod Algorithm="${DIGEST_SHA256}"/><ds:DigestValue/></ds:Reference>
    </ds:SignedInfo>
    <ds:SignatureValue/>
    <ds:KeyInfo><ds:X509Data/></ds:KeyInfo>
    <ds:Object><ds:SignatureProperties><ds:SignatureProperty Id="prop-x" Target="#sig-x">
      <dsp:ReplayProtect xmlns:dsp="${NS.dsp}"><dsp:timestamp>${new Date(NOW).toISOString().replace(/\.\d+Z$/, 'Z')}</dsp:timestamp><dsp:nonce>xmlsec-${form}</dsp:nonce></dsp:ReplayProtect>
    </ds:SignatureProperty></ds:SignatureProperties></ds:Object>
  </ds:Signature>
  <oadr:oadrSignedObject${form === 'detached' ? ' oadr:Id="obj-x"' : ''}><oadr:oadrPoll ei:schemaVersion="2.0b"><ei:venID>ven-7</ei:venID></oadr:oadrPoll></oadr:oadrSignedObject>
</oadr:oadrPayload>
`;
}

for (const [profile, method] of [['rsa', RSA_SHA256], ['ecc', ECDSA_SHA256]] as const) {
  for (const form of ['detached', 'enveloped'] as const) {
    test(`${profile}: verifyOadr accepts what xmlsec1 --sign makes (${form} form), and refuses it once altered`, (t: TestContext) => {
      const cred = creds[profile];
      const keyArg = `${file(`${profile}.key`, cred.privateKeyPem)},${file(`${profile}.pem`, cred.certificatePem)}`;
      const out = join(dir, `xmlsec-${profile}-${form}.xml`);
      const r = xmlsec(['--sign', '--privkey-pem', keyArg, ...ID_ATTR, '--output', out, file(`tmpl-${profile}-${form}.xml`, template(method, form))]);
      t.assert.equal(r.status, 0, r.output);
      const signed = readFileSync(out, 'utf8');
      t.assert.match(signed, /<ds:X509Certificate>/);
      const result = verify(signed, cred);
      assert.equal(result.ok, true, result.ok ? '' : `${result.reason}: ${result.message}`);
      if (result.ok) {
        t.assert.equal(result.signatureMethod, method);
        t.assert.equal(result.replayProtectSigned, true);
        t.assert.equal(result.nonce, `xmlsec-${form}`);
        t.assert.equal(result.signedObjectId, form === 'detached' ? 'obj-x' : undefined);
      }
      const altered = verify(signed.replace('<ei:venID>ven-7<', '<ei:venID>ven-8<'), cred);
      t.assert.equal(altered.ok ? 'accepted' : altered.reason, SignatureFailure.BAD_DIGEST);
    });
  }
}
