/** VEN side: registration (R401–R407), polling (R500), the HTTP rules of its requests and of its push server. */
import { durationToMs, encodeOadr, type Payload } from '../../oadr/index.ts';
import { decodeAnswer } from '../as-ven.ts';
import { answerTo, deliver, distribute, fromVen, makeEvent, registered, type AsVtn } from '../as-vtn.ts';
import type { Family } from '../case.ts';
import { defineCase, PeerMisbehaved, type CaseControl, type CaseSpec } from '../runner.ts';

const c = (family: Family) => (id: string, title: string, run: CaseSpec<AsVtn>['run'], transports?: CaseSpec<AsVtn>['transports']): CaseSpec<AsVtn> => defineCase(id, title, family, run, transports);
const reg = c('registration');
const poll = c('poll');
const general = c('general');

/** POSTs raw text (or another method) to the push VEN's service. */
async function push(ctx: AsVtn, t: CaseControl, service: string, body: string, o: { method?: string; contentType?: string } = {}) {
  const r = await registered(ctx, t);
  const base = ctx.pushUrl ?? r.transportAddress;
  if (base === undefined) throw new PeerMisbehaved('the VEN registered for push without oadrTransportAddress (R402)');
  return decodeAnswer(await ctx.client.send({ method: o.method ?? 'POST', url: `${base.replace(/\/+$/, '')}/OpenADR2/Simple/2.0b/${service}`, body, headers: { 'content-type': o.contentType ?? 'application/xml' } }));
}

/** Waits for the next `n` oadrPolls from index `from`; returns their indices in `received`. */
async function polls(ctx: AsVtn, t: CaseControl, from: number, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let next = from; out.length < n; ) {
    const i = await ctx.sim.waitFor((r) => r.payload.type === 'Poll', ctx.waitMs, t.signal, next);
    out.push(i);
    next = i + 1;
  }
  return out;
}

/** Milliseconds between the arrivals of consecutive polls, with what the earlier one was answered. */
const gaps = (ctx: AsVtn, at: readonly number[]): Array<{ ms: number; after: string }> =>
  at.slice(1).map((i, k) => {
    const prev = ctx.sim.received[at[k] as number];
    return { ms: (ctx.sim.received[i]?.at ?? 0) - (prev?.at ?? 0), after: prev?.answered ?? '' };
  });

/**
 * Real-time tolerances (the peer is anywhere, on a loaded host or network): a poll or retry never
 * comes sooner than 90 % of what it must wait (jitter of ±10 %, §9.1.7; arrivals are stamped before
 * they are answered, so transit only lengthens a gap); the first retry comes within 1.1 s plus
 * 5 s for a loaded peer or network.
 */
const EARLY = 0.9;
const LATE_SLACK_MS = 5_000;

