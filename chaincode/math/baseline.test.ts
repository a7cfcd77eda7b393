import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASELINE_DEFAULTS, baselineModeFor, computeBaseline, sumBaselines } from './baseline.ts';
import type { DayProfile } from './baseline.ts';
import { previousDays } from './calendar.ts';
import { createSeededRandom } from '../../test/support/seeded-random.ts';

// A small hand-worked history: S = 4 slots, target Wednesday 2024-06-12, Y = 5.
//   day         values             daily energy   note
//   2024-06-12  [900,900,900,900]  3600           the target day itself: skipped
//   2024-06-11  [10,10,11,19]        50
//   2024-06-10  [300,300,300,300]  1200           DR event day: excluded
//   2024-06-09  [20,20,20,20]        80
//   2024-06-08  [5,15,25,35]         80           ties with 06-09
//   2024-06-07  [7,7,7]               —           incomplete (3 of 4 values): skipped
//   2024-06-06  [0,0,0,0]             0
//   2024-06-05  [50,0,0,0]           50           ties with 06-11
//   2024-06-04  [400,400,400,400]  1600           6th eligible day: outside the pool of Y = 5
// Pool (5 most recent eligible days): 06-11 (50), 06-09 (80), 06-08 (80), 06-06 (0), 06-05 (50).
const history: DayProfile[] = [
  { day: '2024-06-12', values: [900, 900, 900, 900] },
  { day: '2024-06-11', values: [10, 10, 11, 19] },
  { day: '2024-06-10', values: [300, 300, 300, 300] },
  { day: '2024-06-09', values: [20, 20, 20, 20] },
  { day: '2024-06-08', values: [5, 15, 25, 35] },
  { day: '2024-06-07', values: [7, 7, 7] },
  { day: '2024-06-06', values: [0, 0, 0, 0] },
  { day: '2024-06-05', values: [50, 0, 0, 0] },
  { day: '2024-06-04', values: [400, 400, 400, 400] },
];
const base = { history, targetDay: '2024-06-12', excludedDays: new Set(['2024-06-10']), Y: 5, slotsPerDay: 4 } as const;

test('HighXofY: the X highest-energy days of the pool, tie to the more recent day', (t) => {
  // X = 3, highest first: 80 (06-09), 80 (06-08), then 50 vs 50: 06-11 beats the older 06-05.
  //   slot 0: (10 + 20 +  5) / 3 = 35/3 = 11.67 → 12
  //   slot 1: (10 + 20 + 15) / 3 = 45/3 = 15
  //   slot 2: (11 + 20 + 25) / 3 = 56/3 = 18.67 → 19
  //   slot 3: (19 + 20 + 35) / 3 = 74/3 = 24.67 → 25
  const result = computeBaseline({ ...base, X: 3, mode: 'high' });
  t.assert.deepEqual(result, { ok: true, values: [12, 15, 19, 25], daysUsed: ['2024-06-08', '2024-06-09', '2024-06-11'] });
});

test('LowXofY: the X lowest-energy days of the same pool, halves rounded up', (t) => {
  // X = 2, lowest first: 0 (06-06), then 50 vs 50: 06-11 beats 06-05.
  //   slot 0: (0 + 10) / 2 = 5;  slot 1: (0 + 10) / 2 = 5
  //   slot 2: (0 + 11) / 2 = 5.5 → 6;  slot 3: (0 + 19) / 2 = 9.5 → 10
  const result = computeBaseline({ ...base, X: 2, mode: 'low' });
  t.assert.deepEqual(result, { ok: true, values: [5, 5, 6, 10], daysUsed: ['2024-06-06', '2024-06-11'] });
});

