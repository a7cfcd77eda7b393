/**
 * The mapping store on PostgreSQL (pg-store.ts) against the SQLite one: the same samples, points,
 * corrections, day closes, recorded slots and events give the same answers; and two stores on one
 * database — two processes of a cluster — see each other's writes: an event another process
 * modified is read as modified, not from a stale cache.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { EVENT_DAY } from '../../chaincode/testing/reference-scenario.ts';
import { startTestPostgres } from '../../storage/testing/postgres.ts';
import { slotParts } from './mapping.ts';
import { createPgMappingStore } from './pg-store.ts';
import { createMappingStore, type MappedEvent, type MappingStore } from './store.ts';

const pg = await startTestPostgres();
after(() => pg.stop());

const ROME = { timeZone: 'Europe/Rome', slotsPerDay: 96 };
const MIN = 60_000;
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`); // slot 68 in Rome
const partsOf = (fromMs: number, toMs: number) => slotParts(fromMs, toMs, ROME);

const event = (eventId: string, requestW: number[]): MappedEvent => ({
  eventId, version: 0, day: EVENT_DAY, window: [68, 69], startMs: START, slotMs: 15 * MIN, requestW, clusterSize: 1, txId: `tx-${eventId}`,
  oprByMeter: { A: requestW }, excluded: {}, status: 'notified',
});

/** One scenario of every write; what the store answers after it. */
function scenario(s: MappingStore): unknown {
  const out: unknown[] = [];
  for (let m = 0; m < 15; m++) out.push(s.addSample({ meterId: 'A', seriesId: 'usage', startMs: START + m * MIN, durationMs: MIN, watts: 1000 + m }, partsOf(START + m * MIN, START + (m + 1) * MIN)));
  out.push(s.addSample({ meterId: 'A', seriesId: 'usage', startMs: START, durationMs: MIN, watts: 1000 }, partsOf(START, START + MIN)));
  out.push(s.addSample({ meterId: 'A', seriesId: 'usage', startMs: START, durationMs: MIN, watts: 1100 }, partsOf(START, START + MIN)));
  out.push(s.addSample({ meterId: 'A', seriesId: 'usage', startMs: START, durationMs: 2 * MIN, watts: 1100 }, partsOf(START, START + 2 * MIN)));
  s.batch(() => {
    for (let k = 0; k <= 10; k++) out.push(s.addPoint({ meterId: 'B', seriesId: 'power', t: START + 15 * MIN + k * MIN, kind: 'power', value: 500 + 10 * k }, partsOf));
  });
  out.push(s.addPoint({ meterId: 'B', seriesId: 'power', t: START + 15 * MIN, kind: 'power', value: 600 }, partsOf));
  out.push(s.holds('A', 'usage', START, MIN, 1100), s.holds('A', 'usage', START, MIN, 1000), s.holds('B', 'power', START + 15 * MIN, 0));
  const due = s.slotsToRecord();
  out.push(due);
  for (const d of due) s.markRecorded(d.meterId, d.day, [{ slot: d.slot, watts: Math.round(d.energyWms / d.coveredMs), final: true }], 'tx-1', 7);
  s.closeDay(EVENT_DAY);
  out.push(s.openDays(), s.slotsToRecord(), s.slots('A', EVENT_DAY), s.slots('B', EVENT_DAY), s.recordedHeight());
  s.markRecorded('A', EVENT_DAY, [], 'tx-2', 3);
  out.push(s.recordedHeight());
  s.putEvent(event('e1', [300, 400]));
  s.putEvent({ ...event('e1', [300, 400]), status: 'settled', rewardsMilli: { A: 1234 } });
  s.putEvent(event('e0', [100, 100]));
  out.push(s.getEvent('e1'), s.getEvent('missing'), s.listEvents().map((e) => e.eventId));
  s.probeWrite();
  return out;
}

test('mapping store on PostgreSQL: the same answers as on SQLite for samples, corrections, points, recorded slots, day closes and events', () => {
  const sqlite = createMappingStore({ path: ':memory:' });
  const onPg = createPgMappingStore({ url: pg.createDatabase() });
  try {
    assert.deepEqual(scenario(onPg), scenario(sqlite));
  } finally {
    sqlite.close();
    onPg.close();
  }
});

test('mapping store on PostgreSQL: two processes on one database see each other\'s samples and events (an event modified elsewhere is not read from a stale cache); migrations apply once', () => {
  const url = pg.createDatabase();
  const a = createPgMappingStore({ url });
  const b = createPgMappingStore({ url });
  try {
    a.putEvent(event('e1', [300, 400]));
    assert.deepEqual(b.getEvent('e1')?.requestW, [300, 400]);
    // Process b reads e1 (cached), process a modifies it: b reads the modification.
    a.putEvent({ ...event('e1', [300, 400]), status: 'cancelled' });
    assert.equal(b.getEvent('e1')?.status, 'cancelled');
    b.putEvent({ ...event('e1', [300, 400]), status: 'settled' });
    assert.equal(a.getEvent('e1')?.status, 'settled');
    assert.equal(a.getEvent('e1')?.status, 'settled', 'read again unchanged');
    assert.equal(a.addSample({ meterId: 'A', seriesId: 'usage', startMs: START, durationMs: MIN, watts: 900 }, partsOf(START, START + MIN)), 'added');
    assert.equal(b.addSample({ meterId: 'A', seriesId: 'usage', startMs: START, durationMs: MIN, watts: 900 }, partsOf(START, START + MIN)), 'duplicate', 'a reading added by one process is held for the other');
    assert.equal(pg.sql('SELECT count(*) FROM mapping_schema_version', url.split('/').pop()).trim(), '1');
  } finally {
    a.close();
    b.close();
  }
});
