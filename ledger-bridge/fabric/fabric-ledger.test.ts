/**
 * The Fabric connector, for real: fabric-gateway + grpc-js over TLS on loopback to the Gateway gRPC
 * service in front of an embedded ledger. The shared contract suite, error mapping, and event
 * checkpoints across a connector restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EVENT_RETAILER_ENABLED } from '../../chaincode/index.ts';
import { addDaysUtc, EVENT_DAY, METER_1, profile, RETAILER_ID } from '../../chaincode/testing/reference-scenario.ts';
import { LedgerError } from '../errors.ts';
import { createFabricLedger } from './fabric-ledger.ts';
import { startTestGateway, type TestGateway } from '../testing/gateway-server.ts';
import { ValidationCode, type ContractEvent, type Ledger } from '../ledger.ts';
import { ledgerContractSuite } from '../testing/contract-suite.ts';

ledgerContractSuite('Fabric connector over gRPC + TLS (fabric-gateway → Gateway service)', async () => {
  const g = await startTestGateway();
  const ledger = await g.connect(g.embedded.identities.operator);
  return { ledger, identities: g.embedded.identities, setTime: (t: Date) => g.setTime(t), close: () => g.close() };
});

const at = (g: TestGateway, day: string, time = '12:00:00') => g.setTime(new Date(`${day}T${time}Z`));

/** A served ledger with the retailer enabled and METER_1 enrolled, clock on the event day. */
async function withMeter(options: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
  const g = await startTestGateway(options);
  const l = g.embedded;
  at(g, addDaysUtc(EVENT_DAY, -40));
  await l.ledger.submit(l.identities.operator, 'enableRetailer', [RETAILER_ID]);
  await l.ledger.submit(l.identities.retailer, 'enrolMeter', [METER_1]);
  at(g, EVENT_DAY, '01:00:00');
  return g;
}

function isValidationError(name: keyof typeof ValidationCode, txId?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof LedgerError, String(err));
    assert.equal(err.code, 'VALIDATION', err.message);
    assert.deepEqual(err.validationCode, { name, number: ValidationCode[name] });
    assert.match(err.txId ?? '', /^[0-9a-f]{64}$/);
    if (txId) assert.equal(err.txId, txId);
    return true;
  };
}

const flexRecord = (id: string, time: string) =>
  JSON.stringify({ id, time, voltageLL: 400, voltageLN: 230, power: -3, assetIds: ['bat-1'], components: [{ assetId: 'bat-1', power: -3 }] });