test('the pool reaches further back past excluded days; too few days is reported, not thrown', (t) => {
  // Y = X = 6: eligible days 06-11, 06-09, 06-08, 06-06, 06-05, 06-04 → exactly 6, all averaged.
  //   slot 0: (10 + 20 + 5 + 0 + 50 + 400) / 6 = 485/6 = 80.83 → 81
  //   slot 1: (10 + 20 + 15 + 0 + 0 + 400) / 6 = 445/6 = 74.17 → 74
  //   slot 2: (11 + 20 + 25 + 0 + 0 + 400) / 6 = 456/6 = 76
  //   slot 3: (19 + 20 + 35 + 0 + 0 + 400) / 6 = 474/6 = 79
  const six = computeBaseline({ ...base, Y: 6, X: 6, mode: 'high' });
  t.assert.deepEqual(six, { ok: true, values: [81, 74, 76, 79], daysUsed: ['2024-06-04', '2024-06-05', '2024-06-06', '2024-06-08', '2024-06-09', '2024-06-11'] });
  // One more DR day (06-04) leaves 5 eligible days for X = 6.
  const excludedDays = new Set(['2024-06-10', '2024-06-04']);
  t.assert.deepEqual(computeBaseline({ ...base, excludedDays, Y: 6, X: 6, mode: 'high' }), { ok: false, found: 5, needed: 6 });
  // Nothing before the target: found 0.
  t.assert.deepEqual(computeBaseline({ ...base, targetDay: '2024-06-04', X: 1, mode: 'low' }), { ok: false, found: 0, needed: 1 });
});

test('baselineModeFor: weekdays HighXofY, weekends LowXofY', (t) => {
  t.assert.equal(baselineModeFor('2024-06-12'), 'high'); // Wednesday
  t.assert.equal(baselineModeFor('2024-06-15'), 'low'); // Saturday
  t.assert.equal(baselineModeFor('2024-06-16'), 'low'); // Sunday
});

test('thesis parameters on 40 days: Y = 35 limits the pool, X = 21 / 14 days averaged', (t) => {
  // Day i before the target (i = 1 … 40) has every slot at 100·i W, so energy grows with age.
  // Pool: i = 1 … 35. High: i = 15 … 35 → mean 100·25 = 2500 W. Low: i = 1 … 14 → 100·7.5 = 750 W.
  const days = previousDays('2024-06-12', 40);
  const long = days.map((day, index) => ({ day, values: new Array<number>(96).fill(100 * (index + 1)) }));
  const common = { history: long, targetDay: '2024-06-12', excludedDays: new Set<string>(), Y: BASELINE_DEFAULTS.Y, slotsPerDay: 96 };
  const high = computeBaseline({ ...common, X: BASELINE_DEFAULTS.highX, mode: 'high' });
  const low = computeBaseline({ ...common, X: BASELINE_DEFAULTS.lowX, mode: 'low' });
  assert.ok(high.ok && low.ok);
  t.assert.deepEqual(high.values, new Array<number>(96).fill(2500));
  t.assert.deepEqual(low.values, new Array<number>(96).fill(750));
  t.assert.equal(high.daysUsed[0], days[34]);
  t.assert.equal(low.daysUsed.at(-1), days[0]);
});

test('property: order of history does not matter; values stay within the pool range', (t) => {
  const random = createSeededRandom(0xba5e);
  for (let run = 0; run < 200; run++) {
    const S = 1 + random.int(6);
    const days = previousDays('2024-06-12', 10 + random.int(30));
    const profiles: DayProfile[] = days.map((day) => ({
      day,
      // Small ranges so that energy ties are frequent; now and then an incomplete day.
      values: Array.from({ length: random.int(12) === 0 ? S - 1 : S }, () => random.int(4)),
    }));
    const excludedDays = new Set(days.filter(() => random.int(5) === 0));
    const Y = 5 + random.int(30);
    const X = 1 + random.int(Y);
    const mode = random.int(2) === 0 ? 'high' : 'low';
    const input = { history: profiles, targetDay: '2024-06-12', excludedDays, Y, X, mode, slotsPerDay: S } as const;
    const first = computeBaseline(input);
    const shuffled = computeBaseline({ ...input, history: random.shuffle(profiles.slice()) });
    t.assert.deepEqual(shuffled, first);
    if (first.ok) {
      t.assert.equal(first.daysUsed.length, X);
      for (const value of first.values) assert.ok(Number.isInteger(value) && value >= 0 && value <= 3);
    } else {
      assert.ok(first.found < X && first.needed === X);
    }
  }
});

test('sumBaselines: the cluster baseline (eq. 4.4)', (t) => {
  t.assert.deepEqual(sumBaselines([[1, 2, 3], [10, 20, 30]], 3), [11, 22, 33]);
  t.assert.throws(() => sumBaselines([[1, 2]], 3), /INVALID_ARGUMENT/);
});

