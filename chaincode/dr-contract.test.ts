import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { canonicalJson } from './canonical-json.ts';
import { DrContract } from './dr-contract.ts';
import { EVENT_DR_EVENT_NOTIFIED } from './events.ts';
import { contractMetadata } from './metadata.ts';
import {
  addDaysUtc, at, createScenarioIdentities, EVENT_DAY, EVENT_ID, METER_1, METER_2, profile, runScenario, S, setUpScenario,
  type ScenarioIdentities,
} from './testing/reference-scenario.ts';
import { createKeys } from './keys.ts';
import { initialAvailability, updateAvailability } from './math/index.ts';
import { createTestLedger, type TestLedger } from './testing/index.ts';

let id: ScenarioIdentities;
before(async () => { id = await createScenarioIdentities(); });

const newLedger = () => createTestLedger({ contractMetadata: contractMetadata() });

/** Asserts the call is refused with `code` and that the committed state did not change. */
async function refused(ledger: TestLedger, call: () => Promise<unknown>, code: string): Promise<void> {
  const before = ledger.snapshot();
  await assert.rejects(call, (err: Error) => {
    assert.ok(err.message.startsWith(`${code}: `), `expected ${code}, got: ${err.message}`);
    return true;
  });
  assert.deepEqual(ledger.snapshot(), before);
}

describe('reference scenario (thesis chapter 5)', () => {
  test('two households, 300 W 07:00–19:00: proportional allocation, household 1 earns more, settle twice mints nothing', async () => {
    const ledger = newLedger();
    const contract = new DrContract();
    const out = await runScenario(ledger, contract, id);
    const window = Array.from({ length: 48 }, (_, k) => 28 + k); // 07:00–19:00 at 15 min
    assert.equal(out.opr1.length, 48);
    for (let k = 0; k < 48; k++) {
      const h = window[k]!;
      const b1 = out.baseline1[h]!;
      const b2 = out.baseline2[h]!;
      assert.equal(out.opr1[k]! + out.opr2[k]!, 300, `slot ${h}: the whole request is allocated`);
      assert.ok(Math.abs(out.opr1[k]! - (300 * b1) / (b1 + b2)) < 1, `slot ${h}: household 1 share ∝ baseline`);
    }
    assert.ok(out.tokens1 > out.tokens2, `household 1 (${out.tokens1}) earns more than household 2 (${out.tokens2})`);
    assert.ok(out.tokens1 > 0);

    const after = addDaysUtc(EVENT_DAY, 1);
    const event = JSON.parse((await ledger.evaluate(contract, id.operator, 'queryDRevent', [EVENT_ID], at(after, '04:00:00'))).result);
    assert.equal(event.status, 'settled');
    assert.equal(event.mintedMilli, out.tokens1 + out.tokens2);
    const supply = JSON.parse((await ledger.evaluate(contract, id.operator, 'queryTokenSupply', [], at(after, '04:00:00'))).result);
    assert.equal(supply.mintedMilli, out.tokens1 + out.tokens2, 'total supply = sum of mints');

    const snapshot = ledger.snapshot();
    const again = await ledger.invoke(contract, id.retailer, 'getDRToken', [EVENT_ID, JSON.stringify([METER_1, METER_2])], at(after, '05:00:00'));
    assert.equal(JSON.parse(again.result).mintedMilli, 0);
    assert.equal(again.event, undefined);
    assert.deepEqual(again.writeSet.writes, [], 'nothing written, not even the same reward record again');
    assert.deepEqual(ledger.snapshot(), snapshot, 'second settlement writes nothing');
  });

  test('both households share one settlement shard; each customer reads only its own part of it', async () => {
    const ledger = newLedger();
    const contract = new DrContract();
    await runScenario(ledger, contract, id);
    const after = addDaysUtc(EVENT_DAY, 1);
    const shard = JSON.parse(ledger.get(`\u0000allocation\u0000${EVENT_ID}\u0000000000\u0000000000\u0000`)!.toString('utf8'));
    assert.deepEqual(shard.meterIds, [METER_1, METER_2].sort(), 'one shard holds both');
    for (const [who, mine, other] of [[id.customer1, METER_1, METER_2], [id.customer2, METER_2, METER_1]] as const) {
      const opr = (await ledger.evaluate(contract, who, 'queryLoadReduction', [EVENT_ID, mine], at(after, '04:00:00'))).result;
      const earned = (await ledger.evaluate(contract, who, 'queryEarnedToken', [mine, EVENT_ID], at(after, '04:00:00'))).result;
      for (const text of [opr, earned]) assert.ok(!text.includes(other), `${mine} sees nothing of ${other}: ${text.slice(0, 80)}`);
      const o = JSON.parse(opr);
      const e = JSON.parse(earned);
      assert.equal(o.meterId, mine);
      assert.equal(o.oprW.length, 48);
      assert.equal(e.reward.meterId, mine);
      assert.equal(e.reward.perSlotMilli.length, 48);
      assert.equal(e.reward.totalMilli, e.balanceMilli, 'one event: the balance is its reward');
      const event = (await ledger.evaluate(contract, who, 'queryDRevent', [EVENT_ID], at(after, '04:00:00'))).result;
      assert.ok(!event.includes(METER_1) && !event.includes(METER_2), 'the event record read by anyone names no meter');
    }
  });

  test('same inputs → byte-identical state on two ledgers', async () => {
    const a = newLedger();
    const b = newLedger();
    await runScenario(a, new DrContract(), id);
    await runScenario(b, new DrContract(), id);
    const sa = a.snapshot();
    const sb = b.snapshot();
    assert.ok(sa.length > 80);
    assert.deepEqual(sa.map((e) => e.key), sb.map((e) => e.key));
    assert.ok(sa.every((e, i) => e.value.equals(sb[i]!.value)));
    // Every value written is canonical JSON (sorted keys), whichever writer produced it.
    for (const e of sa) {
      const text = e.value.toString('utf8');
      assert.equal(text, canonicalJson(JSON.parse(text)), `value of ${JSON.stringify(e.key)} is canonical JSON`);
    }
  });
});

