import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { DrContract } from './dr-contract.ts';
import { computeReward } from './math/index.ts';
import { contractMetadata } from './metadata.ts';
import {
  addDaysUtc, at, createScenarioIdentities, EVENT_DAY, METER_1, METER_2, profile, setUpScenario, type ScenarioIdentities,
} from './testing/reference-scenario.ts';
import { createTestLedger, type TestLedger } from './testing/index.ts';
import { TRANSACTIONS } from './transactions.ts';

let id: ScenarioIdentities;
const contract = new DrContract();
const eve = addDaysUtc(EVENT_DAY, -1);
const after = addDaysUtc(EVENT_DAY, 1);

before(async () => { id = await createScenarioIdentities(); });

async function scenarioLedger(): Promise<TestLedger> {
  const ledger = createTestLedger({ contractMetadata: contractMetadata() });
  await setUpScenario(ledger, contract, id);
  return ledger;
}

async function refused(ledger: TestLedger, call: () => Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  const snapshot = ledger.snapshot();
  await assert.rejects(call, (err: Error) => {
    assert.ok(err.message.startsWith(`${code}: `), `expected ${code}, got: ${err.message}`);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
  assert.deepEqual(ledger.snapshot(), snapshot);
}

const json = (r: { result: string }) => JSON.parse(r.result);

describe('recordEnergy validation and corrections (spec section 1)', () => {
  test('wrong length, negative, non-integer, future day, bad day → INVALID_ARGUMENT', async () => {
    const ledger = await scenarioLedger();
    const ok = profile(1, 1);
    const now = at(eve, '20:00:00');
    const rec = (day: string, values: unknown) => () => ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, day, JSON.stringify(values)], now);
    await refused(ledger, rec(eve, ok.slice(1)), 'INVALID_ARGUMENT', /exactly 96/);
    await refused(ledger, rec(eve, [-1, ...ok.slice(1)]), 'INVALID_ARGUMENT', /negative/);
    await refused(ledger, rec(eve, [1.5, ...ok.slice(1)]), 'INVALID_ARGUMENT', /integer/);
    await refused(ledger, rec(eve, ['7', ...ok.slice(1)]), 'INVALID_ARGUMENT', /integer/);
    await refused(ledger, rec(EVENT_DAY, ok), 'INVALID_ARGUMENT', /future/);
    await refused(ledger, rec('2025-02-30', ok), 'INVALID_ARGUMENT', /calendar day/);
    await refused(ledger, () => ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, eve, 'not json'], now), 'INVALID_ARGUMENT');
  });

  test('a correction is kept in history with its transaction id; partial days accumulate', async () => {
    const ledger = await scenarioLedger();
    const day = EVENT_DAY;
    const partial: (number | null)[] = new Array(96).fill(null);
    partial[0] = 100;
    const first = await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, day, JSON.stringify(partial)], at(day, '03:00:00'));
    assert.equal(json(first).complete, false);
    const rest = profile(1, 3).map((v, s) => (s === 0 ? null : v));
    const second = await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, day, JSON.stringify(rest)], at(day, '23:00:00'));
    assert.equal(json(second).complete, true);
    assert.deepEqual(json(second).correctedSlots, [], 'filling missing slots is not a correction');
    const fixed = profile(1, 3);
    fixed[0] = 100;
    fixed[5] = 999;
    const third = await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, day, JSON.stringify(fixed)], at(after, '00:00:00'));
    assert.deepEqual(json(third).correctedSlots, [5]);
    const q = json(await ledger.evaluate(contract, id.customer1, 'queryEnergyValue', [METER_1, day], at(after, '01:00:00')));
    assert.equal(q.values[5], 999);
    assert.equal(q.correctsTxId, second.txId);
    assert.equal(q.history.length, 3);
    assert.deepEqual(q.history.map((h: { txId: string }) => h.txId).slice(0, 3), [third.txId, second.txId, first.txId]);
    assert.equal(q.history[1].values[5], profile(1, 3)[5], 'the previous value stays readable');
    const daily = json(await ledger.evaluate(contract, id.customer1, 'queryDailyEnergy', [METER_1, day, day], at(after, '01:00:00')));
    assert.equal(daily.days[0].energyWh, Math.round(fixed.reduce((a, b) => a + b, 0) / 4));
  });
});

