import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALLOCATION_DEFAULTS, allocate, allocateEvent } from './allocation.ts';
import type { AllocationCustomer } from './allocation.ts';
import { AVAILABILITY_ONE } from './availability.ts';
import { createSeededRandom } from '../../test/support/seeded-random.ts';

const { epsilonW, maxSteps } = ALLOCATION_DEFAULTS; // ε = 1 W, 100 steps
const sharesOf = (shares: ReadonlyMap<string, number>): Record<string, number> => Object.fromEntries(shares);

test('residual iteration: each step hands out (1 + A)/2 of the residual', (t) => {
  // a: B = 100, A = 1;  b: B = 100, A = 0;  φ = 100, Σ B = 200.
  //   step 1: Ψa = 100·1·100/200 = 50,     Ψb = 100·0.5·100/200 = 25      ΔP = 50, 25          φ2 = 25
  //   step 2: Ψa = 25·0.5 = 12.5,          Ψb = 25·0.25 = 6.25           ΔP = 62.5, 31.25     φ3 = 6.25
  //   step 3: Ψa = 3.125,                  Ψb = 1.5625                   ΔP = 65.625, 32.8125 φ4 = 1.5625
  //   step 4: Ψa = 0.78125,                Ψb = 0.390625                 ΔP = 66.40625, 33.203125
  //           φ5 = 100 − 99.609375 = 0.390625 < ε → stop after 4 steps.
  //   integers: total round(99.609375) = 100; floors 66 + 33 = 99; the last watt to a (.40625 > .203125).
  const customers = [{ id: 'a', baseline: 100, availability: AVAILABILITY_ONE }, { id: 'b', baseline: 100, availability: 0 }];
  const result = allocate({ customers, requestW: 100, epsilonW, maxSteps });
  t.assert.deepEqual(sharesOf(result.shares), { a: 67, b: 33 });
  t.assert.deepEqual([result.allocatedW, result.unallocatedW, result.steps], [100, 0, 4]);
  // Cut after 2 steps: Σ ΔP = 93.75 → 94; floors 62 + 31 = 93; the extra watt to a (.5 > .25).
  const cut = allocate({ customers, requestW: 100, epsilonW, maxSteps: 2 });
  t.assert.deepEqual(sharesOf(cut.shares), { a: 63, b: 31 });
  t.assert.deepEqual([cut.allocatedW, cut.unallocatedW, cut.steps], [94, 6, 2]);
});

test('the iteration stops only when the residual is below ε, not when it equals ε', (t) => {
  // One customer, B = 2, A = 0, φ = 2, ε = 1.
  //   step 1: Ψ = 2·0.5·2/2 = 1    ΔP = 1     φ2 = 1    (1 < ε is false: go on)
  //   step 2: Ψ = 1·0.5 = 0.5      ΔP = 1.5   φ3 = 0.5 < ε → stop after 2 steps
  //   integers: total round_half_up(1.5) = 2; floor 1; the extra watt to the only customer.
  const result = allocate({ customers: [{ id: 'a', baseline: 2, availability: 0 }], requestW: 2, epsilonW: 1, maxSteps });
  t.assert.deepEqual(sharesOf(result.shares), { a: 2 });
  t.assert.deepEqual([result.allocatedW, result.unallocatedW, result.steps], [2, 0, 2]);
});

