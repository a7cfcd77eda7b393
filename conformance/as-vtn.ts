/**
 * The suite playing the VTN against a VEN: what the VEN-side cases share. A simulated VTN answers
 * the VEN's requests on the suite's recording server (registration, poll queue, oadrRequestEvent,
 * reports, opts) and keeps everything it received; `deliver` hands the VEN a payload — queued for
 * its next poll (pull), POSTed to its transport address (push) or sent to its JID in an IQ set
 * (XMPP, where the VEN's requests come as IQ sets to the suite's JID, §9.3).
 */
import { decodeDocument, encodeOadr, type OadrEvent, type Payload, type PayloadOf, type PayloadType } from '../oadr/index.ts';
import type { VenAdapter } from './adapters/adapter.ts';
import type { Transport } from './case.ts';
import { decodeAnswer, iqAnswer, serviceOf, type OadrAnswer } from './as-ven.ts';
import type { PayloadAnswer, XmppRecorder } from './xmpp-recorder.ts';
import type { RecordingClient, ServerAnswer, ServerRequest } from './http-recorder.ts';
import { createArrivals } from './arrivals.ts';
import { PeerMisbehaved, type CaseControl } from './runner.ts';

export const VTN_ID = 'conformance-vtn';

export interface Received {
  readonly service: string;
  readonly payload: Payload;
  /** When the request arrived (recorded before it is answered). */
  readonly at: number;
  /** What the suite answered: the payload type, or `HTTP <status>` (`IQ error <condition>`) for a refusal. */
  readonly answered: string;
  /** Over XMPP: the sender's full JID. */
  readonly from?: string;
}

export interface VenRegistration {
  readonly venId: string;
  readonly registrationId: string;
  readonly pull: boolean;
  readonly transportAddress: string | undefined;
  readonly request: PayloadOf<'CreatePartyRegistration'>;
}

/** The simulated VTN's state and its request handler. */
export interface SimVtn {
  readonly received: Received[];
  registration: VenRegistration | undefined;
  /** What oadrRequestEvent is answered with. */
  events: OadrEvent[];
  /** Report requests piggy-backed on the next oadrRegisteredReport (R344), then cleared. */
  piggyBack: PayloadOf<'RegisteredReport'>['reportRequests'];
  /** Pull queue (R500). */
  readonly queue: Payload[];
  /** oadrRequestedOadrPollFreq, as sent in oadrCreatedPartyRegistration (R403, §9.1.8). */
  readonly pollFrequency: string;
  /** The next this many oadrPolls are answered HTTP 503 (§9.1.7 back-off cases). */
  failPolls: number;
  /** requestID of every oadrDistributeEvent sent → the eventIDs it carried (R42: the VEN answers with the one that delivered the event). */
  readonly distributed: Map<string, ReadonlySet<string>>;
  handle(req: ServerRequest): ServerAnswer;
  /** The VEN's IQ set over XMPP (`xml`: the oadrPayload), from its full JID. */
  handleXmpp(xml: string, from: string): PayloadAnswer;
  /** Resolves with the index of the first payload (from `from`) that matches. */
  waitFor(match: (r: Received) => boolean, timeoutMs: number, signal: AbortSignal, from?: number): Promise<number>;
}

export interface SimVtnOptions {
  /** oadrRequestedOadrPollFreq (default PT1S). */
  readonly pollFreq?: string;
  /** The suite is an XMPP VTN: it offers the xmpp transport and no poll frequency (R507). */
  readonly xmpp?: boolean;
  readonly now?: () => number;
}

const V = '2.0b' as const;
const ok = (requestId = ''): { code: number; requestId: string } => ({ code: 200, requestId });

