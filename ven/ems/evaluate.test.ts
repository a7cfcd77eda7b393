import { test } from 'node:test';
import { evaluateSchedule } from './evaluate.ts';
import { thesisCase } from './testing/thesis-case.ts';
import { slotOfTime } from './time-of-use.ts';

test('evaluateSchedule names every broken constraint with its slot, value and bound', (t) => {
  const problem = { ...thesisCase(), toleranceMode: 'band' as const, toleranceW: 100 };
  // Dishwasher outside its window (06:00 < 07:00), kettle missing; no appliance in the event → valley.
  const e = evaluateSchedule(problem, { dishwasher: slotOfTime('06:00') });
  t.assert.deepEqual(e.violations.filter((v) => v.code === 'OUTSIDE_WINDOW').map((v) => v.applianceId), ['dishwasher', 'kettle']);
  const below = e.violations.filter((v) => v.code === 'BELOW_EVENT_TARGET');
  t.assert.equal(below.length, 9);
  // 10:30: fixed 300 W; target = 300 + 2,060 − 1,000 = 1,360 W; lower bound 1,260 W.
  t.assert.deepEqual(below[0], { code: 'BELOW_EVENT_TARGET', slot: slotOfTime('10:30'), value: 300, bound: 1260 });
});

test('evaluateSchedule: cost of the usual day, and the contract and target checks on it', (t) => {
  const e = evaluateSchedule(thesisCase(), { dishwasher: slotOfTime('10:30'), kettle: slotOfTime('17:00') });
  t.assert.equal(e.totalShiftSlots, 0);
  t.assert.equal(e.loadW[slotOfTime('10:30')], 2360);
  t.assert.deepEqual(
    e.violations.map((v) => [v.code, v.slot]),
    Array.from({ length: 9 }, (_, i) => ['ABOVE_EVENT_TARGET', slotOfTime('10:30') + i]),
  );
  const contract = evaluateSchedule({ ...thesisCase(), event: undefined }, { dishwasher: slotOfTime('19:00'), kettle: slotOfTime('19:00') });
  t.assert.deepEqual(contract.violations.map((v) => [v.code, v.slot, v.value]).slice(0, 2), [
    ['CONTRACT_POWER_EXCEEDED', slotOfTime('19:00'), 900 + 2060 + 1853],
    ['CONTRACT_POWER_EXCEEDED', slotOfTime('20:00'), 1300 + 2060],
  ]);
});