describe('baselines', () => {
  test('HighXofY for a weekday target, LowXofY for Saturday and Sunday, X from the program parameters', async () => {
    const ledger = newLedger();
    const contract = new DrContract();
    await setUpScenario(ledger, contract, id);
    const eve = addDaysUtc(EVENT_DAY, -1);
    await ledger.invoke(contract, id.operator, 'setProgramParams', [JSON.stringify({ baselineXWeekday: 20, baselineXWeekend: 12 })], at(eve, '17:00:00'));
    const evaluate = async (day: string) => JSON.parse((await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_1, day], at(eve, '18:00:00'))).result);
    // EVENT_DAY is a Wednesday; the Saturday and Sunday after it see the same 35 recorded days.
    for (const [day, mode, X] of [[EVENT_DAY, 'high', 20], [addDaysUtc(EVENT_DAY, 3), 'low', 12], [addDaysUtc(EVENT_DAY, 4), 'low', 12]] as const) {
      const b = await evaluate(day);
      assert.deepEqual([b.day, b.mode, b.X, b.daysUsed.length], [day, mode, X, X]);
    }
  });
});

describe('settlement inputs', () => {
  const keys = createKeys({ createCompositeKey: (type, attrs) => `\u0000${type}\u0000${attrs.map((a) => a + '\u0000').join('')}` });
  const window = Array.from({ length: 48 }, (_, k) => 28 + k);
  const eve = addDaysUtc(EVENT_DAY, -1);
  const after = addDaysUtc(EVENT_DAY, 1);
  const json = (ledger: TestLedger, key: string) => JSON.parse(ledger.get(key)!.toString('utf8'));

  /**
   * Up to settlement; `strip` rewrites the allocation shard without `baselineW`, as older ones were
   * stored; `params` are program parameters set before the event.
   */
  async function settle(strip: boolean, params?: object) {
    const ledger = newLedger();
    const contract = new DrContract();
    await setUpScenario(ledger, contract, id);
    if (params !== undefined) await ledger.invoke(contract, id.operator, 'setProgramParams', [JSON.stringify(params)], at(eve, '17:00:00'));
    await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_1, EVENT_DAY], at(eve, '18:00:00'));
    await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_2, EVENT_DAY], at(eve, '18:00:01'));
    await ledger.invoke(contract, id.operator, 'notifyDRevent', [EVENT_ID, EVENT_DAY, '07:00-19:00', '300', ''], at(eve, '18:05:00'));
    if (strip) {
      // Both meters are in shard 0.
      const key = keys.allocation(EVENT_ID, 0, 0);
      const { baselineW: _, ...old } = json(ledger, key);
      const writes = [{ key, isDelete: false, value: Buffer.from(canonicalJson(old)) }];
      ledger.worldState.apply({ txId: 'old-format', timestamp: { seconds: 0, nanos: 0 }, writeSet: { writes, metadataWrites: [] } }, { blockNum: 999, txNum: 0 });
    }
    await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, EVENT_DAY, JSON.stringify(profile(1, 0, true))], at(after, '01:00:00'));
    await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_2, EVENT_DAY, JSON.stringify(profile(2, 0))], at(after, '01:01:00'));
    const tx = await ledger.invoke(contract, id.retailer, 'getDRToken', [EVENT_ID, JSON.stringify([METER_1, METER_2])], at(after, '02:00:00'));
    return { ledger, tx };
  }

  test('settling a shard in two batches merges its reward record and mints each customer once', async () => {
    const whole = await settle(false);
    assert.deepEqual(json(whole.ledger, keys.reward(EVENT_ID, 0)).txIds, [whole.tx.txId, whole.tx.txId], 'one batch: its transaction for each customer');
    // The customer settled second sorts before the first one, then after it: the merge walks both ways.
    for (const firstMeter of [METER_2, METER_1]) {
      const ledger = newLedger();
      const contract = new DrContract();
      await setUpScenario(ledger, contract, id);
      await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_1, EVENT_DAY], at(eve, '18:00:00'));
      await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_2, EVENT_DAY], at(eve, '18:00:01'));
      await ledger.invoke(contract, id.operator, 'notifyDRevent', [EVENT_ID, EVENT_DAY, '07:00-19:00', '300', ''], at(eve, '18:05:00'));
      await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, EVENT_DAY, JSON.stringify(profile(1, 0, true))], at(after, '01:00:00'));
      await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_2, EVENT_DAY, JSON.stringify(profile(2, 0))], at(after, '01:01:00'));
      const first = JSON.parse((await ledger.invoke(contract, id.retailer, 'getDRToken', [EVENT_ID, JSON.stringify([firstMeter])], at(after, '02:00:00'))).result);
      const second = JSON.parse((await ledger.invoke(contract, id.retailer, 'getDRToken', [EVENT_ID, JSON.stringify([METER_1, METER_2])], at(after, '02:10:00'))).result);
      assert.deepEqual([first.settled, second.settled, second.alreadySettled], [1, 1, 1]);
      const a = json(ledger, keys.reward(EVENT_ID, 0));
      const b = json(whole.ledger, keys.reward(EVENT_ID, 0));
      assert.deepEqual([a.meterIds, a.totalMilli, a.perSlotMilli], [b.meterIds, b.totalMilli, b.perSlotMilli], `same rewards as one batch (${firstMeter} first)`);
      assert.notEqual(a.txIds[0], a.txIds[1], 'each customer keeps its settling transaction');
      assert.equal(first.mintedMilli + second.mintedMilli, JSON.parse(whole.tx.result).mintedMilli);
    }
  });

  test('the allocation freezes the window baseline; settlement reads it there, or the baseline record for older allocations', async () => {
    const fresh = await settle(false);
    const baseline1 = json(fresh.ledger, keys.baseline(EVENT_DAY, METER_1)).values as number[];
    const shard = json(fresh.ledger, keys.allocation(EVENT_ID, 0, 0));
    const i1 = (shard.meterIds as string[]).indexOf(METER_1);
    assert.deepEqual(shard.baselineW.slice(i1 * 48, (i1 + 1) * 48), window.map((h) => baseline1[h]));
    const readKeys = (r: typeof fresh.tx) => r.readSet.reads.map((x) => x.key);
    assert.ok(!readKeys(fresh.tx).includes(keys.baseline(EVENT_DAY, METER_1)), 'baseline record not read');

    const old = await settle(true);
    assert.ok(readKeys(old.tx).includes(keys.baseline(EVENT_DAY, METER_1)), 'older allocation: baseline record read');
    const a = json(fresh.ledger, keys.reward(EVENT_ID, 0));
    const b = json(old.ledger, keys.reward(EVENT_ID, 0));
    assert.deepEqual(a.meterIds, [METER_1, METER_2].sort());
    assert.ok(a.totalMilli.every((t: number) => t > 0));
    assert.deepEqual([a.totalMilli, a.perSlotMilli, a.slots], [b.totalMilli, b.perSlotMilli, b.slots]);
    for (const m of [METER_1, METER_2]) {
      const { txId: _a, ...accountA } = json(fresh.ledger, keys.account(m));
      const { txId: _b, ...accountB } = json(old.ledger, keys.account(m));
      assert.deepEqual(accountA, accountB, 'balance and availability');
    }
  });

  test('availability after settlement: β weighs the difficulty term, α the learning rate (β ≠ α)', async () => {
    const beta = 700_000;
    const alpha = 300_000;
    const { ledger } = await settle(false, { betaPpm: beta, alphaPpm: alpha });
    const shard = json(ledger, keys.allocation(EVENT_ID, 0, 0));
    for (const m of [METER_1, METER_2]) {
      const i = (shard.meterIds as string[]).indexOf(m);
      const baseline = json(ledger, keys.baseline(EVENT_DAY, m)).values as number[];
      const assigned = new Array<number>(S).fill(0);
      window.forEach((h, k) => { assigned[h] = shard.oprW[i * window.length + k]; });
      const measured = m === METER_1 ? profile(1, 0, true) : profile(2, 0);
      const inputs = { previous: initialAvailability(S), baseline, assigned, measured, window, sigmaW: 30 };
      const expected = updateAvailability({ ...inputs, beta, alpha });
      assert.notDeepEqual(expected, updateAvailability({ ...inputs, beta: alpha, alpha: beta }), 'the scenario tells β from α');
      const account = json(ledger, keys.account(m));
      assert.deepEqual(account.values, expected, `${m}: availability per slot`);
      assert.deepEqual(account.applied, [EVENT_ID]);
    }
  });
});