export function createSimVtn(options: Readonly<SimVtnOptions> = {}): SimVtn {
  const now = options.now ?? Date.now;
  const arrivals = createArrivals();
  let serial = 0;
  const sim: SimVtn = {
    received: [],
    registration: undefined,
    events: [],
    piggyBack: undefined,
    queue: [],
    pollFrequency: options.pollFreq ?? 'PT1S',
    failPolls: 0,
    distributed: new Map(),
    handle,
    handleXmpp,
    waitFor: (match, timeoutMs, signal, from = 0) =>
      arrivals.wait(
        () => {
          const i = sim.received.findIndex((r, k) => k >= from && match(r));
          return i < 0 ? undefined : i;
        },
        timeoutMs,
        signal,
        `the VEN did not send what the case waits for within ${timeoutMs} ms`,
      ),
  };

  function answer(p: Payload): ServerAnswer {
    return { status: 200, body: encodeOadr(p) };
  }

  const transports: ('simpleHttp' | 'xmpp')[] = options.xmpp === true ? ['simpleHttp', 'xmpp'] : ['simpleHttp'];
  const pollFrequency = options.xmpp === true ? {} : { pollFrequency: sim.pollFrequency };

  function reply(service: string, p: Payload): Payload | undefined {
    const venId = sim.registration?.venId;
    switch (p.type) {
      case 'QueryRegistration':
        return { type: 'CreatedPartyRegistration', schemaVersion: V, response: ok(p.requestId), vtnId: VTN_ID, profiles: [{ profileName: '2.0b', transports }], ...pollFrequency };
      case 'CreatePartyRegistration': {
        if (p.registrationId !== undefined && p.registrationId !== sim.registration?.registrationId) {
          return { type: 'CreatedPartyRegistration', schemaVersion: V, response: { code: 452, description: 'unknown registrationID', requestId: p.requestId }, vtnId: VTN_ID, profiles: [{ profileName: '2.0b', transports }] };
        }
        const reg: VenRegistration = {
          venId: p.venId ?? sim.registration?.venId ?? `conf-ven-${++serial}`,
          registrationId: p.registrationId ?? `conf-reg-${++serial}`,
          pull: p.transportName !== 'xmpp' && p.httpPullModel !== false,
          transportAddress: p.transportAddress,
          request: p,
        };
        sim.registration = reg;
        if (p.registrationId === undefined) {
          sim.queue.length = 0;
          // R309, R301: the VTN's own metadata first; it offers no reports.
          sim.queue.push({ type: 'RegisterReport', schemaVersion: V, requestId: `vtn-meta-${++serial}`, venId: reg.venId });
        }
        return {
          type: 'CreatedPartyRegistration',
          schemaVersion: V,
          response: ok(p.requestId),
          registrationId: reg.registrationId,
          venId: reg.venId,
          vtnId: VTN_ID,
          profiles: [{ profileName: '2.0b', transports }],
          ...pollFrequency,
        };
      }
      case 'CancelPartyRegistration':
        sim.registration = undefined;
        return { type: 'CanceledPartyRegistration', schemaVersion: V, response: ok(p.requestId), registrationId: p.registrationId, ...(venId === undefined ? {} : { venId }) };
      case 'Poll': {
        if (sim.registration === undefined || p.venId !== venId) return { type: 'Response', schemaVersion: V, response: { code: sim.registration === undefined ? 463 : 452, requestId: '' }, venId: p.venId };
        return sim.queue.shift() ?? { type: 'Response', schemaVersion: V, response: ok(), venId: p.venId };
      }
      case 'RequestEvent': {
        const requestId = `dist-${++serial}`;
        sim.distributed.set(requestId, new Set(sim.events.map((e) => e.descriptor.eventId)));
        return { type: 'DistributeEvent', schemaVersion: V, response: ok(p.requestId), requestId, vtnId: VTN_ID, events: sim.events };
      }
      case 'RegisterReport': {
        const requests = sim.piggyBack;
        sim.piggyBack = undefined;
        return { type: 'RegisteredReport', schemaVersion: V, response: ok(p.requestId), ...(requests === undefined ? {} : { reportRequests: requests }), ...(venId === undefined ? {} : { venId }) };
      }
      case 'UpdateReport':
        return { type: 'UpdatedReport', schemaVersion: V, response: ok(p.requestId), ...(venId === undefined ? {} : { venId }) };
      case 'CreateOpt':
        return { type: 'CreatedOpt', schemaVersion: V, response: ok(p.requestId), optId: p.optId };
      case 'CancelOpt':
        return { type: 'CanceledOpt', schemaVersion: V, response: ok(p.requestId), optId: p.optId };
      case 'CreatedEvent':
      case 'CreatedReport':
      case 'CanceledReport':
      case 'RegisteredReport':
      case 'CanceledPartyRegistration':
      case 'Response':
        return { type: 'Response', schemaVersion: V, response: ok(), ...(venId === undefined ? {} : { venId }) };
      default:
        void service;
        return undefined;
    }
  }

  function handle(req: ServerRequest): ServerAnswer {
    const m = /^(?:.*)\/OpenADR2\/Simple\/2\.0b\/(\w+)$/.exec(req.path);
    if (m === null) return { status: 404, body: '' };
    if (req.method !== 'POST') return { status: 501, body: '' };
    let payload: Payload;
    try {
      payload = decodeDocument(req.body).message.payload;
    } catch {
      return { status: 406, body: '' };
    }
    const service = m[1] as string;
    const at = now();
    if (payload.type === 'Poll' && sim.failPolls > 0) {
      sim.failPolls -= 1;
      sim.received.push({ service, payload, at, answered: 'HTTP 503' });
      arrivals.arrived();
      return { status: 503, body: '' };
    }
    const out = reply(service, payload);
    sim.received.push({ service, payload, at, answered: out?.type ?? 'HTTP 404' });
    arrivals.arrived();
    return out === undefined ? { status: 404, body: '' } : answer(out);
  }

  function handleXmpp(xml: string, from: string): PayloadAnswer {
    let payload: Payload;
    try {
      payload = decodeDocument(xml).message.payload;
    } catch (err) {
      return { condition: 'bad-request', text: `not a valid OpenADR 2.0b payload (§9.3.4.4.2): ${(err as Error).message}` };
    }
    const service = serviceOf(payload);
    const at = now();
    // R507: no oadrPoll over XMPP.
    const out = payload.type === 'Poll' ? undefined : reply(service, payload);
    const refusal = payload.type === 'Poll' ? 'not-allowed' : 'feature-not-implemented';
    sim.received.push({ service, payload, at, answered: out?.type ?? `IQ error ${refusal}`, from });
    arrivals.arrived();
    return out === undefined ? { condition: refusal, text: payload.type === 'Poll' ? 'there is no oadrPoll over XMPP (R507)' : `the suite's VTN does not serve oadr${payload.type}` } : encodeOadr(out);
  }

  return sim;
}

