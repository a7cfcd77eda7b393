import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeFabricAttributes } from '../../certs/index.ts';
import { createTestCa, createTestIdentity } from './test-ca.ts';

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
    assert.equal(cert.subject, 'O=oadr-ledger development PKI\nOU=client\nCN=meter1');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(id.attrs, { 'hf.Affiliation': '', 'hf.EnrollmentID': 'meter1', 'hf.Type': 'client', ID: 'smartmeter:1', IDprovider: 'utility:1234' });
    // The extension value is the raw JSON, keys in byte order, as Fabric CA writes it.
    const json = '{"attrs":{"ID":"smartmeter:1","IDprovider":"utility:1234","hf.Affiliation":"","hf.EnrollmentID":"meter1","hf.Type":"client"}}';
    assert.equal(Buffer.from(encodeFabricAttributes(id.attrs)).toString(), json);
    assert.ok(cert.raw.includes(Buffer.from(json)));
  });
});
