import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import * as x509 from './x509.ts';
import { CertsError } from './errors.ts';
import { toLowS } from './keys.ts';
import { chainPem, createIntermediateCa, createRootCa, DAY_MS, issueClientCertificate, issueServerCertificate, loadCredential, revoke } from './pki.ts';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function node(pem: string): X509Certificate {
  return new X509Certificate(pem);
}

function ecdsaSignatureS(pem: string): bigint {
  // The certificate's signatureValue is DER SEQUENCE { r INTEGER, s INTEGER }; read s.
  const sig = Buffer.from(new x509.X509Certificate(pem).signature);
  let i = 2 + (sig[1]! & 0x80 ? sig[1]! & 0x7f : 0);
  i += 2 + sig[i + 1]!; // skip r
  const len = sig[i + 1]!;
  return BigInt(`0x${sig.subarray(i + 2, i + 2 + len).toString('hex')}`);
}

test('root → intermediate → leaf: each certificate verifies with its issuer’s key, CA flags and path lengths as set', async () => {
  const root = await createRootCa({ commonName: 'Test Root', profile: 'ecc' });
  const inter = await createIntermediateCa({ commonName: 'Test Intermediate', issuer: root });
  const leaf = await issueClientCertificate({ commonName: 'ven-1', issuer: inter });
  const [r, i, l] = [node(root.certificatePem), node(inter.certificatePem), node(leaf.certificatePem)];
  assert.equal(r.ca, true);
  assert.equal(i.ca, true);
  assert.equal(l.ca, false);
  assert.ok(r.verify(r.publicKey), 'root is self-signed');
  assert.ok(i.checkIssued(r) && i.verify(r.publicKey));
  assert.ok(l.checkIssued(i) && l.verify(i.publicKey));
  assert.ok(!l.verify(r.publicKey), 'the leaf is not signed by the root');
  assert.deepEqual(leaf.intermediatesPem, [inter.certificatePem]);
  assert.equal(chainPem(leaf), leaf.certificatePem + inter.certificatePem);
  assert.equal(root.certificate.getExtension(x509.BasicConstraintsExtension)?.pathLength, 1);
  assert.equal(inter.certificate.getExtension(x509.BasicConstraintsExtension)?.pathLength, 0);
  assert.equal(l.subject, 'O=oadr-ledger development PKI\nCN=ven-1');
  // 16-byte positive serials, different each time.
  assert.match(l.serialNumber, /^[0-7][0-9A-F]{31}$/);
  assert.notEqual(l.serialNumber, i.serialNumber);
});