/** The suite as the VTN of one VEN under test. */
export interface AsVtn {
  readonly transport: Transport;
  readonly sim: SimVtn;
  /** For pushes to the VEN (http-push). */
  readonly client: RecordingClient;
  /** The suite's XMPP connection as the VTN (xmpp): pushes go to the VEN's registered JID. */
  readonly xmpp?: XmppRecorder | undefined;
  /** The base URL the VEN was configured with (where the suite listens). */
  readonly url: string;
  /** Overrides the VEN's registered transport address (`--push-url`). */
  readonly pushUrl: string | undefined;
  /** The market context of the events the suite sends; the VEN must serve it (`--market-context`). */
  readonly marketContext: string;
  /** Whether the operator gave the VEN's market context (cases about a foreign one need it). */
  readonly marketContextKnown: boolean;
  /** How long to wait for the VEN (ms). */
  readonly waitMs: number;
  /** Makes the VEN under test send or cancel opts (EiOpt cases); without one they are skipped. */
  readonly adapter: VenAdapter | undefined;
}

/** Waits for the VEN to be registered (it registers on its own when started, R401). */
export async function registered(ctx: AsVtn, t: CaseControl): Promise<VenRegistration> {
  if (ctx.sim.registration === undefined) await ctx.sim.waitFor((r) => r.payload.type === 'CreatePartyRegistration', ctx.waitMs, t.signal);
  const reg = ctx.sim.registration;
  if (reg === undefined) throw new PeerMisbehaved('the VEN did not complete a registration');
  // The VEN has the answer once it sends its next payload (oadrRegisterReport, a poll): a payload
  // pushed before that may rightly be ignored (R405). A VEN that sends nothing more is given the wait.
  const at = ctx.sim.received.findLastIndex((r) => r.payload.type === 'CreatePartyRegistration');
  await ctx.sim.waitFor(() => true, ctx.waitMs, t.signal, at + 1).catch((err: unknown) => {
    if (t.signal.aborted) throw err;
  });
  return reg;
}

/** Hands the VEN a payload: queued for its next poll, or pushed (resolving with the VEN's HTTP answer). */
export async function deliver(ctx: AsVtn, t: CaseControl, p: Payload): Promise<OadrAnswer | undefined> {
  const reg = await registered(ctx, t);
  if (p.type === 'DistributeEvent') ctx.sim.distributed.set(p.requestId, new Set((p.events ?? []).map((e) => e.descriptor.eventId)));
  if (reg.pull) {
    ctx.sim.queue.push(p);
    return undefined;
  }
  if (ctx.xmpp !== undefined) {
    if (reg.transportAddress === undefined) throw new PeerMisbehaved('the VEN registered for XMPP without its JID as oadrTransportAddress (§9.3.4.1)');
    return iqAnswer(await ctx.xmpp.request(encodeOadr(p), { to: reg.transportAddress }));
  }
  const base = ctx.pushUrl ?? reg.transportAddress;
  if (base === undefined) throw new PeerMisbehaved('the VEN registered for push without oadrTransportAddress (R402)');
  const url = `${base.replace(/\/+$/, '')}/OpenADR2/Simple/2.0b/${serviceOf(p)}`;
  return decodeAnswer(await ctx.client.send({ url, body: encodeOadr(p), headers: { 'content-type': 'application/xml' } }));
}

