/**
 * One shared suite of DR-contract scenarios run through the `Ledger` interface only, so the embedded
 * ledger and the Fabric connector are held to the same behaviour: the thesis reference scenario (two
 * households, 35 days, 300 W from 07:00 to 19:00), access-control refusals with their contract code,
 * and contract events delivered in commit order and resumable from a block.
 *
 *   ledgerContractSuite('embedded', async () => ({ ledger, identities, setTime, close }))
 *
 * The contract only accepts a day's energy once the day is over and an event before its window ends,
 * so the scenarios move the ledger's clock (`setTime`); a ledger whose clock cannot be moved (a real
 * network) leaves `setTime` out and the suite skips the clock-bound scenarios.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  EVENT_BASELINE_EVALUATED,
  EVENT_DR_EVENT_NOTIFIED,
  EVENT_DR_TOKENS_MINTED,
  EVENT_ENERGY_RECORDED,
  EVENT_METER_ENROLLED,
  EVENT_RETAILER_ENABLED,
} from '../../chaincode/index.ts';
import { addDaysUtc, EVENT_DAY, EVENT_ID, METER_1, METER_2, profile, RETAILER_ID } from '../../chaincode/testing/reference-scenario.ts';
import { LedgerError } from '../errors.ts';
import type { ContractEvent, Ledger, LedgerIdentity } from '../ledger.ts';

export interface SuiteIdentities {
  /** Org1MSP, ID operator:… */
  readonly operator: LedgerIdentity;
  /** Org1MSP, ID utility:1234 (RETAILER_ID). */
  readonly retailer: LedgerIdentity;
  /** Org2MSP, ID METER_1, IDprovider RETAILER_ID. */
  readonly customer1: LedgerIdentity;
  /** Org2MSP, ID METER_2, IDprovider RETAILER_ID. */
  readonly customer2: LedgerIdentity;
  /** Org2MSP, ID METER_1 but another IDprovider. */
  readonly impostor: LedgerIdentity;
}

export interface SuiteLedger {
  readonly ledger: Ledger;
  readonly identities: SuiteIdentities;
  /** Moves the ledger's clock (transaction timestamps); absent when the ledger's clock is real time. */
  readonly setTime?: (time: Date) => void;
  readonly close?: () => Promise<void>;
}

/** Expects a `LedgerError` from the contract with `contractCode`. */
export async function assertRefused(call: Promise<unknown>, contractCode: string): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof LedgerError, `expected a LedgerError, got ${String(err)}`);
    assert.equal(err.code, 'CONTRACT');
    assert.equal(err.contractCode, contractCode, err.message);
    return true;
  });
}

/** Events from `startBlock` up to and including the one of transaction `lastTxId`. */
async function collect(ledger: Ledger, startBlock: number, lastTxId: string): Promise<ContractEvent[]> {
  const controller = new AbortController();
  const out: ContractEvent[] = [];
  for await (const event of ledger.events({ startBlock, signal: controller.signal })) {
    out.push(event);
    if (event.txId === lastTxId) controller.abort();
  }
  return out;
}