test('key usages and EKUs: CA keyCertSign+cRLSign; server serverAuth+clientAuth with SAN; client clientAuth only', async () => {
  const root = await createRootCa({ commonName: 'Test Root', profile: 'rsa' });
  const server = await issueServerCertificate({ commonName: 'vtn', issuer: root });
  const client = await issueClientCertificate({ commonName: 'ven', issuer: root });
  const ku = (c: x509.X509Certificate) => c.getExtension(x509.KeyUsagesExtension)?.usages ?? 0;
  assert.equal(ku(root.certificate), x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature);
  assert.equal(ku(server.certificate), x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
  assert.deepEqual(node(server.certificatePem).keyUsage, [SERVER_AUTH, CLIENT_AUTH]);
  assert.deepEqual(node(client.certificatePem).keyUsage, [CLIENT_AUTH]);
  assert.equal(node(server.certificatePem).subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.equal(node(server.certificatePem).checkHost('localhost'), 'localhost');
  assert.equal(node(server.certificatePem).checkIP('::1'), '::1');
  const ecc = await issueClientCertificate({ commonName: 'ven-ecc', profile: 'ecc', issuer: root });
  assert.equal(ku(ecc.certificate), x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement);
});

test('R68 profiles: RSA is RSA-2048 + sha256WithRSAEncryption, ECC is P-256 + ecdsa-with-SHA256', async () => {
  const rsaRoot = await createRootCa({ commonName: 'RSA Root', profile: 'rsa' });
  const eccRoot = await createRootCa({ commonName: 'ECC Root', profile: 'ecc' });
  const rsa = await issueClientCertificate({ commonName: 'ven-rsa', issuer: rsaRoot });
  const ecc = await issueClientCertificate({ commonName: 'ven-ecc', issuer: eccRoot });
  assert.equal(rsa.profile, 'rsa', 'a leaf takes the key type of its issuer by default');
  assert.deepEqual(node(rsa.certificatePem).publicKey.asymmetricKeyDetails, { modulusLength: 2048, publicExponent: 65537n });
  assert.equal(node(rsa.certificatePem).signatureAlgorithm, 'sha256WithRSAEncryption');
  assert.deepEqual(node(ecc.certificatePem).publicKey.asymmetricKeyDetails, { namedCurve: 'prime256v1' });
  assert.equal(node(ecc.certificatePem).signatureAlgorithm, 'ecdsa-with-SHA256');
});

test('ECDSA certificate signatures are low-S, as Fabric requires', async () => {
  const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  const root = await createRootCa({ commonName: 'ECC Root', profile: 'ecc' });
  for (let k = 0; k < 8; k++) {
    const leaf = await issueClientCertificate({ commonName: `c${k}`, issuer: root });
    assert.ok(ecdsaSignatureS(leaf.certificatePem) <= n / 2n);
    assert.ok(node(leaf.certificatePem).verify(node(root.certificatePem).publicKey));
  }
  const high = new Uint8Array(64).fill(7);
  high.set(Buffer.from((n - 1n).toString(16), 'hex'), 32);
  const low = toLowS(high);
  assert.deepEqual(Buffer.from(low.subarray(0, 32)), Buffer.alloc(32, 7), 'r unchanged');
  assert.equal(BigInt(`0x${Buffer.from(low.subarray(32)).toString('hex')}`), 1n, 's → n − s');
});

test('expired, not-yet-valid and self-signed certificates are made on request', async () => {
  const root = await createRootCa({ commonName: 'Root', profile: 'ecc' });
  const now = Date.now();
  const expired = await issueClientCertificate({ commonName: 'old', issuer: root, notBefore: new Date(now - 10 * DAY_MS), notAfter: new Date(now - DAY_MS) });
  assert.ok(Date.parse(node(expired.certificatePem).validTo) < now);
  const future = await issueClientCertificate({ commonName: 'future', issuer: root, notBefore: new Date(now + DAY_MS), notAfter: new Date(now + 10 * DAY_MS) });
  assert.ok(Date.parse(node(future.certificatePem).validFrom) > now);
  const self = await issueClientCertificate({ commonName: 'self' });
  const s = node(self.certificatePem);
  assert.equal(self.selfSigned, true);
  assert.equal(s.issuer, s.subject);
  assert.ok(s.verify(s.publicKey));
  const defaults = node((await issueClientCertificate({ commonName: 'd', issuer: root })).certificatePem);
  const days = (Date.parse(defaults.validTo) - now) / DAY_MS;
  assert.ok(days > 729 && days < 731, `default leaf validity is 2 years, got ${days} days`);
  const caDays = (Date.parse(node(root.certificatePem).validTo) - now) / DAY_MS;
  assert.ok(caDays > 3649 && caDays < 3651, `default CA validity is 10 years, got ${caDays} days`);
  await assert.rejects(issueClientCertificate({ commonName: 'x', issuer: root, notBefore: new Date(now), notAfter: new Date(now - 1) }), { code: 'INVALID_OPTIONS' });
});

test('revoke: a CRL signed by the issuing CA lists the serials; a certificate from another CA is refused', async () => {
  const root = await createRootCa({ commonName: 'Root', profile: 'rsa' });
  const other = await createRootCa({ commonName: 'Other', profile: 'ecc' });
  const a = await issueClientCertificate({ commonName: 'a', issuer: root });
  const b = await issueClientCertificate({ commonName: 'b', issuer: root });
  const pem = await revoke({ issuer: root, certificates: [a.certificatePem, b.certificate] });
  assert.match(pem, /^-----BEGIN X509 CRL-----\n/);
  const crl = new x509.X509Crl(pem.replace(/X509 CRL/g, 'CRL'));
  assert.ok(await crl.verify({ publicKey: root.certificate }));
  assert.equal(crl.issuer, root.certificate.subject);
  assert.deepEqual(crl.entries.map((e) => e.serialNumber).sort(), [a.certificate.serialNumber, b.certificate.serialNumber].sort());
  await assert.rejects(revoke({ issuer: other, certificates: [a.certificatePem] }), (err: unknown) => err instanceof CertsError && err.code === 'NOT_ISSUED_BY_CA');
});

test('loadCredential reads cert + key back, refuses a key of another certificate', async () => {
  const root = await createRootCa({ commonName: 'Root', profile: 'ecc' });
  const leaf = await issueClientCertificate({ commonName: 'ven', issuer: root });
  const loaded = await loadCredential({ certificatePem: root.certificatePem, privateKeyPem: root.privateKeyPem });
  assert.equal(loaded.selfSigned, true);
  assert.equal(loaded.profile, 'ecc');
  const reissued = await issueClientCertificate({ commonName: 'ven2', issuer: loaded });
  assert.ok(node(reissued.certificatePem).verify(node(root.certificatePem).publicKey));
  await assert.rejects(loadCredential({ certificatePem: root.certificatePem, privateKeyPem: leaf.privateKeyPem }), { code: 'INVALID_KEY' });
  await assert.rejects(loadCredential({ certificatePem: root.certificatePem, privateKeyPem: 'nope' }), { code: 'INVALID_KEY' });
  assert.equal(createPrivateKey(leaf.privateKeyPem).asymmetricKeyType, 'ec');
  assert.match(leaf.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/, 'PKCS#8');
});

test('names that would break a DN or a folder are refused', async () => {
  await assert.rejects(issueClientCertificate({ commonName: 'a,CN=b' }), { code: 'INVALID_OPTIONS' });
  await assert.rejects(issueClientCertificate({ commonName: '' }), { code: 'INVALID_OPTIONS' });
  const leaf = await issueClientCertificate({ commonName: 'leaf' });
  await assert.rejects(issueClientCertificate({ commonName: 'x', issuer: leaf }), { code: 'INVALID_OPTIONS' }, 'a leaf cannot issue');
});