/** The VEN's answer to a delivered request payload: its HTTP answer (push) or the payload it posts next (pull). */
export async function answerTo<T extends PayloadType>(ctx: AsVtn, t: CaseControl, p: Payload, type: T, from: number): Promise<PayloadOf<T>> {
  const a = await deliver(ctx, t, p);
  if (a !== undefined) {
    if (a.status !== 200 || a.payload?.type !== type) throw new PeerMisbehaved(`the VEN answered the pushed oadr${p.type} with ${a.iqError !== undefined ? `IQ error ${a.iqError}` : a.status !== 200 ? `HTTP ${a.status}` : a.payload === undefined ? (a.decodeError ?? 'nothing') : `oadr${a.payload.type}`} instead of oadr${type}`);
    return a.payload as PayloadOf<T>;
  }
  const i = await ctx.sim.waitFor((r) => r.payload.type === type, ctx.waitMs, t.signal, from);
  return ctx.sim.received[i]?.payload as PayloadOf<T>;
}

/** Waits for the next payload of `type` from the VEN (after index `from`) that matches. */
export async function fromVen<T extends PayloadType>(ctx: AsVtn, t: CaseControl, type: T, from: number, match: (p: PayloadOf<T>) => boolean = () => true): Promise<PayloadOf<T>> {
  const i = await ctx.sim.waitFor((r) => r.payload.type === type && match(r.payload as PayloadOf<T>), ctx.waitMs, t.signal, from);
  return ctx.sim.received[i]?.payload as PayloadOf<T>;
}

let eventSerial = 0;
let requestSerial = 0;

/** An event as a VTN would send it: one signal (LOAD_DISPATCH setpoint in W unless given), two 15-minute intervals from `startMs`. */
export function makeEvent(ctx: AsVtn, o: {
  readonly eventId?: string;
  readonly modificationNumber?: number;
  readonly status?: 'far' | 'near' | 'active' | 'cancelled' | 'completed';
  readonly startMs?: number;
  readonly responseRequired?: 'always' | 'never';
  readonly marketContext?: string;
  readonly signal?: Partial<OadrEvent['signals'][number]>;
  readonly durations?: readonly string[];
  readonly duration?: string;
  readonly target?: OadrEvent['target'];
  readonly testEvent?: string;
  readonly vtnComment?: string;
  readonly dtstart?: string;
} = {}): OadrEvent {
  const start = o.startMs ?? Math.ceil((Date.now() + 3_600_000) / 60_000) * 60_000;
  const durations = o.durations ?? ['PT15M', 'PT15M'];
  const values = durations.map((_, i) => 1000 + 100 * i);
  const signal: OadrEvent['signals'][number] = {
    intervals: durations.map((d, i) => ({ duration: d, uid: String(i), value: values[i] as number })),
    signalName: 'LOAD_DISPATCH',
    signalType: 'setpoint',
    signalId: 'sig-0',
    itemBase: { type: 'powerReal', description: 'RealPower', units: 'W', siScaleCode: 'none', powerAttributes: { hertz: 50, voltage: 230, ac: true } },
    ...o.signal,
  };
  const createdDateTime = new Date().toISOString();
  return {
    descriptor: {
      eventId: o.eventId ?? `conf-ev-${Date.now().toString(36)}-${++eventSerial}`,
      modificationNumber: o.modificationNumber ?? 0,
      marketContext: o.marketContext ?? ctx.marketContext,
      createdDateTime,
      eventStatus: o.status ?? 'far',
      ...(o.testEvent === undefined ? {} : { testEvent: o.testEvent }),
      ...(o.vtnComment === undefined ? {} : { vtnComment: o.vtnComment }),
    },
    activePeriod: { dtstart: o.dtstart ?? new Date(start).toISOString(), duration: o.duration ?? `PT${durations.length * 15}M`, notification: 'PT1H' },
    signals: [signal],
    target: o.target ?? {},
    responseRequired: o.responseRequired ?? 'always',
  };
}

/** oadrDistributeEvent with these events (and the VEN's pending ones are replaced: R50). */
export function distribute(events: readonly OadrEvent[], vtnId = VTN_ID): PayloadOf<'DistributeEvent'> {
  return { type: 'DistributeEvent', schemaVersion: V, response: ok(), requestId: `dist-req-${++requestSerial}`, vtnId, events: [...events] };
}
