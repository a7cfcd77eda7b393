/** VEN side, EiEvent (R12–R116): the suite, as the VTN, sends events and reads the VEN's oadrCreatedEvent. */
import type { EventResponse, OadrEvent, PayloadOf } from '../../oadr/index.ts';
import { deliver, distribute, fromVen, makeEvent, registered, VTN_ID, type AsVtn } from '../as-vtn.ts';
import { defineCase, type CaseControl, type CaseSpec } from '../runner.ts';

const c = (id: string, title: string, run: CaseSpec<AsVtn>['run'], transports?: CaseSpec<AsVtn>['transports']): CaseSpec<AsVtn> => defineCase(id, title, 'event', run, transports);

/**
 * Sends these events as the VEN's whole set (R50) and returns the first oadrCreatedEvent that
 * answers `answerFor` (default: the first event marked always).
 */
export async function send(ctx: AsVtn, t: CaseControl, events: readonly OadrEvent[], o: { vtnId?: string; answerFor?: string } = {}): Promise<{ created: PayloadOf<'CreatedEvent'>; requestId: string }> {
  await registered(ctx, t);
  const from = ctx.sim.received.length;
  const d = distribute(events, o.vtnId);
  ctx.sim.events = [...events];
  const a = await deliver(ctx, t, d);
  if (a !== undefined) t.check(a.status === 200, 'the pushed oadrDistributeEvent was not acknowledged with HTTP 200 (§8.1)', { ruleIds: ['§8.1'], actual: `HTTP ${a.status}` });
  const wanted = o.answerFor ?? events.find((e) => e.responseRequired === 'always')?.descriptor.eventId;
  const created = await fromVen(ctx, t, 'CreatedEvent', from, (p) => wanted === undefined || (p.eventResponses ?? []).some((r) => r.qualifiedEventId.eventId === wanted) || p.response.code !== 200);
  return { created, requestId: d.requestId };
}

const responseFor = (p: PayloadOf<'CreatedEvent'>, eventId: string): EventResponse | undefined => (p.eventResponses ?? []).find((r) => r.qualifiedEventId.eventId === eventId);

/** One event sent; its eventResponse must have this code (200, '4xx' or a number) and, for a refusal, optOut. */
function answered(t: CaseControl, created: PayloadOf<'CreatedEvent'>, e: OadrEvent, want: 200 | '4xx' | number, accept: readonly number[] = []): void {
  const r = responseFor(created, e.descriptor.eventId);
  const code = r?.code ?? (created.response.code !== 200 ? created.response.code : undefined);
  const good = code !== undefined && (want === '4xx' ? code >= 400 && code < 500 : code === want || accept.includes(code));
  t.check(good, `event ${e.descriptor.eventId} was answered ${code ?? 'not at all'}`, { expected: String(want), actual: String(code ?? 'no eventResponse') });
  if (want !== 200 && r !== undefined) t.check(r.optType === 'optOut', `event ${e.descriptor.eventId} was refused but answered ${r.optType} (R48: a logical error means optOut)`, { ruleIds: ['R48'] });
}

const signalCase = (id: string, title: string, signal: Partial<OadrEvent['signals'][number]>): CaseSpec<AsVtn> =>
  c(id, title, async (ctx, t) => {
    const e = makeEvent(ctx, { signal });
    const { created } = await send(ctx, t, [e]);
    answered(t, created, e, 200);
    t.check(responseFor(created, e.descriptor.eventId)?.optType === 'optIn', `the ${signal.signalName ?? ''} event was not opted in`);
  });

