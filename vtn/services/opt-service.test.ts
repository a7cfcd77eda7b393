import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CreateOpt, Payload, Target } from '../../oadr/index.ts';
import type { LedgerPort, OptRecord } from '../ledger/port.ts';
import { call, drain, registerVen, startTestVtn, ven } from '../testing/fake-ven.ts';

const V = '2.0b' as const;
const T0 = Date.UTC(2030, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

interface OptInput {
  optId?: string;
  optType?: 'optIn' | 'optOut';
  requestId?: string;
  windows?: Array<[number, string]>;
  eventId?: string;
  modificationNumber?: number;
  target?: Target;
  deviceClass?: Target;
  marketContext?: string;
}

function createOpt(venId: string, o: OptInput = {}): Payload {
  const p: CreateOpt = {
    type: 'CreateOpt',
    schemaVersion: V,
    optId: o.optId ?? 'o1',
    optType: o.optType ?? 'optOut',
    optReason: 'economic',
    venId,
    createdDateTime: iso(T0),
    requestId: o.requestId ?? 'r9',
    target: o.target ?? { venIds: [venId] },
  };
  if (o.windows !== undefined) p.availability = o.windows.map(([start, duration]) => ({ dtstart: iso(start), duration }));
  if (o.eventId !== undefined) p.qualifiedEventId = { eventId: o.eventId, modificationNumber: o.modificationNumber ?? 0 };
  if (o.deviceClass !== undefined) p.deviceClass = o.deviceClass;
  if (o.marketContext !== undefined) p.marketContext = o.marketContext;
  return p;
}

const cancelOpt = (venId: string, optId: string): Payload => ({ type: 'CancelOpt', schemaVersion: V, requestId: 'rq-c', optId, venId });

test('R204+R207 VTN: oadrCreatedOpt echoes the optID and a non-empty requestID; an empty requestID is accepted', async (t) => {
  const { url } = await startTestVtn(t);
  const { venId } = await registerVen(url, 'house-1');
  const a = await call(url, 'EiOpt', createOpt(venId, { windows: [[T0 + HOUR, 'PT2H']] }), 'CreatedOpt');
  t.assert.equal(a.response.code, 200);
  t.assert.equal(a.optId, 'o1');
  t.assert.equal(a.response.requestId, 'r9');
  const b = await call(url, 'EiOpt', createOpt(venId, { optId: 'o2', requestId: '', windows: [[T0, 'PT1H']] }), 'CreatedOpt');
  t.assert.equal(b.response.code, 200);
  t.assert.equal(b.response.requestId, '');
});

test('R208 VTN: an eiTarget naming another venID and the cancel of an unknown optID get 452', async (t) => {
  const { url } = await startTestVtn(t);
  const { venId } = await registerVen(url, 'house-1');
  const other = await registerVen(url, 'house-2');
  t.assert.equal((await call(url, 'EiOpt', createOpt(venId, { windows: [[T0, 'PT1H']], target: { venIds: [other.venId] } }), 'CreatedOpt')).response.code, 452);
  t.assert.equal((await call(url, 'EiOpt', cancelOpt(venId, 'never'), 'CanceledOpt')).response.code, 452);
});

test('R206+R200 VTN: eventID with vavailability, neither of them, or a window with ramp-up all get a 4xx', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const { venId } = await registerVen(url, 'house-1');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + HOUR, slots: 2, perVenReductionW: { [venId]: 500 } });
  const both = await call(url, 'EiOpt', createOpt(venId, { eventId: 'ev-1', windows: [[T0, 'PT1H']] }), 'CreatedOpt');
  assert.ok(both.response.code >= 400 && both.response.code < 500);
  const none = await call(url, 'EiOpt', createOpt(venId, {}), 'CreatedOpt');
  assert.ok(none.response.code >= 400 && none.response.code < 500);
  const p = createOpt(venId, { windows: [[T0, 'PT1H']] }) as CreateOpt;
  const ramp = await call(url, 'EiOpt', { ...p, availability: [{ dtstart: iso(T0), duration: 'PT1H', rampUp: 'PT5M' }] }, 'CreatedOpt');
  assert.ok(ramp.response.code >= 400 && ramp.response.code < 500);
  t.assert.equal((await call(url, 'EiOpt', createOpt(venId, { eventId: 'no-such-event' }), 'CreatedOpt')).response.code, 452);
  t.assert.equal(vtn.opt.list(venId).length, 0);
});