export const venRegistrationCases: readonly CaseSpec<AsVtn>[] = [
  reg('R405+R402-registers', 'the VEN registers on its own: oadrCreatePartyRegistration without registrationID, 2.0b, with the pull flag or a transport address', async (ctx, t) => {
    const r = await registered(ctx, t);
    const p = r.request;
    t.check(p.profileName === '2.0b', 'the VEN registers for another profile', { actual: p.profileName });
    t.check(p.transportName !== 'simpleHttp' || p.httpPullModel !== undefined, 'simpleHTTP registration without oadrHttpPullModel (R402)');
    t.check(p.httpPullModel !== false || p.transportAddress !== undefined, 'push registration without oadrTransportAddress (R402)');
  }),
  reg('R405-request-event-after-registration', 'after registering the VEN asks for its events (oadrRequestEvent)', async (ctx, t) => {
    await registered(ctx, t);
    const since = ctx.sim.received.findLastIndex((r) => r.payload.type === 'CreatePartyRegistration');
    await fromVen(ctx, t, 'RequestEvent', Math.max(0, since));
  }),
  reg('R405+R309-order-after-registration', 'after registering, the VEN sends only metadata and oadrRequestEvent before other operations', async (ctx, t) => {
    await registered(ctx, t);
    const since = ctx.sim.received.findLastIndex((r) => r.payload.type === 'CreatePartyRegistration');
    await fromVen(ctx, t, 'RegisterReport', Math.max(0, since));
    const first = ctx.sim.received.slice(since + 1).find((r) => !['Poll', 'RegisterReport', 'RequestEvent', 'RegisteredReport', 'Response', 'QueryRegistration'].includes(r.payload.type));
    const firstMeta = ctx.sim.received.findIndex((r, i) => i > since && r.payload.type === 'RegisterReport');
    t.check(first === undefined || ctx.sim.received.indexOf(first) > firstMeta, `the VEN sent oadr${first?.payload.type ?? ''} before its metadata`);
  }),
  poll('R500+R301-answers-vtn-metadata', "a pull VEN answers the VTN's metadata (first poll) with oadrRegisteredReport", async (ctx, t) => {
    const r = await registered(ctx, t);
    if (!r.pull) t.skip('the VEN registered for push');
    const since = ctx.sim.received.findLastIndex((x) => x.payload.type === 'CreatePartyRegistration');
    await fromVen(ctx, t, 'RegisteredReport', Math.max(0, since));
  }, ['http-pull']),
  poll('R500-drains-queue', 'a pull VEN given a payload keeps polling until the queue is empty (both queued payloads answered)', async (ctx, t) => {
    const r = await registered(ctx, t);
    if (!r.pull) t.skip('the VEN registered for push');
    const from = ctx.sim.received.length;
    const a = makeEvent(ctx);
    ctx.sim.events = [a];
    ctx.sim.queue.push(distribute([a]), { type: 'RegisterReport', schemaVersion: '2.0b', requestId: 'conf-meta-again', venId: r.venId });
    await fromVen(ctx, t, 'CreatedEvent', from);
    await fromVen(ctx, t, 'RegisteredReport', from);
    t.check(ctx.sim.queue.length === 0, 'the queue was not drained');
  }, ['http-pull']),
  poll('R500+§9.1.8-poll-frequency', 'with an empty queue the VEN polls no faster than oadrRequestedOadrPollFreq (−10 % for jitter)', async (ctx, t) => {
    const r = await registered(ctx, t);
    if (!r.pull) t.skip('the VEN registered for push');
    const freqMs = durationToMs(ctx.sim.pollFrequency);
    const idle = gaps(ctx, await polls(ctx, t, ctx.sim.received.length, 4)).filter((g) => g.after === 'Response');
    if (idle.length === 0) t.skip('every poll found something queued: the VEN was draining the queue throughout');
    const fast = idle.filter((g) => g.ms < EARLY * freqMs);
    t.check(fast.length === 0, `the VEN polled faster than the oadrRequestedOadrPollFreq ${ctx.sim.pollFrequency} it was given`, { expected: `≥ ${Math.round(EARLY * freqMs)} ms between polls`, actual: idle.map((g) => `${g.ms} ms`).join(', ') });
  }, ['http-pull']),
  poll('§9.1.7-back-off', 'after polls answered 503 the VEN backs off: first retry after about 1 s (0.9 s at the earliest), each next wait no shorter (−20 % for jitter)', async (ctx, t) => {
    const r = await registered(ctx, t);
    if (!r.pull) t.skip('the VEN registered for push');
    const from = ctx.sim.received.length;
    ctx.sim.failPolls = 3;
    const waits = gaps(ctx, await polls(ctx, t, from, 4)).filter((g) => g.after === 'HTTP 503').map((g) => g.ms);
    const [first] = waits;
    t.check(first !== undefined && first >= EARLY * 1000, 'the VEN retried sooner than 0.9 s after a 503 (§9.1.7: first wait about 1 s)', { expected: '≥ 900 ms', actual: `${first ?? '-'} ms` });
    t.check(first !== undefined && first <= 1100 + LATE_SLACK_MS, `the VEN waited more than ${1100 + LATE_SLACK_MS} ms to retry after a 503 (§9.1.7: first wait about 1 s)`, { expected: `≤ ${1100 + LATE_SLACK_MS} ms`, actual: `${first ?? '-'} ms` });
    const shrank = waits.slice(1).filter((w, k) => w < 0.8 * (waits[k] as number));
    t.check(shrank.length === 0, 'a wait after a further failure was shorter than the one before (§9.1.7: waits double up to a cap)', { actual: waits.map((w) => `${w} ms`).join(', ') });
  }, ['http-pull']),
  poll('R500-poll-carries-ven-id', "the VEN's oadrPoll carries its venID", async (ctx, t) => {
    const r = await registered(ctx, t);
    if (!r.pull) t.skip('the VEN registered for push');
    const p = await fromVen(ctx, t, 'Poll', Math.max(0, ctx.sim.received.length - 1));
    t.check(p.venId === r.venId, 'oadrPoll carries another venID', { expected: r.venId, actual: p.venId });
  }, ['http-pull']),
  reg('R401-reregistration-requested', 'oadrRequestReregistration: the VEN answers oadrResponse 200, then registers again with its registrationID and venID', async (ctx, t) => {
    const r = await registered(ctx, t);
    const from = ctx.sim.received.length;
    const rr: Payload = { type: 'RequestReregistration', schemaVersion: '2.0b', venId: r.venId };
    const a = await deliver(ctx, t, rr);
    if (a !== undefined) t.check(a.status === 200 && (a.payload === undefined || (a.payload.type === 'Response' && a.payload.response.code === 200)), 'the pushed oadrRequestReregistration was not acknowledged with oadrResponse 200', { actual: a.payload?.type ?? `HTTP ${a.status}` });
    const again = await fromVen(ctx, t, 'CreatePartyRegistration', from);
    t.check(again.registrationId === r.registrationId && again.venId === r.venId, 'the re-registration does not carry the registrationID and venID (R402)', { ruleIds: ['R401', 'R402'], expected: `${r.registrationId} / ${r.venId}`, actual: `${again.registrationId ?? '-'} / ${again.venId ?? '-'}` });
  }),
  reg('R407+R401-cancelled-by-vtn', 'oadrCancelPartyRegistration from the VTN: oadrCanceledPartyRegistration 200, then the VEN registers anew', async (ctx, t) => {
    const r = await registered(ctx, t);
    const from = ctx.sim.received.length;
    const p: Payload = { type: 'CancelPartyRegistration', schemaVersion: '2.0b', requestId: 'conf-cancel', registrationId: r.registrationId, venId: r.venId };
    const answer = await answerTo(ctx, t, p, 'CanceledPartyRegistration', from);
    t.check(answer.response.code === 200, 'the cancellation was not answered 200', { actual: String(answer.response.code) });
    ctx.sim.registration = undefined;
    const again = await fromVen(ctx, t, 'CreatePartyRegistration', from);
    t.check(again.registrationId === undefined, 'the VEN re-registers with the cancelled registrationID (R407: all deleted)', { actual: again.registrationId });
  }),
];

