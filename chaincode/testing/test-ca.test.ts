import assert from 'node:assert/strict';
import { X509Certificate, createVerify } from 'node:crypto';
import { describe, it } from 'node:test';
import { createTestCa, createTestIdentity, encodeAttributes, signFabric } from './test-ca.ts';

describe('test CA', () => {
  it('caches a CA per name', async () => {
    assert.equal(await createTestCa('ca.cache-test'), await createTestCa('ca.cache-test'));
    assert.notEqual(await createTestCa('ca.cache-test'), await createTestCa('ca.other'));
  });

  it('issues an ECDSA P-256 identity chained to its CA with Fabric CA attributes', async () => {
    const ca = await createTestCa('ca.org2.example.com');
    const id = await createTestIdentity({ mspId: 'Org2MSP', commonName: 'meter1', ca, attrs: { ID: 'smartmeter:1', IDprovider: 'utility:1234' } });
    const cert = new X509Certificate(id.certificatePem);
    const caCert = new X509Certificate(ca.certificatePem);
    assert.equal(caCert.ca, true);
    assert.equal(cert.ca, false);
    assert.ok(cert.checkIssued(caCert));
    assert.ok(cert.verify(caCert.publicKey));
    assert.equal(cert.subject, 'OU=client\nCN=meter1');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(id.attrs, { 'hf.Affiliation': '', 'hf.EnrollmentID': 'meter1', 'hf.Type': 'client', ID: 'smartmeter:1', IDprovider: 'utility:1234' });
    // The extension value is the raw JSON, keys in byte order, as Fabric CA writes it.
    const json = '{"attrs":{"ID":"smartmeter:1","IDprovider":"utility:1234","hf.Affiliation":"","hf.EnrollmentID":"meter1","hf.Type":"client"}}';
    assert.equal(Buffer.from(encodeAttributes(id.attrs)).toString(), json);
    assert.ok(cert.raw.includes(Buffer.from(json)));
  });

  it('signs with a DER, low-S ECDSA signature the certificate key verifies', async () => {
    const id = await createTestIdentity({ mspId: 'Org1MSP', commonName: 'signer' });
    const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    for (let i = 0; i < 8; i++) {
      const data = Buffer.from(`message ${i}`);
      const sig = signFabric(id.privateKey, data);
      assert.equal(sig[0], 0x30);
      assert.ok(createVerify('sha256').update(data).verify(id.certificatePem, sig));
      const rLen = sig[3] as number;
      const s = BigInt(`0x${sig.subarray(4 + rLen + 2).toString('hex')}`);
      assert.ok(s <= n / 2n);
    }
  });
});
