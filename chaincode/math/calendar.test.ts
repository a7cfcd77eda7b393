import { test } from 'node:test';
import { prng } from '../../test/support/seeded-random.ts';
import { addDays, dayOf, dayStartEpochMs, isDay, isWeekend, previousDays, slotOf, slotStartEpochMs } from './calendar.ts';
import { MathArgumentError } from './errors.ts';

const utc = (iso: string): number => Date.parse(iso);

test('dayOf takes the calendar day of the program time zone, not UTC', (t) => {
  // 23:30 UTC on 30 March 2024 is 00:30 CET (UTC+1) on the 31st in Rome.
  t.assert.equal(dayOf(utc('2024-03-30T23:30:00Z'), 'Europe/Rome'), '2024-03-31');
  t.assert.equal(dayOf(utc('2024-03-30T23:30:00Z'), 'UTC'), '2024-03-30');
  // 21:59:59.999 UTC in July is 23:59:59.999 CEST (UTC+2): still the same day.
  t.assert.equal(dayOf(utc('2024-07-01T21:59:59.999Z')), '2024-07-01');
  t.assert.equal(dayOf(utc('2024-07-01T22:00:00Z')), '2024-07-02');
});

test('slotOf: 15-minute wall-clock slots, S = 96', (t) => {
  // 10:07 UTC in July = 12:07 CEST → 12·4 + 0 = slot 48.
  t.assert.deepEqual(slotOf(utc('2024-07-01T10:07:00Z'), 'Europe/Rome', 96), { day: '2024-07-01', slot: 48 });
  // 23:59:59 CEST → slot 95; 00:00 → slot 0 of the next day.
  t.assert.deepEqual(slotOf(utc('2024-07-01T21:59:59Z'), 'Europe/Rome', 96), { day: '2024-07-01', slot: 95 });
  t.assert.deepEqual(slotOf(utc('2024-07-01T22:00:00Z'), 'Europe/Rome', 96), { day: '2024-07-02', slot: 0 });
  // S = 24: 12:07 → hour slot 12.
  t.assert.deepEqual(slotOf(utc('2024-07-01T10:07:00Z'), 'Europe/Rome', 24), { day: '2024-07-01', slot: 12 });
});

test('short DST day: the skipped hour 02:00–02:59 has no slot (8–11 never returned)', (t) => {
  // 31 March 2024: 01:00 UTC is the jump 02:00 CET → 03:00 CEST.
  t.assert.deepEqual(slotOf(utc('2024-03-31T00:59:59Z')), { day: '2024-03-31', slot: 7 }); // 01:59:59 CET
  t.assert.deepEqual(slotOf(utc('2024-03-31T01:00:00Z')), { day: '2024-03-31', slot: 12 }); // 03:00 CEST
  const seen = new Set<number>();
  for (let ms = dayStartEpochMs('2024-03-31'); ms < dayStartEpochMs('2024-04-01'); ms += 60_000) seen.add(slotOf(ms).slot);
  t.assert.equal(seen.size, 92);
  for (const slot of [8, 9, 10, 11]) t.assert.equal(seen.has(slot), false);
  // A skipped slot starts at the transition instant.
  t.assert.equal(slotStartEpochMs('2024-03-31', 9), utc('2024-03-31T01:00:00Z'));
});

test('long DST day: both passes of the repeated hour share slots 8–11', (t) => {
  // 27 October 2024: 01:00 UTC is 03:00 CEST → 02:00 CET.
  t.assert.deepEqual(slotOf(utc('2024-10-27T00:30:00Z')), { day: '2024-10-27', slot: 10 }); // 02:30 CEST
  t.assert.deepEqual(slotOf(utc('2024-10-27T01:30:00Z')), { day: '2024-10-27', slot: 10 }); // 02:30 CET
  // The repeated slot starts at its first pass (02:30 CEST = 00:30 UTC).
  t.assert.equal(slotStartEpochMs('2024-10-27', 10), utc('2024-10-27T00:30:00Z'));
  t.assert.equal(slotStartEpochMs('2024-10-27', 12), utc('2024-10-27T02:00:00Z')); // 03:00 CET
});