export const venGeneralCases: readonly CaseSpec<AsVtn>[] = [
  general('§9.1.9.4+R53-ven-request-headers', "the VEN's requests carry Host, Content-Length and Content-Type application/xml", async (ctx, t) => {
    await registered(ctx, t);
    const from = ctx.sim.received.length;
    await fromVen(ctx, t, ctx.sim.registration?.pull === false ? 'RequestEvent' : 'Poll', from).catch(() => undefined);
    const requests = t.exchanges.filter((e) => e.direction === 'received' && e.method === 'POST');
    if (requests.length === 0) t.skip('the VEN sent no request during the case');
    for (const e of requests) {
      t.check(e.headers.host !== undefined, 'a request without Host');
      t.check(e.headers['content-length'] !== undefined && !/chunked/i.test(e.headers['transfer-encoding'] ?? ''), 'a request without Content-Length, or chunked');
      t.check(/^application\/xml(;\s*charset=utf-8)?$/i.test(e.headers['content-type'] ?? ''), 'a request with another Content-Type', { actual: e.headers['content-type'] });
    }
  }, ['http-pull']),
  general('R511+§8.1-push-event', 'oadrDistributeEvent pushed to <address>OpenADR2/Simple/2.0b/EiEvent gets 200; oadrCreatedEvent follows as its own request', async (ctx, t) => {
    const e = makeEvent(ctx);
    ctx.sim.events = [e];
    const from = ctx.sim.received.length;
    const a = await deliver(ctx, t, distribute([e]));
    t.check(a?.status === 200, 'the pushed oadrDistributeEvent was not answered 200', { actual: `HTTP ${a?.status ?? '-'}` });
    t.check(a?.payload === undefined || a.payload.type === 'Response', 'the push was answered with a payload other than oadrResponse', { actual: a?.payload?.type });
    await fromVen(ctx, t, 'CreatedEvent', from, (p) => (p.eventResponses ?? []).some((r) => r.qualifiedEventId.eventId === e.descriptor.eventId));
  }, ['http-push']),
  general('§9.1.3-push-get-501', "GET on the VEN's EiEvent gets 501", async (ctx, t) => {
    const a = await push(ctx, t, 'EiEvent', '', { method: 'GET' });
    t.check(a.status === 501, 'GET is not refused with 501', { expected: '501', actual: String(a.status) });
  }, ['http-push']),
  general('R23-request-event-to-ven', 'oadrRequestEvent posted to the VEN gets 404 or a 4xx and no oadrDistributeEvent', async (ctx, t) => {
    const r = await registered(ctx, t);
    const a = await push(ctx, t, 'EiEvent', encodeOadr({ type: 'RequestEvent', schemaVersion: '2.0b', requestId: 'x', venId: r.venId }));
    const code = a.payload !== undefined && 'response' in a.payload ? a.payload.response?.code : undefined;
    const refused = (a.status >= 400 && a.status < 500) || (a.status === 200 && code !== undefined && code >= 400 && code < 500);
    t.check(refused && a.payload?.type !== 'DistributeEvent', 'the VEN served oadrRequestEvent', { expected: '404, or a 4xx (HTTP or in the answer)', actual: `HTTP ${a.status}${code === undefined ? '' : `, code ${code}`}` });
  }, ['http-push']),
  general('§9.1.5-push-text-plain-406', 'a pushed payload with Content-Type text/plain gets 406', async (ctx, t) => {
    const a = await push(ctx, t, 'EiEvent', encodeOadr(distribute([makeEvent(ctx)])), { contentType: 'text/plain' });
    t.check(a.status === 406, 'text/plain is not refused with 406', { expected: '406', actual: String(a.status) });
  }, ['http-push']),
  general('§9.1.5-push-xsd-invalid-406', 'a pushed payload that does not validate gets 406', async (ctx, t) => {
    const xml = encodeOadr(distribute([makeEvent(ctx)])).replace(/<ei:modificationNumber>0</, '<ei:modificationNumber>abc<');
    const a = await push(ctx, t, 'EiEvent', xml);
    t.check(a.status === 406 || a.status === 400, 'a schema-invalid payload is not refused with 406', { expected: '406 (400 tolerated)', actual: String(a.status) });
  }, ['http-push']),
  general('R511-push-unknown-service-404', 'a push to …/2.0b/EiUnknown gets 404', async (ctx, t) => {
    const a = await push(ctx, t, 'EiUnknown', encodeOadr(distribute([makeEvent(ctx)])));
    t.check(a.status === 404, 'an unknown service is not 404', { expected: '404', actual: String(a.status) });
  }, ['http-push']),
];

