/**
 * VTN side, the XMPP binding (§9.3, R38, R507): registration with the suite's JID, the oadrPayload
 * IQ set and its result, IQ errors for what is not an operation (schema-invalid payloads with
 * nothing stored, IQ get, foreign children, oadrPoll), service discovery, presence and XMPP Ping.
 * They run over XMPP only.
 */
import { encodeOadr } from '../../oadr/index.ts';
import { discoInfoQuery, discoItemsQuery, featuresOf, itemsOf, NS_OADR_PAYLOAD, NS_PING, OPENADR_FEATURE, OPENADR_SERVICES_NODE, payloadElement, serviceOfNode } from '../../xmpp/index.ts';
import { build, delivered, expectPayload, issueEvent, order, register, send, type AsVen } from '../as-ven.ts';
import type { Family } from '../case.ts';
import { defineCase, pause, PeerMisbehaved, type CaseControl, type CaseSpec } from '../runner.ts';
import type { XmppRecorder } from '../xmpp-recorder.ts';

const c = (family: Family) => (id: string, title: string, run: CaseSpec<AsVen>['run']): CaseSpec<AsVen> => defineCase(id, title, family, run, ['xmpp']);
const registration = c('registration');
const general = c('general');
const poll = c('poll');

const SERVICES = ['EiEvent', 'EiReport', 'EiOpt', 'EiRegisterParty'] as const;
/** How long the suite's VEN stays offline after the event is issued (§9.3.4.5 case). */
const AWAY_MS = 2_000;

const channel = (ctx: AsVen): XmppRecorder => {
  if (ctx.xmpp === undefined) throw new PeerMisbehaved('the suite has no XMPP connection (run it with --transport xmpp)');
  return ctx.xmpp;
};

/** Parses the XML text of an IQ result's child (the recorder keeps text). */
const element = (text: string | undefined): ReturnType<typeof payloadElement> | undefined => (text === undefined || text === '' ? undefined : payloadElement(text));

/** An IQ error is what the case expects: a result (with or without a payload) fails it. */
function expectIqError(t: CaseControl, a: { readonly result?: string; readonly condition?: string }, what: string, expected: string, condition?: string): void {
  if (a.condition === undefined) {
    t.fail({ message: `the VTN answered ${what} with an IQ result`, expected, actual: a.result === '' ? 'an empty IQ result' : `an IQ result with ${a.result?.slice(0, 120) ?? ''}` });
    return;
  }
  if (condition !== undefined) t.check(a.condition === condition, `the VTN answered ${what} with IQ error ${a.condition}`, { expected, actual: a.condition });
}

