import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EVENT_DAY } from '../../chaincode/testing/reference-scenario.ts';
import { slotParts } from './mapping.ts';
import { integratePoints, type PointKind } from './points.ts';
import { createMappingStore, type MappingStore, type SlotAccumulator } from './store.ts';

const ROME = { timeZone: 'Europe/Rome', slotsPerDay: 96 };
const S = 1000;
const MIN = 60 * S;
const SLOT = 15 * MIN;
/** 17:00 in Rome on the event day (CEST): slot 68. */
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`);
const M = 'smartmeter:P';

const partsOf = (fromMs: number, toMs: number) => slotParts(fromMs, toMs, ROME);
const add = (store: MappingStore, t: number, value: number, kind: PointKind = 'power', seriesId = 'usage') =>
  store.addPoint({ meterId: M, seriesId, t, kind, value }, partsOf);
const slot = (store: MappingStore, n: number): SlotAccumulator | undefined => store.slots(M, EVENT_DAY).find((s) => s.slot === n);
const average = (s: SlotAccumulator | undefined): number => Math.round((s?.energyWms ?? 0) / (s?.coveredMs ?? 1));
/** Every 10 s from `from` to `to` inclusive, power given by `p(t)`. */
const every10s = (from: number, to: number, p: (t: number) => number): Array<[number, number]> => {
  const out: Array<[number, number]> = [];
  for (let t = from; t <= to; t += 10 * S) out.push([t, p(t)]);
  return out;
};
const withStore = (fn: (store: MappingStore) => void) => () => {
  const store = createMappingStore({ path: ':memory:' });
  try {
    fn(store);
  } finally {
    store.close();
  }
};

describe('interop 1: point telemetry, time-weighted per slot (pure)', () => {
  test('interop 1: power is integrated linearly between points; a gap longer than the limit covers nothing', () => {
    const pts = [{ t: 0, value: 800 }, { t: 200, value: 800 }, { t: 500, value: 1400 }, { t: 1200, value: 1400 }];
    // [0,200] 800·200 + [200,500] 1100·300; [500,1200] is 700 ms > 300 ms: uncovered.
    assert.deepEqual(integratePoints(pts, 'power', 0, 2000, 300), { energyWms: 160_000 + 330_000, coveredMs: 500 });
    // Clipped to [100, 350): 800·100 + (800 + 1100)/2·150 = 80 000 + 142 500.
    assert.deepEqual(integratePoints(pts, 'power', 100, 350, 300), { energyWms: 222_500, coveredMs: 250 });
  });
  test('interop 1: an energy register gives the power between two readings; a register that went down covers nothing', () => {
    // 25 Wh in a minute = 1500 W; then the register resets.
    const pts = [{ t: 0, value: 100 }, { t: MIN, value: 125 }, { t: 2 * MIN, value: 3 }];
    assert.deepEqual(integratePoints(pts, 'energy', 0, 3 * MIN, 5 * MIN), { energyWms: 1500 * MIN, coveredMs: MIN });
  });
});

describe('interop 1: point telemetry in the slot accumulator', () => {
  test('interop 1: regular 10 s samples of a ramp give the slot its exact average and complete it', withStore((store) => {
    // 600 W at 17:00 rising 1 W/s: the mean over the slot is 600 + 450 = 1050 W.
    for (const [t, v] of every10s(START - 30 * S, START + SLOT, (t) => 600 + (t - START) / S)) assert.equal(add(store, t, v), 'added');
    const s = slot(store, 68);
    assert.equal(s?.coveredMs, SLOT);
    assert.equal(average(s), 1050);
    assert.deepEqual(store.slotsToRecord().map((x) => x.slot), [68], 'complete: recordable; slot 67 holds only 30 s');
  }));

  test('interop 1: irregular samples are weighted by the time they cover, not counted', withStore((store) => {
    // 17:00 800 W, 17:03:20 800 W, 17:08:20 1400 W, 17:11:40 1400 W, 17:15 1000 W:
    // 800·200 + 1100·300 + 1400·200 + 1200·200 = 1 010 000 W·s over 900 s = 1122 W (the plain mean is 1080).
    for (const [t, v] of [[START, 800], [START + 200 * S, 800], [START + 500 * S, 1400], [START + 700 * S, 1400], [START + 900 * S, 1000]] as const) add(store, t, v);
    assert.equal(slot(store, 68)?.coveredMs, SLOT);
    assert.equal(average(slot(store, 68)), 1122);
  }));

  test('interop 1: the same sample twice is a duplicate; a new value at the same instant corrects the slot (R346)', withStore((store) => {
    const pts = every10s(START, START + SLOT, () => 1000);
    for (const [t, v] of pts) add(store, t, v);
    const before = slot(store, 68);
    for (const [t, v] of pts) assert.equal(add(store, t, v), 'duplicate');
    assert.deepEqual(slot(store, 68), before);
    assert.equal(add(store, START + 450 * S, 1900), 'corrected');
    // The spike covers 17:07:20–17:07:40: (1000 + 1900)/2 · 20 s replaces 1000 · 20 s → +9 000 W·s over 900 s.
    assert.equal(average(slot(store, 68)), 1010);
    assert.equal(add(store, START + 450 * S, 5, 'energy'), 'conflict', 'a power series does not become a register');
  }));

  test('interop 1: out-of-order delivery gives the same slots as in-order delivery', withStore((store) => {
    const pts = every10s(START - MIN, START + 2 * SLOT, (t) => 500 + ((t - START) / S) % 170);
    const inOrder = createMappingStore({ path: ':memory:' });
    try {
      for (const [t, v] of pts) inOrder.addPoint({ meterId: M, seriesId: 'usage', t, kind: 'power', value: v }, partsOf);
      // A shuffle that is the same every run: every 7th point, starting at each offset.
      for (let k = 0; k < 7; k++) for (let i = pts.length - 1 - k; i >= 0; i -= 7) add(store, ...(pts[i] as [number, number]));
      for (const n of [67, 68, 69]) {
        assert.equal(slot(store, n)?.coveredMs, inOrder.slots(M, EVENT_DAY).find((s) => s.slot === n)?.coveredMs);
        assert.ok(Math.abs((slot(store, n)?.energyWms ?? 0) - (inOrder.slots(M, EVENT_DAY).find((s) => s.slot === n)?.energyWms ?? 0)) < 1e-3);
      }
      assert.equal(slot(store, 68)?.coveredMs, SLOT);
    } finally {
      inOrder.close();
    }
  }));

  test('interop 1: a sample exactly on a slot boundary closes one slot and opens the next', withStore((store) => {
    // 17:10 1000 W, 17:15 (the boundary) 2000 W, 17:20 2000 W.
    add(store, START + 10 * MIN, 1000);
    add(store, START + SLOT, 2000);
    add(store, START + 20 * MIN, 2000);
    assert.deepEqual([slot(store, 68)?.coveredMs, slot(store, 68)?.energyWms], [5 * MIN, 1500 * 5 * MIN], 'the segment before the boundary is all in slot 68');
    assert.deepEqual([slot(store, 69)?.coveredMs, slot(store, 69)?.energyWms], [5 * MIN, 2000 * 5 * MIN], 'and the one after it all in slot 69');
  }));

  test('interop 1: a gap over 5 minutes is not covered; at day close a slot counts as measured only with 80 % covered', withStore((store) => {
    // Slot 68: 10 s samples except 17:05–17:11 (6 min silent) → 9 of 15 min covered (60 %).
    for (const [t, v] of every10s(START, START + SLOT, () => 1200)) if (t <= START + 5 * MIN || t >= START + 11 * MIN) add(store, t, v);
    // Slot 69: a 4-minute silence is bridged (≤ 5 min): covered whole, the line drawn across it.
    for (const [t, v] of every10s(START + SLOT, START + 2 * SLOT, () => 700)) if (t <= START + SLOT + 5 * MIN || t >= START + SLOT + 9 * MIN) add(store, t, v);
    // Slot 71: the first sample at 17:47 (17 min after the one before: nothing before it is covered), the last at 18:00: 13 of 15 min (87 %).
    for (const [t, v] of every10s(START + 3 * SLOT + 2 * MIN, START + 4 * SLOT, () => 400)) add(store, t, v);
    assert.equal(slot(store, 68)?.coveredMs, 9 * MIN);
    assert.equal(slot(store, 69)?.coveredMs, SLOT);
    assert.equal(slot(store, 70), undefined);
    assert.equal(slot(store, 71)?.coveredMs, 13 * MIN);
    assert.deepEqual(store.slotsToRecord().map((s) => s.slot), [69], 'before the day closes only the complete slot');
    store.closeDay(EVENT_DAY);
    assert.deepEqual(store.slotsToRecord().map((s) => [s.slot, average(s)]), [[69, 700], [71, 400]], 'slot 68 (60 %) stays missing');
  }));

  test('interop 1: a cumulative energy register (Wh) becomes the slot average power', withStore((store) => {
    // 1.5 kW: the register rises 25 Wh a minute, read every minute from 16:59 to 17:16.
    for (let i = -1; i <= 16; i++) add(store, START + i * MIN, 10_000 + 25 * i, 'energy');
    assert.equal(slot(store, 68)?.coveredMs, SLOT);
    assert.equal(average(slot(store, 68)), 1500);
  }));
});