describe('baselines (spec section 2)', () => {
  test('fewer than X complete days → BASELINE_NOT_FOUND naming customer, found, needed', async () => {
    const ledger = await scenarioLedger();
    const early = addDaysUtc(EVENT_DAY, -20);
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_1, early], at(eve)), 'BASELINE_NOT_FOUND', /customer=smartmeter:20360162 found=15 needed=21/);
  });

  test('event days of the customer are excluded from later baselines', async () => {
    const ledger = await scenarioLedger();
    await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_1, EVENT_DAY], at(eve, '18:00:00'));
    await ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-1', EVENT_DAY, '07:00-19:00', '300', ''], at(eve, '18:05:00'));
    await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, EVENT_DAY, JSON.stringify(profile(1, 0, true))], at(after, '01:00:00'));
    const next = addDaysUtc(after, 0);
    const b = json(await ledger.invoke(contract, id.retailer, 'evaluateBaseline', [METER_1, next], at(after, '02:00:00')));
    assert.deepEqual(b.excludedDays, [EVENT_DAY]);
    assert.ok(!b.daysUsed.includes(EVENT_DAY));
  });
});

describe('event lifecycle (spec section 4)', () => {
  async function notified(): Promise<TestLedger> {
    const ledger = await scenarioLedger();
    await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_1, EVENT_DAY], at(eve, '18:00:00'));
    await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_2, EVENT_DAY], at(eve, '18:00:01'));
    const r = await ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-1', EVENT_DAY, '07:00-19:00', '300', ''], at(eve, '18:05:00'));
    assert.equal(r.event?.name, 'DREventNotified');
    return ledger;
  }

  test('modify → new version with new allocations; the old version stays readable', async () => {
    const ledger = await notified();
    const m = json(await ledger.invoke(contract, id.operator, 'modifyDRevent', ['ev-1', '[40,41]', '[500, 600]', ''], at(eve, '19:00:00')));
    assert.equal(m.version, 1);
    assert.deepEqual(m.window, [40, 41]);
    const opr1 = json(await ledger.evaluate(contract, id.customer1, 'queryLoadReduction', ['ev-1', METER_1], at(eve, '19:30:00')));
    const opr2 = json(await ledger.evaluate(contract, id.customer2, 'queryLoadReduction', ['ev-1', METER_2], at(eve, '19:30:00')));
    assert.equal(opr1.version, 1);
    assert.deepEqual([opr1.oprW[0] + opr2.oprW[0], opr1.oprW[1] + opr2.oprW[1]], m.allocatedW, 'shares sum to the allocated total');
    assert.deepEqual([m.allocatedW[0] + m.unallocatedW[0], m.allocatedW[1] + m.unallocatedW[1]], [500, 600]);
    assert.ok(m.unallocatedW.every((u: number) => u <= 1), 'stops within ε = 1 W of the request');
    // Version 0's shard 0 (both meters).
    const v0 = ledger.get('\u0000allocation\u0000ev-1\u0000000000\u0000000000\u0000');
    assert.ok(v0, 'version 0 allocation is still on the ledger');
    const shard = JSON.parse(v0.toString());
    assert.ok(shard.meterIds.includes(METER_1));
    assert.equal(shard.oprW.length, 48 * shard.meterIds.length);
  });

  test('request above the sum of baselines: remainder reported as unallocated', async () => {
    const ledger = await notified();
    const m = json(await ledger.invoke(contract, id.operator, 'modifyDRevent', ['ev-1', '[0]', '100000', ''], at(eve, '19:00:00')));
    assert.ok(m.unallocatedW[0] > 99000);
    assert.equal(m.allocatedW[0] + m.unallocatedW[0], 100000);
  });

  test('the cluster is the listed customers: an event for one feeder asks nothing of another; a modification keeps it', async () => {
    const ledger = await scenarioLedger();
    await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_1, EVENT_DAY], at(eve, '18:00:00'));
    await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_2, EVENT_DAY], at(eve, '18:00:01'));
    const base1 = json(await ledger.evaluate(contract, id.operator, 'queryBaseline', [METER_1, EVENT_DAY], at(eve, '18:01:00'))).values as number[];
    const listed = json(await ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-a', EVENT_DAY, '[40,41]', '300', JSON.stringify([METER_1])], at(eve, '18:05:00')));
    assert.equal(listed.customers, 1);
    assert.equal(listed.cluster, 'listed');
    const opr1 = json(await ledger.evaluate(contract, id.customer1, 'queryLoadReduction', ['ev-a', METER_1], at(eve, '18:06:00')));
    // With availability 0.5 each step hands out 3/4 of the residual: the one customer takes it all.
    assert.deepEqual(opr1.oprW, [40, 41].map((s) => Math.min(base1[s] as number, 300)));
    await refused(ledger, () => ledger.evaluate(contract, id.customer2, 'queryLoadReduction', ['ev-a', METER_2], at(eve, '18:06:00')), 'NOT_FOUND', /no allocation/);
    const modified = json(await ledger.invoke(contract, id.operator, 'modifyDRevent', ['ev-a', '[40,41]', '200', ''], at(eve, '18:10:00')));
    assert.equal(modified.customers, 1, "'' keeps the listed cluster");
    await refused(ledger, () => ledger.evaluate(contract, id.customer2, 'queryLoadReduction', ['ev-a', METER_2], at(eve, '18:11:00')), 'NOT_FOUND');
    const widened = json(await ledger.invoke(contract, id.operator, 'modifyDRevent', ['ev-a', '[40,41]', '200', JSON.stringify([METER_2, METER_1])], at(eve, '18:12:00')));
    assert.equal(widened.customers, 2, 'a modification may name another cluster');
    const day = json(await ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-b', EVENT_DAY, '[40,41]', '300', ''], at(eve, '18:15:00')));
    assert.deepEqual([day.customers, day.cluster], [2, 'day'], "'' is every customer with a baseline for the day");
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-c', EVENT_DAY, '[40]', '300', JSON.stringify(['smartmeter:none'])], at(eve, '18:20:00')), 'NOT_FOUND', /smartmeter:none of the cluster has no baseline/);
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-c', EVENT_DAY, '[40]', '300', JSON.stringify([METER_1, METER_1])], at(eve, '18:20:00')), 'INVALID_ARGUMENT', /repeats/);
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-c', EVENT_DAY, '[40]', '300', '[]'], at(eve, '18:20:00')), 'INVALID_ARGUMENT', /cluster/);
  });

  test('modify after the start: the started slots keep their request and allocations (R20), the rest is allocated anew', async () => {
    const ledger = await notified();
    // A third customer gets its baseline after the notification: a fresh allocation of the started
    // slots would share them with it too.
    const meter3 = 'smartmeter:3';
    await ledger.invoke(contract, id.retailer, 'enrolMeter', [meter3], at(EVENT_DAY, '07:00:00'));
    for (let i = 35; i >= 1; i--) await ledger.invoke(contract, id.retailer, 'recordEnergy', [meter3, addDaysUtc(EVENT_DAY, -i), JSON.stringify(profile(2, i))], at(EVENT_DAY, '07:01:00'));
    await ledger.invoke(contract, id.operator, 'evaluateBaseline', [meter3, EVENT_DAY], at(EVENT_DAY, '07:02:00'));
    const before = json(await ledger.evaluate(contract, id.operator, 'queryDRevent', ['ev-1'], at(EVENT_DAY, '08:01:00')));
    const opr0 = json(await ledger.evaluate(contract, id.customer1, 'queryLoadReduction', ['ev-1', METER_1], at(EVENT_DAY, '08:01:00'))).oprW as number[];
    // 07:00-19:00 Rome time is slots 28-75; at 08:01 UTC (10:01 CEST) slots 28-40 (07:00-10:00) have started.
    const window = Array.from({ length: 48 }, (_, i) => 28 + i);
    const request = window.map((slot) => (slot <= 40 ? 300 : 500));
    const now = at(EVENT_DAY, '08:01:00');
    const modify = (w: readonly number[], r: readonly number[] | number, cluster = '') => () => ledger.invoke(contract, id.operator, 'modifyDRevent', ['ev-1', JSON.stringify(w), JSON.stringify(r), cluster], now);
    await refused(ledger, modify(window, 500), 'INVALID_ARGUMENT', /slot 28 has started; its request stays 300 W/);
    await refused(ledger, modify(window.slice(1), request.slice(1)), 'INVALID_ARGUMENT', /slot 28 of the window has started; it cannot leave/);
    await refused(ledger, modify([27, ...window], [300, ...request]), 'INVALID_ARGUMENT', /slot 27 has started; it cannot join/);
    await refused(ledger, modify(window, request, JSON.stringify([METER_1])), 'INVALID_ARGUMENT', /cluster stays/);
    const m = json(await modify(window, request)());
    assert.equal(m.version, 1);
    const opr1 = json(await ledger.evaluate(contract, id.customer1, 'queryLoadReduction', ['ev-1', METER_1], at(EVENT_DAY, '08:02:00'))).oprW as number[];
    const opr2 = json(await ledger.evaluate(contract, id.customer2, 'queryLoadReduction', ['ev-1', METER_2], at(EVENT_DAY, '08:02:00'))).oprW as number[];
    assert.deepEqual(opr1.slice(0, 13), opr0.slice(0, 13), 'the started slots keep their OPR');
    assert.deepEqual(m.allocatedW.slice(0, 13), before.allocatedW.slice(0, 13), 'and their totals');
    assert.deepEqual(m.unallocatedW.slice(0, 13), before.unallocatedW.slice(0, 13));
    const opr3 = json(await ledger.evaluate(contract, id.operator, 'queryLoadReduction', ['ev-1', meter3], at(EVENT_DAY, '08:02:00'))).oprW as number[];
    assert.deepEqual(opr3.slice(0, 13), new Array(13).fill(0), 'the newcomer has nothing in the started slots');
    assert.equal(m.customers, 3);
    for (let k = 13; k < 48; k++) assert.equal((opr1[k] as number) + (opr2[k] as number) + (opr3[k] as number), m.allocatedW[k], `slot ${window[k]}: the shares add up to the new total`);
    assert.ok((opr3[13] as number) > 0, 'and its share of the remaining slots');
    assert.ok(m.allocatedW.slice(13).every((x: number, k: number) => x + (m.unallocatedW[13 + k] as number) === 500), 'the remaining slots take the new request');
  });

  test('duplicate id → CONFLICT; settle before the window ends → CONFLICT; cancel; cancelled cannot settle', async () => {
    const ledger = await notified();
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-1', EVENT_DAY, '07:00-19:00', '300', ''], at(eve, '18:06:00')), 'CONFLICT');
    await refused(ledger, () => ledger.invoke(contract, id.retailer, 'getDRToken', ['ev-1', JSON.stringify([METER_1])], at(EVENT_DAY, '10:00:00')), 'CONFLICT', /active/);
    await refused(ledger, () => ledger.invoke(contract, id.retailer, 'evaluateAvailability', ['ev-1', JSON.stringify([METER_1])], at(EVENT_DAY, '10:00:00')), 'CONFLICT', /active/);
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-2', eve, '07:00-19:00', '300', ''], at(eve, '20:00:00')), 'INVALID_ARGUMENT', /ended/);
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-3', EVENT_DAY, '07:10-19:00', '300', ''], at(eve, '20:00:00')), 'INVALID_ARGUMENT');
    const c = json(await ledger.invoke(contract, id.operator, 'cancelDRevent', ['ev-1'], at(eve, '21:00:00')));
    assert.equal(c.status, 'cancelled');
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'cancelDRevent', ['ev-1'], at(eve, '21:30:00')), 'CONFLICT');
    await refused(ledger, () => ledger.invoke(contract, id.retailer, 'getDRToken', ['ev-1', JSON.stringify([METER_1])], at(after)), 'CONFLICT', /cancelled/);
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'queryDRevent', ['nope'], at(after)), 'NOT_FOUND');
  });

  test('opt answers (oadrCreatedEvent) are recorded per customer and version, idempotently, by the allowed callers only', async () => {
    const ledger = await notified();
    const opt = (who: typeof id.operator, meter: string, type: string, version: number, time = '18:10:00') =>
      ledger.invoke(contract, who, 'recordOptState', ['ev-1', meter, type, String(version), String(Date.parse(`${eve}T${time}Z`))], at(eve, time));
    const first = await opt(id.customer1, METER_1, 'optIn', 0);
    assert.equal(first.event?.name, 'OptRecorded');
    assert.equal(json(first).optType, 'optIn');
    const again = await opt(id.customer1, METER_1, 'optIn', 0, '18:11:00');
    assert.equal(json(again).unchanged, true);
    assert.equal(again.event, undefined, 'the same answer again emits nothing');
    assert.equal(json(await ledger.evaluate(contract, id.customer1, 'queryOptState', ['ev-1', METER_1], at(eve, '18:12:00'))).txId, first.txId, 'and writes nothing');
    await opt(id.operator, METER_2, 'optOut', 0);
    const all = json(await ledger.evaluate(contract, id.operator, 'queryEventOpts', ['ev-1'], at(eve, '18:20:00')));
    assert.deepEqual(all.opts.map((o: { meterId: string; optType: string }) => [o.meterId, o.optType]), [[METER_1, 'optIn'], [METER_2, 'optOut']]);
    await refused(ledger, () => ledger.evaluate(contract, id.customer1, 'queryEventOpts', ['ev-1'], at(eve, '18:20:00')), 'ACCESS_DENIED');
    await refused(ledger, () => opt(id.customer1, METER_2, 'optOut', 0), 'ACCESS_DENIED');
    await refused(ledger, () => opt(id.otherRetailer, METER_1, 'optOut', 0), 'ACCESS_DENIED');
    await refused(ledger, () => opt(id.customer1, METER_1, 'maybe', 0), 'INVALID_ARGUMENT', /optType/);
    await refused(ledger, () => opt(id.customer1, METER_1, 'optOut', 1), 'INVALID_ARGUMENT', /no version 1/);
    await ledger.invoke(contract, id.retailer, 'enrolMeter', ['smartmeter:3'], at(eve, '18:30:00'));
    await refused(ledger, () => opt(id.operator, 'smartmeter:3', 'optIn', 0), 'NOT_FOUND', /no allocation/);
    await ledger.invoke(contract, id.operator, 'modifyDRevent', ['ev-1', '[40,41]', '[500, 600]', ''], at(eve, '19:00:00'));
    const changed = await opt(id.customer1, METER_1, 'optOut', 1, '19:05:00');
    assert.equal(json(changed).version, 1);
    await refused(ledger, () => opt(id.customer1, METER_1, 'optIn', 0, '19:06:00'), 'CONFLICT', /older/);
    const history = ledger.history('\u0000opt\u0000ev-1\u0000smartmeter:20360162\u0000');
    assert.equal(history.length, 2, 'the earlier answer stays in the key history');
    await ledger.invoke(contract, id.operator, 'cancelDRevent', ['ev-1'], at(eve, '20:00:00'));
    await refused(ledger, () => opt(id.customer1, METER_1, 'optIn', 1, '20:05:00'), 'CONFLICT', /cancelled/);
  });

  test('status follows the transaction clock: notified → active → completed', async () => {
    const ledger = await notified();
    const status = async (ts: { timestamp: Date }) => json(await ledger.evaluate(contract, id.customer1, 'queryDRevent', ['ev-1'], ts)).status;
    assert.equal(await status(at(EVENT_DAY, '04:59:59')), 'notified'); // 06:59:59 in Rome
    assert.equal(await status(at(EVENT_DAY, '05:00:00')), 'active');
    assert.equal(await status(at(EVENT_DAY, '17:00:00')), 'completed'); // 19:00 in Rome
  });

  test('settlement needs the measured day; availability is applied once (evaluateAvailability then getDRToken)', async () => {
    const ledger = await notified();
    await refused(ledger, () => ledger.invoke(contract, id.retailer, 'getDRToken', ['ev-1', JSON.stringify([METER_1])], at(after)), 'NOT_FOUND', /recordEnergy/);
    await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, EVENT_DAY, JSON.stringify(profile(1, 0, true))], at(after, '01:00:00'));
    const profileOf = async (time: string) => json(await ledger.evaluate(contract, id.customer1, 'queryEarnedToken', [METER_1, ''], at(after, time))).availabilityPpm;
    assert.deepEqual(await profileOf('01:30:00'), new Array(96).fill(500_000), 'queryEarnedToken: before any event, the initial availability in every slot');
    const a = json(await ledger.invoke(contract, id.operator, 'evaluateAvailability', ['ev-1', JSON.stringify([METER_1])], at(after, '02:00:00')));
    assert.equal(a.updated, 1);
    const key = '\u0000account\u0000smartmeter:20360162\u0000';
    const availability = JSON.parse(ledger.get(key)!.toString());
    assert.equal(availability.values[0], 500_000, 'outside the window: unchanged');
    assert.notEqual(availability.values[40], 500_000, 'inside the window: updated');
    assert.deepEqual(await profileOf('02:05:00'), availability.values, 'queryEarnedToken: the availability profile of the account');
    const again = json(await ledger.invoke(contract, id.operator, 'evaluateAvailability', ['ev-1', JSON.stringify([METER_1])], at(after, '02:10:00')));
    assert.equal(again.updated, 0);
    const t = json(await ledger.invoke(contract, id.retailer, 'getDRToken', ['ev-1', JSON.stringify([METER_1])], at(after, '03:00:00')));
    assert.equal(t.settled, 1);
    const settledAccount = JSON.parse(ledger.get(key)!.toString());
    assert.deepEqual([settledAccount.values, settledAccount.applied], [availability.values, availability.applied], 'settlement did not apply the event a second time');
    assert.equal(settledAccount.balanceMilli, t.mintedMilli);
    const e = json(await ledger.evaluate(contract, id.operator, 'queryDRevent', ['ev-1'], at(after, '04:00:00')));
    assert.equal(e.status, 'completed', 'one of two customers settled');
    assert.equal(e.settledCustomers, 1);
  });
});