test('R206 VTN: an event optOut by oadrCreateOpt sets the opt state, goes to the ledger, and a later oadrCreatedEvent optIn does not change it', async (t) => {
  const opts: OptRecord[] = [];
  const ledger: LedgerPort = { notifyEvent: async () => new Map(), recordOpt: async (o) => void opts.push(o), recordTelemetry: async () => {} };
  const { url, vtn, clock } = await startTestVtn(t, {}, { ledger });
  const { venId } = await registerVen(url, 'house-1');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + HOUR, slots: 2, perVenReductionW: { [venId]: 500 } });
  await drain(url, venId);
  t.assert.equal((await call(url, 'EiOpt', createOpt(venId, { optId: 'ev-opt', eventId: 'ev-1' }), 'CreatedOpt')).response.code, 200);
  t.assert.equal(vtn.events.get('ev-1')?.vens[0]?.optType, 'optOut');
  t.assert.equal((await call(url, 'EiEvent', ven.createdEvent(venId, [{ eventId: 'ev-1', modificationNumber: 0, optType: 'optIn' }]), 'Response')).response.code, 200);
  t.assert.equal(vtn.events.get('ev-1')?.vens[0]?.optType, 'optOut');
  await new Promise((r) => setImmediate(r));
  assert.ok(opts.length >= 1);
  assert.ok(opts.every((o) => o.optType === 'optOut' && o.eventId === 'ev-1' && o.customerId === 'house-1'));
});

test('R209 VTN: oadrDeviceClass Toaster gets a 4xx, Thermostat and x-Boiler are accepted', async (t) => {
  const { url } = await startTestVtn(t);
  const { venId } = await registerVen(url, 'house-1');
  const code = async (mrid: string): Promise<number> =>
    (await call(url, 'EiOpt', createOpt(venId, { optId: mrid, windows: [[T0, 'PT1H']], deviceClass: { endDeviceAssets: [mrid] } }), 'CreatedOpt')).response.code;
  const toaster = await code('Toaster');
  assert.ok(toaster >= 400 && toaster < 500);
  t.assert.equal(await code('Thermostat'), 200);
  t.assert.equal(await code('x-Boiler'), 200);
});

test('R205 VTN: a marketContext that is not a program of the VTN gets 462', async (t) => {
  const { url } = await startTestVtn(t);
  const { venId } = await registerVen(url, 'house-1');
  t.assert.equal((await call(url, 'EiOpt', createOpt(venId, { windows: [[T0, 'PT1H']], marketContext: 'http://elsewhere.example/p' }), 'CreatedOpt')).response.code, 462);
});

test('R203+R210+R211 VTN: a second venID-only schedule replaces the first from now on; PT0S is open-ended; the superseded optID cancels with 200', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const { venId } = await registerVen(url, 'house-1');
  await call(url, 'EiOpt', createOpt(venId, { optId: 'first', windows: [[T0 + HOUR, 'PT2H']] }), 'CreatedOpt');
  t.assert.equal(vtn.opt.availableAt(venId, T0 + 2 * HOUR), false, 'optOut window');
  t.assert.equal(vtn.opt.availableAt(venId, T0 + 4 * HOUR), true, 'outside it');
  clock.advance(10 * 60_000);
  await call(url, 'EiOpt', createOpt(venId, { optId: 'second', windows: [[T0 + 5 * HOUR, 'PT0S']] }), 'CreatedOpt');
  t.assert.equal(vtn.opt.availableAt(venId, T0 + 2 * HOUR), true, 'the first no longer applies');
  t.assert.equal(vtn.opt.availableAt(venId, T0 + 500 * HOUR), false, 'open-ended (R210)');
  const first = vtn.opt.list(venId).find((o) => o.optId === 'first');
  t.assert.equal(first?.supersededAt, T0 + 10 * 60_000);
  t.assert.equal((await call(url, 'EiOpt', cancelOpt(venId, 'first'), 'CanceledOpt')).response.code, 200);
  t.assert.equal((await call(url, 'EiOpt', cancelOpt(venId, 'second'), 'CanceledOpt')).response.code, 200);
  t.assert.equal(vtn.opt.availableAt(venId, T0 + 500 * HOUR), true);
});