test('cap at the baseline: a customer that reaches it leaves the cluster (CL_j shrinks)', (t) => {
  // a: B = 100, A = 1;  b: B = 300, A = 0;  φ = 300.
  //   step 1: Σ B = 400: Ψa = 300·1·100/400 = 75, Ψb = 300·0.5·300/400 = 112.5     φ2 = 300 − 187.5 = 112.5
  //   step 2: Ψa = 112.5·100/400 = 28.125 → 103.125 ≥ 100: a capped at 100, leaves CL
  //           Ψb = 112.5·0.5·300/400 = 42.1875 → 154.6875                            φ3 = 300 − 254.6875 = 45.3125
  //   steps 3…8: CL = {b}, Σ B = 300, so b takes half the residual each step:
  //           45.3125 → 22.65625 → 11.328125 → 5.6640625 → 2.83203125 → 1.416015625 → 0.7080078125 < ε
  //           ΔPb = 300 − 100 − 0.7080078125 = 199.2919921875
  //   integers: total round(299.29…) = 299 = floors 100 + 199: no extra watt.
  const result = allocate({
    customers: [{ id: 'b', baseline: 300, availability: 0 }, { id: 'a', baseline: 100, availability: AVAILABILITY_ONE }],
    requestW: 300, epsilonW, maxSteps,
  });
  t.assert.deepEqual(sharesOf(result.shares), { a: 100, b: 199 });
  t.assert.deepEqual([result.allocatedW, result.unallocatedW, result.steps], [299, 1, 8]);
});

test('an over-sized request caps everyone at the baseline and leaves the rest unallocated', (t) => {
  // Σ B = 300 (c has B = 0: never in CL_0). Step 1: Ψa = 1000·0.75·100/300 = 250 → 100,
  // Ψb = 1000·0.75·200/300 = 500 → 200: CL_1 = ∅ after 1 step; unallocated = 1000 − 300 = 700.
  const result = allocate({
    customers: [
      { id: 'a', baseline: 100, availability: 500_000 },
      { id: 'b', baseline: 200, availability: 500_000 },
      { id: 'c', baseline: 0, availability: AVAILABILITY_ONE },
    ],
    requestW: 1000, epsilonW, maxSteps,
  });
  t.assert.deepEqual(sharesOf(result.shares), { a: 100, b: 200, c: 0 });
  t.assert.deepEqual([result.allocatedW, result.unallocatedW, result.steps], [300, 700, 1]);
});

test('every A = 1: the split is proportional to the baselines (thesis 5.4.1)', (t) => {
  const customers = [
    { id: 'a', baseline: 1000, availability: AVAILABILITY_ONE },
    { id: 'b', baseline: 3000, availability: AVAILABILITY_ONE },
    { id: 'c', baseline: 500, availability: AVAILABILITY_ONE },
  ];
  // φ = 900, Σ B = 4500: 900·1000/4500 = 200, 900·3000/4500 = 600, 900·500/4500 = 100.
  t.assert.deepEqual(sharesOf(allocate({ customers, requestW: 900, epsilonW, maxSteps }).shares), { a: 200, b: 600, c: 100 });
  // φ = 1000: 222.2, 666.7, 111.1 → floors 222 + 666 + 111 = 999; the last watt to b (.67 largest).
  const result = allocate({ customers, requestW: 1000, epsilonW, maxSteps });
  t.assert.deepEqual(sharesOf(result.shares), { a: 222, b: 667, c: 111 });
  t.assert.deepEqual([result.allocatedW, result.steps], [1000, 1]);
});

test('equal remainders: the watt goes to the customer first in id order, whatever the input order', (t) => {
  // Two identical customers, φ = 1: each ΔP = 0.5; total 1; floors 0 + 0; tie → 'a'.
  const customers = [{ id: 'b', baseline: 1, availability: AVAILABILITY_ONE }, { id: 'a', baseline: 1, availability: AVAILABILITY_ONE }];
  const result = allocate({ customers, requestW: 1, epsilonW, maxSteps });
  t.assert.deepEqual([...result.shares], [['a', 1], ['b', 0]]);
});

test('remainders equal in exact arithmetic are a tie even when float noise differs', (t) => {
  // A = 1, B = 1, 4, 1 (Σ 6), φ = 2: ΔP = 1/3, 4/3, 1/3. In float64 the fractional part of 4/3 comes
  // out 0.3333333333333335, above 1/3 = 0.33333333333333337 — but exactly they are all 1/3.
  // Total 2, floors 0 + 1 + 0 = 1: the one extra watt is a tie of three, so 'a' (first id) gets it.
  const customers = [1, 4, 1].map((baseline, i) => ({ id: 'abc'[i] as string, baseline, availability: AVAILABILITY_ONE }));
  t.assert.deepEqual(sharesOf(allocate({ customers, requestW: 2, epsilonW, maxSteps }).shares), { a: 1, b: 1, c: 0 });
});

