import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationToMs, ResponseCode, type DistributeEvent } from '../../oadr/index.ts';
import { VtnError } from '../errors.ts';
import type { OptRecord, LedgerPort } from '../ledger/port.ts';
import { call, drain, post, registerVen, startTestVtn, ven } from '../testing/fake-ven.ts';

const MIN = 60_000;
const SLOT = 15 * MIN;

async function requestEvents(url: string, venId: string, replyLimit?: number): Promise<DistributeEvent> {
  return call(url, 'EiEvent', ven.requestEvent(venId, replyLimit), 'DistributeEvent');
}

async function pollOnce(url: string, venId: string) {
  return (await post(url, 'OadrPoll', ven.poll(venId))).payload;
}

test('R51+R40+R41 VTN: a new event reaches a pull VEN by poll, in oadrDistributeEvent with eiResponse 200 and a filled requestID', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + 60 * MIN, slots: 4, perVenReductionW: { [a.venId]: 1500 } });
  const p = await pollOnce(url, a.venId);
  assert.ok(p?.type === 'DistributeEvent');
  t.assert.equal(p.response?.code, 200);
  t.assert.notEqual(p.requestId, '');
  t.assert.equal(p.events?.length, 1);
  t.assert.equal(p.events?.[0]?.descriptor.eventId, 'ev-1');
  // R502: nothing changed since, so the next poll gets oadrResponse.
  t.assert.equal((await pollOnce(url, a.venId))?.type, 'Response');
});

test('LOAD_DISPATCH VTN: each VEN receives only its own OPR as delta powerReal W = -OPR, one interval per slot', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t, { programs: [{ id: 'uvam', signals: ['LOAD_DISPATCH', 'SIMPLE', 'x-LOAD_AMOUNT'], simpleLevel: 2 }] });
  const a = await registerVen(url, 'ven-a');
  const b = await registerVen(url, 'ven-b');
  vtn.events.create({ programId: 'uvam', eventId: 'ev-1', start: clock.now() + SLOT, slots: 3, perVenReductionW: { [a.venId]: [1000, 2000, 0], [b.venId]: 700 } });
  const ea = (await requestEvents(url, a.venId)).events?.[0];
  const eb = (await requestEvents(url, b.venId)).events?.[0];
  assert.ok(ea !== undefined && eb !== undefined);
  const byId = (e: typeof ea, id: string) => e.signals.find((s) => s.signalId === id);
  t.assert.deepEqual(byId(ea, 'load-dispatch')?.intervals.map((i) => i.value), [-1000, -2000, 0]);
  t.assert.equal(byId(ea, 'load-dispatch')?.signalName, 'LOAD_DISPATCH');
  t.assert.equal(byId(ea, 'load-dispatch')?.signalType, 'delta');
  t.assert.deepEqual(byId(ea, 'load-dispatch')?.itemBase, { type: 'powerReal', description: 'RealPower', units: 'W', siScaleCode: 'none', powerAttributes: { hertz: 50, voltage: 230, ac: true } });
  t.assert.deepEqual(byId(ea, 'simple')?.intervals.map((i) => i.value), [2, 2, 0]);
  t.assert.deepEqual(byId(ea, 'load-amount')?.intervals.map((i) => i.value), [1000, 2000, 0]);
  t.assert.deepEqual(byId(eb, 'load-dispatch')?.intervals.map((i) => i.value), [-700, -700, -700]);
  // R63: the eiTarget names only the receiving VEN.
  t.assert.deepEqual(ea.target.venIds, [a.venId]);
  t.assert.deepEqual(eb.target.venIds, [b.venId]);
});

