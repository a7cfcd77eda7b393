import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeReward, fullDayWindow, REWARD_DEFAULTS } from './reward.ts';
import { createSeededRandom } from '../../test/support/seeded-random.ts';

const { tokenRateMilli } = REWARD_DEFAULTS; // k = 1000 milli-tokens per kW² per slot

test('eq. 4.10 by hand: reductions earn (B − P)² in kW², increases earn nothing (Heaviside)', (t) => {
  const result = computeReward({
    baseline: [1000, 2000, 500, 800, 3000],
    measured: [600, 2100, 500, 0, 0],
    window: [0, 1, 2, 3],
    tokenRateMilli,
  });
  // slot 0: B − P = 400 W = 0.4 kW → 0.16 kW² · 1000 = 160 milli-tokens
  // slot 1: P > B (an increase of 100 W) → H = 0 → 0
  // slot 2: P = B → 0
  // slot 3: 800 W = 0.8 kW → 0.64 · 1000 = 640
  // slot 4: 3000 W of reduction but outside the window → 0
  t.assert.deepEqual(result, { perSlot: [160, 0, 0, 640, 0], total: 800 });
});

test('the total is rounded once; per-slot values are apportioned to sum to it', (t) => {
  // Three slots of 20 W: each 0.02² · 1000 = 0.4 milli-tokens; Σ = 1.2 → total 1.
  // Rounding each slot would give 0; largest remainder gives the 1 to the earliest of the tied slots.
  const tied = computeReward({ baseline: [20, 20, 20], measured: [0, 0, 0], window: [0, 1, 2], tokenRateMilli });
  t.assert.deepEqual(tied, { perSlot: [1, 0, 0], total: 1 });
  // 123 W → 15.129, 457 W → 208.849, 1 W → 0.001: Σ = 223.979 → 224; floors 15 + 208 + 0 = 223;
  // the extra one to the largest remainder (.849, slot 1).
  const mixed = computeReward({ baseline: [123, 457, 1], measured: [0, 0, 0], window: [0, 1, 2], tokenRateMilli });
  t.assert.deepEqual(mixed, { perSlot: [15, 209, 0], total: 224 });
  // Exactly half a milli-token rounds up: 500 W with k = 2 → 0.25 · 2 = 0.5 → 1.
  t.assert.deepEqual(computeReward({ baseline: [500], measured: [0], window: [0], tokenRateMilli: 2 }), { perSlot: [1], total: 1 });
});

test('the "day" option: every slot earns; a slot listed twice earns once', (t) => {
  t.assert.deepEqual(fullDayWindow(3), [0, 1, 2]);
  const day = computeReward({ baseline: [1000, 1000, 1000], measured: [0, 500, 1500], window: fullDayWindow(3), tokenRateMilli });
  // 1.0 kW → 1000; 0.5 kW → 250; increase → 0.
  t.assert.deepEqual(day, { perSlot: [1000, 250, 0], total: 1250 });
  t.assert.deepEqual(computeReward({ baseline: [1000], measured: [0], window: [0, 0], tokenRateMilli }).total, 1000);
});

test('thesis scale: 300 W shed over 48 slots (07:00–19:00) earns 48 · 0.09 kW² = 4.32 tokens', (t) => {
  const baseline = new Array<number>(96).fill(800);
  const measured = baseline.map((b, h) => (h >= 28 && h < 76 ? b - 300 : b));
  const window = Array.from({ length: 48 }, (_, i) => 28 + i);
  t.assert.equal(computeReward({ baseline, measured, window, tokenRateMilli }).total, 4320);
});

/** Independent BigInt reference of the total. */
function referenceTotal(baseline: readonly number[], measured: readonly number[], window: readonly number[], k: number): bigint {
  let sum = 0n;
  for (const h of new Set(window)) {
    const d = BigInt(Math.max(0, (baseline[h] as number) - (measured[h] as number)));
    sum += BigInt(k) * d * d;
  }
  return (2n * sum + 1_000_000n) / 2_000_000n; // round half up of sum / 1e6
}

test('large values switch to BigInt and stay exact', (t) => {
  // k · d² = 7 · (9e9 − 1)² ≈ 5.7e20 > 2^53.
  const baseline = [9_000_000_000, 123_456_789];
  const measured = [1, 0];
  const result = computeReward({ baseline, measured, window: [0, 1], tokenRateMilli: 7 });
  t.assert.equal(BigInt(result.total), referenceTotal(baseline, measured, [0, 1], 7));
  t.assert.equal(result.total, (result.perSlot[0] as number) + (result.perSlot[1] as number));
  t.assert.throws(() => computeReward({ baseline: [9_000_000_000], measured: [0], window: [0], tokenRateMilli: 1000 }), /INVALID_ARGUMENT: reward above 2\^53/);
});

test('property (500 profiles): total exact, Σ perSlot = total, each slot floor or ceiling of its share', (t) => {
  const random = createSeededRandom(0x7e4a);
  for (let run = 0; run < 500; run++) {
    const S = 1 + random.int(96);
    const scale = [10, 5000, 100_000, 50_000_000][random.int(4)] as number;
    const baseline = Array.from({ length: S }, () => random.int(scale));
    const measured = Array.from({ length: S }, () => random.int(scale));
    const window = Array.from({ length: S }, (_, h) => h).filter(() => random.int(3) > 0);
    const k = random.int(5000);
    const result = computeReward({ baseline, measured, window, tokenRateMilli: k });
    t.assert.equal(BigInt(result.total), referenceTotal(baseline, measured, window, k));
    t.assert.equal(result.perSlot.reduce((s, v) => s + v, 0), result.total);
    for (let h = 0; h < S; h++) {
      const d = Math.max(0, (baseline[h] as number) - (measured[h] as number));
      const exact = window.includes(h) ? (BigInt(k) * BigInt(d) * BigInt(d)) : 0n;
      const floor = exact / 1_000_000n;
      const ceil = floor + (exact % 1_000_000n === 0n ? 0n : 1n);
      const value = BigInt(result.perSlot[h] as number);
      assert.ok(value === floor || value === ceil, `run ${run} slot ${h}`);
    }
  }
});

test('bad input is refused with INVALID_ARGUMENT', (t) => {
  t.assert.throws(() => computeReward({ baseline: [1, 2], measured: [1], window: [0], tokenRateMilli }), /INVALID_ARGUMENT: measured has 1 values/);
  t.assert.throws(() => computeReward({ baseline: [1], measured: [1], window: [1], tokenRateMilli }), /INVALID_ARGUMENT: window slot/);
  t.assert.throws(() => computeReward({ baseline: [1], measured: [-1], window: [0], tokenRateMilli }), /INVALID_ARGUMENT: measured\[0\]/);
  t.assert.throws(() => computeReward({ baseline: [1], measured: [1], window: [0], tokenRateMilli: 0.5 }), /INVALID_ARGUMENT: tokenRateMilli/);
});

test('a day of more than 96 slots (5-minute slots, S = 288) earns in every slot, whatever the window order', (t) => {
  const S = 288;
  // 1 kW shed in every slot → 1000 milli-tokens each; slot 200 sheds 1.5 kW → 2250.
  const baseline = new Array<number>(S).fill(1000);
  baseline[200] = 1500;
  const measured = new Array<number>(S).fill(0);
  const expected = new Array<number>(S).fill(1000);
  expected[200] = 2250;
  for (const window of [fullDayWindow(S), fullDayWindow(S).reverse()]) {
    t.assert.deepEqual(computeReward({ baseline, measured, window, tokenRateMilli }), { perSlot: expected, total: 287 * 1000 + 2250 });
  }
});