test('R203+R202 VTN: a schedule naming resources supersedes an earlier venID-only one for those resources only; the others keep it', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const { venId } = await registerVen(url, 'house-1');
  const target = (...resourceIds: string[]) => ({ venIds: [venId], resourceIds });
  await call(url, 'EiOpt', createOpt(venId, { optId: 'all-away', optType: 'optOut', windows: [[T0 + HOUR, 'PT4H']] }), 'CreatedOpt');
  await call(url, 'EiOpt', createOpt(venId, { optId: 'two', optType: 'optOut', windows: [[T0 + HOUR, 'PT4H']], target: target('heat-pump', 'boiler') }), 'CreatedOpt');
  clock.advance(10 * 60_000);
  // The battery's own optOut schedule: from now on the venID-only one no longer speaks for the battery.
  await call(url, 'EiOpt', createOpt(venId, { optId: 'battery', optType: 'optOut', windows: [[T0 + 6 * HOUR, 'PT1H']], target: target('battery-1', 'boiler') }), 'CreatedOpt');
  const at = T0 + 2 * HOUR;
  t.assert.equal(vtn.opt.availableAt(venId, at, { resource: 'battery-1' }), true, 'the venID-only schedule no longer covers the battery');
  t.assert.equal(vtn.opt.availableAt(venId, T0 + 6.5 * HOUR, { resource: 'battery-1' }), false, 'its own schedule does');
  t.assert.equal(vtn.opt.availableAt(venId, at, { resource: 'ev-charger' }), false, 'a resource no later schedule names keeps the venID-only one');
  t.assert.equal(vtn.opt.availableAt(venId, at, { resource: 'heat-pump' }), false, "'two' goes on for the heat pump");
  t.assert.equal(vtn.opt.availableAt(venId, at, { resource: 'boiler' }), true, 'for the boiler only the new schedule speaks now');
  t.assert.equal(vtn.opt.availableAt(venId, T0 + 6.5 * HOUR, { resource: 'boiler' }), false);
  t.assert.equal(vtn.opt.availableAt(venId, T0 + 30 * 60_000 + 5 * 60_000, { resource: 'battery-1' }), true, 'before its window, nothing covers the battery');
  t.assert.equal(vtn.opt.availableAt(venId, at), false, 'the VEN as a whole: its venID-only schedule still speaks for its other resources');
  const views = vtn.opt.list(venId);
  t.assert.deepEqual(views.find((o) => o.optId === 'all-away')?.supersededFor, { 'heat-pump': T0, boiler: T0, 'battery-1': T0 + 10 * 60_000 }, "'two' took over the heat pump and the boiler when it came");
  t.assert.deepEqual(views.find((o) => o.optId === 'two')?.supersededFor, { boiler: T0 + 10 * 60_000 });
  t.assert.equal(views.find((o) => o.optId === 'two')?.supersededAt, undefined);
  t.assert.deepEqual(vtn.opt.at(venId, at, { resource: 'boiler' }).map((o) => o.optId), []);
  t.assert.deepEqual(vtn.opt.at(venId, at, { resource: 'heat-pump' }).map((o) => o.optId), ['two']);
  t.assert.deepEqual(vtn.opt.at(venId, at, { resource: 'ev-charger' }).map((o) => o.optId), ['all-away']);
});

test('R206+R202 VTN: an event opt naming resources sets their opt state for the event; the VEN\'s own opt state covers the others', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const { venId } = await registerVen(url, 'house-1');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + HOUR, slots: 2, perVenReductionW: { [venId]: 500 } });
  await call(url, 'EiEvent', ven.createdEvent(venId, [{ eventId: 'ev-1', modificationNumber: 0, optType: 'optIn' }]), 'Response');
  t.assert.equal((await call(url, 'EiOpt', createOpt(venId, { optId: 'pool', optType: 'optOut', eventId: 'ev-1', target: { venIds: [venId], resourceIds: ['pool-pump'] } }), 'CreatedOpt')).response.code, 200);
  const v = vtn.events.get('ev-1')?.vens[0];
  t.assert.equal(v?.optType, 'optIn', 'the VEN as a whole stays in');
  t.assert.deepEqual(v?.resourceOpts, { 'pool-pump': 'optOut' });
});