test('R2+R8+R100+R103+R105 VTN: intervals have uid 0,1,2, durations that sum to the event duration, no dtstart; x-eiNotification present', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t, { programs: [{ id: 'p', notificationMs: 30 * MIN }] });
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ start: clock.now() + SLOT, slots: 3, perVenReductionW: { [a.venId]: 100 } });
  const e = (await requestEvents(url, a.venId)).events?.[0];
  assert.ok(e !== undefined);
  t.assert.equal(e.activePeriod.notification, 'PT30M');
  t.assert.equal(durationToMs(e.activePeriod.duration), 3 * SLOT);
  for (const s of e.signals) {
    t.assert.deepEqual(s.intervals.map((i) => i.uid), ['0', '1', '2']);
    t.assert.equal(s.intervals.reduce((sum, i) => sum + durationToMs(i.duration ?? 'PT0S'), 0), 3 * SLOT);
    assert.ok(s.intervals.every((i) => i.dtstart === undefined));
  }
});

test('R6 VTN: a program with testEvent sends its events as test events unless the event says otherwise', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t, { programs: [{ id: 'default' }, { id: 'drill', marketContext: 'http://utility.example/drill', testEvent: true }] });
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ programId: 'drill', eventId: 'ev-drill', start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 100 } });
  vtn.events.create({ programId: 'drill', eventId: 'ev-real', testEvent: false, start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 100 } });
  vtn.events.create({ eventId: 'ev-default', start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 100 } });
  const byId = new Map((await requestEvents(url, a.venId)).events?.map((e) => [e.descriptor.eventId, e.descriptor.testEvent]));
  t.assert.deepEqual(Object.fromEntries(byId), { 'ev-drill': 'true', 'ev-real': 'false', 'ev-default': 'false' });
});

test('R4+R5+R115 VTN: a new event has modificationNumber 0; changing a value makes it 1 and renews createdDateTime', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + 2 * SLOT, slots: 2, perVenReductionW: { [a.venId]: 500 } });
  const first = (await requestEvents(url, a.venId)).events?.[0]?.descriptor;
  t.assert.equal(first?.modificationNumber, 0);
  clock.advance(MIN);
  const v = vtn.events.modify('ev-1', { perVenReductionW: { [a.venId]: [500, 800] } });
  t.assert.equal(v.event.modificationNumber, 1);
  const p = await pollOnce(url, a.venId);
  assert.ok(p?.type === 'DistributeEvent');
  const second = p.events?.[0];
  t.assert.equal(second?.descriptor.modificationNumber, 1);
  t.assert.notEqual(second?.descriptor.createdDateTime, first?.createdDateTime);
  t.assert.deepEqual(second?.signals[0]?.intervals.map((i) => i.value), [-500, -800]);
});

test('R5+R10 VTN: far to active by the clock keeps modificationNumber; cancelling makes it cancelled and +1', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + SLOT, slots: 2, perVenReductionW: { [a.venId]: 500 } });
  t.assert.equal((await requestEvents(url, a.venId)).events?.[0]?.descriptor.eventStatus, 'far');
  clock.advance(SLOT + MIN);
  const active = (await requestEvents(url, a.venId)).events?.[0]?.descriptor;
  t.assert.equal(active?.eventStatus, 'active');
  t.assert.equal(active?.modificationNumber, 0);
  vtn.events.cancel('ev-1');
  const p = await pollOnce(url, a.venId);
  assert.ok(p?.type === 'DistributeEvent');
  t.assert.equal(p.events?.[0]?.descriptor.eventStatus, 'cancelled');
  t.assert.equal(p.events?.[0]?.descriptor.modificationNumber, 1);
});

test('R13 VTN: with x-eiRampUp the event is near from the ramp start, then active, then completed and no longer sent', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const start = clock.now() + 60 * MIN;
  vtn.events.create({ start, slots: 1, rampUpMs: 10 * MIN, perVenReductionW: { [a.venId]: 1 } });
  const status = async () => (await requestEvents(url, a.venId)).events?.[0]?.descriptor.eventStatus;
  t.assert.equal(await status(), 'far');
  clock.set(start - 10 * MIN);
  t.assert.equal(await status(), 'near');
  clock.set(start);
  t.assert.equal(await status(), 'active');
  clock.set(start + SLOT);
  t.assert.equal(await status(), undefined);
});