export function ledgerContractSuite(name: string, make: () => Promise<SuiteLedger>): void {
  describe(`ledger contract suite: ${name}`, () => {
    let s: SuiteLedger;
    let id: SuiteIdentities;
    const at = (day: string, time = '12:00:00') => s.setTime?.(new Date(`${day}T${time}Z`));
    const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

    before(async () => {
      s = await make();
      id = s.identities;
    });
    after(async () => {
      await (s.close ? s.close() : s.ledger.close());
    });

    test('the system operator enables a retailer; a retailer may not', async (t) => {
      if (!s.setTime) return t.skip('needs a ledger clock');
      at(addDaysUtc(EVENT_DAY, -40));
      const r = await s.ledger.submit(id.operator, 'enableRetailer', [RETAILER_ID]);
      assert.equal(json(r.result).retailerId, RETAILER_ID);
      assert.match(r.txId, /^[0-9a-f]{64}$/);
      const tx = await s.ledger.transaction(r.txId);
      assert.equal(tx.validationCode, 'VALID');
      assert.equal(tx.fn, 'enableRetailer');
      assert.deepEqual(tx.args, [RETAILER_ID]);
      assert.equal(tx.blockNumber, r.blockNumber);
      await assertRefused(s.ledger.submit(id.retailer, 'enableRetailer', ['utility:6666']), 'ACCESS_DENIED');
    });

    test('the retailer enrols two meters and records 35 days of each (concurrently)', async (t) => {
      if (!s.setTime) return t.skip('needs a ledger clock');
      await s.ledger.submit(id.retailer, 'enrolMeter', [METER_1]);
      await s.ledger.submit(id.retailer, 'enrolMeter', [METER_2]);
      at(EVENT_DAY, '01:00:00');
      const submits: Promise<unknown>[] = [];
      for (let i = 35; i >= 1; i--) {
        const day = addDaysUtc(EVENT_DAY, -i);
        submits.push(s.ledger.submit(id.retailer, 'recordEnergy', [METER_1, day, JSON.stringify(profile(1, i))]));
        submits.push(s.ledger.submit(id.retailer, 'recordEnergy', [METER_2, day, JSON.stringify(profile(2, i))]));
      }
      await Promise.all(submits);
      const day1 = json(await s.ledger.evaluate(id.customer1, 'queryEnergyValue', [METER_1, addDaysUtc(EVENT_DAY, -1)]));
      assert.equal(day1.found, true);
      assert.deepEqual(day1.values, profile(1, 1));
      assert.equal((day1.history as unknown[]).length, 1, 'history read through the ledger');
      await assertRefused(s.ledger.evaluate(id.customer2, 'queryEnergyValue', [METER_1, addDaysUtc(EVENT_DAY, -1)]), 'ACCESS_DENIED');
      await assertRefused(s.ledger.evaluate(id.impostor, 'queryEnergyValue', [METER_1, addDaysUtc(EVENT_DAY, -1)]), 'ACCESS_DENIED');
      await assertRefused(s.ledger.submit(id.customer1, 'recordEnergy', [METER_1, addDaysUtc(EVENT_DAY, -1), JSON.stringify(profile(1, 1))]), 'ACCESS_DENIED');
    });

    test('baselines, a 300 W event and the per-customer reduction (OPR)', async (t) => {
      if (!s.setTime) return t.skip('needs a ledger clock');
      at(addDaysUtc(EVENT_DAY, -1), '18:00:00');
      await s.ledger.submit(id.operator, 'evaluateBaseline', [METER_1, EVENT_DAY]);
      await s.ledger.submit(id.operator, 'evaluateBaseline', [METER_2, EVENT_DAY]);
      await s.ledger.submit(id.operator, 'notifyDRevent', [EVENT_ID, EVENT_DAY, '07:00-19:00', '300', '']);
      await assertRefused(s.ledger.submit(id.retailer, 'notifyDRevent', ['dr-x', EVENT_DAY, '07:00-19:00', '300', '']), 'ACCESS_DENIED');
      const opr1 = json(await s.ledger.evaluate(id.customer1, 'queryLoadReduction', [EVENT_ID, METER_1])).oprW as number[];
      const opr2 = json(await s.ledger.evaluate(id.customer2, 'queryLoadReduction', [EVENT_ID, METER_2])).oprW as number[];
      assert.equal(opr1.length, 48);
      for (let k = 0; k < 48; k++) assert.equal((opr1[k] as number) + (opr2[k] as number), 300, `slot ${k}: the whole request is allocated`);
      await assertRefused(s.ledger.evaluate(id.impostor, 'queryLoadReduction', [EVENT_ID, METER_1]), 'ACCESS_DENIED');
      // Opt answers on the ledger: the customer itself, or its retailer for it; the operator lists them.
      const nowMs = String(Date.parse(`${addDaysUtc(EVENT_DAY, -1)}T18:00:00Z`));
      await s.ledger.submit(id.customer1, 'recordOptState', [EVENT_ID, METER_1, 'optIn', '0', nowMs]);
      await s.ledger.submit(id.retailer, 'recordOptState', [EVENT_ID, METER_2, 'optOut', '0', nowMs]);
      await assertRefused(s.ledger.submit(id.impostor, 'recordOptState', [EVENT_ID, METER_1, 'optOut', '0', nowMs]), 'ACCESS_DENIED');
      const opts = json(await s.ledger.evaluate(id.operator, 'queryEventOpts', [EVENT_ID])).opts as { meterId: string; optType: string }[];
      assert.deepEqual(opts.map((o) => [o.meterId, o.optType]), [[METER_1, 'optIn'], [METER_2, 'optOut']]);
    });

    test('a baseline without enough recorded days is refused with BASELINE_NOT_FOUND', async (t) => {
      if (!s.setTime) return t.skip('needs a ledger clock');
      await s.ledger.submit(id.retailer, 'enrolMeter', ['smartmeter:20360199']);
      await assertRefused(s.ledger.submit(id.operator, 'evaluateBaseline', ['smartmeter:20360199', EVENT_DAY]), 'BASELINE_NOT_FOUND');
    });

    test('settlement: household 1 (shifted its load) earns more tokens than household 2; settling twice mints nothing', async (t) => {
      if (!s.setTime) return t.skip('needs a ledger clock');
      const next = addDaysUtc(EVENT_DAY, 1);
      at(next, '01:00:00');
      await s.ledger.submit(id.retailer, 'recordEnergy', [METER_1, EVENT_DAY, JSON.stringify(profile(1, 0, true))]);
      await s.ledger.submit(id.retailer, 'recordEnergy', [METER_2, EVENT_DAY, JSON.stringify(profile(2, 0))]);
      at(next, '02:00:00');
      const settled = json((await s.ledger.submit(id.retailer, 'getDRToken', [EVENT_ID, JSON.stringify([METER_1, METER_2])])).result);
      assert.ok((settled.mintedMilli as number) > 0);
      const tokens1 = json(await s.ledger.evaluate(id.customer1, 'queryEarnedToken', [METER_1, EVENT_ID])).balanceMilli as number;
      const tokens2 = json(await s.ledger.evaluate(id.customer2, 'queryEarnedToken', [METER_2, EVENT_ID])).balanceMilli as number;
      assert.ok(tokens1 > tokens2, `household 1 (${tokens1}) earns more than household 2 (${tokens2})`);
      assert.equal(tokens1 + tokens2, settled.mintedMilli);
      const again = json((await s.ledger.submit(id.retailer, 'getDRToken', [EVENT_ID, JSON.stringify([METER_1, METER_2])])).result);
      assert.equal(again.mintedMilli, 0);
      await assertRefused(s.ledger.evaluate(id.customer1, 'queryEarnedToken', [METER_2, EVENT_ID]), 'ACCESS_DENIED');
    });

    test('contract events: one per committed transaction, in commit order, resumable from a block', async () => {
      // A last transaction whose event ends the reading.
      const marker = await s.ledger.submit(id.operator, 'enableRetailer', ['utility:marker']);
      const events = await collect(s.ledger, 0, marker.txId);
      const names = events.map((e) => e.name);
      assert.equal(events.at(-1)?.txId, marker.txId);
      assert.equal(names[0], EVENT_RETAILER_ENABLED);
      assert.deepEqual(names.slice(1, 3), [EVENT_METER_ENROLLED, EVENT_METER_ENROLLED]);
      assert.equal(names.filter((n) => n === EVENT_ENERGY_RECORDED).length, 72);
      for (const n of [EVENT_BASELINE_EVALUATED, EVENT_DR_EVENT_NOTIFIED, EVENT_DR_TOKENS_MINTED]) assert.ok(names.includes(n), n);
      for (let i = 1; i < events.length; i++) {
        const a = events[i - 1] as ContractEvent;
        const b = events[i] as ContractEvent;
        assert.ok(a.blockNumber < b.blockNumber || (a.blockNumber === b.blockNumber && a.txIndex < b.txIndex), 'commit order');
      }
      assert.equal(new Set(events.map((e) => e.txId)).size, events.length, 'one event per transaction');
      const middle = (events[Math.floor(events.length / 2)] as ContractEvent).blockNumber;
      const tail = events.filter((e) => e.blockNumber >= middle);
      const resumed = await collect(s.ledger, middle, marker.txId);
      assert.deepEqual(resumed.map((e) => e.txId), tail.map((e) => e.txId));
      const payload = JSON.parse(Buffer.from((events[0] as ContractEvent).payload).toString('utf8')) as Record<string, unknown>;
      assert.equal(payload.retailerId, RETAILER_ID);
    });

    test('blocks are hash-chained', async () => {
      const height = await s.ledger.height();
      let previous = '';
      for (let n = 0; n < height; n++) {
        const block = await s.ledger.block(n);
        assert.equal(block.number, n);
        assert.equal(block.previousHash, previous);
        assert.match(block.hash, /^[0-9a-f]{64}$/);
        previous = block.hash;
      }
      await assert.rejects(s.ledger.block(height), (err: unknown) => err instanceof LedgerError && err.code === 'NOT_FOUND');
    });
  });
}