export const venEventCases: readonly CaseSpec<AsVtn>[] = [
  c('R56+R12+R42+R35-new-event', 'a new event marked always: oadrCreatedEvent with an eventResponse 200 carrying the oadrDistributeEvent requestID, and an empty eiResponse requestID', async (ctx, t) => {
    const e = makeEvent(ctx);
    const { created, requestId } = await send(ctx, t, [e]);
    answered(t, created, e, 200);
    const r = responseFor(created, e.descriptor.eventId);
    // The VEN may have got the event in the answer to its own oadrRequestEvent: that requestID is right too.
    const carried = r !== undefined && ctx.sim.distributed.get(r.requestId)?.has(e.descriptor.eventId) === true;
    t.check(carried, 'the eventResponse requestID is not the requestID of an oadrDistributeEvent that delivered the event (R42)', { ruleIds: ['R42'], expected: requestId, actual: r?.requestId });
    t.check(created.response.requestId === '', 'eiResponse requestID is not empty though eventResponses are present (R42)', { ruleIds: ['R42'], actual: created.response.requestId });
    t.check(r?.qualifiedEventId.modificationNumber === 0, 'qualifiedEventID does not carry the modificationNumber answered', { ruleIds: ['R12'] });
    t.check(created.venId === ctx.sim.registration?.venId, 'oadrCreatedEvent carries another venID (R508)', { ruleIds: ['R508'], expected: ctx.sim.registration?.venId, actual: created.venId });
  }),
  c('R57-modified-event', 'the same event with a higher modificationNumber is answered 200 for the new number', async (ctx, t) => {
    const e = makeEvent(ctx);
    await send(ctx, t, [e]);
    const m = makeEvent(ctx, { eventId: e.descriptor.eventId, modificationNumber: 1 });
    const { created } = await send(ctx, t, [m]);
    const r = responseFor(created, e.descriptor.eventId);
    t.check(r?.code === 200 && r.qualifiedEventId.modificationNumber === 1, 'the modification was not answered 200 with modificationNumber 1', { actual: `${r?.code ?? '-'} / ${r?.qualifiedEventId.modificationNumber ?? '-'}` });
  }),
  c('R62-unchanged-event-answered-again', 'an unchanged event marked always is answered again', async (ctx, t) => {
    const e = makeEvent(ctx);
    await send(ctx, t, [e]);
    const { created } = await send(ctx, t, [e]);
    answered(t, created, e, 200);
  }),
  c('R58-lower-modification-number', 'a lower modificationNumber than the one held gets 450', async (ctx, t) => {
    const e = makeEvent(ctx, { modificationNumber: 2 });
    await send(ctx, t, [e]);
    const old = makeEvent(ctx, { eventId: e.descriptor.eventId, modificationNumber: 1 });
    const { created } = await send(ctx, t, [old]);
    answered(t, created, old, 450);
  }),
  c('R59+R36-cancelled-event', 'a known event cancelled (modificationNumber + 1) is answered 200 with optIn (cancellation confirmed)', async (ctx, t) => {
    const e = makeEvent(ctx);
    await send(ctx, t, [e]);
    const x = makeEvent(ctx, { eventId: e.descriptor.eventId, modificationNumber: 1, status: 'cancelled' });
    const { created } = await send(ctx, t, [x]);
    const r = responseFor(created, e.descriptor.eventId);
    t.check(r?.code === 200, 'the cancellation was not answered 200', { actual: String(r?.code ?? 'no eventResponse') });
    t.check(r?.optType === 'optIn' || r?.optType === 'optOut', 'the cancellation was answered without optIn/optOut (R36)', { ruleIds: ['R36'] });
  }),
  c('R60+R21-unknown-cancelled-event', 'an unknown event that arrives cancelled is answered without an error', async (ctx, t) => {
    const x = makeEvent(ctx, { modificationNumber: 3, status: 'cancelled' });
    const { created } = await send(ctx, t, [x]);
    answered(t, created, x, 200);
  }),
  c('R12-one-message-two-events', 'two new events marked always are answered (SHOULD: in one oadrCreatedEvent)', async (ctx, t) => {
    const a = makeEvent(ctx);
    const b = makeEvent(ctx, { startMs: Math.ceil((Date.now() + 7_200_000) / 60_000) * 60_000 });
    const { created } = await send(ctx, t, [a, b]);
    const next = responseFor(created, b.descriptor.eventId) === undefined ? (await fromVen(ctx, t, 'CreatedEvent', 0, (p) => responseFor(p, b.descriptor.eventId) !== undefined)) : created;
    answered(t, created, a, 200);
    answered(t, next, b, 200);
  }),
  c('R62+R206-never-not-answered', "an event marked never gets no oadrCreatedEvent (checked when the next event's answer comes)", async (ctx, t) => {
    await registered(ctx, t);
    const from = ctx.sim.received.length;
    const quiet = makeEvent(ctx, { responseRequired: 'never' });
    ctx.sim.events = [quiet];
    await deliver(ctx, t, distribute([quiet]));
    const loud = makeEvent(ctx, { startMs: Math.ceil((Date.now() + 7_200_000) / 60_000) * 60_000 });
    await send(ctx, t, [quiet, loud]);
    const mentions = ctx.sim.received.slice(from).filter((r) => (r.payload.type === 'CreatedEvent' && responseFor(r.payload, quiet.descriptor.eventId) !== undefined) || (r.payload.type === 'CreateOpt' && r.payload.qualifiedEventId?.eventId === quiet.descriptor.eventId));
    t.check(mentions.length === 0, 'the VEN answered an event marked never (R62) or opted on it (R206)', { actual: mentions.map((r) => r.payload.type).join(', ') });
  }),
  c('R19+R48-one-bad-event', 'one valid event and one with an unknown signal name: the valid one 200, the other 460 (or a 4xx) with optOut', async (ctx, t) => {
    const good = makeEvent(ctx);
    const bad = makeEvent(ctx, { signal: { signalName: 'x-unknown-signal' as OadrEvent['signals'][number]['signalName'], signalType: 'level', itemBase: undefined } });
    const { created } = await send(ctx, t, [good, bad]);
    t.check(created.response.code === 200, 'one bad event sank the whole answer (R19)', { ruleIds: ['R19'], actual: String(created.response.code) });
    answered(t, created, good, 200);
    answered(t, created, bad, '4xx');
  }),
  c('R48-foreign-ven-target', 'an event whose eiTarget names another venID gets 462 with optOut', async (ctx, t) => {
    const e = makeEvent(ctx, { target: { venIds: ['someone-else'] } });
    const { created } = await send(ctx, t, [e]);
    answered(t, created, e, 462, []);
  }),
  c('R48-foreign-market-context', 'an event of a market context the VEN does not serve gets 462 with optOut', async (ctx, t) => {
    if (!ctx.marketContextKnown) t.skip("the VEN's market context is not known; give it with --market-context");
    const e = makeEvent(ctx, { marketContext: 'http://conformance.invalid/not-a-program' });
    const { created } = await send(ctx, t, [e]);
    answered(t, created, e, 462);
  }),
  c('R512-market-context-normalised', "a market context differing only in the case of its scheme and host is the VEN's own (200, optIn)", async (ctx, t) => {
    if (!ctx.marketContextKnown) t.skip("the VEN's market context is not known; give it with --market-context");
    const u = new URL(ctx.marketContext);
    const shouted = `${u.protocol.toUpperCase()}//${u.host.toUpperCase()}${u.pathname === '/' && !ctx.marketContext.endsWith('/') ? '' : u.pathname}${u.search}`;
    const e = makeEvent(ctx, { marketContext: shouted });
    const { created } = await send(ctx, t, [e]);
    answered(t, created, e, 200);
  }),
  c('R21-wrong-vtn-id', 'an oadrDistributeEvent with another vtnID gets 452', async (ctx, t) => {
    const e = makeEvent(ctx);
    const { created } = await send(ctx, t, [e], { vtnId: `${VTN_ID}-impostor` });
    const code = created.response.code !== 200 ? created.response.code : responseFor(created, e.descriptor.eventId)?.code;
    t.check(code === 452, 'a foreign vtnID was not refused with 452', { expected: '452', actual: String(code) });
  }),
  c('R33-durations-do-not-add-up', 'intervals that do not add up to the event duration get a 4xx with optOut', async (ctx, t) => {
    const e = makeEvent(ctx, { durations: ['PT15M', 'PT15M'], duration: 'PT45M' });
    const { created } = await send(ctx, t, [e]);
    answered(t, created, e, '4xx');
  }),
  c('R109-unsupported-units', 'LOAD_DISPATCH setpoint in energy units (not power) gets 460 (or a 4xx) with optOut', async (ctx, t) => {
    const e = makeEvent(ctx, { signal: { itemBase: { type: 'energyReal', description: 'RealEnergy', units: 'Wh', siScaleCode: 'none' } } });
    const { created } = await send(ctx, t, [e]);
    answered(t, created, e, '4xx');
  }),
  c('R6-test-event', 'a test event (testEvent true) is answered', async (ctx, t) => {
    const e = makeEvent(ctx, { testEvent: 'true' });
    const { created } = await send(ctx, t, [e]);
    t.check(responseFor(created, e.descriptor.eventId) !== undefined, 'the test event was not answered');
  }),
  c('R22+R46-empty-target-and-comment', 'an event with an empty eiTarget and an empty vtnComment targets the VEN (200, optIn)', async (ctx, t) => {
    const e = makeEvent(ctx, { target: {}, vtnComment: '' });
    const { created } = await send(ctx, t, [e]);
    answered(t, created, e, 200);
  }),
  c('R1-fractional-seconds', 'an event whose dtstart has milliseconds (…:44.123Z) is accepted', async (ctx, t) => {
    const start = Math.ceil((Date.now() + 3_600_000) / 60_000) * 60_000 + 44_123;
    const e = makeEvent(ctx, { dtstart: new Date(start).toISOString() });
    const { created } = await send(ctx, t, [e]);
    answered(t, created, e, 200);
  }),
  c('R47-open-ended', 'an event of duration PT0S (active until cancelled) is accepted', async (ctx, t) => {
    const e = makeEvent(ctx, { durations: ['PT0S'], duration: 'PT0S' });
    const { created } = await send(ctx, t, [e]);
    answered(t, created, e, 200);
  }),
  c('R114-far-but-started', 'an event labelled far whose dtstart has passed is accepted', async (ctx, t) => {
    const e = makeEvent(ctx, { startMs: Math.floor(Date.now() / 60_000) * 60_000 - 60_000, status: 'far' });
    const { created } = await send(ctx, t, [e]);
    answered(t, created, e, 200);
  }),
  signalCase('R510-simple', 'a SIMPLE level event is accepted and opted in', { signalName: 'SIMPLE', signalType: 'level', itemBase: undefined, intervals: [{ duration: 'PT15M', uid: '0', value: 1 }, { duration: 'PT15M', uid: '1', value: 2 }] }),
  signalCase('R510-electricity-price', 'an ELECTRICITY_PRICE price event is accepted and opted in', { signalName: 'ELECTRICITY_PRICE', signalType: 'price', itemBase: { type: 'currencyPerKWh', description: 'currencyPerKWh', units: 'EUR', siScaleCode: 'none' } }),
  signalCase('R510-load-dispatch-setpoint', 'a LOAD_DISPATCH setpoint event is accepted and opted in', { signalName: 'LOAD_DISPATCH', signalType: 'setpoint' }),
  c('R36-cancellation-acknowledged-once', 'after a cancellation is acknowledged the event is left out of later oadrCreatedEvents', async (ctx, t) => {
    const e = makeEvent(ctx);
    await send(ctx, t, [e]);
    const x = makeEvent(ctx, { eventId: e.descriptor.eventId, modificationNumber: 1, status: 'cancelled' });
    await send(ctx, t, [x]);
    const other = makeEvent(ctx, { startMs: Math.ceil((Date.now() + 7_200_000) / 60_000) * 60_000 });
    const { created } = await send(ctx, t, [other]);
    t.check(responseFor(created, e.descriptor.eventId) === undefined, 'the acknowledged cancellation is answered again though the VTN no longer sends it');
  }),
];