test('R14+R29 VTN: SIMPLE currentValue is 0 before the start and the interval value during interval 2', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const start = clock.now() + SLOT;
  vtn.events.create({
    start,
    slots: 3,
    signals: [{ signalId: 'lvl', signalName: 'SIMPLE', signalType: 'level', values: [1, 3, 2] }],
    venIds: [a.venId],
  });
  const current = async () => (await requestEvents(url, a.venId)).events?.[0]?.signals[0]?.currentValue;
  t.assert.equal(await current(), 0);
  clock.set(start + SLOT + MIN);
  t.assert.equal(await current(), 3);
});

test('R15 VTN: active by priority (0 last) then dtstart, then pending by dtstart; R27 replyLimit keeps the same order', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const now = clock.now();
  const make = (eventId: string, startOffset: number, priority: number) =>
    vtn.events.create({ eventId, start: now + startOffset, slots: 8, priority, perVenReductionW: { [a.venId]: 1 } });
  make('pending-late', 5 * SLOT, 1);
  make('active-p2', MIN, 2);
  make('active-p0', MIN, 0);
  make('pending-early', 3 * SLOT, 1);
  make('active-p3-later', 2 * MIN, 3);
  make('active-p1', 3 * MIN, 1);
  make('active-p3-earlier', MIN, 3);
  clock.set(now + 5 * MIN);
  const ids = (await requestEvents(url, a.venId)).events?.map((e) => e.descriptor.eventId);
  t.assert.deepEqual(ids, ['active-p1', 'active-p2', 'active-p3-earlier', 'active-p3-later', 'active-p0', 'pending-early', 'pending-late']);
  const limited1 = (await requestEvents(url, a.venId, 2)).events?.map((e) => e.descriptor.eventId);
  const limited2 = (await requestEvents(url, a.venId, 2)).events?.map((e) => e.descriptor.eventId);
  t.assert.deepEqual(limited1, ['active-p1', 'active-p2']);
  t.assert.deepEqual(limited2, limited1);
});

test('R50+R36 VTN: a cancelled event acknowledged with optIn is left out of the next payload', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 1 } });
  vtn.events.create({ eventId: 'ev-2', start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 1 } });
  await drain(url, a.venId);
  vtn.events.cancel('ev-1');
  const got = await drain(url, a.venId);
  t.assert.equal(got.length, 1);
  const ack = await call(url, 'EiEvent', ven.createdEvent(a.venId, [{ eventId: 'ev-1', modificationNumber: 1, optType: 'optIn' }]), 'Response');
  t.assert.equal(ack.response.code, 200);
  t.assert.deepEqual((await requestEvents(url, a.venId)).events?.map((e) => e.descriptor.eventId), ['ev-2']);
  t.assert.equal(vtn.events.get('ev-1')?.vens[0]?.cancelAcked, true);
});

test('R52 VTN: a cancelled always-event never acknowledged is re-sent on each delivery until the retry count runs out; deliveries within one poll frequency count once', async (t) => {
  const POLL = 10_000;
  const { url, vtn, clock } = await startTestVtn(t, { cancelRetries: 3, pollFrequencyMs: POLL });
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 1 } });
  await drain(url, a.venId);
  vtn.events.cancel('ev-1');
  const counts: number[] = [];
  counts.push(((await pollOnce(url, a.venId)) as DistributeEvent).events?.length ?? 0);
  // New events polled one after another deliver the cancellation again without using up the retries.
  for (let i = 0; i < 4; i++) {
    vtn.events.create({ eventId: `ev-new-${i}`, start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 1 } });
    const ids = ((await pollOnce(url, a.venId)) as DistributeEvent).events?.map((e) => e.descriptor.eventId) ?? [];
    assert.ok(ids.includes('ev-1'), `burst delivery ${i} still carries the cancellation`);
  }
  for (let i = 0; i < 3; i++) {
    clock.advance(POLL);
    counts.push((await requestEvents(url, a.venId)).events?.filter((e) => e.descriptor.eventId === 'ev-1').length ?? 0);
  }
  t.assert.deepEqual(counts, [1, 1, 1, 0]);
});