test('a large tie: 1000 identical customers, the extra watts go to the first ids', (t) => {
  // B = 10, A = 1, φ = 2503: each ΔP = 2.503; floors 2 · 1000 = 2000; 503 extra watts by id order.
  const customers = Array.from({ length: 1000 }, (_, i) => ({ id: `m${String(999 - i).padStart(4, '0')}`, baseline: 10, availability: AVAILABILITY_ONE }));
  const result = allocate({ customers, requestW: 2503, epsilonW, maxSteps });
  t.assert.equal(result.allocatedW, 2503);
  for (const [id, share] of result.shares) t.assert.equal(share, Number(id.slice(1)) < 503 ? 3 : 2, id);
});

test('nothing to do: zero request, or nobody with a baseline', (t) => {
  const zero = allocate({ customers: [{ id: 'a', baseline: 10, availability: 0 }], requestW: 0, epsilonW, maxSteps });
  t.assert.deepEqual([sharesOf(zero.shares), zero.allocatedW, zero.unallocatedW, zero.steps], [{ a: 0 }, 0, 0, 0]);
  const empty = allocate({ customers: [{ id: 'a', baseline: 0, availability: 0 }], requestW: 50, epsilonW, maxSteps });
  t.assert.deepEqual([sharesOf(empty.shares), empty.allocatedW, empty.unallocatedW, empty.steps], [{ a: 0 }, 0, 50, 0]);
  const none = allocate({ customers: [], requestW: 50, epsilonW, maxSteps });
  t.assert.deepEqual([none.shares.size, none.allocatedW, none.unallocatedW], [0, 0, 50]);
});

test('allocateEvent: one allocation per window slot, same as allocate slot by slot', (t) => {
  const customers = [
    { id: 'h2', baseline: [0, 300, 100, 50], availability: [500_000, 0, 500_000, 500_000] },
    { id: 'h1', baseline: [0, 100, 250, 50], availability: [500_000, AVAILABILITY_ONE, 500_000, 500_000] },
  ];
  const event = allocateEvent({ customers, window: [1, 2], requestW: [300, 1000], epsilonW, maxSteps });
  t.assert.deepEqual(event.customerIds, ['h1', 'h2']);
  // Slot 1 is the CL-shrinking case above (h1 = a, h2 = b); slot 2 is over-sized: everyone at the baseline.
  t.assert.deepEqual(event.sharesOf('h1'), [100, 250]);
  t.assert.deepEqual(event.sharesOf('h2'), [199, 100]);
  t.assert.equal(event.sharesOf('nobody'), undefined);
  t.assert.deepEqual(event.slots, [
    { slot: 1, requestW: 300, allocatedW: 299, unallocatedW: 1, steps: 8 },
    { slot: 2, requestW: 1000, allocatedW: 350, unallocatedW: 650, steps: 1 },
  ]);
  t.assert.deepEqual(Array.from(event.sharesW), [100, 250, 199, 100]);
  const constant = allocateEvent({ customers, window: [1, 2], requestW: 300, epsilonW, maxSteps });
  t.assert.deepEqual(constant.slots.map((s) => s.requestW), [300, 300]);
});

function randomCluster(random: ReturnType<typeof createSeededRandom>, allOne: boolean): AllocationCustomer[] {
  const n = 1 + random.int(30);
  return Array.from({ length: n }, (_, i) => ({
    id: `c${String(random.int(1_000_000)).padStart(6, '0')}-${i}`,
    baseline: random.int(6) === 0 ? 0 : random.int(5000),
    availability: allOne ? AVAILABILITY_ONE : [0, AVAILABILITY_ONE, random.int(AVAILABILITY_ONE + 1)][random.int(3)] as number,
  }));
}