describe('tokens', () => {
  test('redeem: only the customer or its retailer, never below zero', async () => {
    const ledger = await scenarioLedger();
    await refused(ledger, () => ledger.invoke(contract, id.customer1, 'redeemTokens', [METER_1, '1'], at(eve)), 'CONFLICT');
    await refused(ledger, () => ledger.invoke(contract, id.customer2, 'redeemTokens', [METER_1, '1'], at(eve)), 'ACCESS_DENIED');
    await refused(ledger, () => ledger.invoke(contract, id.customer1, 'redeemTokens', [METER_1, '-5'], at(eve)), 'INVALID_ARGUMENT');
  });
});

describe('flexibility claims (spec section 6, JRC paper 3.4)', () => {
  const claim = (over: Record<string, unknown> = {}) => JSON.stringify({
    id: 'flex-1', time: `${eve}T10:00:00Z`, voltageLL: 400.2, voltageLN: 231.1, power: -3.5,
    assetIds: ['bat-1', 'pv-1'], components: [{ assetId: 'bat-1', power: -2.25 }, { assetId: 'pv-1', power: -1.25 }], ...over,
  });

  test('in range and consistent → recorded, then confirmed by the operator', async () => {
    const ledger = await scenarioLedger();
    const r = json(await ledger.invoke(contract, id.retailer, 'submitFlexibility', [claim()], at(eve, '12:00:00')));
    assert.equal(r.status, 'recorded');
    assert.equal(r.powerW, -3500);
    await refused(ledger, () => ledger.invoke(contract, id.retailer, 'validateFlexibility', ['flex-1'], at(eve, '13:00:00')), 'ACCESS_DENIED');
    const v = json(await ledger.invoke(contract, id.operator, 'validateFlexibility', ['flex-1'], at(eve, '13:00:00')));
    assert.equal(v.status, 'confirmed');
    assert.equal(json(await ledger.evaluate(contract, id.customer2, 'queryFlexibility', ['flex-1'], at(eve, '14:00:00'))).status, 'confirmed');
    await refused(ledger, () => ledger.invoke(contract, id.retailer, 'submitFlexibility', [claim()], at(eve, '15:00:00')), 'CONFLICT');
  });

  test('out of range, future time, aggregate ≠ sum of components → kept as failed with reasons', async () => {
    const ledger = await scenarioLedger();
    const r = json(await ledger.invoke(contract, id.retailer, 'submitFlexibility', [claim({ id: 'flex-2', voltageLL: 500, time: `${EVENT_DAY}T00:00:00Z`, power: -3.6 })], at(eve, '12:00:00')));
    assert.equal(r.status, 'failed');
    assert.equal(r.reasons.length, 3);
    assert.match(r.reasons.join('\n'), /voltageLL 500 V outside/);
    assert.match(r.reasons.join('\n'), /after the transaction timestamp/);
    assert.match(r.reasons.join('\n'), /not the sum of its components -3500 W/);
    assert.ok(ledger.get('\u0000flex\u0000flex-2\u0000'), 'the failed record is on the ledger');
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'validateFlexibility', ['flex-2'], at(eve, '13:00:00')), 'CONFLICT');
  });

  test('data missing: a component without a measurement (power null) or an asset without a component → kept as failed with reasons', async () => {
    const ledger = await scenarioLedger();
    const r = json(await ledger.invoke(contract, id.retailer, 'submitFlexibility', [claim({ id: 'flex-3', assetIds: ['bat-1', 'pv-1', 'ev-1'], power: -2.25, components: [{ assetId: 'bat-1', power: -2.25 }, { assetId: 'pv-1', power: null }] })], at(eve, '12:00:00')));
    assert.equal(r.status, 'failed');
    assert.deepEqual(r.reasons, ['no measurement for assets: pv-1', 'assets without a component: ev-1']);
    assert.deepEqual(r.components, [{ assetId: 'bat-1', powerW: -2250 }, { assetId: 'pv-1', powerW: null }]);
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'validateFlexibility', ['flex-3'], at(eve, '13:00:00')), 'CONFLICT');
  });

  test('a malformed record is refused and writes nothing', async () => {
    const ledger = await scenarioLedger();
    await refused(ledger, () => ledger.invoke(contract, id.retailer, 'submitFlexibility', [claim({ power: 'lots' })], at(eve)), 'INVALID_ARGUMENT');
    await refused(ledger, () => ledger.invoke(contract, id.retailer, 'submitFlexibility', [claim({ components: [] })], at(eve)), 'INVALID_ARGUMENT');
    await refused(ledger, () => ledger.invoke(contract, id.customer1, 'submitFlexibility', [claim()], at(eve)), 'ACCESS_DENIED');
  });
});