test('R48 VTN: oadrCreatedEvent with an unknown eventID gets 452; with a stale modificationNumber 450', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + SLOT, slots: 2, perVenReductionW: { [a.venId]: 1 } });
  vtn.events.modify('ev-1', { perVenReductionW: { [a.venId]: 2 } });
  const unknown = await call(url, 'EiEvent', ven.createdEvent(a.venId, [{ eventId: 'nope', modificationNumber: 0 }]), 'Response');
  t.assert.equal(unknown.response.code, 452);
  const stale = await call(url, 'EiEvent', ven.createdEvent(a.venId, [{ eventId: 'ev-1', modificationNumber: 0 }]), 'Response');
  t.assert.equal(stale.response.code, 450);
  t.assert.equal(vtn.events.get('ev-1')?.vens[0]?.optType, undefined);
});

test('R42+R16+R17 VTN: oadrCreatedEvent with an empty eiResponse requestID records optIn, a later optOut replaces it, the ledger port gets both', async (t) => {
  const recorded: OptRecord[] = [];
  const ledger: LedgerPort = {
    notifyEvent: async () => new Map(),
    recordOpt: async (o) => void recorded.push(o),
    recordTelemetry: async () => {},
  };
  const { url, vtn, clock } = await startTestVtn(t, {}, { ledger });
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + SLOT, slots: 2, perVenReductionW: { [a.venId]: 1 } });
  const r1 = await call(url, 'EiEvent', ven.createdEvent(a.venId, [{ eventId: 'ev-1', modificationNumber: 0, optType: 'optIn', requestId: 'rq-d1' }]), 'Response');
  t.assert.equal(r1.response.code, 200);
  t.assert.equal(vtn.events.get('ev-1')?.vens[0]?.optType, 'optIn');
  const r2 = await call(url, 'EiEvent', ven.createdEvent(a.venId, [{ eventId: 'ev-1', modificationNumber: 0, optType: 'optOut' }]), 'Response');
  t.assert.equal(r2.response.code, 200);
  t.assert.equal(vtn.events.get('ev-1')?.vens[0]?.optType, 'optOut');
  await new Promise((r) => setImmediate(r));
  t.assert.deepEqual(recorded.map((o) => [o.eventId, o.optType, o.customerId]), [['ev-1', 'optIn', 'ven-a'], ['ev-1', 'optOut', 'ven-a']]);
});

test('R25 VTN: oadrCreatedEvent whose eiResponse reports an error has its eventResponses skipped', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 1 } });
  const p = ven.createdEvent(a.venId, [{ eventId: 'ev-1', modificationNumber: 0 }]);
  assert.ok(p.type === 'CreatedEvent');
  p.response = { code: 454, requestId: '', description: 'bad' };
  t.assert.equal((await call(url, 'EiEvent', p, 'Response')).response.code, 200);
  t.assert.equal(vtn.events.get('ev-1')?.vens[0]?.optType, undefined);
});

test('R104 VTN: LOAD_DISPATCH level with value 11 is refused at the API and never distributed', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  t.assert.throws(
    () => vtn.events.create({ eventId: 'bad', start: clock.now() + SLOT, slots: 1, signals: [{ signalId: 's', signalName: 'LOAD_DISPATCH', signalType: 'level', itemBase: undefined, values: [11] }], venIds: [a.venId] }),
    (err: unknown) => err instanceof VtnError && err.code === 'INVALID_ARGUMENT' && err.message.includes('R104'),
  );
  t.assert.throws(
    () => vtn.events.create({ start: clock.now() + SLOT, slots: 1, signals: [{ signalId: 's', signalName: 'SIMPLE', signalType: 'delta', values: [1] }], venIds: [a.venId] }),
    (err: unknown) => err instanceof VtnError && err.message.includes('R116'),
  );
  t.assert.equal(vtn.events.get('bad'), undefined);
  t.assert.equal((await requestEvents(url, a.venId)).events, undefined);
  t.assert.equal((await pollOnce(url, a.venId))?.type, 'Response');
});