test('property (500 clusters): conservation, bounds, the ε bound, order independence', (t) => {
  const random = createSeededRandom(0xd15c0);
  let maxStepsSeen = 0;
  for (let run = 0; run < 500; run++) {
    const customers = randomCluster(random, false);
    const sumB = customers.reduce((s, c) => s + c.baseline, 0);
    const requestW = random.int(Math.floor(sumB * 1.5) + 2);
    const result = allocate({ customers, requestW, epsilonW, maxSteps });
    maxStepsSeen = Math.max(maxStepsSeen, result.steps);
    let total = 0;
    for (const customer of customers) {
      const share = result.shares.get(customer.id) as number;
      assert.ok(Number.isInteger(share) && share >= 0 && share <= customer.baseline, `${customer.id}: ${share} of ${customer.baseline}`);
      total += share;
    }
    t.assert.equal(total, result.allocatedW);
    t.assert.equal(result.allocatedW + result.unallocatedW, requestW);
    assert.ok(result.steps < maxSteps, 'converged');
    // Proven bound: max(0, φ − Σ B) ≤ unallocated < max(0, φ − Σ B) + ε + 0.5.
    const shortfall = Math.max(0, requestW - sumB);
    assert.ok(result.unallocatedW >= shortfall && result.unallocatedW < shortfall + epsilonW + 0.5, `run ${run}: φ ${requestW} ΣB ${sumB} unallocated ${result.unallocatedW}`);
    const again = allocate({ customers: random.shuffle(customers.slice()), requestW, epsilonW, maxSteps });
    t.assert.deepEqual([...again.shares], [...result.shares]);
    t.assert.deepEqual([again.allocatedW, again.unallocatedW, again.steps], [result.allocatedW, result.unallocatedW, result.steps]);
  }
  assert.ok(maxStepsSeen > 1);
});

test('property (500 clusters, every A = 1): shares within 1 W of φ·B/ΣB', (t) => {
  const random = createSeededRandom(0x0ae1);
  for (let run = 0; run < 500; run++) {
    const customers = randomCluster(random, true);
    const sumB = customers.reduce((s, c) => s + c.baseline, 0);
    const requestW = random.int(sumB + 1);
    const result = allocate({ customers, requestW, epsilonW, maxSteps });
    t.assert.equal(result.unallocatedW, 0);
    for (const customer of customers) {
      // An all-zero cluster (possible: one customer with B = 0) is asked for nothing.
      const exact = sumB === 0 ? 0 : (requestW * customer.baseline) / sumB;
      assert.ok(Math.abs((result.shares.get(customer.id) as number) - exact) < 1 + 1e-9, `run ${run}`);
    }
  }
});

test('property: allocateEvent equals allocate slot by slot and ignores input order', (t) => {
  const random = createSeededRandom(0xe7e7);
  for (let run = 0; run < 50; run++) {
    const S = 8;
    const n = 1 + random.int(20);
    const customers = Array.from({ length: n }, (_, i) => ({
      id: `m${i}`,
      baseline: Array.from({ length: S }, () => random.int(3000)),
      availability: Array.from({ length: S }, () => random.int(AVAILABILITY_ONE + 1)),
    }));
    const window = [...new Set(Array.from({ length: 1 + random.int(S) }, () => random.int(S)))].sort((a, b) => a - b);
    const requests = window.map(() => random.int(n * 2000));
    const event = allocateEvent({ customers, window, requestW: requests, epsilonW, maxSteps });
    const shuffled = allocateEvent({ customers: random.shuffle(customers.slice()), window, requestW: requests, epsilonW, maxSteps });
    t.assert.deepEqual(Array.from(shuffled.sharesW), Array.from(event.sharesW));
    window.forEach((h, k) => {
      const single = allocate({
        customers: customers.map((c) => ({ id: c.id, baseline: c.baseline[h] as number, availability: c.availability[h] as number })),
        requestW: requests[k] as number, epsilonW, maxSteps,
      });
      t.assert.deepEqual(event.slots[k], { slot: h, requestW: single.requestW, allocatedW: single.allocatedW, unallocatedW: single.unallocatedW, steps: single.steps });
      for (const id of event.customerIds) t.assert.equal(event.sharesOf(id)?.[k], single.shares.get(id));
    });
  }
});