test('R201 VTN: where optIn and optOut schedules overlap optOut wins; resource-level schedules leave the VEN available', async (t) => {
  const { url, vtn } = await startTestVtn(t);
  const { venId } = await registerVen(url, 'house-1');
  await call(url, 'EiOpt', createOpt(venId, { optId: 'in', optType: 'optIn', windows: [[T0, 'PT4H']] }), 'CreatedOpt');
  await call(url, 'EiOpt', createOpt(venId, { optId: 'out', optType: 'optOut', windows: [[T0 + HOUR, 'PT1H']] }), 'CreatedOpt');
  await call(url, 'EiOpt', createOpt(venId, { optId: 'battery', optType: 'optOut', windows: [[T0, 'PT8H']], target: { venIds: [venId], resourceIds: ['battery-1'] } }), 'CreatedOpt');
  t.assert.equal(vtn.opt.availableAt(venId, T0 + 30 * 60_000), true);
  t.assert.equal(vtn.opt.availableAt(venId, new Date(T0 + 90 * 60_000)), false);
  t.assert.deepEqual(vtn.opt.at(venId, T0 + 90 * 60_000).map((o) => o.optId), ['in', 'out']);
  t.assert.deepEqual(vtn.opt.list(venId).find((o) => o.optId === 'battery')?.resources, ['battery-1']);
});

test('R201 VTN: per program — only optIn schedules accepted, uncovered time unavailable, events withheld from unavailable VENs', async (t) => {
  const MC = 'http://utility.example/strict';
  const strict = { id: 'strict', marketContext: MC, optSchedules: 'optIn' as const, optUncovered: 'unavailable' as const, eventsWhenUnavailable: 'withhold' as const };
  const { url, vtn } = await startTestVtn(t, { programs: [{ id: 'default' }, strict] });
  const s = await registerVen(url, 'house-s');
  const d = await registerVen(url, 'house-d');
  // The strict program takes no optOut schedule (451); the default one takes both.
  const refused = await call(url, 'EiOpt', createOpt(s.venId, { optId: 'out', optType: 'optOut', windows: [[T0, 'PT1H']], marketContext: MC }), 'CreatedOpt');
  t.assert.equal(refused.response.code, 451);
  assert.match(refused.response.description ?? '', /program 'strict' accepts only optIn schedules/);
  t.assert.equal((await call(url, 'EiOpt', createOpt(d.venId, { optId: 'out', optType: 'optOut', windows: [[T0 + 4 * HOUR, 'PT1H']] }), 'CreatedOpt')).response.code, 200);
  // Uncovered time: unavailable in the strict program, available in the default one.
  t.assert.equal(vtn.opt.availableAt(s.venId, T0, { marketContext: MC }), false);
  t.assert.equal(vtn.opt.availableAt(s.venId, T0), true);
  t.assert.equal((await call(url, 'EiOpt', createOpt(s.venId, { optId: 'in', optType: 'optIn', windows: [[T0, 'PT2H']], marketContext: MC }), 'CreatedOpt')).response.code, 200);
  t.assert.equal(vtn.opt.availableDuring(s.venId, T0, T0 + 2 * HOUR, { marketContext: MC }), true);
  t.assert.equal(vtn.opt.availableDuring(s.venId, T0 + HOUR, T0 + 3 * HOUR, { marketContext: MC }), false, 'the third hour is not covered');
  // d sent no optIn for the strict program: the event is withheld from d and reaches s, inside its optIn window.
  vtn.events.create({ eventId: 'ev-in', programId: 'strict', start: T0, slots: 4, perVenReductionW: { [s.venId]: 100, [d.venId]: 100 } });
  t.assert.deepEqual(vtn.events.get('ev-in')?.vens.map((v) => [v.venId, v.optType]), [[s.venId, undefined]]);
  const got = await drain(url, d.venId);
  assert.ok(!got.some((p) => p.type === 'DistributeEvent' && p.events?.some((e) => e.descriptor.eventId === 'ev-in')), 'd is not sent it');
  // An event partly outside s's optIn window reaches nobody: refused.
  assert.throws(() => vtn.events.create({ eventId: 'ev-out', programId: 'strict', start: T0 + HOUR, slots: 8, perVenReductionW: { [s.venId]: 100, [d.venId]: 100 } }), (e: unknown) => (e as { code?: string }).code === 'NOT_ALLOWED' && /withholds events/.test((e as Error).message));
});

test('R201 VTN: optOverlapWinner optIn — where both schedules cover, the VEN is available', async (t) => {
  const { url, vtn } = await startTestVtn(t, { programs: [{ id: 'lenient', optOverlapWinner: 'optIn' }] });
  const { venId } = await registerVen(url, 'house-1');
  await call(url, 'EiOpt', createOpt(venId, { optId: 'in', optType: 'optIn', windows: [[T0, 'PT4H']] }), 'CreatedOpt');
  await call(url, 'EiOpt', createOpt(venId, { optId: 'out', optType: 'optOut', windows: [[T0 + HOUR, 'PT4H']] }), 'CreatedOpt');
  t.assert.equal(vtn.opt.availableAt(venId, T0 + 90 * 60_000), true, 'both cover: optIn wins');
  t.assert.equal(vtn.opt.availableAt(venId, T0 + 4.5 * HOUR), false, 'only the optOut covers');
});