test('R20 VTN: changing an interval that has already ended is refused; a future interval may change', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const start = clock.now() + MIN;
  vtn.events.create({ eventId: 'ev-1', start, slots: 3, perVenReductionW: { [a.venId]: 100 } });
  clock.set(start + SLOT + MIN);
  t.assert.throws(() => vtn.events.modify('ev-1', { perVenReductionW: { [a.venId]: [200, 100, 100] } }), (err: unknown) => err instanceof VtnError && err.code === 'NOT_ALLOWED');
  const ok = vtn.events.modify('ev-1', { perVenReductionW: { [a.venId]: [100, 100, 300] } });
  t.assert.equal(ok.event.modificationNumber, 1);
  t.assert.throws(() => vtn.events.create({ start: clock.now() - 2 * SLOT, slots: 1, perVenReductionW: { [a.venId]: 1 } }), (err: unknown) => err instanceof VtnError && err.code === 'NOT_ALLOWED');
});

test('R5+R10+R36 VTN: a modification adds and removes targets — an added VEN receives the event, a removed one receives it cancelled until it acknowledges', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const b = await registerVen(url, 'ven-b');
  const c = await registerVen(url, 'ven-c');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + SLOT, slots: 2, perVenReductionW: { [a.venId]: 100, [b.venId]: 200 } });
  const v = vtn.events.modify('ev-1', { addVenIds: [c.venId], removeVenIds: [b.venId], perVenReductionW: { [c.venId]: [300, 400] } });
  t.assert.equal(v.event.modificationNumber, 1);
  t.assert.deepEqual([...v.event.venIds].sort(), [a.venId, c.venId].sort());
  t.assert.deepEqual(v.vens.filter((x) => x.removed).map((x) => x.venId), [b.venId]);
  const ec = (await requestEvents(url, c.venId)).events?.[0];
  t.assert.deepEqual(ec?.signals.find((s) => s.signalId === 'load-dispatch')?.intervals.map((i) => i.value), [-300, -400]);
  t.assert.equal(ec?.descriptor.modificationNumber, 1);
  t.assert.deepEqual(ec?.target.venIds, [c.venId]);
  const eb = (await requestEvents(url, b.venId)).events?.[0];
  t.assert.equal(eb?.descriptor.eventStatus, 'cancelled');
  t.assert.equal(eb?.descriptor.modificationNumber, 1);
  t.assert.equal((await requestEvents(url, a.venId)).events?.[0]?.descriptor.eventStatus, 'far');
  // The removed VEN may not opt into the event any more; its acknowledgement of the cancellation ends its deliveries.
  t.assert.equal((await call(url, 'EiOpt', ven.createOpt(b.venId, { eventId: 'ev-1', modificationNumber: 1, optType: 'optIn' }), 'CreatedOpt')).response.code, ResponseCode.NOT_ALLOWED);
  t.assert.equal((await call(url, 'EiEvent', ven.createdEvent(b.venId, [{ eventId: 'ev-1', modificationNumber: 1, optType: 'optIn' }]), 'Response')).response.code, ResponseCode.OK);
  t.assert.equal((await requestEvents(url, b.venId)).events, undefined);
  t.assert.equal(vtn.events.get('ev-1')?.vens.find((x) => x.venId === b.venId)?.optType, undefined, 'an acknowledgement is not an opt');
  // Cancelling the event later does not tell the removed VEN again; it tells the others.
  vtn.events.cancel('ev-1');
  t.assert.equal((await requestEvents(url, b.venId)).events, undefined);
  t.assert.equal((await requestEvents(url, a.venId)).events?.[0]?.descriptor.eventStatus, 'cancelled');
  // Targets are checked.
  vtn.events.create({ eventId: 'ev-2', start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 100 } });
  t.assert.throws(() => vtn.events.modify('ev-2', { removeVenIds: [a.venId] }), (err: unknown) => err instanceof VtnError && err.code === 'INVALID_ARGUMENT' && err.message.includes('without a target'));
  t.assert.throws(() => vtn.events.modify('ev-2', { removeVenIds: [b.venId] }), (err: unknown) => err instanceof VtnError && err.message.includes('not targeted'));
  t.assert.throws(() => vtn.events.modify('ev-2', { addVenIds: [a.venId] }), (err: unknown) => err instanceof VtnError && err.message.includes('already targeted'));
  t.assert.throws(() => vtn.events.modify('ev-2', { addVenIds: ['ven-nobody'] }), (err: unknown) => err instanceof VtnError && err.message.includes('not registered'));
  t.assert.equal(vtn.events.get('ev-2')?.event.modificationNumber, 0, 'a refused modification changes nothing');
});

