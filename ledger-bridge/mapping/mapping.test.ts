import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import { createEmbeddedLedger, issueClientIdentity, loadOrCreateOrgs, type EmbeddedLedger, type Ledger } from '../index.ts';
import { createLedgerMapping, eventGrid, slotAverageRequest, slotParts, type LedgerMapping, type MappingIdentities, type TelemetryReading } from './mapping.ts';
import { MappingError } from './errors.ts';
import { createMappingStore, type MappingStore } from './store.ts';
import { averageWatts } from './units.ts';
import { tempDataDir } from '../testing/embedded.ts';
import { createTestCa } from '../../chaincode/testing/index.ts';

const ROME = { timeZone: 'Europe/Rome', slotsPerDay: 96 };
const MIN = 60_000;
const SLOT = 15 * MIN;
const A = 'smartmeter:A';
const B = 'smartmeter:B';
const NEWCOMER = 'smartmeter:new';
/** 17:00 in Rome on the event day (CEST, UTC+2): slot 68. */
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`);
const W = (quantity: 'powerReal' | 'energyReal', siScaleCode = 'none') => ({ quantity, siScaleCode });
const reading = (meterId: string, startMs: number, durationMs: number, value: number, unit = W('powerReal'), seriesId = 'usage'): TelemetryReading => ({ meterId, seriesId, startMs, durationMs, value, unit });

describe('mapping units and grid (pure)', () => {
  test('powerReal with siScaleCode none, k and M becomes W', () => {
    assert.equal(averageWatts(750, W('powerReal'), SLOT), 750);
    assert.equal(averageWatts(1.25, W('powerReal', 'k'), SLOT), 1250);
    assert.equal(averageWatts(0.0025, W('powerReal', 'M'), SLOT), 2500);
  });
  test('energyReal Wh over the interval becomes the average W; kWh with k', () => {
    assert.equal(averageWatts(250, W('energyReal'), SLOT), 1000); // 250 Wh in 15 min = 1 kW
    assert.equal(averageWatts(0.135, W('energyReal', 'k'), 9 * MIN), 900);
  });
  test('unknown scale codes, other quantities and empty intervals are refused', () => {
    assert.throws(() => averageWatts(1, { quantity: 'powerReal', siScaleCode: 'kilo' }, SLOT), (e: unknown) => e instanceof MappingError && e.code === 'INVALID_READING');
    assert.throws(() => averageWatts(1, { quantity: 'voltage' as 'powerReal' }, SLOT), (e: unknown) => e instanceof MappingError && e.code === 'INVALID_READING');
    assert.throws(() => averageWatts(1, W('energyReal'), 0), (e: unknown) => e instanceof MappingError && e.code === 'INVALID_READING');
  });
  test('an event maps to its day and window in the contract time zone; cross-midnight and other slot lengths are refused', () => {
    assert.deepEqual(eventGrid(START, START + 4 * SLOT, SLOT, ROME), { day: EVENT_DAY, window: [68, 69, 70, 71], coveredMs: [SLOT, SLOT, SLOT, SLOT] });
    assert.throws(() => eventGrid(START, START + 4 * SLOT, 5 * MIN, ROME), (e: unknown) => e instanceof MappingError && e.code === 'OFF_GRID');
    assert.throws(() => eventGrid(Date.parse(`${EVENT_DAY}T21:45:00Z`), Date.parse(`${EVENT_DAY}T22:15:00Z`), SLOT, ROME), (e: unknown) => e instanceof MappingError && e.code === 'OFF_GRID');
  });
  test('interop 3: an event off the slot grid covers its first and last slots in part; the contract is asked for their slot averages', () => {
    const g = eventGrid(START + 7 * MIN, START + 67 * MIN, SLOT, ROME);
    assert.deepEqual(g, { day: EVENT_DAY, window: [68, 69, 70, 71, 72], coveredMs: [8 * MIN, SLOT, SLOT, SLOT, 7 * MIN] });
    assert.deepEqual(slotAverageRequest([300, 300, 300, 300, 300], g.coveredMs, SLOT), [160, 300, 300, 300, 140]);
  });
  test('a reading across a slot boundary is split by time', () => {
    const parts = slotParts(START + 10 * MIN, START + 20 * MIN, ROME);
    assert.deepEqual(parts.map((p) => [p.day, p.slot, p.overlapMs]), [[EVENT_DAY, 68, 5 * MIN], [EVENT_DAY, 69, 5 * MIN]]);
  });
});

describe('mapping on the embedded ledger', () => {
  let dir: string;
  let ledger: EmbeddedLedger;
  let store: MappingStore;
  let mapping: LedgerMapping;
  let ids: MappingIdentities;
  let now = Date.parse(`${EVENT_DAY}T01:00:00Z`);
  const storePath = () => join(dir, 'vtn', 'ledger-mapping.sqlite');
  const energy = async (meterId: string) =>
    JSON.parse(await ledger.evaluate(ids.operator, 'queryEnergyValue', [meterId, EVENT_DAY])) as { found: boolean; values?: (number | null)[]; records?: number };

  before(async () => {
    dir = tempDataDir('oadr-mapping-');
    const orgs = await loadOrCreateOrgs(join(dir, 'ledger', 'certs'), { createCa: createTestCa });
    const org1 = orgs[0];
    assert.ok(org1 !== undefined);
    ledger = await createEmbeddedLedger({ dataDir: join(dir, 'ledger'), orgs, clock: () => new Date(now) });
    ids = {
      operator: await issueClientIdentity(org1, 'vtn-operator', { ID: 'operator:vtn' }),
      retailer: await issueClientIdentity(org1, 'vtn-retailer', { ID: 'retailer:vtn' }),
      retailerId: 'retailer:vtn',
    };
    store = createMappingStore({ path: storePath() });
    mapping = createLedgerMapping({ ledger, identities: ids, store, now: () => now });
    // 35 days of history for A and B (the data hub upload); none for the newcomer.
    const days = (h: 1 | 2) => Array.from({ length: 35 }, (_, i) => ({ day: addDaysUtc(EVENT_DAY, -(i + 1)), values: profile(h, i + 1) }));
    await mapping.importEnergy(A, days(1));
    await mapping.importEnergy(B, days(2));
  });
  after(async () => {
    store.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('notifyEvent: baselines, notifyDRevent, each targeted customer its own OPR; a customer without history is excluded', async () => {
    now = Date.parse(`${EVENT_DAY}T12:00:00Z`);
    const a = await mapping.notifyEvent({ eventId: 'ev-1', startMs: START, slots: 4, reductionW: [300, 300, 400, 400], meterIds: [B, A, NEWCOMER] });
    assert.equal(a.day, EVENT_DAY);
    assert.deepEqual(a.window, [68, 69, 70, 71]);
    assert.equal(a.version, 0);
    assert.deepEqual([...a.oprByMeter.keys()], [A, B]);
    assert.match(a.excluded.get(NEWCOMER) ?? '', /^BASELINE_NOT_FOUND/);
    const oprA = a.oprByMeter.get(A) ?? [];
    const oprB = a.oprByMeter.get(B) ?? [];
    // The contract splits the request between the two customers of the cluster.
    assert.deepEqual(oprA.map((x, i) => x + (oprB[i] ?? 0)), [300, 300, 400, 400]);
    assert.notDeepEqual(oprA, oprB);
    const onLedger = JSON.parse(await ledger.evaluate(ids.operator, 'queryLoadReduction', ['ev-1', A])) as { oprW: number[] };
    assert.deepEqual(onLedger.oprW, oprA);
  });

  test('a baseline stays on the ledger: the meters known to have one for the day are not asked about again, the others are', async () => {
    const asked: string[][] = [];
    const counting: Ledger = { ...ledger, evaluate: (identity, fn, args) => {
      if (fn === 'queryMissingBaselines') asked.push(JSON.parse(args[1] as string) as string[]);
      return ledger.evaluate(identity, fn, args);
    } };
    // The baselines of A and B are on the ledger (evaluated by a first mapping, if no test before did); a second one (a restart) asks once.
    const first = createLedgerMapping({ ledger, identities: ids, store: createMappingStore({ path: ':memory:' }), now: () => now });
    await first.notifyEvent({ eventId: 'ev-known-0', startMs: START, slots: 1, reductionW: 100, meterIds: [A, B] });
    await first.cancelEvent('ev-known-0');
    const fresh = createLedgerMapping({ ledger: counting, identities: ids, store: createMappingStore({ path: ':memory:' }), now: () => now });
    await fresh.notifyEvent({ eventId: 'ev-known-1', startMs: START, slots: 1, reductionW: 100, meterIds: [A, B] });
    const second = await fresh.notifyEvent({ eventId: 'ev-known-2', startMs: START, slots: 1, reductionW: 100, meterIds: [B, NEWCOMER, A] });
    assert.match(second.excluded.get(NEWCOMER) ?? '', /^BASELINE_NOT_FOUND/);
    await fresh.notifyEvent({ eventId: 'ev-known-3', startMs: START, slots: 1, reductionW: 100, meterIds: [A, B, NEWCOMER] });
    assert.deepEqual(asked, [[A, B], [NEWCOMER], [NEWCOMER]]);
    for (const e of ['ev-known-1', 'ev-known-2', 'ev-known-3']) await fresh.cancelEvent(e);
  });

  test('notifyEvent again is idempotent: same allocation, nothing new on the ledger', async () => {
    const height = await ledger.height();
    const again = await mapping.notifyEvent({ eventId: 'ev-1', startMs: START, slots: 4, reductionW: [300, 300, 400, 400], meterIds: [A, B, NEWCOMER] });
    assert.deepEqual([...again.oprByMeter.keys()], [A, B]);
    assert.equal(await ledger.height(), height);
    await assert.rejects(mapping.notifyEvent({ eventId: 'ev-1', startMs: START, slots: 4, reductionW: 1, meterIds: [A] }), (e: unknown) => e instanceof MappingError && e.code === 'INVALID_REQUEST');
  });

  test('the contract shares an event only among its targeted customers: two feeders on one day each give their own request', async () => {
    const feederA = await mapping.notifyEvent({ eventId: 'ev-feeder-a', startMs: START + 8 * SLOT, slots: 2, reductionW: 250, meterIds: [A] });
    const feederB = await mapping.notifyEvent({ eventId: 'ev-feeder-b', startMs: START + 8 * SLOT, slots: 2, reductionW: 150, meterIds: [B] });
    assert.deepEqual([...feederA.oprByMeter.keys()], [A]);
    // Each customer takes its feeder's whole request, up to the ε (1 W) the allocation stops within.
    const whole = (opr: readonly number[] | undefined, w: number) => assert.ok(opr !== undefined && opr.every((x) => x > w - 2 && x <= w), `${String(opr)} is not ${w} W`);
    whole(feederA.oprByMeter.get(A), 250);
    whole(feederB.oprByMeter.get(B), 150);
    for (const [eventId, other] of [['ev-feeder-a', B], ['ev-feeder-b', A]] as const) {
      const e = JSON.parse(await ledger.evaluate(ids.operator, 'queryDRevent', [eventId])) as { customers: number; cluster: string };
      assert.deepEqual([e.customers, e.cluster], [1, 'listed']);
      await assert.rejects(ledger.evaluate(ids.operator, 'queryLoadReduction', [eventId, other]), /NOT_FOUND/, 'nothing is asked of the other feeder');
    }
    const modified = await mapping.modifyEvent('ev-feeder-a', 100);
    assert.deepEqual([...modified.oprByMeter.keys()], [A], 'a modification keeps the cluster');
    whole(modified.oprByMeter.get(A), 100);
  });

  test('modifyEvent is a new version with new OPRs; cancelEvent cancels on the ledger, twice is harmless', async () => {
    const m = await mapping.notifyEvent({ eventId: 'ev-x', startMs: START + 4 * SLOT, slots: 2, reductionW: 200, meterIds: [A, B] });
    const v1 = await mapping.modifyEvent('ev-x', [500, 100]);
    assert.equal(v1.version, m.version + 1);
    // Opt answers: a cancellation's modificationNumber maps to the last contract version; the same
    // answer twice is one transaction; events and meters the ledger does not know need none.
    const opted = await mapping.recordOpt({ eventId: 'ev-x', meterId: A, optType: 'optOut', modificationNumber: 5, atMs: now });
    assert.equal(opted?.unchanged, false);
    assert.equal((await mapping.recordOpt({ eventId: 'ev-x', meterId: A, optType: 'optOut', modificationNumber: 1, atMs: now }))?.unchanged, true);
    const onLedger = JSON.parse(await ledger.evaluate(ids.operator, 'queryOptState', ['ev-x', A])) as { version: number; optType: string; txId: string };
    assert.deepEqual([onLedger.version, onLedger.optType, onLedger.txId], [1, 'optOut', opted?.txId]);
    assert.equal(await mapping.recordOpt({ eventId: 'not-on-ledger', meterId: A, optType: 'optIn', modificationNumber: 0, atMs: now }), undefined);
    assert.equal(await mapping.recordOpt({ eventId: 'ev-x', meterId: NEWCOMER, optType: 'optIn', modificationNumber: 0, atMs: now }), undefined);
    await assert.rejects(mapping.recordOpt({ eventId: 'ev-x', meterId: A, optType: 'optIn', modificationNumber: 0, atMs: now }), (e: unknown) => e instanceof MappingError && e.code === 'NOT_ALLOWED');
    // Answers given back to back reach the ledger in that order: the last one stands.
    const answers = ['optIn', 'optOut', 'optIn', 'optOut'] as const;
    await Promise.all(answers.map((optType) => mapping.recordOpt({ eventId: 'ev-x', meterId: B, optType, modificationNumber: 1, atMs: now })));
    assert.equal((JSON.parse(await ledger.evaluate(ids.operator, 'queryOptState', ['ev-x', B])) as { optType: string }).optType, 'optOut');
    assert.deepEqual([0, 1].map((i) => (v1.oprByMeter.get(A)?.[i] ?? 0) + (v1.oprByMeter.get(B)?.[i] ?? 0)), [500, 100]);
    await mapping.cancelEvent('ev-x');
    await mapping.cancelEvent('ev-x');
    assert.equal((JSON.parse(await ledger.evaluate(ids.operator, 'queryDRevent', ['ev-x'])) as { status: string }).status, 'cancelled');
    assert.equal((await mapping.settleEvent('ev-x')).status, 'cancelled');
    await assert.rejects(mapping.modifyEvent('ev-x', 1), (e: unknown) => e instanceof MappingError && e.code === 'NOT_ALLOWED');
  });

  test('sub-slot telemetry is averaged energy-weighted into its slot, recorded once complete, out of order, k and M scales', async () => {
    now = START + SLOT + MIN;
    // Slot 68 (15:00–15:15Z), worked by hand:
    //   15:00–15:05  1.2 kW (powerReal k)      1200 W · 300 s = 360 000 J
    //   15:05–15:06  0.0006 MW (powerReal M)    600 W ·  60 s =  36 000 J
    //   15:06–15:15  0.135 kWh (energyReal k)   900 W · 540 s = 486 000 J
    //   → 882 000 J / 900 s = 980 W (a plain mean of the three values would say 900 W).
    const last = reading(A, START + 6 * MIN, 9 * MIN, 0.135, W('energyReal', 'k'));
    const first = reading(A, START, 5 * MIN, 1.2, W('powerReal', 'k'));
    const middle = reading(A, START + 5 * MIN, MIN, 0.0006, W('powerReal', 'M'));
    const r1 = await mapping.recordTelemetry([last, first]);
    assert.equal(r1.accepted, 2);
    assert.equal(r1.recorded.slots.length, 0, 'an incomplete slot is not recorded');
    assert.equal((await energy(A)).found, false);
    const r2 = await mapping.recordTelemetry([middle]);
    assert.deepEqual(r2.recorded.slots.map((s) => s.slots), [[68]]);
    assert.equal((await energy(A)).values?.[68], 980);
  });

  test('the same report twice records once', async () => {
    const height = await ledger.height();
    const again = await mapping.recordTelemetry([reading(A, START, 5 * MIN, 1.2, W('powerReal', 'k')), reading(A, START + 5 * MIN, MIN, 0.0006, W('powerReal', 'M'))]);
    assert.equal(again.accepted, 0);
    assert.equal(again.duplicates, 2);
    assert.equal(again.recorded.slots.length, 0);
    assert.equal(await ledger.height(), height);
    assert.equal((await energy(A)).records, 1);
  });

  test('a correction (same interval, another value: R346) replaces the earlier value and records the slot again; another duration is a conflict', async () => {
    const fixed = await mapping.recordTelemetry([reading(A, START, 5 * MIN, 1.5, W('powerReal', 'k'))]);
    assert.deepEqual([fixed.accepted, fixed.corrections, fixed.duplicates], [0, 1, 0]);
    assert.deepEqual(fixed.recorded.slots.map((s) => s.slots), [[68]]);
    const onLedger = await energy(A);
    assert.equal(onLedger.values?.[68], 1080, '980 W + (1500 − 1200) W × 5/15');
    assert.equal(onLedger.records, 2, 'a correction on the ledger, the earlier value in its history');
    const clash = await mapping.recordTelemetry([reading(A, START, 4 * MIN, 3, W('powerReal', 'k'))]);
    assert.deepEqual([clash.conflicts, clash.recorded.slots.length], [1, 0]);
    const back = await mapping.recordTelemetry([reading(A, START, 5 * MIN, 1.2, W('powerReal', 'k'))]);
    assert.equal(back.corrections, 1);
    assert.equal((await energy(A)).values?.[68], 980);
  });

  test('a reading across two slots is split; a late reading for an earlier slot lands in that slot; readings from the future are refused', async () => {
    now = START + 3 * SLOT + MIN;
    // Slot 69: 15:15–15:25 400 W, 15:25–15:35 800 W (5 minutes of it in slot 69, 5 in slot 70).
    const r = await mapping.recordTelemetry([reading(B, START + SLOT, 10 * MIN, 400), reading(B, START + SLOT + 10 * MIN, 10 * MIN, 800)]);
    assert.deepEqual(r.recorded.slots.map((s) => s.slots), [[69]]);
    assert.equal((await energy(B)).values?.[69], Math.round((400 * 600 + 800 * 300) / 900)); // 533
    // Late: slot 68 of B arrives after slot 69 was recorded.
    const late = await mapping.recordTelemetry([reading(B, START, SLOT, 1000)]);
    assert.deepEqual(late.recorded.slots.map((s) => s.slots), [[68]]);
    const b = await energy(B);
    assert.deepEqual([b.values?.[68], b.values?.[69], b.values?.[70]], [1000, 533, null]);
    const future = await mapping.recordTelemetry([reading(B, now + 10 * MIN, MIN, 1)]);
    assert.equal(future.rejected.length, 1);
  });

  test('the accumulator survives a restart: a slot half-filled before completes after', async () => {
    now = START + 4 * SLOT + MIN;
    // Slot 70 of B holds 5 min of 800 W from the previous test; the rest arrives after a "restart".
    store.close();
    store = createMappingStore({ path: storePath() });
    mapping = createLedgerMapping({ ledger, identities: ids, store, now: () => now });
    const r = await mapping.recordTelemetry([reading(B, START + 2 * SLOT + 5 * MIN, 10 * MIN, 200)]);
    assert.deepEqual(r.recorded.slots.map((s) => s.slots), [[70]]);
    assert.equal((await energy(B)).values?.[70], 400); // (800·5 + 200·10) / 15
  });

  test('settleEvent closes the day, evaluates availability and mints tokens; the customer who reduced earns more; twice settles once', async () => {
    now = START + 4 * SLOT + 2 * MIN;
    // A reduced: 980 W was slot 68; 100 W from 15:15 to 16:00. B: 1000/533/400 and one partial slot (71, 12 of 15 minutes: over the 80 % a slot needs to count as measured).
    await mapping.recordTelemetry([reading(A, START + SLOT, 3 * SLOT, 100), reading(B, START + 3 * SLOT, 12 * MIN, 2000)]);
    assert.equal((await energy(B)).values?.[71], null, 'slot 71 of B is incomplete until the day closes');
    now = START + 5 * SLOT;
    const s = await mapping.settleEvent('ev-1');
    assert.equal(s.status, 'settled', [...s.unsettled.values()].join('; '));
    assert.equal((await energy(B)).values?.[71], 2000, 'closing the day records the partial slot');
    const ra = s.rewardsMilli.get(A) ?? -1;
    const rb = s.rewardsMilli.get(B) ?? -1;
    assert.ok(ra > rb, `A earned ${ra}, B ${rb}`);
    assert.equal(await mapping.balanceMilli(A), ra);
    const height = await ledger.height();
    const again = await mapping.settleEvent('ev-1');
    assert.deepEqual(again.rewardsMilli, s.rewardsMilli);
    assert.equal(await ledger.height(), height);
    assert.equal(await mapping.balanceMilli(A), ra);
  });

  test('program parameters: read, changed by the operator identity, invalid ones refused as INVALID_REQUEST', async () => {
    const before = await mapping.programParams();
    assert.equal(before.tokenRateMilli, 1000);
    const after = await mapping.setProgramParams({ tokenRateMilli: 1500 });
    assert.equal(after.tokenRateMilli, 1500);
    assert.equal(after.baselineY, before.baselineY, 'the others stay');
    await assert.rejects(mapping.setProgramParams({ noSuchParameter: 1 }), (e: unknown) => e instanceof MappingError && e.code === 'INVALID_REQUEST');
    await assert.rejects(mapping.setProgramParams({ operatorMspIds: ['Org2MSP'] }), (e: unknown) => e instanceof MappingError && e.code === 'NOT_ALLOWED' && /^OPERATOR_LOCKOUT: /.test(e.message));
    await mapping.setProgramParams({ tokenRateMilli: before.tokenRateMilli as number });
  });
});
