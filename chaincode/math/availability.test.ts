import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AVAILABILITY_DEFAULTS, AVAILABILITY_INITIAL, AVAILABILITY_ONE, initialAvailability, updateAvailability } from './availability.ts';
import { createSeededRandom } from '../../test/support/seeded-random.ts';

const { beta, sigmaW, alpha } = AVAILABILITY_DEFAULTS; // β = 0.2, σ = 30 W, α = 0.2

test('a slot never in an event starts at 0.5', (t) => {
  t.assert.equal(AVAILABILITY_INITIAL, AVAILABILITY_ONE / 2);
  t.assert.deepEqual(initialAvailability(4), [500_000, 500_000, 500_000, 500_000]);
});

test('eq. 4.5–4.6 worked by hand, β = α = 0.2, σ = 30 W', (t) => {
  const result = updateAvailability({
    //          slot 0    slot 1    slot 2    slot 3    slot 4    slot 5
    previous: [500_000, 250_000, 500_000, 500_000, 500_000, 123_456],
    baseline: [1000, 200, 0, 800, 1000, 999],
    assigned: [300, 250, 0, 800, 100, 0],
    measured: [720, 0, 30, 0, 907, 5],
    window: [0, 1, 2, 3, 4],
    beta, sigmaW, alpha,
  });
  // slot 0: P_t = 1000 − 300 = 700; ΔP_B = 300 → t1 = 1e6·300/1000 = 300_000
  //         ΔP_DR = |720 − 700| = 20 → t2 = 1e6·30/50 = 600_000
  //         A* = 0.2·300_000 + 0.8·600_000 = 60_000 + 480_000 = 540_000
  //         A  = 0.2·540_000 + 0.8·500_000 = 108_000 + 400_000 = 508_000
  t.assert.equal(result[0], 508_000);
  // slot 1 (clipping): assigned 250 > baseline 200: P_t = −50, ΔP_B = 250 → 1e6·250/200 = 1_250_000 → min(1, …) = 1_000_000
  //         ΔP_DR = |0 − (−50)| = 50 → t2 = 30e6/80 = 375_000
  //         A* = 0.2·1_000_000 + 0.8·375_000 = 200_000 + 300_000 = 500_000
  //         A  = 0.2·500_000 + 0.8·250_000 = 100_000 + 200_000 = 300_000
  t.assert.equal(result[1], 300_000);
  // slot 2 (baseline 0): t1 = 0; P_t = 0, ΔP_DR = 30 → t2 = 30e6/60 = 500_000
  //         A* = 0 + 0.8·500_000 = 400_000;  A = 0.2·400_000 + 0.8·500_000 = 80_000 + 400_000 = 480_000
  t.assert.equal(result[2], 480_000);
  // slot 3 (full shed, followed exactly): t1 = 800/800 = 1e6, ΔP_DR = 0 → t2 = 1e6, A* = 1e6
  //         A = 0.2·1_000_000 + 0.8·500_000 = 600_000
  t.assert.equal(result[3], 600_000);
  // slot 4 (rounding): P_t = 900, t1 = 1e6·100/1000 = 100_000; ΔP_DR = 7 → t2 = 30e6/37 = 810_810.81 → 810_811
  //         A* = (200_000·100_000 + 800_000·810_811)/1e6 = 20_000 + 648_648.8 = 668_648.8 → 668_649
  //         A  = (200_000·668_649 + 800_000·500_000)/1e6 = 133_729.8 + 400_000 = 533_729.8 → 533_730
  t.assert.equal(result[4], 533_730);
  // slot 5 is outside the window: unchanged.
  t.assert.equal(result[5], 123_456);
});

test('α = 1 takes A* alone; α = 0 keeps the past; β = 1 is pure difficulty', (t) => {
  const common = { previous: [500_000], baseline: [1000], assigned: [300], measured: [720], window: [0], sigmaW };
  t.assert.deepEqual(updateAvailability({ ...common, beta, alpha: AVAILABILITY_ONE }), [540_000]);
  t.assert.deepEqual(updateAvailability({ ...common, beta, alpha: 0 }), [500_000]);
  t.assert.deepEqual(updateAvailability({ ...common, beta: AVAILABILITY_ONE, alpha: AVAILABILITY_ONE }), [300_000]);
});

test('repeated perfect compliance on a full shed converges towards 1 and never passes it', (t) => {
  let a = initialAvailability(1);
  for (let event = 0; event < 200; event++) {
    a = updateAvailability({ previous: a, baseline: [500], assigned: [500], measured: [0], window: [0], beta, sigmaW, alpha });
    assert.ok((a[0] as number) <= AVAILABILITY_ONE);
  }
  assert.ok((a[0] as number) >= AVAILABILITY_ONE - 5);
});

