/**
 * OpenADR 2.0b certificate fingerprints (§10.5.1): the last 10 bytes of the SHA-256 of the DER
 * certificate, upper-case hex pairs joined by `:`.
 */
import 'reflect-metadata';
import { test, type TestContext } from 'node:test';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { certificateFingerprint, fingerprintsEqual, normalizeFingerprint } from './fingerprint.ts';

const FORMAT = /^([0-9A-F]{2}:){9}[0-9A-F]{2}$/;

/** A fresh self-signed certificate (ECDSA P-256 or RSA 2048), as DER bytes and PEM text. */
async function selfSigned(kind: 'ecc' | 'rsa'): Promise<{ der: Uint8Array; pem: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg =
    kind === 'ecc'
      ? { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
      : { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=ven-${kind}.oadr-ledger.test`,
    notBefore: new Date(Date.UTC(2025, 0, 1)),
    notAfter: new Date(Date.UTC(2035, 0, 1)),
    keys,
    signingAlgorithm: alg,
  });
  return { der: new Uint8Array(cert.rawData), pem: cert.toString('pem') };
}

/** The fingerprint computed here independently of fingerprint.ts. */
function expected(der: Uint8Array): string {
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
  return hex.slice(-20).replace(/(..)(?!$)/g, '$1:');
}

test('§10.5.1 certificateFingerprint is the last 10 bytes of SHA-256(DER), from DER, PEM or X509Certificate', async (t: TestContext) => {
  for (const kind of ['ecc', 'rsa'] as const) {
    const { der, pem } = await selfSigned(kind);
    const want = expected(der);
    t.assert.match(want, FORMAT);
    t.assert.equal(certificateFingerprint(der), want, kind);
    t.assert.equal(certificateFingerprint(pem), want, kind);
    t.assert.equal(certificateFingerprint(new X509Certificate(der)), want, kind);
    t.assert.match(certificateFingerprint(der), FORMAT);
    t.assert.equal(certificateFingerprint(der).length, 29);
  }
});

test('two different certificates have different fingerprints', async (t: TestContext) => {
  const a = await selfSigned('ecc');
  const b = await selfSigned('ecc');
  t.assert.notEqual(certificateFingerprint(a.der), certificateFingerprint(b.der));
});

test('certificateFingerprint refuses what is not a certificate', (t: TestContext) => {
  t.assert.throws(() => certificateFingerprint('not a certificate'));
  t.assert.throws(() => certificateFingerprint(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])));
});

test('normalizeFingerprint accepts the spellings people and other implementations use', (t: TestContext) => {
  const canonical = '5E:71:FA:E4:61:75:9C:EF:A4:D6';
  for (const spelling of [
    canonical,
    '5e:71:fa:e4:61:75:9c:ef:a4:d6',
    '5E71FAE461759CEFA4D6',
    '5e71fae461759cefa4d6',
    '5E-71-FA-E4-61-75-9C-EF-A4-D6',
    ' 5E 71 FA E4 61 75 9C EF A4 D6\n',
    // A full SHA-256 fingerprint: its last 10 bytes count.
    '00112233445566778899AABBCCDDEEFF0011223344556677885E71FAE461759CEFA4D6'.slice(-64),
    '00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:5e:71:fa:e4:61:75:9c:ef:a4:d6',
  ]) {
    t.assert.equal(normalizeFingerprint(spelling), canonical, JSON.stringify(spelling));
  }
});

test('normalizeFingerprint refuses wrong lengths and non-hex', (t: TestContext) => {
  for (const bad of [
    '',
    '5E:71:FA:E4:61:75:9C:EF:A4',
    '5E:71:FA:E4:61:75:9C:EF:A4:D6:00',
    '5E71FAE461759CEFA4D',
    '5E:71:FA:E4:61:75:9C:EF:A4:DG',
    'ZZ71FAE461759CEFA4D6',
    '0x5E71FAE461759CEFA4D6',
    'SHA256:5E71FAE461759CEFA4D6',
    // 32 bytes minus one hex digit, and SHA-1 length (20 bytes).
    'a'.repeat(63),
    'a'.repeat(40),
  ]) {
    t.assert.equal(normalizeFingerprint(bad), undefined, JSON.stringify(bad));
  }
});

test('fingerprintsEqual compares across spellings and never equates invalid input', async (t: TestContext) => {
  const { der } = await selfSigned('ecc');
  const fp = certificateFingerprint(der);
  const full = createHash('sha256').update(der).digest('hex');
  t.assert.equal(fingerprintsEqual(fp, fp.toLowerCase().replaceAll(':', '')), true);
  t.assert.equal(fingerprintsEqual(full, fp), true);
  t.assert.equal(fingerprintsEqual(fp, full.replace(/(..)(?!$)/g, '$1-')), true);
  t.assert.equal(fingerprintsEqual(fp, '00:00:00:00:00:00:00:00:00:00'), false);
  t.assert.equal(fingerprintsEqual('', ''), false);
  t.assert.equal(fingerprintsEqual('not hex', 'not hex'), false);
});
