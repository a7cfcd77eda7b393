/**
 * VEN side, the XMPP binding (§9.3, R507): the VEN registers its own JID, acknowledges a pushed
 * oadrDistributeEvent with an empty IQ result and answers in an IQ set of its own, refuses
 * schema-invalid pushes with bad-request and acts on nothing of them, refuses an operation as IQ
 * get, never polls, advertises the OpenADR feature and answers XMPP Ping. Over XMPP only.
 */
import { encodeOadr } from '../../oadr/index.ts';
import { discoInfoQuery, featuresOf, NS_PING, OPENADR_FEATURE, payloadElement } from '../../xmpp/index.ts';
import { distribute, fromVen, makeEvent, registered, type AsVtn } from '../as-vtn.ts';
import type { Family } from '../case.ts';
import { defineCase, PeerMisbehaved, type CaseControl, type CaseSpec } from '../runner.ts';
import type { IqAnswer, XmppRecorder } from '../xmpp-recorder.ts';

const c = (family: Family) => (id: string, title: string, run: CaseSpec<AsVtn>['run']): CaseSpec<AsVtn> => defineCase(id, title, family, run, ['xmpp']);
const registration = c('registration');
const event = c('event');
const general = c('general');
const poll = c('poll');

const channel = (ctx: AsVtn): XmppRecorder => {
  if (ctx.xmpp === undefined) throw new PeerMisbehaved('the suite has no XMPP connection (run it with --transport xmpp)');
  return ctx.xmpp;
};

/** Sends `child` to the VEN's registered JID. */
async function toVen(ctx: AsVtn, t: CaseControl, child: string, type: 'get' | 'set' = 'set'): Promise<IqAnswer> {
  const reg = await registered(ctx, t);
  if (reg.transportAddress === undefined) throw new PeerMisbehaved('the VEN registered without its JID as oadrTransportAddress (§9.3.4.1)');
  return channel(ctx).request(child, { type, to: reg.transportAddress });
}

const described = (a: IqAnswer): string => (a.condition !== undefined ? `IQ error ${a.condition}` : a.result === '' ? 'an empty IQ result' : `an IQ result with ${(a.result ?? '').slice(0, 120)}`);

