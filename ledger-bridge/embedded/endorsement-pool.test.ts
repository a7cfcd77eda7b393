/**
 * The embedded ledger with endorsement worker threads: the same contract suite as on the ledger's own
 * thread, and the semantics that depend on where endorsement runs — a worker reads only committed state
 * (MVCC still decides at commit), contract refusals keep their code, the default workers start only
 * once the ledger is busy, and the chain a worker-endorsed run leaves behind verifies.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { addDaysUtc, EVENT_DAY, METER_1, profile, RETAILER_ID } from '../../chaincode/testing/reference-scenario.ts';
import { WORKER_START_IN_FLIGHT } from './embedded-ledger.ts';
import { createEndorsementPool } from './endorsement-pool.ts';
import { loadOrCreateOrgs } from './orgs.ts';
import { LedgerError } from '../errors.ts';
import { ledgerContractSuite } from '../testing/contract-suite.ts';
import { createTestEmbeddedLedger, tempDataDir, type TestEmbeddedLedger } from '../testing/embedded.ts';
import { verifyLedger } from './verify.ts';
import { createTestCa } from '../../chaincode/testing/index.ts';

ledgerContractSuite('embedded, endorsement workers', () => createTestEmbeddedLedger({ endorsementWorkers: 1 }));

async function withMeter(options: Parameters<typeof createTestEmbeddedLedger>[0]): Promise<TestEmbeddedLedger> {
  const l = await createTestEmbeddedLedger(options);
  l.setTime(new Date(`${addDaysUtc(EVENT_DAY, -40)}T12:00:00Z`));
  await l.ledger.submit(l.identities.operator, 'enableRetailer', [RETAILER_ID]);
  await l.ledger.submit(l.identities.retailer, 'enrolMeter', [METER_1]);
  l.setTime(new Date(`${EVENT_DAY}T01:00:00Z`));
  return l;
}

describe('endorsement workers', () => {
  test('two workers: conflicting writes in one block → one VALID, one MVCC_READ_CONFLICT; a refusal keeps its contract code; the chain verifies', async (t) => {
    const l = await withMeter({ endorsementWorkers: 2, batch: { maxMessageCount: 2, timeoutMs: 300 } });
    t.after(() => l.close());
    const day = addDaysUtc(EVENT_DAY, -1);
    const results = await Promise.allSettled([
      l.ledger.submit(l.identities.retailer, 'recordEnergy', [METER_1, day, JSON.stringify(profile(1, 1))]),
      l.ledger.submit(l.identities.retailer, 'recordEnergy', [METER_1, day, JSON.stringify(profile(1, 2))]),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(lost.reason instanceof LedgerError);
    assert.equal(lost.reason.code, 'VALIDATION');
    assert.equal(lost.reason.validationCode?.name, 'MVCC_READ_CONFLICT');

    // A customer may not record energy: refused at endorsement, on the worker, with the contract's code.
    await assert.rejects(
      l.ledger.submit(l.identities.customer1, 'recordEnergy', [METER_1, addDaysUtc(EVENT_DAY, -2), JSON.stringify(profile(1, 3))]),
      (err: unknown) => err instanceof LedgerError && err.code === 'CONTRACT' && err.contractCode === 'ACCESS_DENIED',
    );
    // A read after a commit sees it (the worker's read connection sees every committed block).
    const record = JSON.parse(await l.ledger.evaluate(l.identities.retailer, 'queryEnergyValue', [METER_1, day])) as { found: boolean };
    assert.equal(record.found, true);
    await l.ledger.close();
    const report = await verifyLedger(l.dataDir);
    assert.deepEqual(report.problems, []);
  });

  test(`default workers start only once ${WORKER_START_IN_FLIGHT} calls are in flight; results are the same before and after`, async (t) => {
    const l = await withMeter({});
    t.after(() => l.close());
    assert.equal(l.ledger.endorsementWorkers, 0, 'an idle ledger runs no worker');
    const day = (d: number) => addDaysUtc(EVENT_DAY, -d);
    const burst = await Promise.all(
      Array.from({ length: WORKER_START_IN_FLIGHT * 4 }, (_, i) =>
        l.ledger.submit(l.identities.retailer, 'recordEnergy', [METER_1, day(i + 1), JSON.stringify(profile(1, i))]),
      ),
    );
    assert.equal(new Set(burst.map((r) => r.txId)).size, burst.length);
    // The burst started them in the background; wait until they are up, then endorse there.
    for (let i = 0; i < 200 && l.ledger.endorsementWorkers === 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(l.ledger.endorsementWorkers, Math.min(4, Math.max(1, availableParallelism())), 'one per CPU, at most 4');
    const later = await l.ledger.submit(l.identities.retailer, 'recordEnergy', [METER_1, day(33), JSON.stringify(profile(1, 33))]);
    assert.equal((await l.ledger.transaction(later.txId)).validationCode, 'VALID');
    await l.ledger.close();
    const report = await verifyLedger(l.dataDir);
    assert.deepEqual(report.problems, []);
    assert.equal(report.validTransactions, 1 + 2 + burst.length + 1, 'genesis, set-up, burst, the later one');
  });
});

describe('endorsement pool start-up', () => {
  test('a worker that cannot open the store fails the start with UNAVAILABLE (no hang); an aborted start stops at once', async (t) => {
    const dir = tempDataDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const orgs = await loadOrCreateOrgs(join(dir, 'certs'), { createCa: createTestCa });
    const base = { size: 1, channel: 'mychannel', chaincodeName: 'oadr-dr', orgs };
    await assert.rejects(
      createEndorsementPool({ ...base, dataDir: join(dir, 'no-such-ledger') }),
      (err: unknown) => err instanceof LedgerError && err.code === 'UNAVAILABLE' && /could not start: .*ledger store/.test(err.message),
    );
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      createEndorsementPool({ ...base, dataDir: dir, signal: controller.signal }),
      (err: unknown) => err instanceof LedgerError && err.code === 'UNAVAILABLE' && /closed while they started/.test(err.message),
    );
  });
});
