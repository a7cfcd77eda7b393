import { test } from 'node:test';
import { EmsError } from './errors.ts';
import { italianWeekdayPrices, slotOfTime, timeOfSlot, touPrices } from './time-of-use.ts';

test('slotOfTime and timeOfSlot convert both ways on 15-minute slots', (t) => {
  t.assert.equal(slotOfTime('00:00'), 0);
  t.assert.equal(slotOfTime('10:30'), 42);
  t.assert.equal(slotOfTime('24:00'), 96);
  t.assert.equal(slotOfTime('10:30', 30), 21);
  t.assert.equal(timeOfSlot(42), '10:30');
  t.assert.equal(timeOfSlot(51), '12:45');
  t.assert.equal(timeOfSlot(96), '24:00');
});

test('slotOfTime rejects malformed times and times off a slot boundary', (t) => {
  for (const bad of ['10:7', '25:00', '24:15', '10:60', 'noon', '10:20']) {
    t.assert.throws(() => slotOfTime(bad), (e: unknown) => e instanceof EmsError && e.code === 'INVALID_TIME', bad);
  }
});

test('italianWeekdayPrices: F3 before 07:00 and from 23:00, F2 07–08 and 19–23, F1 08–19', (t) => {
  const p = italianWeekdayPrices({ onPeak: 3, midPeak: 2, offPeak: 1 });
  t.assert.equal(p.length, 96);
  const at = (hhmm: string): number => p[slotOfTime(hhmm)]!;
  t.assert.deepEqual(
    ['00:00', '06:45', '07:00', '07:45', '08:00', '18:45', '19:00', '22:45', '23:00', '23:45'].map(at),
    [1, 1, 2, 2, 3, 3, 2, 2, 1, 1],
  );
});

test('touPrices: later periods override, uncovered slots need a default', (t) => {
  const p = touPrices({ slotMinutes: 60, defaultPrice: 5, periods: [{ from: '02:00', to: '04:00', price: 1 }, { from: '03:00', to: '05:00', price: 2 }] });
  t.assert.deepEqual(p.slice(0, 6), [5, 5, 1, 2, 2, 5]);
  t.assert.throws(() => touPrices({ periods: [{ from: '00:00', to: '12:00', price: 1 }] }), /no tariff period covers 12:00/);
  t.assert.throws(() => touPrices({ periods: [{ from: '22:00', to: '02:00', price: 1 }] }), /wraps midnight/);
});