test('bad input is refused with INVALID_ARGUMENT', (t) => {
  t.assert.throws(() => computeBaseline({ ...base, X: 6, mode: 'high' }), /INVALID_ARGUMENT: Y must be/); // Y = 5 < X
  t.assert.throws(() => computeBaseline({ ...base, X: 0, mode: 'high' }), /INVALID_ARGUMENT: X must be/);
  t.assert.throws(() => computeBaseline({ ...base, X: 2, mode: 'middle' as 'high' }), /INVALID_ARGUMENT: mode/);
  t.assert.throws(() => computeBaseline({ ...base, X: 2, mode: 'high', targetDay: '2024-6-12' }), /INVALID_ARGUMENT: targetDay/);
  const twice = [...history, { day: '2024-06-11', values: [1, 1, 1, 1] }];
  t.assert.throws(() => computeBaseline({ ...base, history: twice, X: 2, mode: 'high' }), /INVALID_ARGUMENT: history holds day 2024-06-11 twice/);
  t.assert.throws(() => computeBaseline({ ...base, history: 'none' as unknown as DayProfile[], X: 2, mode: 'high' }), /INVALID_ARGUMENT: history must be an array/);
  t.assert.throws(() => computeBaseline({ ...base, history: [{ day: '2024-06-31', values: [1, 1, 1, 1] }], X: 1, mode: 'high' }), /INVALID_ARGUMENT: history day must be a calendar date/);
  t.assert.throws(() => computeBaseline({ ...base, slotsPerDay: 0, X: 1, mode: 'high' }), /INVALID_ARGUMENT: slotsPerDay/);
  t.assert.throws(() => sumBaselines([[1, 2]], 0), /INVALID_ARGUMENT: slotsPerDay/);
  t.assert.throws(() => sumBaselines([[2 ** 52, 0], [2 ** 52, 0]], 2), /INVALID_ARGUMENT: cluster baseline above 2\^53 W/);
  t.assert.throws(() => computeBaseline({ ...base, history: [{ day: '2024-06-11', values: [2 ** 52, 2 ** 52, 0, 0] }], X: 1, mode: 'high' }), /INVALID_ARGUMENT: daily energy above 2\^53/);
});

test('incomplete days are not in the pool: wrong length, a missing, negative, fractional or unsafe value', (t) => {
  const day = (d: string, values: unknown[]) => ({ day: d, values: values as number[] });
  const history = [
    day('2024-06-11', [1, 1, 1]), day('2024-06-10', [1, 1, 1, 1, 1]), day('2024-06-09', [1, null, 1, 1]),
    day('2024-06-08', [1, -1, 1, 1]), day('2024-06-07', [1, 0.5, 1, 1]), day('2024-06-06', [1, '1', 1, 1]),
    day('2024-06-05', [1, 2 ** 53, 1, 1]), day('2024-06-04', [4, 0, 8, 1]),
  ];
  t.assert.deepEqual(computeBaseline({ history, targetDay: '2024-06-12', excludedDays: new Set(), Y: 8, X: 1, mode: 'low', slotsPerDay: 4 }), { ok: true, values: [4, 0, 8, 1], daysUsed: ['2024-06-04'] });
  t.assert.deepEqual(computeBaseline({ history, targetDay: '2024-06-12', excludedDays: new Set(), Y: 8, X: 2, mode: 'low', slotsPerDay: 4 }), { ok: false, found: 1, needed: 2 });
});

test('the pool holds the Y most recent eligible days, whatever their energy', (t) => {
  // Four complete days; Y = 2 keeps 06-11 and 06-10 (energy 4 and 8), not the older, bigger days.
  const history = [['2024-06-11', 1], ['2024-06-10', 2], ['2024-06-09', 50], ['2024-06-08', 90]].map(([d, w]) => ({ day: d as string, values: [w as number, w as number, w as number, w as number] }));
  t.assert.deepEqual(computeBaseline({ history, targetDay: '2024-06-12', excludedDays: new Set(), Y: 2, X: 1, mode: 'high', slotsPerDay: 4 }), { ok: true, values: [2, 2, 2, 2], daysUsed: ['2024-06-10'] });
  t.assert.deepEqual(computeBaseline({ history, targetDay: '2024-06-12', excludedDays: new Set(), Y: 4, X: 1, mode: 'high', slotsPerDay: 4 }), { ok: true, values: [90, 90, 90, 90], daysUsed: ['2024-06-08'] });
});