test('a customer that reaches its baseline exactly leaves the cluster at once', (t) => {
  // a: B = 1, A = 1;  b: B = 4, A = 0;  φ = 5, Σ B = 5.
  //   step 1: Ψa = 5·1·1/5 = 1 → ΔPa = 1 = B: capped, leaves CL;  Ψb = 5·0.5·4/5 = 2       φ2 = 2
  //   step 2: CL = {b}, Σ B = 4: Ψb = 2·0.5 = 1 → ΔPb = 3                                  φ3 = 1 (not < ε)
  //   step 3: Ψb = 0.5 → ΔPb = 3.5                                                          φ4 = 0.5 < ε
  //   integers: total round_half_up(4.5) = 5; floors 1 + 3; the extra watt to b.
  // (Were a kept in CL at its baseline, step 2 would share the residual with it: b = 2.8, then 3.4 → 4 W in all.)
  const result = allocate({ customers: [{ id: 'a', baseline: 1, availability: AVAILABILITY_ONE }, { id: 'b', baseline: 4, availability: 0 }], requestW: 5, epsilonW, maxSteps });
  t.assert.deepEqual(sharesOf(result.shares), { a: 1, b: 4 });
  t.assert.deepEqual([result.allocatedW, result.steps], [5, 3]);
});

test('largest remainder: the extra watts go to the largest fractional parts, ties to the earlier id', (t) => {
  // Every A = 1, one step: ΔP = φ·B/ΣB = 2·(3, 3, 4)/10 = 0.6, 0.6, 0.8. Two extra watts: c (0.8) and
  // then a (first of the 0.6 tie), although b comes before c in id order.
  const customers = [{ id: 'a', baseline: 3 }, { id: 'b', baseline: 3 }, { id: 'c', baseline: 4 }].map((c) => ({ ...c, availability: AVAILABILITY_ONE }));
  t.assert.deepEqual(sharesOf(allocate({ customers, requestW: 2, epsilonW, maxSteps }).shares), { a: 1, b: 0, c: 1 });
});

test('property (300 clusters, every A = 1, φ ≤ Σ B): the shares are the exact largest-remainder rounding of φ·B/ΣB', (t) => {
  const random = createSeededRandom(0x5eed);
  for (let run = 0; run < 300; run++) {
    const n = 2 + random.int(60);
    const customers = Array.from({ length: n }, (_, i) => ({ id: `c${String(i).padStart(3, '0')}`, baseline: 1 + random.int(random.int(2) === 0 ? 10 : 5000), availability: AVAILABILITY_ONE }));
    const total = customers.reduce((s, c) => s + c.baseline, 0);
    const requestW = random.int(total + 1);
    // Exact: floor(φ·B/ΣB) each, then one watt to each of the largest remainders φ·B mod ΣB (ties: id order).
    const exact = customers.map((c, i) => ({ i, floor: Math.floor((requestW * c.baseline) / total), rest: (requestW * c.baseline) % total }));
    const extra = requestW - exact.reduce((s, e) => s + e.floor, 0);
    const winners = new Set(exact.filter((e) => e.rest > 0).sort((x, y) => y.rest - x.rest || x.i - y.i).slice(0, extra).map((e) => e.i));
    const expected = Object.fromEntries(customers.map((c, i) => [c.id, (exact[i] as { floor: number }).floor + (winners.has(i) ? 1 : 0)]));
    const result = allocate({ customers: random.shuffle(customers.slice()), requestW, epsilonW, maxSteps });
    t.assert.deepEqual(sharesOf(result.shares), expected, `run ${run}: φ = ${requestW}, Σ B = ${total}`);
  }
});

