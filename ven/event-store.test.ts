/** The VEN event store (rules digest 4.5, 4.6, 4.8, 4.9), test names carry the rule ids. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { CreatedEvent, EventResponse, EventSignal } from '../oadr/index.ts';
import { createSeededRandom } from '../test/support/seeded-random.ts';
import {
  activeSetting,
  changeOpt,
  EMPTY_EVENT_STORE,
  eventWindow,
  nextChangeAt,
  planAction,
  pruneEvents,
  receiveEvents,
  type EventStoreState,
  type ReceiveContext,
} from './event-store.ts';
import { createOptPolicy } from './opt-policy.ts';
import { buildEvent, distribute, loadDispatchDelta } from './testing/event-builders.ts';

const T0 = Date.parse('2025-06-13T05:00:00.000Z'); // an hour before the default dtstart
const START = Date.parse('2025-06-13T06:00:00.000Z');
const MIN = 60_000;

const ctx = (over: Partial<ReceiveContext> = {}): ReceiveContext => ({
  identity: { venId: 'ven-1', vtnId: 'vtn-1', resourceIds: ['battery-01'], endDeviceAssets: ['Storage'], marketContexts: ['http://MarketContext1'] },
  now: T0,
  random: () => 0.5,
  optPolicy: createOptPolicy(),
  reading: { powerW: 0, online: true, manualOverride: false, socPct: 60 },
  limits: { maxChargeW: 5000, maxDischargeW: 5000, minReservePct: 10 },
  ...over,
});

function responses(c: CreatedEvent | undefined): EventResponse[] {
  assert.ok(c !== undefined, 'an oadrCreatedEvent was expected');
  return c.eventResponses ?? [];
}
const byId = (c: CreatedEvent | undefined, id: string): EventResponse => {
  const r = responses(c).find((x) => x.qualifiedEventId.eventId === id);
  assert.ok(r !== undefined, `no eventResponse for ${id}`);
  return r;
};

test('R56+R57 VEN: new event stored and answered 200; higher modificationNumber replaces it', (t: TestContext) => {
  const a = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'e1', deltas: [-1000] })]), ctx());
  t.assert.equal(byId(a.createdEvent, 'e1').code, 200);
  t.assert.equal(byId(a.createdEvent, 'e1').optType, 'optIn');
  t.assert.equal(a.state.events['e1']?.event.descriptor.modificationNumber, 0);
  const b = receiveEvents(a.state, distribute([buildEvent({ id: 'e1', mod: 1, deltas: [-2000] })]), ctx());
  t.assert.equal(byId(b.createdEvent, 'e1').code, 200);
  t.assert.equal(byId(b.createdEvent, 'e1').qualifiedEventId.modificationNumber, 1);
  t.assert.equal(b.state.events['e1']?.event.signals[0]?.intervals[0]?.value, -2000);
  t.assert.equal(b.outcomes[0]?.kind, 'modified');
});

test('R58 VEN: lower modificationNumber -> 450, store unchanged', (t: TestContext) => {
  const a = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'e1', mod: 2, deltas: [-1000] })]), ctx());
  const b = receiveEvents(a.state, distribute([buildEvent({ id: 'e1', mod: 1, deltas: [-4000] })]), ctx());
  t.assert.equal(byId(b.createdEvent, 'e1').code, 450);
  t.assert.equal(byId(b.createdEvent, 'e1').optType, 'optOut');
  t.assert.deepStrictEqual(b.state.events['e1'], a.state.events['e1']);
  // a stale cancellation is also 450 (any state, cancelled included)
  const c = receiveEvents(a.state, distribute([buildEvent({ id: 'e1', mod: 1, status: 'cancelled' })]), ctx());
  t.assert.equal(byId(c.createdEvent, 'e1').code, 450);
  t.assert.equal(c.state.events['e1']?.stopAtMs, undefined);
});

test('R12 VEN: two new always events are answered in one oadrCreatedEvent', (t: TestContext) => {
  const r = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'a' }), buildEvent({ id: 'b', dtstart: '2025-06-13T08:00:00.000Z' })]), ctx());
  t.assert.deepStrictEqual(responses(r.createdEvent).map((x) => x.qualifiedEventId.eventId), ['a', 'b']);
  t.assert.equal(r.createdEvent?.venId, 'ven-1');
});

test('R62 VEN: never gets no answer; an unchanged always event resent gets a fresh answer', (t: TestContext) => {
  const a = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'n', responseRequired: 'never' })]), ctx());
  t.assert.equal(a.createdEvent, undefined);
  t.assert.ok(a.state.events['n'] !== undefined, 'a never event is still stored and executed');
  const b = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'x' })], 'rq-1'), ctx());
  const c = receiveEvents(b.state, distribute([buildEvent({ id: 'x' })], 'rq-2'), ctx());
  t.assert.equal(byId(c.createdEvent, 'x').code, 200);
  t.assert.equal(byId(c.createdEvent, 'x').requestId, 'rq-2');
  t.assert.equal(c.outcomes[0]?.kind, 'unchanged');
});

test('R42+R35 VEN: each eventResponse carries the delivering requestID; eiResponse.requestID is empty', (t: TestContext) => {
  const r = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'a' }), buildEvent({ id: 'b' })], 'rq-7'), ctx());
  t.assert.equal(r.createdEvent?.response.requestId, '');
  t.assert.equal(r.createdEvent?.response.code, 200);
  t.assert.deepStrictEqual(responses(r.createdEvent).map((x) => x.requestId), ['rq-7', 'rq-7']);
});

test('R59+R36 VEN: a known cancelled event is confirmed with optIn 200 and removed', (t: TestContext) => {
  const a = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'e1' })]), ctx());
  const b = receiveEvents(a.state, distribute([buildEvent({ id: 'e1', mod: 1, status: 'cancelled' })]), ctx());
  t.assert.equal(byId(b.createdEvent, 'e1').code, 200);
  t.assert.equal(byId(b.createdEvent, 'e1').optType, 'optIn');
  t.assert.equal(b.state.events['e1'], undefined, 'no startafter: stopped and deleted at once');
  const c = receiveEvents(b.state, distribute([]), ctx());
  t.assert.equal(c.createdEvent, undefined, 'left out of later oadrCreatedEvents');
});

test('R60+R21 VEN: an unknown cancelled event is answered 200, no error', (t: TestContext) => {
  const r = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'ghost', mod: 3, status: 'cancelled' })]), ctx());
  t.assert.equal(byId(r.createdEvent, 'ghost').code, 200);
  t.assert.deepStrictEqual(r.state.events, {});
});

test('R61 VEN: a known event missing from the next oadrDistributeEvent is deleted (implied cancel)', (t: TestContext) => {
  const a = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'e1' }), buildEvent({ id: 'e2' })]), ctx());
  const b = receiveEvents(a.state, distribute([buildEvent({ id: 'e2' })]), ctx());
  t.assert.equal(b.state.events['e1'], undefined);
  t.assert.ok(b.state.events['e2'] !== undefined);
  t.assert.ok(b.outcomes.some((o) => o.eventId === 'e1' && o.kind === 'implied-cancel'));
  // an error answer to oadrRequestEvent is not a full set: nothing is cancelled
  const err = { ...distribute([]), response: { code: 463, requestId: 'rq-1' } };
  t.assert.deepStrictEqual(receiveEvents(a.state, err, ctx()).state, a.state);
});

test('R19 VEN: one valid event 200/optIn, the one with signalName x-unknown 460/optOut', (t: TestContext) => {
  const unknown: EventSignal = { ...loadDispatchDelta([-1]), signalName: 'x-unknown' as EventSignal['signalName'] };
  const r = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'ok' }), buildEvent({ id: 'bad', signals: [unknown], duration: 'PT15M' })]), ctx());
  t.assert.equal(r.createdEvent?.response.code, 200);
  t.assert.deepStrictEqual([byId(r.createdEvent, 'ok').code, byId(r.createdEvent, 'ok').optType], [200, 'optIn']);
  t.assert.deepStrictEqual([byId(r.createdEvent, 'bad').code, byId(r.createdEvent, 'bad').optType], [460, 'optOut']);
  t.assert.equal(r.state.events['bad'], undefined);
});

test('R48 VEN: foreign marketContext and an eiTarget naming another venID -> 462 with optOut', (t: TestContext) => {
  const r = receiveEvents(
    EMPTY_EVENT_STORE,
    distribute([buildEvent({ id: 'mc', marketContext: 'http://other.example/market' }), buildEvent({ id: 'tg', target: { venIds: ['ven-2'] } })]),
    ctx(),
  );
  t.assert.deepStrictEqual([byId(r.createdEvent, 'mc').code, byId(r.createdEvent, 'mc').optType], [462, 'optOut']);
  t.assert.deepStrictEqual([byId(r.createdEvent, 'tg').code, byId(r.createdEvent, 'tg').optType], [462, 'optOut']);
  // R512: scheme and host compare case-insensitively; a resourceID match targets us (ORed criteria, R22)
  const ok = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'x', marketContext: 'HTTP://MARKETCONTEXT1', target: { venIds: ['ven-2'], resourceIds: ['battery-01'] } })]), ctx());
  t.assert.equal(byId(ok.createdEvent, 'x').code, 200);
});

test('R109 VEN: LOAD_DISPATCH setpoint in units the VEN cannot handle -> 460, optOut', (t: TestContext) => {
  const energy: EventSignal = { ...loadDispatchDelta([5]), signalType: 'setpoint', itemBase: { type: 'energyReal', description: 'RealEnergy', units: 'Wh', siScaleCode: 'k' } };
  const r = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'e', signals: [energy] })]), ctx());
  t.assert.deepStrictEqual([byId(r.createdEvent, 'e').code, byId(r.createdEvent, 'e').optType], [460, 'optOut']);
});

test('R112+R111 VEN: a signal aimed at a device class the VEN lacks -> 469; a mixed list applies to ours', (t: TestContext) => {
  const heater: EventSignal = { ...loadDispatchDelta([-500]), target: { endDeviceAssets: ['Water_Heater'] } };
  const r = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'wh', signals: [heater] })]), ctx());
  t.assert.equal(byId(r.createdEvent, 'wh').code, 469);
  const mixed: EventSignal = { ...loadDispatchDelta([-500]), target: { endDeviceAssets: ['Water_Heater', 'Storage'] } };
  const m = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'mx', signals: [mixed] })]), ctx());
  t.assert.equal(byId(m.createdEvent, 'mx').code, 200);
  t.assert.deepStrictEqual(activeSetting(m.state, START)?.command, { kind: 'delta', w: -500 });
});

test('R21 VEN: an oadrDistributeEvent with a wrong vtnID -> 452, store untouched', (t: TestContext) => {
  const a = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'e1' })]), ctx());
  const r = receiveEvents(a.state, distribute([], 'rq-9', 'vtn-evil'), ctx());
  t.assert.equal(r.createdEvent, undefined, 'nothing asked for an answer');
  const r2 = receiveEvents(a.state, distribute([buildEvent({ id: 'e9' })], 'rq-9', 'vtn-evil'), ctx());
  t.assert.equal(r2.createdEvent?.response.code, 452);
  t.assert.equal(r2.createdEvent?.response.requestId, 'rq-9');
  t.assert.equal(r2.createdEvent?.eventResponses, undefined);
  t.assert.deepStrictEqual(r2.state, a.state, 'no implied cancel from a foreign VTN');
});

test('R33 VEN: interval durations that do not add up to the event duration -> 4xx (454), optOut', (t: TestContext) => {
  const r = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'e', deltas: [-1, -2], duration: 'PT1H' })]), ctx());
  t.assert.deepStrictEqual([byId(r.createdEvent, 'e').code, byId(r.createdEvent, 'e').optType], [454, 'optOut']);
  const past = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'p', dtstart: '2025-06-12T00:00:00.000Z' })]), ctx());
  t.assert.equal(byId(past.createdEvent, 'p').code, 451, 'CHOICE: a new event that already ended is 451');
});

test('R6 VEN: testEvent true is acknowledged but not actuated; false or absent are real', (t: TestContext) => {
  for (const [testEvent, actuated] of [['true', false], ['false', true], [undefined, true], ['', true]] as const) {
    const r = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'e', ...(testEvent === undefined ? {} : { testEvent }) })]), ctx());
    t.assert.equal(byId(r.createdEvent, 'e').code, 200);
    t.assert.equal(activeSetting(r.state, START) !== undefined, actuated, `testEvent=${String(testEvent)}`);
  }
});

test('R22+R46 VEN: an empty eiTarget targets the VEN; an empty vtnComment is as absent', (t: TestContext) => {
  const e = buildEvent({ id: 'e', target: {} });
  const withComment = { ...e, descriptor: { ...e.descriptor, vtnComment: '' } };
  const r = receiveEvents(EMPTY_EVENT_STORE, distribute([withComment]), ctx());
  t.assert.equal(byId(r.createdEvent, 'e').code, 200);
});

test('R30 VEN: startafter PT10M, 50 seeded draws start within [dtstart, dtstart+10 min]; a modification keeps the offset', (t: TestContext) => {
  const rng = createSeededRandom(30);
  const offsets = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const r = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'e', startAfter: 'PT10M' })]), ctx({ random: rng.next }));
    const stored = r.state.events['e'];
    assert.ok(stored !== undefined);
    const { startMs, endMs } = eventWindow(stored);
    t.assert.ok(startMs >= START && startMs <= START + 10 * MIN, `start ${startMs - START} ms after dtstart`);
    t.assert.equal(endMs - startMs, 30 * MIN, 'the end moves with the start');
    offsets.add(stored.offsetMs);
    const mod = receiveEvents(r.state, distribute([buildEvent({ id: 'e', mod: 1, startAfter: 'PT10M', deltas: [-7, -8] })]), ctx({ random: () => 0.99 }));
    t.assert.equal(mod.state.events['e']?.offsetMs, stored.offsetMs);
  }
  t.assert.ok(offsets.size > 40, 'the draws spread over the window');
});

test('R65 VEN: cancelling an active randomised event stops it within [0, startafter] after the cancel', (t: TestContext) => {
  const rng = createSeededRandom(65);
  for (let i = 0; i < 20; i++) {
    const active = START + 20 * MIN;
    const a = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'e', startAfter: 'PT10M', deltas: [-1, -2, -3] })]), ctx({ random: rng.next }));
    const b = receiveEvents(a.state, distribute([buildEvent({ id: 'e', mod: 1, status: 'cancelled', startAfter: 'PT10M', deltas: [-1, -2, -3] })]), ctx({ now: active, random: rng.next }));
    const stop = b.state.events['e']?.stopAtMs ?? active;
    t.assert.ok(stop >= active && stop <= active + 10 * MIN, `stop ${stop - active} ms after the cancel`);
    t.assert.equal(activeSetting(b.state, stop), undefined, 'stopped at the drawn instant');
    t.assert.deepStrictEqual(pruneEvents(b.state, stop).events, {});
  }
});

test('R18 VEN: back-to-back events A then B: at the boundary instant B applies', (t: TestContext) => {
  const a = buildEvent({ id: 'A', deltas: [-1000] });
  const b = buildEvent({ id: 'B', deltas: [-2000], dtstart: '2025-06-13T06:15:00.000Z' });
  const r = receiveEvents(EMPTY_EVENT_STORE, distribute([a, b]), ctx());
  t.assert.equal(activeSetting(r.state, START + 15 * MIN - 1)?.eventId, 'A');
  t.assert.equal(activeSetting(r.state, START + 15 * MIN)?.eventId, 'B');
  t.assert.equal(nextChangeAt(r.state, START), START + 15 * MIN);
});

test('R114+R47 VEN: an event labelled far whose dtstart passed runs; PT0S runs until cancelled', (t: TestContext) => {
  const late = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'f', status: 'far' })]), ctx({ now: START + 5 * MIN }));
  t.assert.equal(activeSetting(late.state, START + 5 * MIN)?.eventId, 'f');
  const open = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'o', duration: 'PT0S', deltas: [-900] })]), ctx());
  t.assert.equal(byId(open.createdEvent, 'o').code, 200);
  t.assert.deepStrictEqual(activeSetting(open.state, START + 30 * 24 * 60 * MIN)?.command, { kind: 'delta', w: -900 });
  const cancelled = receiveEvents(open.state, distribute([buildEvent({ id: 'o', mod: 1, status: 'cancelled', duration: 'PT0S', deltas: [-900] })]), ctx({ now: START + MIN }));
  t.assert.equal(activeSetting(cancelled.state, START + MIN), undefined);
});

test('R510 VEN: SIMPLE, ELECTRICITY_PRICE/price and LOAD_DISPATCH/setpoint are each 200, optIn', (t: TestContext) => {
  const one = (signalName: string, signalType: EventSignal['signalType'], value: number): EventSignal => ({
    intervals: [{ duration: 'PT15M', uid: '0', value }],
    signalName: signalName as EventSignal['signalName'],
    signalType,
    signalId: signalName,
  });
  const events = [
    buildEvent({ id: 'simple', signals: [one('SIMPLE', 'level', 2)] }),
    buildEvent({ id: 'price', signals: [one('ELECTRICITY_PRICE', 'price', 0.25)] }),
    buildEvent({ id: 'setpoint', signals: [one('LOAD_DISPATCH', 'setpoint', -2500)], dtstart: '2025-06-13T09:00:00.000Z' }),
  ];
  const r = receiveEvents(EMPTY_EVENT_STORE, distribute(events), ctx());
  for (const id of ['simple', 'price', 'setpoint']) t.assert.deepStrictEqual([byId(r.createdEvent, id).code, byId(r.createdEvent, id).optType], [200, 'optIn'], id);
  t.assert.deepStrictEqual(activeSetting(r.state, START)?.command, { kind: 'delta', w: -2000 }, 'SIMPLE level 2 maps to the level-2 delta');
  t.assert.deepStrictEqual(activeSetting(r.state, START + 3 * 60 * MIN)?.command, { kind: 'target', w: -2500 });
});

test('opt policy VEN: opt out when the battery cannot deliver, is offline, or is at its reserve', (t: TestContext) => {
  const big = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'big', deltas: [-9000] })]), ctx());
  t.assert.equal(byId(big.createdEvent, 'big').optType, 'optOut');
  t.assert.equal(activeSetting(big.state, START), undefined, 'an opted-out event is not actuated');
  const off = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'o' })]), ctx({ reading: { powerW: 0, online: false, manualOverride: false } }));
  t.assert.equal(byId(off.createdEvent, 'o').optType, 'optOut');
  const empty = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'z' })]), ctx({ reading: { powerW: 0, online: true, manualOverride: false, socPct: 10 } }));
  t.assert.equal(byId(empty.createdEvent, 'z').optType, 'optOut');
  const lenient = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'big', deltas: [-9000] })]), ctx({ optPolicy: createOptPolicy({ cannotDeliverTolerance: Infinity }) }));
  t.assert.equal(byId(lenient.createdEvent, 'big').optType, 'optIn');
});

test('R42 VEN: a later opt change is a new oadrCreatedEvent with the delivering requestID; none after never (R206)', (t: TestContext) => {
  const a = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'e' }), buildEvent({ id: 'n', responseRequired: 'never' })], 'rq-3'), ctx());
  const c = changeOpt(a.state, 'e', 'optOut', 'device offline', 'ven-1');
  t.assert.deepStrictEqual(responses(c.createdEvent).map((r) => [r.requestId, r.optType, r.qualifiedEventId.eventId]), [['rq-3', 'optOut', 'e']]);
  t.assert.equal(c.state.events['e']?.optType, 'optOut');
  t.assert.equal(changeOpt(a.state, 'n', 'optOut', 'x', 'ven-1').createdEvent, undefined);
});

test('device actions VEN: start, modify at the interval boundary, stop at the end', (t: TestContext) => {
  const r = receiveEvents(EMPTY_EVENT_STORE, distribute([buildEvent({ id: 'e', deltas: [-1000, -1500] })]), ctx());
  const s: EventStoreState = r.state;
  const before = activeSetting(s, START - 1);
  const first = activeSetting(s, START);
  const second = activeSetting(s, START + 15 * MIN);
  const after = activeSetting(s, START + 30 * MIN);
  t.assert.deepStrictEqual(planAction(before, first), { type: 'start', setting: first });
  t.assert.equal(planAction(first, second).type, 'modify');
  t.assert.deepStrictEqual(second?.command, { kind: 'delta', w: -1500 });
  t.assert.deepStrictEqual(planAction(second, after), { type: 'stop', eventId: 'e' });
  t.assert.deepStrictEqual(planAction(first, activeSetting(s, START + 1)), { type: 'none' });
});
