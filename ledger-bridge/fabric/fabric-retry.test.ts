/**
 * The connector's retries (retry.ts) against the Gateway service through a fault-injecting gRPC proxy:
 * an endorsement mismatch (the error a Fabric gateway returns when its peers' endorsements differ) and
 * a real MVCC read conflict (a conflicting transaction committed while the connector's was held before
 * ordering). Retried for the functions whose repetition changes nothing, reported to `onRetry`; the
 * others fail to the caller at once.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { addDaysUtc, EVENT_DAY, METER_1, profile, RETAILER_ID } from '../../chaincode/testing/reference-scenario.ts';
import { LedgerError } from '../errors.ts';
import { startGatewayProxy, type GatewayProxy } from '../testing/gateway-proxy.ts';
import { startTestGateway, TEST_PEER_HOSTNAME, type TestGateway } from '../testing/gateway-server.ts';
import { backoffMs, RETRYABLE_FUNCTIONS, type FabricRetry } from './retry.ts';

async function rig(t: TestContext): Promise<{ g: TestGateway; proxy: GatewayProxy; retries: FabricRetry[] }> {
  const g = await startTestGateway();
  const proxy = await startGatewayProxy({ target: g.server.address, targetTls: { caPem: g.tlsCaPem, hostname: TEST_PEER_HOSTNAME } });
  t.after(async () => {
    await g.close();
    await proxy.close();
  });
  const l = g.embedded;
  g.setTime(new Date(`${addDaysUtc(EVENT_DAY, -40)}T12:00:00Z`));
  await l.ledger.submit(l.identities.operator, 'enableRetailer', [RETAILER_ID]);
  await l.ledger.submit(l.identities.retailer, 'enrolMeter', [METER_1]);
  g.setTime(new Date(`${EVENT_DAY}T01:00:00Z`));
  return { g, proxy, retries: [] };
}

test('an endorsement mismatch (10 ABORTED, ProposalResponsePayloads do not match): retried for enableRetailer, reported; setProgramParams fails at once', async (t) => {
  const { g, proxy, retries } = await rig(t);
  const { operator } = g.embedded.identities;
  const connector = await g.connect(operator, { peerEndpoint: proxy.address, plaintext: true, retry: { initialBackoffMs: 1, maxBackoffMs: 5 }, onRetry: (r) => retries.push(r) });

  proxy.failEndorsements('enableRetailer', 2);
  const r = await connector.submit(operator, 'enableRetailer', ['utility:7777']);
  t.assert.equal(proxy.calls.get('Endorse:enableRetailer'), 3, 'two refused endorsements, then the one that went through');
  t.assert.deepEqual(retries.map((x) => [x.fn, x.reason, x.attempt]), [['enableRetailer', 'ENDORSEMENT_MISMATCH', 1], ['enableRetailer', 'ENDORSEMENT_MISMATCH', 2]]);
  t.assert.equal((await connector.transaction(r.txId)).validationCode, 'VALID');
  t.assert.equal((JSON.parse(await connector.evaluate(operator, 'queryRetailer', ['utility:7777'])) as { enabled: boolean }).enabled, true);

  // A governance change is never re-run on its own: the caller decided it from what it read.
  t.assert.equal(RETRYABLE_FUNCTIONS.includes('setProgramParams'), false);
  const height = await connector.height();
  proxy.failEndorsements('setProgramParams', 1);
  await assert.rejects(connector.submit(operator, 'setProgramParams', ['{"tokenRateMilli":9}']), (err: unknown) => err instanceof LedgerError && err.code === 'ENDORSEMENT' && /ProposalResponsePayloads do not match/.test(err.message));
  t.assert.equal(proxy.calls.get('Endorse:setProgramParams'), 1);
  t.assert.equal(retries.length, 2);
  t.assert.equal(await connector.height(), height, 'nothing was ordered');
});

test('retries are bounded: a mismatch that persists fails after `attempts` submissions', async (t) => {
  const { g, proxy, retries } = await rig(t);
  const { operator } = g.embedded.identities;
  const connector = await g.connect(operator, { peerEndpoint: proxy.address, plaintext: true, retry: { attempts: 3, initialBackoffMs: 1, maxBackoffMs: 5 }, onRetry: (r) => retries.push(r) });
  proxy.failEndorsements('enableRetailer', 10);
  await assert.rejects(connector.submit(operator, 'enableRetailer', ['utility:7777']), (err: unknown) => err instanceof LedgerError && err.code === 'ENDORSEMENT');
  t.assert.equal(proxy.calls.get('Endorse:enableRetailer'), 3);
  t.assert.equal(retries.length, 2);
});

test('a real MVCC read conflict: recordEnergy is endorsed again and commits; the conflicted transaction stays in its block as MVCC_READ_CONFLICT (11)', async (t) => {
  const { g, proxy, retries } = await rig(t);
  const { retailer } = g.embedded.identities;
  const connector = await g.connect(retailer, { peerEndpoint: proxy.address, plaintext: true, retry: { initialBackoffMs: 1, maxBackoffMs: 5 }, onRetry: (r) => retries.push(r) });
  const day = addDaysUtc(EVENT_DAY, -1);
  // While the connector's transaction waits before ordering, another writer commits the same meter-day.
  proxy.beforeSubmit('recordEnergy', async () => {
    await g.embedded.ledger.submit(retailer, 'recordEnergy', [METER_1, day, JSON.stringify(profile(1, 2))]);
  });
  const mine = profile(1, 1);
  const r = await connector.submit(retailer, 'recordEnergy', [METER_1, day, JSON.stringify(mine)]);
  t.assert.deepEqual(retries.map((x) => [x.fn, x.reason, x.attempt]), [['recordEnergy', 'MVCC_READ_CONFLICT', 1]]);
  const conflicted = retries[0]?.error.txId ?? '';
  t.assert.equal((await connector.transaction(conflicted)).validationCode, 'MVCC_READ_CONFLICT');
  t.assert.notEqual(r.txId, conflicted, 'the retry is a new transaction');
  t.assert.equal((await connector.transaction(r.txId)).validationCode, 'VALID');
  const values = (JSON.parse(await connector.evaluate(retailer, 'queryEnergyValue', [METER_1, day])) as { values: number[] }).values;
  t.assert.deepEqual(values, mine, 'the retried values are the ones on the ledger');
});

test('a real MVCC read conflict on setProgramParams (not retried): VALIDATION to the caller, no retry', async (t) => {
  const { g, proxy, retries } = await rig(t);
  const { operator } = g.embedded.identities;
  const connector = await g.connect(operator, { peerEndpoint: proxy.address, plaintext: true, retry: { initialBackoffMs: 1, maxBackoffMs: 5 }, onRetry: (r) => retries.push(r) });
  proxy.beforeSubmit('setProgramParams', async () => {
    await g.embedded.ledger.submit(operator, 'setProgramParams', ['{"tokenRateMilli":8}']);
  });
  await assert.rejects(connector.submit(operator, 'setProgramParams', ['{"tokenRateMilli":9}']), (err: unknown) => err instanceof LedgerError && err.code === 'VALIDATION' && err.validationCode?.name === 'MVCC_READ_CONFLICT');
  t.assert.equal(retries.length, 0);
  t.assert.equal(proxy.calls.get('Endorse:setProgramParams'), 1);
});

test('back-off: doubles from the first wait up to the cap, ±20 %', () => {
  const o = { initialBackoffMs: 100, maxBackoffMs: 1000 };
  assert.deepEqual([1, 2, 3, 4, 5, 30].map((a) => backoffMs(o, a, () => 0.5)), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(backoffMs(o, 1, () => 0), 80);
  assert.equal(backoffMs(o, 1, () => 1), 120);
});