export const vtnXmppCases: readonly CaseSpec<AsVen>[] = [
  registration('R38+R507-xmpp-registration', "a registration with oadrTransportName xmpp and the VEN's full JID is accepted with its IDs, and the VTN lists xmpp among its transports", async (ctx, t) => {
    const q = expectPayload(await send(ctx, 'EiRegisterParty', build.query()), 'CreatedPartyRegistration', 'oadrQueryRegistration over XMPP');
    const b = q.profiles.find((p) => p.profileName === '2.0b');
    t.check(b?.transports.includes('xmpp') === true, 'the 2.0b profile of oadrCreatedPartyRegistration does not list the xmpp transport (R38: a VTN supports XMPP push)', { expected: 'xmpp among oadrTransports', actual: b?.transports.join(', ') ?? 'no 2.0b profile' });
    const v = await register(ctx, t, { metadata: false });
    t.check(v.created.vtnId !== '', 'vtnID is empty');
  }),
  registration('§9.3.4.1-transport-address-is-sender', "a registration naming another JID than the sender's as oadrTransportAddress is refused with a 4xx", async (ctx, t) => {
    const own = channel(ctx).jid() ?? '';
    const other = own.replace(/^[^@]*/, (local) => `${local}-other`);
    const a = expectPayload(await send(ctx, 'EiRegisterParty', build.create({ name: ctx.nextName('otherjid'), pull: false, transportName: 'xmpp', transportAddress: other })), 'CreatedPartyRegistration', 'a registration with another JID');
    t.check(a.response.code >= 400 && a.response.code < 500, 'the VTN registered a JID that did not send the registration: it would push to whoever owns that JID', { expected: 'a 4xx (452)', actual: String(a.response.code) });
  }),
  general('§9.3.4.2+§9.3.4.3-iq-result-payload', 'an operation in an IQ set is answered by an IQ result whose child is the oadrPayload', async (ctx, t) => {
    const a = await channel(ctx).request(encodeOadr(build.query()));
    if (a.condition !== undefined) throw new PeerMisbehaved(`oadrQueryRegistration in an IQ set: the VTN answered IQ error ${a.condition}`);
    const child = element(a.result);
    t.check(child !== undefined, 'the IQ result to an operation that has an answer is empty', { expected: 'oadrPayload with oadrCreatedPartyRegistration', actual: 'an empty IQ result' });
    if (child === undefined) return;
    t.check(child.name.replace(/^.*:/, '') === 'oadrPayload' && child.getNS() === NS_OADR_PAYLOAD, "the IQ result's child is not an oadrPayload of the 2.0b namespace", { expected: `oadrPayload in ${NS_OADR_PAYLOAD}`, actual: `${child.name} in ${child.getNS() ?? 'no namespace'}` });
  }),
  general('§9.3.4.4.2-schema-invalid-bad-request', 'a schema-invalid payload gets IQ error bad-request and changes nothing: the registration it would have cancelled still holds', async (ctx, t) => {
    const v = await register(ctx, t, { metadata: false });
    // oadrCancelPartyRegistration with an element the schema does not allow in it.
    const text = encodeOadr(build.cancelRegistration(v.venId, v.registrationId)).replace(/(<ei:venID>)/, '<ei:notInTheSchema>x</ei:notInTheSchema>$1');
    if (!text.includes('notInTheSchema')) throw new PeerMisbehaved('the suite could not make its schema-invalid oadrCancelPartyRegistration');
    expectIqError(t, await channel(ctx).request(text), 'a schema-invalid oadrCancelPartyRegistration', 'IQ error bad-request (modify)', 'bad-request');
    const after = expectPayload(await send(ctx, 'EiEvent', build.requestEvent(v.venId)), 'DistributeEvent', 'oadrRequestEvent after the refused cancellation');
    t.check(after.response?.code === 200, 'the schema-invalid cancellation was acted on: the VEN is no longer registered', { expected: 'oadrDistributeEvent 200', actual: String(after.response?.code ?? 'no eiResponse') });
  }),
  general('§9.3.4.2-iq-get-refused', 'an operation sent as IQ get (not set) gets an IQ error, bad-request', async (ctx, t) => {
    expectIqError(t, await channel(ctx).request(encodeOadr(build.query()), { type: 'get' }), 'oadrQueryRegistration in an IQ get', 'IQ error bad-request', 'bad-request');
  }),
  general('§9.3.4.4.2-foreign-child', 'an IQ set whose child is not an oadrPayload gets an IQ error', async (ctx, t) => {
    expectIqError(t, await channel(ctx).request('<query xmlns="urn:example:not-openadr"/>'), 'an IQ set with a foreign child', 'an IQ error (service-unavailable or feature-not-implemented)');
  }),
  poll('R507-no-poll', 'oadrPoll over XMPP is refused: an IQ error, or an oadrResponse with a 4xx', async (ctx, t) => {
    const v = await register(ctx, t, { metadata: false });
    const a = await send(ctx, 'OadrPoll', build.poll(v.venId));
    const code = a.payload?.type === 'Response' ? a.payload.response.code : undefined;
    t.check(a.iqError !== undefined || (code !== undefined && code >= 400 && code < 500), 'the VTN served oadrPoll over XMPP', { expected: 'an IQ error (not-allowed) or oadrResponse 4xx', actual: a.payload === undefined ? (a.decodeError ?? 'nothing') : `oadr${a.payload.type}${code === undefined ? '' : ` ${code}`}` });
  }),
  general('§9.3.4.9.1-disco-feature', 'disco#info of the VTN lists the feature http://openadr.org/openadr2', async (ctx, t) => {
    const a = await channel(ctx).request(discoInfoQuery(), { type: 'get' });
    if (a.condition !== undefined) throw new PeerMisbehaved(`disco#info: the VTN answered IQ error ${a.condition}`);
    const features = featuresOf(element(a.result));
    t.check(features.includes(OPENADR_FEATURE), 'the VTN does not advertise the OpenADR feature', { expected: OPENADR_FEATURE, actual: features.join(', ') || 'no feature' });
  }),
  general('§9.3.4.9.2-disco-services', 'disco#items of the services node lists EiEvent, EiReport, EiOpt and EiRegisterParty, each with a JID', async (ctx, t) => {
    const a = await channel(ctx).request(discoItemsQuery(OPENADR_SERVICES_NODE), { type: 'get' });
    if (a.condition !== undefined) throw new PeerMisbehaved(`disco#items of ${OPENADR_SERVICES_NODE}: the VTN answered IQ error ${a.condition}`);
    const items = itemsOf(element(a.result));
    const found = new Set(items.filter((i) => i.jid !== '').map((i) => serviceOfNode(i.node, SERVICES)));
    const missing = SERVICES.filter((s) => !found.has(s));
    t.check(missing.length === 0, 'the services node does not list every OpenADR service with a JID', { expected: SERVICES.map((s) => `http://openadr.org/OpenADR2/${s}`).join(', '), actual: items.map((i) => `${i.node ?? '(no node)'} → ${i.jid || '(no jid)'}`).join(', ') || 'no item' });
  }),
  general('§9.3.4.6-ping', 'an XMPP Ping (XEP-0199) to the VTN gets an empty IQ result', async (ctx, t) => {
    const a = await channel(ctx).request(`<ping xmlns="${NS_PING}"/>`, { type: 'get' });
    t.check(a.condition === undefined && a.result === '', 'the VTN does not answer XMPP Ping', { expected: 'an empty IQ result', actual: a.condition === undefined ? `an IQ result with ${a.result ?? ''}` : `IQ error ${a.condition}` });
  }),
  general('§9.3.4.5-presence-delivers', 'an event issued while the VEN is offline is pushed once its presence is back', async (ctx, t) => {
    const x = channel(ctx);
    const v = await register(ctx, t);
    await delivered(ctx, t, v, 'RegisterReport').catch(() => undefined);
    await x.stop();
    try {
      await order(ctx, t, 'issue-event', { venId: v.venId, eventId: `conf-away-${Date.now().toString(36)}`, startMs: Math.ceil((Date.now() + ctx.eventLeadMinutes * 60_000) / 60_000) * 60_000, durationMinutes: 15 });
      // Away a little longer, so that the VTN's push meets the VEN offline (the server answers it
      // service-unavailable) rather than back already.
      await pause(AWAY_MS, t.signal);
    } finally {
      await x.start();
    }
    const p = await delivered(ctx, t, v, 'DistributeEvent', (d) => (d.events ?? []).length > 0);
    t.check((p.events ?? []).length > 0, 'the event issued while the VEN was away never came');
  }),
  general('§9.3.4.3+R42-created-event-iq', 'a pushed oadrDistributeEvent acknowledged with an empty IQ result, then oadrCreatedEvent in an IQ set of its own, gets oadrResponse 200', async (ctx, t) => {
    const v = await register(ctx, t);
    const { event, eventId, distribute } = await issueEvent(ctx, t, v);
    const a = expectPayload(await send(ctx, 'EiEvent', build.createdEvent(v.venId, [{ eventId, modificationNumber: event.descriptor.modificationNumber, requestId: distribute.requestId }])), 'Response', 'oadrCreatedEvent in its own IQ set');
    t.check(a.response.code === 200, 'oadrCreatedEvent after the empty IQ result was refused', { expected: '200', actual: String(a.response.code) });
  }),
];
