import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareForDistribution, currentIntervalIndex, eventStatus, isDeliverable, toOadrEvent, type VtnEvent } from './event-model.ts';
import type { EventVenState } from './event-model.ts';

const T0 = Date.UTC(2030, 0, 1, 12);
const MIN = 60_000;

function ev(over: Partial<VtnEvent> = {}): VtnEvent {
  return {
    eventId: 'e', programId: 'p', marketContext: 'http://mc', seq: 1, createdAt: T0, modificationNumber: 0, modifiedAt: T0, modificationReason: undefined,
    startMs: T0 + 60 * MIN, intervalsMs: [15 * MIN, 15 * MIN], notificationMs: 0, rampUpMs: undefined, recoveryMs: undefined, startAfterMs: undefined,
    priority: 1, testEvent: false, vtnComment: undefined, responseRequired: 'always',
    signals: [{ signalId: 's', signalName: 'SIMPLE', signalType: 'level', itemBase: undefined, values: [1, 2] }],
    venIds: ['v'], cancelled: false, ...over,
  };
}
const state = (over: Partial<EventVenState> = {}): EventVenState => ({
  eventId: 'e', venId: 'v', values: {}, optType: undefined, optModificationNumber: undefined, optAt: undefined, optRequestId: undefined,
  cancelAcked: false, cancelDeliveries: 0, lastDeliveredAt: undefined, ...over,
});

test('R13+R47 VTN: status from the clock: far, near from the ramp-up, active at dtstart, completed at the end; open-ended stays active', () => {
  const e = ev({ rampUpMs: 10 * MIN });
  assert.equal(eventStatus(e, T0), 'far');
  assert.equal(eventStatus(e, e.startMs - 10 * MIN), 'near');
  assert.equal(eventStatus(e, e.startMs), 'active');
  assert.equal(eventStatus(e, e.startMs + 30 * MIN), 'completed');
  assert.equal(eventStatus(ev(), ev().startMs - MIN), 'far');
  assert.equal(eventStatus(ev({ intervalsMs: [0] }), T0 + 1000 * 60 * MIN), 'active');
  assert.equal(eventStatus(ev({ cancelled: true }), T0), 'cancelled');
});

test('R18 VTN: at the boundary instant the next interval applies', () => {
  const e = ev();
  assert.equal(currentIntervalIndex(e, e.startMs - 1), -1);
  assert.equal(currentIntervalIndex(e, e.startMs), 0);
  assert.equal(currentIntervalIndex(e, e.startMs + 15 * MIN), 1);
  assert.equal(currentIntervalIndex(e, e.startMs + 30 * MIN), -1);
});

test('R50+R52+R66 VTN: which events are delivered', () => {
  const e = ev();
  assert.equal(isDeliverable(e, state(), T0, 3), true);
  assert.equal(isDeliverable(e, state(), e.startMs + 30 * MIN, 3), false);
  assert.equal(isDeliverable(ev({ startAfterMs: 5 * MIN }), state(), e.startMs + 34 * MIN, 3), true);
  const c = ev({ cancelled: true });
  assert.equal(isDeliverable(c, state(), T0, 3), true);
  assert.equal(isDeliverable(c, state({ cancelAcked: true }), T0, 3), false);
  assert.equal(isDeliverable(c, state({ cancelDeliveries: 3 }), T0, 3), false);
  assert.equal(isDeliverable(c, state(), c.startMs + 30 * MIN, 3), false);
});

test('R15 VTN: a cancelled event keeps the place of its schedule; ties break by creation order', () => {
  const now = T0 + 61 * MIN;
  const a = ev({ eventId: 'a', startMs: T0, priority: 2, cancelled: true, intervalsMs: [120 * MIN] });
  const b = ev({ eventId: 'b', startMs: T0, priority: 1, intervalsMs: [120 * MIN] });
  const c = ev({ eventId: 'c', startMs: T0 + 90 * MIN, seq: 2 });
  const d = ev({ eventId: 'd', startMs: T0 + 90 * MIN, seq: 1 });
  assert.deepEqual([c, a, d, b].sort((x, y) => compareForDistribution(x, y, now)).map((x) => x.eventId), ['b', 'a', 'd', 'c']);
});

test('R115+R63 VTN: the oadrEvent carries the given createdDateTime, the VEN alone in eiTarget, per-VEN values over defaults', () => {
  const e = ev({ signals: [{ signalId: 'x', signalName: 'LOAD_DISPATCH', signalType: 'delta', itemBase: undefined, values: [0, 0] }] });
  const o = toOadrEvent(e, 'v', { values: { x: [-5, -6] } }, T0, '2030-01-01T12:00:00.000Z');
  assert.equal(o.descriptor.createdDateTime, '2030-01-01T12:00:00.000Z');
  assert.deepEqual(o.target, { venIds: ['v'] });
  assert.deepEqual(o.signals[0]?.intervals.map((i) => i.value), [-5, -6]);
  assert.equal(o.descriptor.testEvent, 'false');
  assert.equal(o.responseRequired, 'always');
});
