/**
 * The pure EiOpt side of the VEN (R200–R211): records and payloads (XSD-valid, round trip), the
 * R206 shape rules, and the re-run of the opt policy when the device's status changes.
 */
import { test, type TestContext } from 'node:test';
import { validateXsdMany, xmllintAvailable } from '../conformance/index.ts';
import { decodePayload, encodeOadr } from '../oadr/index.ts';
import { VenError } from './errors.ts';
import { EMPTY_EVENT_STORE, receiveEvents, type EventStoreState } from './event-store.ts';
import { createOptPolicy } from './opt-policy.ts';
import { cancelOptPayload, createOptPayload, deviceStatusKey, eventOptTypes, newOptRecord, optOutsOnStatusChange, putOpt, EMPTY_OPT_STATE } from './opt-schedules.ts';
import { buildEvent, distribute } from './testing/event-builders.ts';

const T0 = Date.UTC(2030, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;
const LIMITS = { maxChargeW: 5000, maxDischargeW: 5000, capacityWh: 10_000, minReservePct: 10 };
const ONLINE = { powerW: 0, socPct: 60, online: true, manualOverride: false };
const identity = { venId: 'ven-1', vtnId: 'vtn-1', resourceIds: ['dev'], groupIds: [], partyIds: [], endDeviceAssets: ['Storage'] };

function withEvent(id: string, startMs: number, responseRequired: 'always' | 'never' = 'always'): EventStoreState {
  const payload = distribute([buildEvent({ id, dtstart: new Date(startMs).toISOString(), responseRequired })], 'rq-1', 'vtn-1');
  return receiveEvents(EMPTY_EVENT_STORE, payload, { identity, now: T0, random: () => 0, optPolicy: createOptPolicy(), reading: ONLINE, limits: LIMITS }).state;
}

test('R200+R206+R210 VEN: schedule and event-opt payloads are XSD-valid and round-trip', { skip: !xmllintAvailable() && 'xmllint is not installed' }, async (t: TestContext) => {
  const schedule = newOptRecord(
    { optId: 'o1', optType: 'optOut', marketContext: 'http://p', resourceIds: ['dev'], deviceClass: ['Storage'], windows: [{ start: T0, durationMs: HOUR }, { start: T0 + 2 * HOUR, durationMs: 0 }] },
    { now: T0, optId: 'ignored', requestId: 'rq-1', events: EMPTY_EVENT_STORE },
  );
  t.assert.equal(schedule.optId, 'ignored', 'the caller resolves the optID');
  t.assert.deepStrictEqual(schedule.windows, [{ dtstart: '2030-01-15T12:00:00.000Z', duration: 'PT1H' }, { dtstart: '2030-01-15T14:00:00.000Z', duration: 'PT0S' }]);
  const eventOpt = newOptRecord({ optType: 'optOut', eventId: 'e1' }, { now: T0, optId: 'o2', requestId: 'rq-2', events: withEvent('e1', T0 + HOUR) });
  t.assert.equal(eventOpt.modificationNumber, 0);
  const payloads = [createOptPayload(schedule, 'ven-1'), createOptPayload(eventOpt, 'ven-1'), cancelOptPayload('o1', 'ven-1', 'rq-3')];
  const xml = payloads.map((p) => encodeOadr(p));
  const results = await validateXsdMany(xml);
  t.assert.deepStrictEqual(results.map((r) => r.valid), [true, true, true]);
  t.assert.deepStrictEqual(xml.map((x) => decodePayload(Buffer.from(x))), payloads);
  const first = payloads[0];
  t.assert.equal(first?.type === 'CreateOpt' ? first.target.venIds?.[0] : undefined, 'ven-1', 'R208: eiTarget names this VEN');
});

test('R206 VEN: an event opt has no windows or marketContext; a schedule needs windows; an unknown event needs its modificationNumber', (t: TestContext) => {
  const ctx = { now: T0, optId: 'o', requestId: 'r', events: EMPTY_EVENT_STORE };
  const invalid = (err: unknown): boolean => err instanceof VenError && err.code === 'INVALID_CONFIG';
  t.assert.throws(() => newOptRecord({ optType: 'optOut', eventId: 'e1', modificationNumber: 0, windows: [{ start: T0, durationMs: HOUR }] }, ctx), invalid);
  t.assert.throws(() => newOptRecord({ optType: 'optOut', eventId: 'e1', modificationNumber: 0, marketContext: 'http://p' }, ctx), invalid);
  t.assert.throws(() => newOptRecord({ optType: 'optIn' }, ctx), invalid);
  t.assert.throws(() => newOptRecord({ optType: 'optOut', eventId: 'unknown' }, ctx), invalid);
  t.assert.throws(() => newOptRecord({ optType: 'optOut', windows: [{ start: T0, durationMs: -1 }] }, ctx), invalid);
  t.assert.equal(newOptRecord({ optType: 'optIn', windows: [{ start: T0, durationMs: HOUR }] }, ctx).optReason, 'participating');
});

test('R206 VEN: no event opt on an event last received with responseRequired never', (t: TestContext) => {
  const ctx = { now: T0, optId: 'o', requestId: 'r', events: withEvent('quiet', T0 + HOUR, 'never') };
  t.assert.throws(() => newOptRecord({ optType: 'optOut', eventId: 'quiet' }, ctx), (err: unknown) => err instanceof VenError && err.code === 'INVALID_CONFIG' && /R206/.test(err.message));
  t.assert.equal(newOptRecord({ optType: 'optOut', eventId: 'loud' }, { ...ctx, events: withEvent('loud', T0 + HOUR) }).eventId, 'loud');
});

test('R206 VEN: a status change opts out of running and upcoming opted-in events only, with the matching optReason', (t: TestContext) => {
  let events = withEvent('now', T0 - HOUR / 4);
  events = { events: { ...events.events, ...withEvent('later', T0 + HOUR).events, ...withEvent('over', T0 - 2 * HOUR).events } };
  t.assert.deepStrictEqual(Object.keys(events.events).sort(), ['later', 'now']);
  const policy = createOptPolicy();
  t.assert.deepStrictEqual(optOutsOnStatusChange(events, { now: T0, policy, reading: ONLINE, limits: LIMITS }), []);
  const offline = optOutsOnStatusChange(events, { now: T0, policy, reading: { ...ONLINE, online: false }, limits: LIMITS });
  t.assert.deepStrictEqual(offline.map((c) => [c.eventId, c.optReason]).sort(), [['later', 'outageRunStatus'], ['now', 'outageRunStatus']]);
  const override = optOutsOnStatusChange(events, { now: T0, policy, reading: { ...ONLINE, manualOverride: true }, limits: LIMITS });
  t.assert.deepStrictEqual(override.map((c) => c.optReason), ['overrideStatus', 'overrideStatus']);
  t.assert.notEqual(deviceStatusKey(ONLINE), deviceStatusKey({ ...ONLINE, online: false }));
});

test('R206 VEN: the latest whole-VEN event opt decides; resource-scoped ones do not', (t: TestContext) => {
  const events = withEvent('e1', T0 + HOUR);
  const rec = (optId: string, optType: 'optIn' | 'optOut', now: number, resourceIds: string[] = []) =>
    newOptRecord({ optType, eventId: 'e1', resourceIds }, { now, optId, requestId: optId, events });
  let state = putOpt(EMPTY_OPT_STATE, rec('a', 'optOut', T0));
  state = putOpt(state, rec('b', 'optIn', T0 + 1000));
  state = putOpt(state, rec('c', 'optOut', T0 + 2000, ['dev']));
  t.assert.deepStrictEqual([...eventOptTypes(state)], [['e1', 'optIn']]);
});