test('allocateEvent refuses a bad profile value or window at the slot it concerns', (t) => {
  const ok = { id: 'a', baseline: [1, 2, 3], availability: [0, 0, 0] };
  const run = (customer: typeof ok, window = [1, 2]) => allocateEvent({ customers: [customer], window, requestW: 1, epsilonW, maxSteps });
  t.assert.throws(() => run(ok, [1, 1]), /INVALID_ARGUMENT: window must list slots in strictly increasing order/);
  t.assert.throws(() => run(ok, [0, 86_400]), /INVALID_ARGUMENT: window slot/);
  t.assert.throws(() => run({ ...ok, baseline: [1, 2] }), /INVALID_ARGUMENT: customer a has 2 baseline and 3 availability values; the window reaches slot 2/);
  t.assert.throws(() => run({ ...ok, availability: [0, 0] }), /INVALID_ARGUMENT: customer a has 3 baseline and 2 availability values/);
  for (const bad of [-1, 0.5, 9_000_000_001, Number.NaN]) {
    t.assert.throws(() => run({ ...ok, baseline: [1, 2, bad] }), /INVALID_ARGUMENT: baseline\[2\] of customer a/, `baseline ${bad}`);
  }
  for (const bad of [-1, 0.5, 1_000_001]) {
    t.assert.throws(() => run({ ...ok, availability: [0, 0, bad] }), /INVALID_ARGUMENT: availability\[2\] of customer a/, `availability ${bad}`);
  }
  // The limits themselves are accepted.
  t.assert.deepEqual(run({ id: 'a', baseline: [0, 0, 9_000_000_000], availability: [0, AVAILABILITY_ONE, AVAILABILITY_ONE] }).sharesOf('a'), [0, 1]);
});

test('bad input is refused with INVALID_ARGUMENT', (t) => {
  const customers = [{ id: 'a', baseline: 10, availability: 0 }];
  t.assert.throws(() => allocate({ customers, requestW: -1, epsilonW, maxSteps }), /INVALID_ARGUMENT: requestW/);
  t.assert.throws(() => allocate({ customers, requestW: 1.5, epsilonW, maxSteps }), /INVALID_ARGUMENT: requestW/);
  t.assert.throws(() => allocate({ customers, requestW: 1, epsilonW: 0, maxSteps }), /INVALID_ARGUMENT: epsilonW/);
  t.assert.throws(() => allocate({ customers, requestW: 1, epsilonW, maxSteps: 0 }), /INVALID_ARGUMENT: maxSteps/);
  t.assert.throws(() => allocate({ customers: [...customers, ...customers], requestW: 1, epsilonW, maxSteps }), /INVALID_ARGUMENT: customer a appears twice/);
  t.assert.throws(() => allocate({ customers: [{ id: 'a', baseline: 10, availability: 1_000_001 }], requestW: 1, epsilonW, maxSteps }), /INVALID_ARGUMENT: availability of customer a/);
  t.assert.throws(() => allocate({ customers: [{ id: 'a', baseline: -1, availability: 0 }], requestW: 1, epsilonW, maxSteps }), /INVALID_ARGUMENT: baseline of customer a/);
  const eventCustomers = [{ id: 'a', baseline: [1, 2], availability: [0, 0] }];
  t.assert.throws(() => allocateEvent({ customers: eventCustomers, window: [1, 0], requestW: 1, epsilonW, maxSteps }), /INVALID_ARGUMENT: window must list slots in strictly increasing order/);
  t.assert.throws(() => allocateEvent({ customers: eventCustomers, window: [2], requestW: 1, epsilonW, maxSteps }), /INVALID_ARGUMENT: customer a has 2 baseline/);
  t.assert.throws(() => allocateEvent({ customers: eventCustomers, window: [0, 1], requestW: [1], epsilonW, maxSteps }), /INVALID_ARGUMENT: requestW has 1 values/);
});