test('R5+R20 VTN: a modification moves the start before the event starts and changes its length; after the start, only the intervals that have not ended', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const start = clock.now() + SLOT;
  vtn.events.create({ eventId: 'ev-1', start, slots: 2, perVenReductionW: { [a.venId]: [100, 200] } });
  // A new length needs the values again; then the start moves too.
  t.assert.throws(() => vtn.events.modify('ev-1', { slots: 3 }), (err: unknown) => err instanceof VtnError && err.code === 'INVALID_ARGUMENT' && err.message.includes('give them again'));
  const moved = vtn.events.modify('ev-1', { start: start + 2 * SLOT, slots: 3, perVenReductionW: { [a.venId]: [100, 200, 300] } });
  t.assert.equal(moved.event.startMs, start + 2 * SLOT);
  t.assert.deepEqual(moved.event.intervalsMs, [SLOT, SLOT, SLOT]);
  let e = (await requestEvents(url, a.venId)).events?.[0];
  t.assert.equal(e?.activePeriod.dtstart, new Date(start + 2 * SLOT).toISOString());
  t.assert.equal(durationToMs(e?.activePeriod.duration ?? ''), 3 * SLOT);
  t.assert.deepEqual(e?.signals.find((s) => s.signalId === 'load-dispatch')?.intervals.map((i) => i.value), [-100, -200, -300]);
  // Shortening keeps the values of the intervals left.
  vtn.events.modify('ev-1', { slots: 2, perVenReductionW: { [a.venId]: [100, 200] } });
  clock.set(start + 3 * SLOT + MIN); // inside the second interval
  t.assert.throws(() => vtn.events.modify('ev-1', { start: start + 4 * SLOT }), (err: unknown) => err instanceof VtnError && err.code === 'NOT_ALLOWED' && err.message.includes('R20'));
  t.assert.throws(() => vtn.events.modify('ev-1', { intervalsMs: [2 * SLOT, SLOT], perVenReductionW: { [a.venId]: [100, 200] } }), (err: unknown) => err instanceof VtnError && err.code === 'NOT_ALLOWED' && err.message.includes('interval 0 has already ended'));
  t.assert.throws(() => vtn.events.modify('ev-1', { slots: 4, perVenReductionW: { [a.venId]: [500, 200, 300, 300] } }), (err: unknown) => err instanceof VtnError && err.code === 'NOT_ALLOWED');
  const longer = vtn.events.modify('ev-1', { slots: 4, perVenReductionW: { [a.venId]: [100, 250, 300, 300] } });
  t.assert.equal(longer.event.modificationNumber, 3);
  e = (await requestEvents(url, a.venId)).events?.[0];
  t.assert.equal(e?.descriptor.eventStatus, 'active');
  t.assert.deepEqual(e?.signals.find((s) => s.signalId === 'load-dispatch')?.intervals.map((i) => i.value), [-100, -250, -300, -300]);
  t.assert.equal(e?.signals.find((s) => s.signalId === 'load-dispatch')?.currentValue, -250);
});