describe('program parameters and metadata', () => {
  test('parameters: partial update validated, unknown name refused', async () => {
    const ledger = await scenarioLedger();
    const p = json(await ledger.invoke(contract, id.operator, 'setProgramParams', ['{"tokenRateMilli":2000,"betaPpm":300000}'], at(eve)));
    assert.equal(p.tokenRateMilli, 2000);
    assert.equal(p.baselineY, 35);
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'setProgramParams', ['{"tokenrate":1}'], at(eve)), 'INVALID_ARGUMENT', /unknown program parameter/);
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'setProgramParams', ['{"slotsPerDay":7}'], at(eve)), 'INVALID_ARGUMENT');
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'setProgramParams', ['{"slotsPerDay":48}'], at(eve)), 'CONFLICT');
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'setProgramParams', ['{"timeZone":"Mars/Olympus"}'], at(eve)), 'INVALID_ARGUMENT');
  });

  test('every class method is in the transaction table and vice versa; queries are EVALUATE', () => {
    const own = Object.getOwnPropertyNames(DrContract.prototype).filter((n) => n !== 'constructor' && n !== 'unknownTransaction').sort();
    assert.deepEqual(own, TRANSACTIONS.map((t) => t.name).sort());
    for (const t of TRANSACTIONS) {
      const method = (DrContract.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[t.name]!;
      assert.equal(method.length, t.params.length + 1, `${t.name}: ctx + ${t.params.length} arguments`);
    }
    const txs = contractMetadata().contracts['oadr.dr']!.transactions;
    assert.deepEqual(txs.find((t) => t.name === 'queryBaseline')!.tag, ['EVALUATE']);
    assert.deepEqual(txs.find((t) => t.name === 'notifyDRevent')!.tag, ['SUBMIT', 'submitTx']);
  });

  test("metadata passes fabric-shim's own contract-schema validation (META-INF/metadata.json)", (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'meta-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'metadata.json');
    writeFileSync(file, JSON.stringify(contractMetadata()));
    const require = createRequire(import.meta.url);
    const Bootstrap = require('fabric-shim/lib/contract-spi/bootstrap.js') as { loadAndValidateMetadata(p: string): object };
    assert.deepEqual(Bootstrap.loadAndValidateMetadata(file), contractMetadata());
  });

  test('wrong argument count and unknown functions are refused', async () => {
    const ledger = await scenarioLedger();
    await assert.rejects(ledger.invoke(contract, id.operator, 'queryDRevent', [], at(eve)), /Expected 1 parameters/);
    await assert.rejects(ledger.invoke(contract, id.operator, 'mintFreeTokens', [], at(eve)), /does not exist/);
  });
});