export const venXmppCases: readonly CaseSpec<AsVtn>[] = [
  registration('§9.3.4.1+R507-ven-registers-its-jid', 'the VEN registers with oadrTransportName xmpp and, as oadrTransportAddress, the full JID it sends from', async (ctx, t) => {
    const reg = await registered(ctx, t);
    const sent = ctx.sim.received.find((r) => r.payload.type === 'CreatePartyRegistration');
    t.check(reg.request.transportName === 'xmpp', 'the VEN registered over XMPP for another transport', { expected: 'oadrTransportName xmpp', actual: reg.request.transportName });
    t.check(reg.transportAddress !== undefined && reg.transportAddress === sent?.from, 'oadrTransportAddress is not the full JID the VEN registered from: the VTN would push elsewhere', { expected: sent?.from ?? 'the sender\'s full JID', actual: reg.transportAddress ?? 'none' });
  }),
  event('§9.3.4.3+R42-distribute-event-empty-result', 'a pushed oadrDistributeEvent gets an empty IQ result, and oadrCreatedEvent comes in an IQ set of its own', async (ctx, t) => {
    await registered(ctx, t);
    const from = ctx.sim.received.length;
    const e = makeEvent(ctx);
    ctx.sim.events = [e];
    const d = distribute([e]);
    ctx.sim.distributed.set(d.requestId, new Set([e.descriptor.eventId]));
    const a = await toVen(ctx, t, encodeOadr(d));
    t.check(a.condition === undefined && a.result === '', 'the pushed oadrDistributeEvent was not acknowledged with an empty IQ result', { expected: 'an empty IQ result', actual: described(a) });
    const created = await fromVen(ctx, t, 'CreatedEvent', from, (p) => (p.eventResponses ?? []).some((r) => r.qualifiedEventId.eventId === e.descriptor.eventId));
    t.check(created.venId === (await registered(ctx, t)).venId, 'oadrCreatedEvent names another venID');
  }),
  event('§9.3.4.4.2-ven-schema-invalid-bad-request', 'a schema-invalid pushed payload gets IQ error bad-request, and the VEN acts on nothing of it', async (ctx, t) => {
    await registered(ctx, t);
    const from = ctx.sim.received.length;
    const bad = makeEvent(ctx);
    const text = encodeOadr(distribute([bad])).replace(/(<ei:eventDescriptor>)/, '$1<ei:notInTheSchema>x</ei:notInTheSchema>');
    if (!text.includes('notInTheSchema')) throw new PeerMisbehaved('the suite could not make its schema-invalid oadrDistributeEvent');
    const a = await toVen(ctx, t, text);
    t.check(a.condition === 'bad-request', 'the schema-invalid oadrDistributeEvent was not refused with IQ error bad-request', { expected: 'IQ error bad-request (modify)', actual: described(a) });
    // A valid event after it: by its oadrCreatedEvent, anything the VEN did with the bad one has come.
    const good = makeEvent(ctx);
    ctx.sim.events = [good];
    const d = distribute([good]);
    ctx.sim.distributed.set(d.requestId, new Set([good.descriptor.eventId]));
    await toVen(ctx, t, encodeOadr(d));
    await fromVen(ctx, t, 'CreatedEvent', from, (p) => (p.eventResponses ?? []).some((r) => r.qualifiedEventId.eventId === good.descriptor.eventId));
    const actedOn = ctx.sim.received.slice(from).some((r) => r.payload.type === 'CreatedEvent' && (r.payload.eventResponses ?? []).some((x) => x.qualifiedEventId.eventId === bad.descriptor.eventId));
    t.check(!actedOn, 'the VEN answered the event of the schema-invalid payload with oadrCreatedEvent: it acted on it', { expected: 'nothing about the refused payload', actual: `oadrCreatedEvent for ${bad.descriptor.eventId}` });
  }),
  general('§9.3.4.2-ven-iq-get-refused', 'a payload sent to the VEN as IQ get (not set) gets an IQ error', async (ctx, t) => {
    const a = await toVen(ctx, t, encodeOadr(distribute([makeEvent(ctx)])), 'get');
    t.check(a.condition !== undefined, 'the VEN served an OpenADR payload sent as IQ get', { expected: 'an IQ error (bad-request)', actual: described(a) });
  }),
  poll('R507-ven-never-polls', 'the VEN sends no oadrPoll over XMPP (R507): none among its IQ sets so far, from its registration on', async (ctx, t) => {
    await registered(ctx, t);
    // At least up to the first payload after the registration, whenever the case runs.
    const at = ctx.sim.received.findIndex((r) => r.payload.type === 'CreatePartyRegistration');
    await ctx.sim.waitFor(() => true, ctx.waitMs, t.signal, at + 1);
    const polls = ctx.sim.received.filter((r) => r.payload.type === 'Poll');
    t.check(polls.length === 0, 'the VEN polled over XMPP', { expected: 'no oadrPoll', actual: `${polls.length} oadrPoll` });
  }),
  general('§9.3.4.9.3-ven-disco-feature', "disco#info of the VEN's JID lists the feature http://openadr.org/openadr2", async (ctx, t) => {
    const a = await toVen(ctx, t, discoInfoQuery().toString(), 'get');
    if (a.condition !== undefined) throw new PeerMisbehaved(`disco#info: the VEN answered IQ error ${a.condition}`);
    const features = featuresOf(a.result === undefined || a.result === '' ? undefined : payloadElement(a.result));
    t.check(features.includes(OPENADR_FEATURE), 'the VEN does not advertise the OpenADR feature', { expected: OPENADR_FEATURE, actual: features.join(', ') || 'no feature' });
  }),
  general('§9.3.4.6-ven-ping', 'an XMPP Ping (XEP-0199) to the VEN gets an empty IQ result', async (ctx, t) => {
    const a = await toVen(ctx, t, `<ping xmlns="${NS_PING}"/>`, 'get');
    t.check(a.condition === undefined && a.result === '', 'the VEN does not answer XMPP Ping', { expected: 'an empty IQ result', actual: described(a) });
  }),
];