test('dayStartEpochMs is local midnight; DST days are 23 h and 25 h long', (t) => {
  t.assert.equal(dayStartEpochMs('2024-07-01'), utc('2024-06-30T22:00:00Z'));
  t.assert.equal(dayStartEpochMs('2024-03-31'), utc('2024-03-30T23:00:00Z'));
  t.assert.equal(dayStartEpochMs('2024-04-01') - dayStartEpochMs('2024-03-31'), 23 * 3_600_000);
  t.assert.equal(dayStartEpochMs('2024-10-28') - dayStartEpochMs('2024-10-27'), 25 * 3_600_000);
  t.assert.equal(dayStartEpochMs('2024-07-01', 'UTC'), utc('2024-07-01T00:00:00Z'));
  // A zone whose midnight is skipped (America/Santiago, 2024-09-08 00:00 → 01:00): first instant of the day.
  t.assert.equal(dayStartEpochMs('2024-09-08', 'America/Santiago'), utc('2024-09-08T04:00:00Z'));
  t.assert.equal(dayOf(dayStartEpochMs('2024-09-08', 'America/Santiago'), 'America/Santiago'), '2024-09-08');
  t.assert.equal(dayOf(dayStartEpochMs('2024-09-08', 'America/Santiago') - 1, 'America/Santiago'), '2024-09-07');
});

test('slotStartEpochMs round-trips with slotOf on an ordinary day', (t) => {
  for (let slot = 0; slot < 96; slot++) {
    const start = slotStartEpochMs('2024-05-15', slot);
    t.assert.deepEqual(slotOf(start), { day: '2024-05-15', slot });
    t.assert.deepEqual(slotOf(start - 1).slot, slot === 0 ? 95 : slot - 1);
  }
});

test('isWeekend, previousDays, addDays: plain calendar arithmetic', (t) => {
  t.assert.equal(isWeekend('2024-06-01'), true); // Saturday
  t.assert.equal(isWeekend('2024-06-02'), true); // Sunday
  t.assert.equal(isWeekend('2024-06-03'), false); // Monday
  t.assert.equal(isWeekend('2024-06-07'), false); // Friday
  t.assert.deepEqual(previousDays('2024-03-02', 3), ['2024-03-01', '2024-02-29', '2024-02-28']); // leap year
  t.assert.deepEqual(previousDays('2024-01-01', 1), ['2023-12-31']);
  t.assert.deepEqual(previousDays('2024-01-01', 0), []);
  t.assert.equal(addDays('2024-03-30', 2), '2024-04-01'); // across the DST change: days, not 24 h
  t.assert.equal(addDays('2024-03-01', -1), '2024-02-29');
});