test('R201+R16 VTN: a VEN whose optOut schedule covers part of a new event is recorded as opted out of it, with a reason; others are not', async (t) => {
  const { url, vtn } = await startTestVtn(t);
  const a = await registerVen(url, 'house-1');
  const b = await registerVen(url, 'house-2');
  await call(url, 'EiOpt', createOpt(a.venId, { optId: 'away', windows: [[T0 + HOUR, 'PT1H']] }), 'CreatedOpt');
  t.assert.equal(vtn.opt.availableDuring(a.venId, T0 + 2 * HOUR - 60_000, T0 + 3 * HOUR), false, 'overlaps the last minute');
  t.assert.equal(vtn.opt.availableDuring(a.venId, T0 + 2 * HOUR, T0 + 3 * HOUR), true, 'starts where the window ends');
  vtn.events.create({ eventId: 'ev-1', start: T0 + HOUR + 45 * 60_000, slots: 2, perVenReductionW: { [a.venId]: 500, [b.venId]: 700 } });
  vtn.events.create({ eventId: 'ev-2', start: T0 + 2 * HOUR, slots: 2, perVenReductionW: { [a.venId]: 500 } });
  const ev1 = vtn.events.get('ev-1')?.vens ?? [];
  const va = ev1.find((v) => v.venId === a.venId);
  t.assert.equal(va?.optType, 'optOut');
  t.assert.match(va?.optReason ?? '', /away.*R201/);
  t.assert.equal(ev1.find((v) => v.venId === b.venId)?.optType, undefined);
  t.assert.equal(vtn.events.get('ev-2')?.vens[0]?.optType, undefined, 'outside the optOut window');
  // The VEN is still sent the event (R201 choice: events may be sent during an optOut period).
  const got = await drain(url, a.venId);
  assert.ok(got.some((p) => p.type === 'DistributeEvent' && p.events?.some((e) => e.descriptor.eventId === 'ev-1')));
});

test('R201+R16+R206 VTN: an optOut schedule sent after an event was created opts the VEN out of it (with the reason, on the ledger too); an event opt of its own, a completed or a later event stay', async (t) => {
  const recorded: OptRecord[] = [];
  const ledger: LedgerPort = { notifyEvent: async () => new Map(), recordOpt: async (o) => void recorded.push(o), recordTelemetry: async () => {} };
  const { url, vtn, clock } = await startTestVtn(t, {}, { ledger });
  const a = await registerVen(url, 'house-1');
  const b = await registerVen(url, 'house-2');
  const start = clock.now() + HOUR;
  vtn.events.create({ eventId: 'ev-1', start, slots: 4, perVenReductionW: { [a.venId]: 500, [b.venId]: 700 } });
  vtn.events.create({ eventId: 'ev-own', start, slots: 4, perVenReductionW: { [a.venId]: 500 } });
  vtn.events.create({ eventId: 'ev-later', start: start + 4 * HOUR, slots: 4, perVenReductionW: { [a.venId]: 500 } });
  await call(url, 'EiOpt', createOpt(a.venId, { optId: 'mine', optType: 'optIn', eventId: 'ev-own' }), 'CreatedOpt');
  await call(url, 'EiEvent', ven.createdEvent(a.venId, [{ eventId: 'ev-1', modificationNumber: 0, optType: 'optIn' }]), 'Response');
  t.assert.equal(vtn.events.get('ev-1')?.vens.find((v) => v.venId === a.venId)?.optType, 'optIn');
  // a will be away during the second half hour of the events.
  await call(url, 'EiOpt', createOpt(a.venId, { optId: 'away', windows: [[start + 30 * 60_000, 'PT30M']] }), 'CreatedOpt');
  const va = vtn.events.get('ev-1')?.vens.find((v) => v.venId === a.venId);
  t.assert.equal(va?.optType, 'optOut');
  t.assert.match(va?.optReason ?? '', /away.*R201/);
  t.assert.equal(vtn.events.get('ev-1')?.vens.find((v) => v.venId === b.venId)?.optType, undefined, 'another VEN is not touched');
  t.assert.equal(vtn.events.get('ev-own')?.vens[0]?.optType, 'optIn', 'an event opt of its own governs (R206)');
  t.assert.equal(vtn.events.get('ev-later')?.vens[0]?.optType, undefined, 'outside the window');
  await vtn.ledgerOutbox?.drain();
  assert.ok(recorded.some((o) => o.eventId === 'ev-1' && o.venId === a.venId && o.optType === 'optOut'), 'the opt state goes to the ledger');
  // An event that has completed is history.
  clock.set(start + 2 * HOUR);
  await call(url, 'EiOpt', createOpt(a.venId, { optId: 'gone', windows: [[start, 'PT12H']] }), 'CreatedOpt');
  t.assert.equal(vtn.events.get('ev-later')?.vens[0]?.optType, 'optOut', 'the later event now is covered');
  t.assert.equal(vtn.events.get('ev-own')?.vens[0]?.optType, 'optIn');
});