describe('Fabric connector: errors mapped to LedgerError', () => {
  test('a refusal by the contract: CONTRACT with the contract code, nothing ordered', async (t) => {
    const g = await withMeter();
    t.after(() => g.close());
    const connector = await g.connect(g.embedded.identities.retailer);
    const height = await connector.height();
    await assert.rejects(connector.submit(g.embedded.identities.retailer, 'enableRetailer', ['utility:6666']), (err: unknown) => {
      assert.ok(err instanceof LedgerError);
      assert.equal(err.code, 'CONTRACT');
      assert.equal(err.contractCode, 'ACCESS_DENIED');
      assert.match(err.message, /^ACCESS_DENIED: /);
      assert.match(err.txId ?? '', /^[0-9a-f]{64}$/);
      return true;
    });
    await assert.rejects(connector.evaluate(g.embedded.identities.customer2, 'queryMeter', [METER_1]), (err: unknown) => err instanceof LedgerError && err.contractCode === 'ACCESS_DENIED');
    assert.equal(await connector.height(), height, 'nothing was ordered');
  });

  test('two writes of one key in one block, retries off: one VALID, one VALIDATION MVCC_READ_CONFLICT (11)', async (t) => {
    const g = await withMeter({ batch: { maxMessageCount: 2, timeoutMs: 500 } });
    t.after(() => g.close());
    const connector = await g.connect(g.embedded.identities.retailer, { retry: { attempts: 1 } });
    const day = addDaysUtc(EVENT_DAY, -1);
    const results = await Promise.allSettled([
      connector.submit(g.embedded.identities.retailer, 'recordEnergy', [METER_1, day, JSON.stringify(profile(1, 1))]),
      connector.submit(g.embedded.identities.retailer, 'recordEnergy', [METER_1, day, JSON.stringify(profile(1, 2))]),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    const loser = (lost[0] as PromiseRejectedResult).reason as LedgerError;
    isValidationError('MVCC_READ_CONFLICT')(loser);
    const winner = (won[0] as PromiseFulfilledResult<{ txId: string; blockNumber: number }>).value;
    assert.equal(loser.blockNumber, winner.blockNumber);
    const tx = await connector.transaction(loser.txId as string);
    assert.equal(tx.validationCode, 'MVCC_READ_CONFLICT');
    assert.equal(tx.blockNumber, winner.blockNumber);
  });

  test('a flexibility claim endorsed by Org1 only: VALIDATION ENDORSEMENT_POLICY_FAILURE (10); both orgs (library signer): VALID', async (t) => {
    const g = await withMeter();
    t.after(() => g.close());
    const oneOrg = await g.connect(g.embedded.identities.retailer, { endorsingOrganizations: { submitFlexibility: ['Org1MSP'] } });
    await assert.rejects(oneOrg.submit(g.embedded.identities.retailer, 'submitFlexibility', [flexRecord('flex-1', `${EVENT_DAY}T00:45:00Z`)]), isValidationError('ENDORSEMENT_POLICY_FAILURE'));
    const both = await g.connect(g.embedded.identities.retailer, { signer: 'fabric-gateway' });
    const ok = await both.submit(g.embedded.identities.retailer, 'submitFlexibility', [flexRecord('flex-2', `${EVENT_DAY}T00:45:00Z`)]);
    assert.deepEqual((await both.transaction(ok.txId)).endorsers, ['Org1MSP', 'Org2MSP']);
    await assert.rejects(both.evaluate(g.embedded.identities.operator, 'queryFlexibility', ['flex-1']), (err: unknown) => err instanceof LedgerError && err.contractCode === 'NOT_FOUND');
  });

  test('governance: a parameter change through the gateway is endorsed by both orgs from the chaincode interest; Org1 alone → ENDORSEMENT_POLICY_FAILURE (10)', async (t) => {
    // The chaincode-level policy of setProgramParams is OR here, as a Fabric channel deployed with OR:
    // only the program key's own policy asks for both orgs.
    const g = await startTestGateway({ policies: { functions: { setProgramParams: "OR('Org1MSP.peer','Org2MSP.peer')" } } });
    t.after(() => g.close());
    const operator = g.embedded.identities.operator;
    const connector = await g.connect(operator);
    const first = await connector.submit(operator, 'setProgramParams', ['{"tokenRateMilli":1500}']);
    assert.deepEqual((await connector.transaction(first.txId)).endorsers, ['Org1MSP', 'Org2MSP']);
    const second = await connector.submit(operator, 'setProgramParams', ['{"tokenRateMilli":1600}']);
    assert.deepEqual((await connector.transaction(second.txId)).endorsers, ['Org1MSP', 'Org2MSP'], 'the gateway followed the interest, no endorsingOrganizations given');
    const oneOrg = await g.connect(operator, { endorsingOrganizations: { setProgramParams: ['Org1MSP'] } });
    await assert.rejects(oneOrg.submit(operator, 'setProgramParams', ['{"tokenRateMilli":9}']), isValidationError('ENDORSEMENT_POLICY_FAILURE'));
    assert.equal(JSON.parse(await connector.evaluate(operator, 'queryProgramParams', [])).tokenRateMilli, 1600);
  });

  test('a commit slower than the submit timeout: TIMEOUT with the transaction id, which commits later', async (t) => {
    const g = await startTestGateway({ batch: { timeoutMs: 1500, maxMessageCount: 500 } });
    t.after(() => g.close());
    const connector = await g.connect(g.embedded.identities.operator);
    let txId = '';
    await assert.rejects(connector.submit(g.embedded.identities.operator, 'enableRetailer', [RETAILER_ID], { timeoutMs: 200 }), (err: unknown) => {
      assert.ok(err instanceof LedgerError);
      assert.equal(err.code, 'TIMEOUT', err.message);
      txId = err.txId ?? '';
      return true;
    });
    assert.match(txId, /^[0-9a-f]{64}$/);
    const status = await g.embedded.ledger.commitStatus(txId, { timeoutMs: 5000 });
    assert.equal(status.validationCode, 'VALID');
    assert.equal((await connector.transaction(txId)).fn, 'enableRetailer');
  });

  test('an unknown block or transaction: NOT_FOUND', async (t) => {
    const g = await startTestGateway();
    t.after(() => g.close());
    const connector = await g.connect(g.embedded.identities.operator);
    const height = await connector.height();
    await assert.rejects(connector.block(height), (err: unknown) => err instanceof LedgerError && err.code === 'NOT_FOUND');
    await assert.rejects(connector.transaction('00'.repeat(32)), (err: unknown) => err instanceof LedgerError && err.code === 'NOT_FOUND');
  });

  test('a peer that is not there: UNAVAILABLE within the evaluate deadline', async (t) => {
    const g = await startTestGateway();
    const address = g.server.address;
    await g.close();
    const connector = await createFabricLedger({ peerEndpoint: address, plaintext: true, identity: g.embedded.identities.operator, deadlines: { evaluateMs: 1000 } });
    t.after(() => connector.close());
    await assert.rejects(connector.evaluate(g.embedded.identities.operator, 'queryMeter', [METER_1]), (err: unknown) => {
      assert.ok(err instanceof LedgerError);
      assert.ok(err.code === 'UNAVAILABLE' || err.code === 'TIMEOUT', err.code);
      return true;
    });
  });
});

/** Reads events with `connector` until `count` arrived (or the one of `lastTxId`). */
async function read(connector: Ledger, options: { count?: number; lastTxId?: string; startBlock?: number }): Promise<ContractEvent[]> {
  const controller = new AbortController();
  const out: ContractEvent[] = [];
  for await (const e of connector.events({ signal: controller.signal, ...(options.startBlock === undefined ? {} : { startBlock: options.startBlock }) })) {
    out.push(e);
    if (out.length === options.count || e.txId === options.lastTxId) controller.abort();
  }
  return out;
}

describe('Fabric connector: event checkpoint', () => {
  test('a restarted connector resumes after the last event handled, mid-block too: none missed, none repeated', async (t) => {
    const g = await startTestGateway({ batch: { maxMessageCount: 4, timeoutMs: 1000 } });
    t.after(() => g.close());
    const dir = mkdtempSync(join(tmpdir(), 'oadr-checkpoint-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const checkpointFile = join(dir, 'events.json');
    const operator = g.embedded.identities.operator;
    at(g, addDaysUtc(EVENT_DAY, -40));
    const first = await g.connect(operator, { checkpointFile });
    const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `utility:${from + i}`);
    const firstBatch = await Promise.all(ids(100, 8).map((r) => first.submit(operator, 'enableRetailer', [r])));
    const seen = await read(first, { count: 6, startBlock: 0 });
    assert.deepEqual(seen.map((e) => e.name), Array(6).fill(EVENT_RETAILER_ENABLED));
    assert.equal(seen[5]?.blockNumber, firstBatch.find((r) => r.txId === seen[6 - 1]?.txId)?.blockNumber);
    await first.close();

    const secondBatch = await Promise.all(ids(200, 3).map((r) => g.embedded.ledger.submit(operator, 'enableRetailer', [r])));
    const all = await read(g.embedded.ledger, { startBlock: 0, lastTxId: (secondBatch.at(-1) as { txId: string }).txId });
    const stopAt = all.findIndex((e) => e.txId === seen[5]?.txId);
    assert.equal(stopAt, 5);
    assert.equal(all[6]?.blockNumber, all[5]?.blockNumber, 'the restart point is inside a block');

    const restarted = await g.connect(operator, { checkpointFile });
    const resumed = await read(restarted, { startBlock: 0, lastTxId: all.at(-1)?.txId as string });
    assert.deepEqual(resumed.map((e) => e.txId), all.slice(6).map((e) => e.txId));
    assert.deepEqual(resumed.map((e) => [e.blockNumber, e.txIndex]), all.slice(6).map((e) => [e.blockNumber, e.txIndex]));
  });
});
