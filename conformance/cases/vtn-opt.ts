/** VTN side, EiOpt (R200–R211): availability schedules and event opts the suite's VENs send. */
import type { Payload, PayloadOf } from '../../oadr/index.ts';
import { build, drain, expectPayload, issueEvent, needTwoVens, register, rid, send, type AsVen, type RegisteredVen } from '../as-ven.ts';
import { defineCase, type CaseControl, type CaseSpec } from '../runner.ts';

const c = (id: string, title: string, run: CaseSpec<AsVen>['run']): CaseSpec<AsVen> => defineCase(id, title, 'opt', run);
const is4xx = (code: number): boolean => code >= 400 && code < 500;

interface OptInput {
  readonly optId?: string;
  readonly requestId?: string;
  readonly venId?: string;
  readonly optType?: 'optIn' | 'optOut';
  readonly windows?: ReadonlyArray<{ readonly startMs: number; readonly duration: string }>;
  readonly eventId?: string;
  readonly modificationNumber?: number;
  readonly deviceClass?: readonly string[];
  readonly target?: PayloadOf<'CreateOpt'>['target'];
}

function createOpt(ven: RegisteredVen, o: OptInput = {}): Payload {
  const start = Math.ceil((Date.now() + 3_600_000) / 60_000) * 60_000;
  const windows = o.windows ?? (o.eventId === undefined ? [{ startMs: start, duration: 'PT1H' }] : []);
  return {
    type: 'CreateOpt',
    schemaVersion: '2.0b',
    optId: o.optId ?? rid('opt'),
    optType: o.optType ?? 'optOut',
    optReason: 'participating',
    venId: o.venId ?? ven.venId,
    availability: windows.map((w) => ({ dtstart: new Date(w.startMs).toISOString(), duration: w.duration })),
    createdDateTime: new Date().toISOString(),
    requestId: o.requestId ?? rid('ro'),
    ...(o.eventId === undefined ? {} : { qualifiedEventId: { eventId: o.eventId, modificationNumber: o.modificationNumber ?? 0 } }),
    target: o.target ?? { venIds: [o.venId ?? ven.venId] },
    ...(o.deviceClass === undefined ? {} : { deviceClass: { endDeviceAssets: [...o.deviceClass] } }),
  };
}

async function opt(ctx: AsVen, ven: RegisteredVen, o: OptInput = {}): Promise<PayloadOf<'CreatedOpt'>> {
  return expectPayload(await send(ctx, 'EiOpt', createOpt(ven, o)), 'CreatedOpt', 'oadrCreateOpt');
}

const expectCode = (t: CaseControl, got: number, want: 'ok' | '4xx' | number, what: string): void =>
  t.check(want === 'ok' ? got === 200 : want === '4xx' ? is4xx(got) : got === want, what, { expected: want === 'ok' ? '200' : String(want), actual: String(got) });

const deviceClassCase = (mrid: string, want: 'ok' | '4xx'): CaseSpec<AsVen> =>
  c(`R209-device-class-${mrid}`, `oadrDeviceClass ${mrid} is ${want === 'ok' ? 'accepted' : 'refused with a 4xx (not an R111 mrid)'}`, async (ctx, t) => {
    const ven = await register(ctx, t);
    expectCode(t, (await opt(ctx, ven, { deviceClass: [mrid] })).response.code, want, `oadrDeviceClass ${mrid} was ${want === 'ok' ? 'refused' : 'accepted'}`);
  });

