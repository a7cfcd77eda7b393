import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import { createTestCa, createTestIdentity } from '../../chaincode/testing/index.ts';
import { createEmbeddedLedger, issueClientIdentity, loadOrCreateOrgs, LedgerError } from '../index.ts';
import { tempDataDir } from '../testing/embedded.ts';
import { startTestGateway } from '../testing/gateway-server.ts';
import { MappingError } from './errors.ts';
import { createLedgerMapping } from './mapping.ts';
import { CERT_FILE, createRetailerIdentities, KEY_FILE } from './retailer-identities.ts';
import { createMappingStore } from './store.ts';

/** Writes an identity's certificate and key at `certFile` and `keyFile` of the folder `dir/folder`. */
function writeIdentity(dir: string, folder: string, id: { readonly certificatePem: string; readonly privateKeyPem: string }, certFile = CERT_FILE, keyFile = KEY_FILE): void {
  for (const [file, pem] of [[certFile, id.certificatePem], [keyFile, id.privateKeyPem]] as const) {
    mkdirSync(join(dir, folder, file, '..'), { recursive: true });
    writeFileSync(join(dir, folder, file), pem);
  }
}

const noIdentity = (pattern: RegExp) => (err: unknown) => err instanceof MappingError && err.code === 'NO_IDENTITY' && pattern.test(err.message);