describe('settlement and redemption (spec sections 3 and 5)', () => {
  /** The reference event (07:00–19:00, 300 W) settled for both customers; `params` set before it, `measured1` is household 1's event day. */
  async function settled(params?: object, measured1: (number | null)[] = profile(1, 0, true)) {
    const ledger = await scenarioLedger();
    if (params !== undefined) await ledger.invoke(contract, id.operator, 'setProgramParams', [JSON.stringify(params)], at(eve, '17:00:00'));
    await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_1, EVENT_DAY], at(eve, '18:00:00'));
    await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_2, EVENT_DAY], at(eve, '18:00:01'));
    await ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-1', EVENT_DAY, '07:00-19:00', '300', ''], at(eve, '18:05:00'));
    await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, EVENT_DAY, JSON.stringify(measured1)], at(after, '01:00:00'));
    await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_2, EVENT_DAY, JSON.stringify(profile(2, 0))], at(after, '01:01:00'));
    return ledger;
  }
  const settle = async (ledger: TestLedger) => json(await ledger.invoke(contract, id.retailer, 'getDRToken', ['ev-1', JSON.stringify([METER_1, METER_2])], at(after, '02:00:00')));
  const balance = async (ledger: TestLedger) => json(await ledger.evaluate(contract, id.customer1, 'queryEarnedToken', [METER_1, ''], at(after, '05:00:00')));

  test('tokens are redeemed by the customer and by its retailer down to exactly zero, never by the operator; the supply counts both sides', async () => {
    const ledger = await settled();
    const minted = await settle(ledger);
    const start = await balance(ledger);
    assert.ok(start.balanceMilli > 1);
    assert.deepEqual([start.mintedMilli, start.redeemedMilli], [start.balanceMilli, 0]);
    await refused(ledger, () => ledger.invoke(contract, id.operator, 'redeemTokens', [METER_1, '1'], at(after, '03:00:00')), 'INVALID_ARGUMENT');
    const byCustomer = json(await ledger.invoke(contract, id.customer1, 'redeemTokens', [METER_1, '1'], at(after, '03:00:00')));
    assert.deepEqual(byCustomer, { meterId: METER_1, balanceMilli: start.balanceMilli - 1, mintedMilli: start.mintedMilli, redeemedMilli: 1 });
    const rest = String(start.balanceMilli - 1);
    const byRetailer = await ledger.invoke(contract, id.retailer, 'redeemTokens', [METER_1, rest], at(after, '03:10:00'));
    assert.equal(byRetailer.event?.name, 'TokensRedeemed');
    assert.deepEqual(JSON.parse(byRetailer.event?.payload.toString('utf8') ?? '{}'), { meterId: METER_1, amountMilli: start.balanceMilli - 1, by: 'retailer', txId: byRetailer.txId });
    assert.equal(json(byRetailer).balanceMilli, 0, 'the whole balance may be redeemed');
    await refused(ledger, () => ledger.invoke(contract, id.customer1, 'redeemTokens', [METER_1, '1'], at(after, '03:20:00')), 'CONFLICT', /holds 0 milli-tokens/);
    const { availabilityPpm: _profile, ...end } = await balance(ledger);
    assert.deepEqual(end, { meterId: METER_1, balanceMilli: 0, mintedMilli: start.mintedMilli, redeemedMilli: start.mintedMilli });
    const supply = json(await ledger.evaluate(contract, id.operator, 'queryTokenSupply', [], at(after, '05:00:00')));
    assert.deepEqual(supply, { mintedMilli: minted.mintedMilli, redeemedMilli: start.mintedMilli });
  });

  test('queryEarnedToken: with an event, the customer\'s reward for it; for an unknown event, none', async () => {
    const ledger = await settled();
    const minted = await settle(ledger);
    const mine = minted.rewards.find((r: { meterId: string }) => r.meterId === METER_1);
    const e = json(await ledger.evaluate(contract, id.customer1, 'queryEarnedToken', [METER_1, 'ev-1'], at(after, '05:00:00')));
    assert.deepEqual([e.eventId, e.reward.meterId, e.reward.totalMilli], ['ev-1', METER_1, mine.totalMilli]);
    const none = json(await ledger.evaluate(contract, id.customer1, 'queryEarnedToken', [METER_1, 'ev-unknown'], at(after, '05:00:00')));
    assert.deepEqual([none.eventId, none.reward, none.balanceMilli], ['ev-unknown', null, mine.totalMilli]);
  });

  test('rewardScope window settles a day measured only in the window; rewardScope day needs the whole day and sums over it', async () => {
    const S = 96;
    const window = Array.from({ length: 48 }, (_, k) => 28 + k);
    const onlyWindow = profile(1, 0, true).map((v, s) => (window.includes(s) ? v : null));
    const windowScope = await settled(undefined, onlyWindow);
    assert.equal((await settle(windowScope)).settled, 2);
    const dayScope = await settled({ rewardScope: 'day' }, onlyWindow);
    await refused(dayScope, () => dayScope.invoke(contract, id.retailer, 'getDRToken', ['ev-1', JSON.stringify([METER_1])], at(after, '02:00:00')), 'NOT_FOUND', /slot\(s\) 0,1,2,3,4,5,6,7…; record the event day/);
    // The whole day recorded: the reward is eq. 4.10 summed over every slot of the day.
    await dayScope.invoke(contract, id.retailer, 'recordEnergy', [METER_1, EVENT_DAY, JSON.stringify(profile(1, 0, true))], at(after, '01:30:00'));
    const minted = await settle(dayScope);
    const baseline = json(await dayScope.evaluate(contract, id.customer1, 'queryBaseline', [METER_1, EVENT_DAY], at(after, '05:00:00'))).values as number[];
    const all = Array.from({ length: S }, (_, s) => s);
    const expected = computeReward({ baseline, measured: profile(1, 0, true), window: all, tokenRateMilli: 1000 });
    const mine = minted.rewards.find((r: { meterId: string }) => r.meterId === METER_1);
    assert.equal(mine.totalMilli, expected.total);
    assert.notEqual(expected.total, computeReward({ baseline, measured: profile(1, 0, true), window, tokenRateMilli: 1000 }).total, 'the scenario tells the day from the window');
    const e = json(await dayScope.evaluate(contract, id.customer1, 'queryEarnedToken', [METER_1, 'ev-1'], at(after, '05:00:00')));
    assert.equal(e.reward.perSlotMilli.length, S);
  });
});