test('R8 VTN: an event from per-VEN values given in minutes follows the slot grid — off the grid its first interval runs to the next boundary, its last from the last one', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const start = clock.now() + 22 * MIN; // 12:22
  const v = vtn.events.create({ eventId: 'ev-grid', start, durationMinutes: 40, perVenReductionW: { [a.venId]: [100, 200, 300, 400] } });
  t.assert.deepEqual(v.event.intervalsMs, [8 * MIN, SLOT, SLOT, 2 * MIN]);
  const e = (await requestEvents(url, a.venId)).events?.[0];
  t.assert.deepEqual(e?.signals[0]?.intervals.map((i) => i.duration), ['PT8M', 'PT15M', 'PT15M', 'PT2M']);
  t.assert.equal(durationToMs(e?.activePeriod.duration ?? ''), 40 * MIN);
  // Given in slots, the intervals are whole slots from the start, as asked.
  t.assert.deepEqual(vtn.events.create({ start, slots: 2, perVenReductionW: { [a.venId]: 1 } }).event.intervalsMs, [SLOT, SLOT]);
  t.assert.throws(() => vtn.events.create({ start, perVenReductionW: { [a.venId]: 1 } }), (err: unknown) => err instanceof VtnError && err.message.includes('give slots, durationMinutes'));
});

test('R66 VTN: an event with startafter PT10M is still sent after its end, until end + 10 min', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const start = clock.now() + MIN;
  vtn.events.create({ eventId: 'ev-1', start, slots: 1, startAfterMs: 10 * MIN, perVenReductionW: { [a.venId]: 1 } });
  clock.set(start + SLOT + 5 * MIN);
  const e = (await requestEvents(url, a.venId)).events?.[0];
  t.assert.equal(e?.descriptor.eventStatus, 'completed');
  t.assert.equal(e?.activePeriod.startAfter, 'PT10M');
  clock.set(start + SLOT + 10 * MIN);
  t.assert.equal((await requestEvents(url, a.venId)).events, undefined);
});

test('R517 VTN: an unregistered venID sending oadrRequestEvent gets oadrDistributeEvent with eiResponse 463 and no events', async (t) => {
  const { url } = await startTestVtn(t);
  const d = await requestEvents(url, 'ven-nobody');
  t.assert.equal(d.response?.code, 463);
  t.assert.equal(d.events, undefined);
});

test('R506 R7 R9: a 2.0a VEN receives the SIMPLE signal alone; an event it cannot receive as SIMPLE levels is refused at the API', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t, { programs: [{ id: 'p', signals: ['LOAD_DISPATCH', 'SIMPLE'], simpleLevel: 2 }] });
  const b = await registerVen(url, 'ven-b');
  vtn.customers.enrol({ customerId: 'c-a' });
  vtn.vens.enrol20a({ venId: 'ven-a', customerId: 'c-a', fingerprint: '3F:A9:11:0C:5D:E2:77:81:9B:04' });
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + SLOT, slots: 2, perVenReductionW: { 'ven-a': [500, 0], [b.venId]: 500 } });
  const a = (await vtn.handle({ type: 'RequestEvent', requestId: 'r', venId: 'ven-a' }, { profile: '2.0a' })).answer;
  assert.ok(a.type === 'DistributeEvent');
  t.assert.deepEqual(a.events?.[0]?.signals.map((s) => [s.signalName, s.intervals.map((i) => i.value)]), [['SIMPLE', [2, 0]]]);
  // The 2.0b VEN still gets both signals.
  t.assert.deepEqual((await requestEvents(url, b.venId)).events?.[0]?.signals.map((s) => s.signalName), ['LOAD_DISPATCH', 'SIMPLE']);
  const price = { signalId: 'price', signalName: 'ELECTRICITY_PRICE', signalType: 'price', itemBase: { type: 'currencyPerKWh', description: 'currencyPerKWh', units: 'EUR', siScaleCode: 'none' }, values: 0.3 } as const;
  assert.throws(() => vtn.events.create({ programId: 'p', start: clock.now() + SLOT, slots: 1, signals: [price], venIds: ['ven-a'] }), (e: unknown) => e instanceof VtnError && e.code === 'INVALID_ARGUMENT' && /2\.0a.*SIMPLE levels only \(R7\)/.test(e.message));
  const simple = { signalId: 'simple', signalName: 'SIMPLE', signalType: 'level', values: 2.5 } as const;
  assert.throws(() => vtn.events.create({ programId: 'p', start: clock.now() + SLOT, slots: 1, signals: [simple], venIds: ['ven-a'] }), (e: unknown) => e instanceof VtnError && e.code === 'INVALID_ARGUMENT' && /R9/.test(e.message));
});