test('retailer identities from a directory (cert.pem + key.pem, or an MSP folder); a missing one, a wrong ID or a bad retailer id is NO_IDENTITY; the mapping writes nothing for a retailer without one', async (t) => {
  const dir = tempDataDir('oadr-retailer-ids-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const orgs = await loadOrCreateOrgs(join(dir, 'ledger', 'certs'), { createCa: createTestCa });
  const org1 = orgs[0];
  assert.ok(org1 !== undefined);
  const ids = join(dir, 'retailers');
  const put = async (folder: string, id: string, certFile: string, keyFile: string) => {
    const issued = await issueClientIdentity(org1, id, { ID: id });
    writeIdentity(ids, folder, issued, certFile, keyFile);
    return issued;
  };
  const a = await put('retail-a', 'retailer:retail-a', CERT_FILE, KEY_FILE);
  await put('retail-b', 'retailer:retail-b', 'signcerts/cert.pem', 'keystore/0a1b2c_sk'); // fabric-ca-client enroll -M
  await put('retail-c', 'retailer:retail-b', CERT_FILE, KEY_FILE); // another retailer's certificate
  const retailers = createRetailerIdentities({ dir: ids, mspId: org1.mspId });

  const ra = await retailers.get('retail-a');
  t.assert.equal(ra.retailerId, 'retailer:retail-a');
  t.assert.equal(ra.identity.certificatePem, a.certificatePem);
  t.assert.equal((await retailers.get('retail-b')).retailerId, 'retailer:retail-b');
  await assert.rejects(retailers.get('retail-x'), noIdentity(/retail-x has no ledger identity: put its certificate \(attribute ID=retailer:retail-x\)/));
  await assert.rejects(retailers.get('retail-c'), noIdentity(/carries ID=retailer:retail-b, not retailer:retail-c/));
  await assert.rejects(retailers.get('../retail-a'), noIdentity(/cannot have a ledger identity/));
  await assert.rejects(retailers.check(['retail-a', 'retail-b', 'retail-x']), noIdentity(/^1 retailer\(s\) without a usable ledger identity: retailer retail-x/));
  await retailers.check(['retail-a', 'retail-b']);

  // The mapping over a ledger: each meter as its retailer; a retailer without an identity gets
  // NO_IDENTITY at the write and nothing is written for its meter, with no other identity either.
  const ledger = await createEmbeddedLedger({ dataDir: join(dir, 'ledger'), orgs, clock: () => new Date(`${EVENT_DAY}T12:00:00Z`) });
  t.after(() => ledger.close());
  const store = createMappingStore({ path: join(dir, 'mapping.sqlite') });
  t.after(() => store.close());
  const operator = await issueClientIdentity(org1, 'vtn-operator', { ID: 'operator:vtn' });
  const retailerOfMeter = new Map([['m-a', 'retail-a'], ['m-b', 'retail-b'], ['m-x', 'retail-x']]);
  const mapping = createLedgerMapping({
    ledger,
    store,
    identities: {
      operator,
      retailer: await issueClientIdentity(org1, 'vtn-retailer', { ID: 'retailer:vtn' }),
      retailerId: 'retailer:vtn',
      retailerOf: retailers.forMeters((meterId) => retailerOfMeter.get(meterId)),
    },
  });
  const day = [{ day: addDaysUtc(EVENT_DAY, -1), values: profile(1, 1) }];
  await mapping.importEnergy('m-a', day);
  await mapping.importEnergy('m-b', day);
  const height = await ledger.height();
  await assert.rejects(mapping.importEnergy('m-x', day), noIdentity(/retail-x has no ledger identity/));
  const notFound = (err: unknown) => err instanceof LedgerError && err.contractCode === 'NOT_FOUND';
  await assert.rejects(ledger.evaluate(operator, 'queryMeter', ['m-x']), notFound, 'm-x was not enrolled by anybody');
  t.assert.equal(await ledger.height(), height, 'nothing was written');
  for (const [meterId, retailerId] of [['m-a', 'retailer:retail-a'], ['m-b', 'retailer:retail-b']]) {
    t.assert.equal((JSON.parse(await ledger.evaluate(operator, 'queryMeter', [meterId as string])) as { retailerId: string }).retailerId, retailerId);
  }
  t.assert.equal(await mapping.balanceMilli('m-a'), 0);
  await assert.rejects(mapping.balanceMilli('m-x'), noIdentity(/retail-x/));
});

test('retailer identities issued on first use are kept and reused after a restart', async (t) => {
  const dir = tempDataDir('oadr-retailer-ids-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [org1] = await loadOrCreateOrgs(join(dir, 'certs'), { createCa: createTestCa });
  assert.ok(org1 !== undefined);
  const issued: string[] = [];
  const first = createRetailerIdentities({
    dir: join(dir, 'retailers'),
    mspId: org1.mspId,
    issue: (attrs, id) => {
      issued.push(id);
      return issueClientIdentity(org1, `vtn-retailer-${id}`, attrs);
    },
  });
  const n = await first.get('retail-n');
  t.assert.equal((await first.get('retail-n')).identity.certificatePem, n.identity.certificatePem, 'kept');
  t.assert.deepEqual(issued, ['retail-n'], 'issued once');
  t.assert.equal(readFileSync(join(dir, 'retailers', 'retail-n', CERT_FILE), 'utf8'), n.identity.certificatePem);
  const again = createRetailerIdentities({ dir: join(dir, 'retailers'), mspId: org1.mspId, issue: () => Promise.reject(new Error('must not issue again')) });
  t.assert.deepEqual(await again.get('retail-n'), n, 'the same identity after a restart');
});

test('on Fabric (fabric-gateway → Gateway service over TLS): each meter is enrolled and recorded with its retailer identity from the directory; the peer refuses A on B\'s meter; no identity, no transaction', async (t) => {
  const g = await startTestGateway();
  t.after(() => g.close());
  g.setTime(new Date(`${EVENT_DAY}T12:00:00Z`));
  const dir = tempDataDir('oadr-retailer-ids-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // What `fabric-ca-client enroll -M retailers/<retailer>` writes, from the org's CA with ID=retailer:<retailer>.
  const ca = await createTestCa('ca.org1.example.com');
  for (const r of ['retail-a', 'retail-b']) {
    writeIdentity(join(dir, 'retailers'), r, await createTestIdentity({ mspId: 'Org1MSP', commonName: r, attrs: { ID: `retailer:${r}` }, ca }), 'signcerts/cert.pem', 'keystore/priv_sk');
  }
  const retailers = createRetailerIdentities({ dir: join(dir, 'retailers'), mspId: 'Org1MSP' });
  const { operator, retailer } = g.embedded.identities;
  const connector = await g.connect(operator);
  const store = createMappingStore({ path: join(dir, 'mapping.sqlite') });
  t.after(() => store.close());
  const retailerOfMeter = new Map([['m-a', 'retail-a'], ['m-b', 'retail-b'], ['m-x', 'retail-x']]);
  const mapping = createLedgerMapping({
    ledger: connector,
    store,
    identities: { operator, retailer, retailerId: 'utility:1234', retailerOf: retailers.forMeters((m) => retailerOfMeter.get(m)) },
  });
  const day = [{ day: addDaysUtc(EVENT_DAY, -1), values: profile(1, 1) }];
  const [txA] = await mapping.importEnergy('m-a', day);
  await mapping.importEnergy('m-b', day);
  for (const [meterId, retailerId] of [['m-a', 'retailer:retail-a'], ['m-b', 'retailer:retail-b']] as const) {
    t.assert.equal((JSON.parse(await connector.evaluate(operator, 'queryMeter', [meterId])) as { retailerId: string }).retailerId, retailerId);
  }
  t.assert.equal((await connector.transaction(txA as string)).validationCode, 'VALID');
  const asA = (await retailers.get('retail-a')).identity;
  const before = await connector.evaluate(operator, 'queryEnergyValue', ['m-b', day[0]?.day as string]);
  await assert.rejects(connector.submit(asA, 'recordEnergy', ['m-b', day[0]?.day as string, JSON.stringify(profile(2, 1))]), (err: unknown) => err instanceof LedgerError && err.code === 'CONTRACT' && err.contractCode === 'ACCESS_DENIED');
  t.assert.equal(await connector.evaluate(operator, 'queryEnergyValue', ['m-b', day[0]?.day as string]), before);
  const height = await connector.height();
  await assert.rejects(mapping.importEnergy('m-x', day), noIdentity(/retail-x has no ledger identity/));
  t.assert.equal(await connector.height(), height, 'nothing ordered for the retailer without an identity');
});
