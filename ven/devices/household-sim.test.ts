import assert from 'node:assert/strict';
import { test } from 'node:test';
import { solveSchedule } from '../ems/index.ts';
import { thesisCase } from '../ems/testing/thesis-case.ts';
import { DeviceError } from './errors.ts';
import { createSlotMeter } from './household-sim-meter.ts';
import { createHouseholdSim } from './household-sim.ts';

const MIN = 60_000;
const DAY0 = Date.UTC(2026, 0, 14); // a Wednesday, 00:00

test('slot meter: an interval spanning slots is split; each closed slot gives its energy and average W', (t) => {
  const m = createSlotMeter({ startMs: 0, slotMs: 15 * MIN });
  m.add(10 * MIN, 20 * MIN, 1200); // 5 min in slot 0, 5 min in slot 1
  m.add(20 * MIN, 30 * MIN, 600);
  t.assert.deepEqual(m.close(29 * MIN), [{ slot: 0, startMs: 0, endMs: 15 * MIN, energyWh: 100, averagePowerW: 400 }]);
  t.assert.deepEqual(m.close(29 * MIN), []);
  const [s1, s2] = m.close(45 * MIN);
  t.assert.deepEqual([s1?.slot, s1?.energyWh, s1?.averagePowerW], [1, 200, 800]); // 5 min × 1,200 W + 10 min × 600 W
  t.assert.deepEqual([s2?.slot, s2?.energyWh, s2?.averagePowerW], [2, 0, 0]);
  m.add(0, 5 * MIN, 1000); // into a closed slot: ignored, a closed reading never changes
  t.assert.deepEqual(m.close(60 * MIN).map((r) => r.energyWh), [0]);
  t.assert.throws(() => m.add(5, 1, 100), (e: unknown) => e instanceof DeviceError && e.code === 'INVALID_ARGUMENT');
});

test('slot meter rounds the average power to whole W', (t) => {
  const m = createSlotMeter({ startMs: 0 });
  m.add(0, 7 * MIN, 1001); // 1001 × 7 / 15 = 467.13 W
  t.assert.equal(m.close(15 * MIN)[0]?.averagePowerW, 467);
});

test('a day of the thesis household read in irregular steps: each slot averages fixed load + running appliances', (t) => {
  const problem = thesisCase();
  let now = DAY0;
  const sim = createHouseholdSim({
    startMs: DAY0,
    fixedLoadW: problem.fixedLoadW,
    appliances: problem.appliances.map((a) => ({ id: a.id, powerW: a.powerW, durationSlots: a.durationSlots, startSlot: a.baselineStartSlot })),
    now: () => now,
  });
  const readings = [];
  while (now < DAY0 + 24 * 60 * MIN) {
    now += 7 * MIN; // never on a slot boundary until 105 minutes
    readings.push(...sim.update());
  }
  t.assert.equal(readings.length, 96);
  t.assert.deepEqual(readings.map((r) => r.averagePowerW), problem.fixedLoadW.map((w, h) => w + (h >= 42 && h < 51 ? 2060 : 0) + (h === 68 ? 1853 : 0)));
  assert.ok(readings.every((r) => Number.isInteger(r.averagePowerW)));
  // Next day: the fixed profile repeats, the runs (done) do not.
  now += 15 * MIN;
  t.assert.equal(sim.update()[0]?.averagePowerW, problem.fixedLoadW[0]);
  t.assert.deepEqual(sim.runs().map((r) => r.state), ['done', 'done']);
});

test('runs are kept whole: a running appliance cannot be moved, nor moved into a slot that has begun', (t) => {
  let now = DAY0 + (10 * 60 + 40) * MIN; // 10:40, the dishwasher (10:30–12:45) is running
  const sim = createHouseholdSim({
    startMs: DAY0,
    fixedLoadW: new Array<number>(96).fill(100),
    appliances: [
      { id: 'dishwasher', powerW: 2060, durationSlots: 9, startSlot: 42 },
      { id: 'kettle', powerW: 1853, durationSlots: 1, startSlot: 68 },
    ],
    now: () => now,
  });
  t.assert.equal(sim.powerW(), 2160);
  t.assert.deepEqual(sim.runs().map((r) => r.state), ['running', 'pending']);
  const refused = (f: () => void): void => t.assert.throws(f, (e: unknown) => e instanceof DeviceError && e.code === 'INVALID_ARGUMENT');
  refused(() => sim.reschedule('dishwasher', 84));
  refused(() => sim.reschedule('kettle', 42)); // 10:30 has begun
  refused(() => sim.reschedule('fridge', 50));
  refused(() => sim.applySchedule({ kettle: 76, dishwasher: 84 })); // all or nothing
  t.assert.equal(sim.runs()[1]?.startSlot, 68);
  sim.reschedule('kettle', 76);
  sim.reschedule('dishwasher', 42); // staying put is always allowed
  now = DAY0 + 19 * 60 * MIN;
  t.assert.equal(sim.powerW(), 1953);
});

test('applying the EMS schedule of the thesis case before the event reduces every event slot by at least the 1,000 W asked', (t) => {
  const problem = thesisCase();
  let now = DAY0 + 8 * 60 * MIN; // the schedule arrives at 08:00
  const sim = createHouseholdSim({
    startMs: DAY0,
    fixedLoadW: problem.fixedLoadW,
    appliances: problem.appliances.map((a) => ({ id: a.id, powerW: a.powerW, durationSlots: a.durationSlots, startSlot: a.baselineStartSlot })),
    now: () => now,
  });
  const solution = solveSchedule(problem);
  sim.applySchedule(solution.starts);
  now = DAY0 + 24 * 60 * MIN;
  const bySlot = sim.update();
  t.assert.equal(bySlot.length, 96);
  for (let h = 42; h < 51; h++) assert.ok(solution.baselineW[h]! - bySlot[h]!.averagePowerW >= 1000, `slot ${h}`);
  t.assert.deepEqual(bySlot.map((r) => r.averagePowerW), solution.loadW);
});