export const vtnOptCases: readonly CaseSpec<AsVen>[] = [
  c('R204+R207-opt-echo', 'oadrCreateOpt with an availability window: oadrCreatedOpt 200 echoing the optID and requestID', async (ctx, t) => {
    const ven = await register(ctx, t);
    const a = await opt(ctx, ven, { optId: 'o1', requestId: 'r9' });
    expectCode(t, a.response.code, 'ok', 'a valid availability schedule was refused');
    t.check(a.optId === 'o1', 'oadrCreatedOpt does not echo the optID (R204)', { expected: 'o1', actual: a.optId });
    t.check(a.response.requestId === 'r9', 'oadrCreatedOpt does not echo the requestID (R207)', { expected: 'r9', actual: a.response.requestId, ruleIds: ['R207'] });
  }),
  c('R207-empty-request-id', 'oadrCreateOpt with an empty requestID is accepted', async (ctx, t) => {
    const ven = await register(ctx, t);
    expectCode(t, (await opt(ctx, ven, { requestId: '' })).response.code, 'ok', 'an empty requestID was refused');
  }),
  c('R208-foreign-ven-id', 'oadrCreateOpt with another VEN’s venID gets 452', async (ctx, t) => {
    needTwoVens(ctx, t);
    const a = await register(ctx, t);
    const b = await register(ctx, t);
    const got = (await opt(ctx, a, { venId: b.venId, target: { venIds: [b.venId] } })).response.code;
    if (got === 200) t.skip('the VTN took the opt for the other VEN: without a client certificate it cannot tell one VEN from another (a VTN with two suite certificates can; §9.2.1.1)');
    t.check(got === 452 || got === 463, 'an opt with a foreign venID was not refused with 452', { expected: '452 (or 463)', actual: String(got) });
  }),
  c('R206-event-and-availability', 'an opt with both an eventID and an availability window gets a 4xx', async (ctx, t) => {
    const ven = await register(ctx, t);
    await drain(ctx, ven);
    const { eventId, event } = await issueEvent(ctx, t, ven);
    const start = Math.ceil((Date.now() + 3_600_000) / 60_000) * 60_000;
    expectCode(t, (await opt(ctx, ven, { eventId, modificationNumber: event.descriptor.modificationNumber, windows: [{ startMs: start, duration: 'PT1H' }] })).response.code, '4xx', 'an event opt with an availability window was accepted');
  }),
  c('R206-neither-event-nor-availability', 'an opt with neither an eventID nor an availability window gets a 4xx', async (ctx, t) => {
    const ven = await register(ctx, t);
    expectCode(t, (await opt(ctx, ven, { windows: [] })).response.code, '4xx', 'an opt without eventID and without vavailability was accepted');
  }),
  c('R206+R510-event-opt', 'an event opt (qualifiedEventID, no availability) for an event of the VEN is accepted', async (ctx, t) => {
    const ven = await register(ctx, t);
    await drain(ctx, ven);
    const { eventId, event } = await issueEvent(ctx, t, ven);
    expectCode(t, (await opt(ctx, ven, { eventId, modificationNumber: event.descriptor.modificationNumber })).response.code, 'ok', 'an opt out of an event of the VEN was refused');
  }),
  c('R206-event-opt-unknown-event', 'an event opt naming an event the VEN never received gets a 4xx', async (ctx, t) => {
    const ven = await register(ctx, t);
    expectCode(t, (await opt(ctx, ven, { eventId: 'no-such-event' })).response.code, '4xx', 'an opt on an unknown event was accepted');
  }),
  deviceClassCase('Toaster', '4xx'),
  deviceClassCase('Thermostat', 'ok'),
  deviceClassCase('x-Boiler', 'ok'),
  c('R203+R210-replace-and-open-ended', 'a second venID-only opt replaces the first; an availability of duration PT0S (open-ended) is accepted', async (ctx, t) => {
    const ven = await register(ctx, t);
    expectCode(t, (await opt(ctx, ven, { optId: 'first' })).response.code, 'ok', 'the first opt was refused');
    expectCode(t, (await opt(ctx, ven, { optId: 'second' })).response.code, 'ok', 'the second, replacing opt was refused');
    const start = Math.ceil((Date.now() + 7_200_000) / 60_000) * 60_000;
    expectCode(t, (await opt(ctx, ven, { optId: 'open', windows: [{ startMs: start, duration: 'PT0S' }] })).response.code, 'ok', 'an open-ended availability (PT0S, R210) was refused');
  }),
  c('R211-cancel-superseded', 'oadrCancelOpt for an optID whose schedule was superseded gets oadrCanceledOpt 200', async (ctx, t) => {
    const ven = await register(ctx, t);
    await opt(ctx, ven, { optId: 'old' });
    await opt(ctx, ven, { optId: 'new' });
    const cancel: Payload = { type: 'CancelOpt', schemaVersion: '2.0b', requestId: 'rc', optId: 'old', venId: ven.venId };
    const a = expectPayload(await send(ctx, 'EiOpt', cancel), 'CanceledOpt', 'oadrCancelOpt');
    expectCode(t, a.response.code, 'ok', 'cancelling a superseded opt was refused');
    t.check(a.response.requestId === 'rc', 'oadrCanceledOpt does not echo the requestID (R207)', { ruleIds: ['R207'], expected: 'rc', actual: a.response.requestId });
  }),
  c('R202-empty-target', 'an opt with an empty eiTarget (all of the VEN’s resources) is accepted', async (ctx, t) => {
    const ven = await register(ctx, t);
    expectCode(t, (await opt(ctx, ven, { target: {} })).response.code, 'ok', 'an opt with an empty eiTarget was refused');
  }),
  c('R200-availability-with-notification', 'an availability window carrying x-eiNotification (not allowed in vavailability) is refused or the document rejected', async (ctx, t) => {
    const ven = await register(ctx, t);
    const p = createOpt(ven) as PayloadOf<'CreateOpt'>;
    const bad: Payload = { ...p, availability: (p.availability ?? []).map((w) => ({ ...w, notification: 'PT10M' })) };
    const a = await send(ctx, 'EiOpt', bad);
    const code = a.payload?.type === 'CreatedOpt' ? a.payload.response.code : undefined;
    t.check(a.status === 406 || a.status === 400 || (code !== undefined && is4xx(code)), 'an availability with x-eiNotification was accepted', { expected: 'a 4xx in oadrCreatedOpt, or HTTP 406', actual: code === undefined ? `HTTP ${a.status}` : String(code) });
  }),
  c('R205-market-context', 'an availability schedule limited to a market context is accepted', async (ctx, t) => {
    const ven = await register(ctx, t);
    const p = createOpt(ven) as PayloadOf<'CreateOpt'>;
    const a = expectPayload(await send(ctx, 'EiOpt', { ...p, marketContext: 'http://MarketContext1' }), 'CreatedOpt', 'oadrCreateOpt');
    t.check(a.response.code === 200 || a.response.code === 462, 'an availability with a market context got neither 200 nor 462 (unknown market context)', { actual: String(a.response.code) });
  }),
  c('R208-cancel-unknown-opt', 'oadrCancelOpt for an optID never sent gets a 4xx', async (ctx, t) => {
    const ven = await register(ctx, t);
    const a = expectPayload(await send(ctx, 'EiOpt', { type: 'CancelOpt', schemaVersion: '2.0b', requestId: 'rc', optId: 'never-sent', venId: ven.venId }), 'CanceledOpt', 'oadrCancelOpt');
    expectCode(t, a.response.code, '4xx', 'cancelling an unknown optID was not refused');
  }),
  c('R16-opt-out-answer', 'oadrCreatedEvent with optOut for an event of the VEN is acknowledged', async (ctx, t) => {
    const ven = await register(ctx, t);
    await drain(ctx, ven);
    const { eventId, event, distribute } = await issueEvent(ctx, t, ven);
    const a = expectPayload(await send(ctx, 'EiEvent', build.createdEvent(ven.venId, [{ eventId, modificationNumber: event.descriptor.modificationNumber, requestId: distribute.requestId, optType: 'optOut' }])), 'Response', 'oadrCreatedEvent');
    expectCode(t, a.response.code, 'ok', 'an optOut answer was refused');
  }),
];
