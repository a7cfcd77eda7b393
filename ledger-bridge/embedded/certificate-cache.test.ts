import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { createTestIdentity } from '../../chaincode/testing/index.ts';
import { cacheShimCertificates } from './certificate-cache.ts';

const require = createRequire(import.meta.url);

test("fabric-shim's certificate parsing is cached per PEM text: the same parse once, the right subject for each certificate", async () => {
  const a = await createTestIdentity({ mspId: 'Org1MSP', commonName: 'alice', attrs: { ID: 'utility:1' } });
  const b = await createTestIdentity({ mspId: 'Org1MSP', commonName: 'bob' });
  const cache = cacheShimCertificates();
  assert.equal(cacheShimCertificates().size(), cache.size(), 'idempotent: one cache');
  const fidm = require(require.resolve('@fidm/x509', { paths: [require.resolve('fabric-shim')] })) as {
    Certificate: { fromPEM(pem: Buffer | string): { subject: { commonName: string }; extensions: { oid: string }[] } };
  };
  const before = cache.size();
  const first = fidm.Certificate.fromPEM(a.certificatePem);
  assert.equal(fidm.Certificate.fromPEM(a.certificatePem), first, 'the second parse is the first one');
  assert.equal(fidm.Certificate.fromPEM(Buffer.from(a.certificatePem)), first, 'a Buffer of the same text too');
  const other = fidm.Certificate.fromPEM(b.certificatePem);
  assert.notEqual(other, first);
  assert.equal(first.subject.commonName, 'alice');
  assert.equal(other.subject.commonName, 'bob');
  assert.ok(first.extensions.some((e) => e.oid === '1.2.3.4.5.6.7.8.1'), 'Fabric CA attributes still readable');
  assert.equal(cache.size(), before + 2);
});