test('bad input is refused with INVALID_ARGUMENT', (t) => {
  for (const day of ['2024-02-30', '2023-02-29', '2024-13-01', '2024-00-10', '2024-01-00', '2024-01-32', '2024-04-31', '0000-01-01', '2024-1-01', '24-01-01', '', '2024-01-01T00:00', 'x2024-01-01']) {
    t.assert.equal(isDay(day), false, day);
    t.assert.throws(() => isWeekend(day), (err: unknown) => err instanceof MathArgumentError && err.message.startsWith('INVALID_ARGUMENT: '));
  }
  t.assert.equal(isDay('2024-02-29'), true);
  t.assert.throws(() => dayOf(0, 'Mars/Olympus'), /^MathArgumentError: INVALID_ARGUMENT: unknown time zone/);
  t.assert.throws(() => dayOf(0, 'Mars/Olympus'), (err: unknown) => err instanceof MathArgumentError && err.cause instanceof RangeError, 'the Intl error is kept as the cause');
  t.assert.throws(() => slotOf(0, 'UTC', 0), /INVALID_ARGUMENT: slotsPerDay/);
  t.assert.throws(() => slotOf(1.5, 'UTC', 96), /INVALID_ARGUMENT: epochMs/);
  t.assert.throws(() => slotStartEpochMs('2024-01-01', 96), /INVALID_ARGUMENT: slot/);
  t.assert.throws(() => previousDays('2024-01-01', -1), /INVALID_ARGUMENT: n/);
  // Years 0001–9999 only, on both sides.
  t.assert.equal(isDay('0001-01-01') && isDay('9999-12-31'), true);
  t.assert.throws(() => addDays('9999-12-31', 1), /INVALID_ARGUMENT: date out of range \(years 0001–9999\)/);
  t.assert.throws(() => addDays('0001-01-01', -1), /INVALID_ARGUMENT: date out of range/);
  t.assert.equal(addDays('9999-12-30', 1), '9999-12-31');
  t.assert.equal(addDays('0001-01-02', -1), '0001-01-01');
  // Instants before year 1: Intl writes them as years of the era BC, which are read as such and refused.
  for (const year of [0, -10, -2000]) {
    const epochMs = new Date(0).setUTCFullYear(year, 5, 15);
    t.assert.throws(() => dayOf(epochMs, 'UTC'), /INVALID_ARGUMENT: date out of range/, `year ${year}`);
    t.assert.throws(() => slotOf(epochMs, 'Europe/Rome'), /INVALID_ARGUMENT: date out of range/, `year ${year}`);
  }
  t.assert.equal(dayOf(new Date(0).setUTCFullYear(1, 5, 15), 'UTC'), '0001-06-15');
  // Past the range of a Date (±8.64e15 ms): not an instant.
  t.assert.throws(() => dayOf(8.64e15 + 1, 'UTC'), /INVALID_ARGUMENT: epochMs/);
  // At the edge of that range and far past year 9999: out of range, never Intl's RangeError or a NaN day.
  for (const epochMs of [8.64e15, 8.64e15 - 1, 1e15, -8.64e15]) {
    t.assert.throws(() => dayOf(epochMs, 'Europe/Rome'), /INVALID_ARGUMENT: date out of range/, String(epochMs));
    t.assert.throws(() => slotOf(epochMs, 'Europe/Rome'), /INVALID_ARGUMENT: date out of range/, String(epochMs));
  }
  t.assert.equal(dayOf(Date.UTC(9999, 11, 31, 12), 'UTC'), '9999-12-31');
  t.assert.throws(() => slotStartEpochMs('2024-01-01', 0, 'UTC', 1.5), /INVALID_ARGUMENT: slotsPerDay/);
});

test('one-second slots (S = 86,400) read the seconds of the wall clock', (t) => {
  for (const zone of ['UTC', 'Europe/Rome']) {
    const start = dayStartEpochMs('2024-03-05', zone);
    for (const s of [0, 42, 59, 3_599, 86_399]) t.assert.deepEqual(slotOf(start + s * 1000 + 999, zone, 86_400), { day: '2024-03-05', slot: s }, `${zone} second ${s}`);
  }
});

test('memoised zone offsets give the wall clock Intl gives, at random instants and around transitions (quarter- and half-hour zones too)', (t) => {
  const random = prng(20261121);
  const zones = ['Europe/Rome', 'America/St_Johns', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'UTC'];
  const expected = (ms: number, timeZone: string): string => {
    const f = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
    const seconds = Number(p.hour) * 3600 + Number(p.minute) * 60 + Number(p.second);
    return `${p.year}-${p.month}-${p.day} ${Math.floor((seconds * 96) / 86_400)}`;
  };
  const instants: number[] = [];
  for (let i = 0; i < 2000; i++) instants.push(utc('2024-01-01T00:00:00Z') + Math.floor(random() * 3 * 365 * 86_400_000));
  // Around the 2025 transitions of each zone (Rome, St John's, Lord Howe), ±2 s at 1 s steps.
  for (const edge of ['2025-03-30T01:00:00Z', '2025-10-26T01:00:00Z', '2025-03-09T05:30:00Z', '2025-11-02T04:30:00Z', '2025-04-05T15:00:00Z', '2025-10-04T15:30:00Z']) {
    for (let d = -2000; d <= 2000; d += 1000) instants.push(utc(edge) + d);
  }
  for (const zone of zones) {
    for (const ms of instants) {
      const s = slotOf(ms, zone);
      t.assert.equal(`${s.day} ${s.slot}`, expected(ms, zone), `${zone} at ${new Date(ms).toISOString()}`);
    }
  }
});