test('property: availability stays in [0, 1e6] and outside the window nothing moves', (t) => {
  const random = createSeededRandom(0xa7a1);
  for (let run = 0; run < 500; run++) {
    const S = 1 + random.int(12);
    const pick = (max: number): number => (random.int(8) === 0 ? [0, max][random.int(2)] as number : random.int(max + 1));
    const previous = Array.from({ length: S }, () => pick(AVAILABILITY_ONE));
    const baseline = Array.from({ length: S }, () => pick(5000));
    const assigned = baseline.map((b) => pick(b + 100)); // sometimes above the baseline
    const measured = Array.from({ length: S }, () => pick(8000));
    const window = Array.from({ length: S }, (_, h) => h).filter(() => random.int(2) === 0);
    const result = updateAvailability({
      previous, baseline, assigned, measured, window,
      beta: pick(AVAILABILITY_ONE), sigmaW: 1 + random.int(100), alpha: pick(AVAILABILITY_ONE),
    });
    t.assert.equal(result.length, S);
    for (let h = 0; h < S; h++) {
      const value = result[h] as number;
      assert.ok(Number.isSafeInteger(value) && value >= 0 && value <= AVAILABILITY_ONE, `slot ${h}: ${value}`);
      if (!window.includes(h)) t.assert.equal(value, previous[h]);
    }
  }
});

test('every rounding is half up: an exact half ppm goes up', (t) => {
  // β = 1, A* = t1 = round(1e6 · 1 / 2e6) = round(0.5) = 1; α = 0.5: A = round((0.5 · 1 + 0.5 · 0)) = round(0.5) = 1.
  const one = { previous: [0], baseline: [2_000_000], assigned: [1], measured: [1_999_999], window: [0], beta: AVAILABILITY_ONE, sigmaW: 30, alpha: 500_000 };
  t.assert.deepEqual(updateAvailability(one), [1]);
  // t2 = round(1e6 · 1 / (1 + 1)) = 500,000 exactly; β = 0, α = 1: A = A* = t2.
  t.assert.deepEqual(updateAvailability({ ...one, baseline: [10], assigned: [0], measured: [11], beta: 0, sigmaW: 1, alpha: AVAILABILITY_ONE }), [500_000]);
});

test('bad input is refused with INVALID_ARGUMENT', (t) => {
  const ok = { previous: [500_000, 500_000], baseline: [10, 10], assigned: [1, 1], measured: [9, 9], window: [0, 1], beta, sigmaW, alpha };
  t.assert.throws(() => updateAvailability({ ...ok, beta: 0.2 }), /INVALID_ARGUMENT: beta/);
  t.assert.throws(() => updateAvailability({ ...ok, alpha: 1_000_001 }), /INVALID_ARGUMENT: alpha/);
  t.assert.throws(() => updateAvailability({ ...ok, sigmaW: 0 }), /INVALID_ARGUMENT: sigmaW/);
  t.assert.throws(() => updateAvailability({ ...ok, measured: [9] }), /INVALID_ARGUMENT: measured has 1 values/);
  t.assert.throws(() => updateAvailability({ ...ok, window: [2] }), /INVALID_ARGUMENT: window slot/);
  t.assert.throws(() => updateAvailability({ ...ok, measured: [9, -1] }), /INVALID_ARGUMENT: measured\[1\]/);
  t.assert.throws(() => updateAvailability({ ...ok, previous: [500_000, 1_500_000] }), /INVALID_ARGUMENT: previous\[1\]/);
  // Each vector one per slot; each value of a window slot in range.
  t.assert.throws(() => updateAvailability({ ...ok, baseline: [10] }), /INVALID_ARGUMENT: baseline has 1 values, previous has 2/);
  t.assert.throws(() => updateAvailability({ ...ok, assigned: [1, 1, 1] }), /INVALID_ARGUMENT: assigned has 3 values/);
  t.assert.throws(() => updateAvailability({ ...ok, window: [-1] }), /INVALID_ARGUMENT: window slot/);
  t.assert.throws(() => updateAvailability({ ...ok, window: [0.5] }), /INVALID_ARGUMENT: window slot/);
  for (const bad of [-1, 0.5, 9_000_000_001]) {
    t.assert.throws(() => updateAvailability({ ...ok, baseline: [10, bad] }), /INVALID_ARGUMENT: baseline\[1\]/, `baseline ${bad}`);
    t.assert.throws(() => updateAvailability({ ...ok, assigned: [1, bad] }), /INVALID_ARGUMENT: assigned\[1\]/, `assigned ${bad}`);
    t.assert.throws(() => updateAvailability({ ...ok, measured: [9, bad] }), /INVALID_ARGUMENT: measured\[1\]/, `measured ${bad}`);
  }
  t.assert.throws(() => updateAvailability({ ...ok, previous: [500_000, -1] }), /INVALID_ARGUMENT: previous\[1\]/);
  // A value out of range outside the window is not read.
  t.assert.deepEqual(updateAvailability({ ...ok, baseline: [10, -1], window: [0] })[1], 500_000);
  t.assert.throws(() => initialAvailability(0), /INVALID_ARGUMENT: slotsPerDay/);
});