test('R201 VTN: an event moved into a VEN\'s optOut window by a modification opts the VEN out of it', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'house-1');
  const start = clock.now() + HOUR;
  await call(url, 'EiOpt', createOpt(a.venId, { optId: 'away', windows: [[start + 3 * HOUR, 'PT1H']] }), 'CreatedOpt');
  vtn.events.create({ eventId: 'ev-1', start, slots: 4, perVenReductionW: { [a.venId]: 500 } });
  t.assert.equal(vtn.events.get('ev-1')?.vens[0]?.optType, undefined);
  const moved = vtn.events.modify('ev-1', { start: start + 3 * HOUR });
  t.assert.equal(moved.vens[0]?.optType, 'optOut');
  t.assert.match(moved.vens[0]?.optReason ?? '', /away/);
});

test('R201 VTN: with eventsWhenUnavailable withhold, a VEN whose schedule makes it unavailable after the event was created receives the event cancelled', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t, { programs: [{ id: 'p', eventsWhenUnavailable: 'withhold' }] });
  const a = await registerVen(url, 'house-1');
  const b = await registerVen(url, 'house-2');
  const start = clock.now() + HOUR;
  vtn.events.create({ eventId: 'ev-1', start, slots: 4, perVenReductionW: { [a.venId]: 500, [b.venId]: 700 } });
  await drain(url, a.venId);
  await call(url, 'EiOpt', createOpt(a.venId, { optId: 'away', windows: [[start, 'PT1H']] }), 'CreatedOpt');
  const v = vtn.events.get('ev-1');
  t.assert.deepEqual(v?.event.venIds, [b.venId]);
  t.assert.equal(v?.vens.find((x) => x.venId === a.venId)?.removed, true);
  const got = await drain(url, a.venId);
  const seen = got.flatMap((p) => (p.type === 'DistributeEvent' ? (p.events ?? []) : []));
  t.assert.deepEqual(seen.map((e) => e.descriptor.eventStatus), ['cancelled']);
});

test('R201+R16 VTN: an event from the ledger leaves a customer opted out by its schedule out of the allocation; its VEN gets zeros, opted out', async (t) => {
  const notified: string[][] = [];
  const ledger: LedgerPort = {
    notifyEvent: async (n) => {
      notified.push([...n.customerIds]);
      return new Map(n.customerIds.map((c) => [c, [1000]]));
    },
    recordOpt: async () => {},
    recordTelemetry: async () => {},
  };
  const { url, vtn } = await startTestVtn(t, {}, { ledger });
  const a = await registerVen(url, 'house-1');
  const b = await registerVen(url, 'house-2');
  const cb = vtn.vens.get(b.venId)?.customerId;
  await call(url, 'EiOpt', createOpt(a.venId, { optId: 'away', windows: [[T0 + HOUR, 'PT1H']] }), 'CreatedOpt');
  const v = await vtn.events.create({ eventId: 'ev-1', start: T0 + HOUR, slots: 1, reductionW: 1000 });
  t.assert.deepEqual(notified, [[cb]]);
  t.assert.deepEqual(v.skipped, {});
  const va = v.vens.find((x) => x.venId === a.venId);
  t.assert.equal(va?.optType, 'optOut');
  t.assert.deepEqual(va?.values['load-dispatch'], [0]);
  t.assert.deepEqual(v.vens.find((x) => x.venId === b.venId)?.values['load-dispatch'], [-1000]);
  await call(url, 'EiOpt', createOpt(b.venId, { optId: 'away', windows: [[T0 + HOUR, 'PT1H']] }), 'CreatedOpt');
  await t.assert.rejects(vtn.events.create({ eventId: 'ev-2', start: T0 + HOUR, slots: 1, reductionW: 1000 }), { code: 'NOT_ALLOWED' });
});
