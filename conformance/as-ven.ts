/**
 * The suite playing VENs against a VTN: what the VTN-side cases share. It posts payloads through
 * the recording client, registers simulated VENs (pull, or push to the suite's recording server),
 * and waits for what the VTN delivers — by polling (pull) or at its push inbox (push) — answering
 * the payloads a VEN must answer (oadrRegisterReport, oadrCreateReport, …) as a VEN would. Over
 * XMPP (§9.3) every payload goes as an IQ set to the VTN's JID and the VTN pushes IQ sets to the
 * suite's JID, which feed the same inbox as HTTP pushes.
 */
import { decodeDocument, encodeOadr, type OadrEvent, type ReportRequest, type Payload, type PayloadOf, type PayloadType } from '../oadr/index.ts';
import type { Transport } from './case.ts';
import type { Signer } from './signature.ts';
import { VEN_ADAPTER_ACTIONS, type Adapter, type AdapterAction, type AdapterOrder, type VenAdapterAction, type VtnAdapter } from './adapters/adapter.ts';
import type { HttpAnswer, RecordingClient, TlsMaterial, ServerAnswer, ServerHandler, ServerRequest } from './http-recorder.ts';
import { createArrivals } from './arrivals.ts';
import { pause, PeerMisbehaved, type CaseControl } from './runner.ts';
import type { IqAnswer, XmppRecorder } from './xmpp-recorder.ts';

export const SERVICES = ['EiEvent', 'EiOpt', 'EiReport', 'EiRegisterParty', 'OadrPoll'] as const;
export type Service = (typeof SERVICES)[number];


/** The suite's VENs: where the VTN is, how to reach it, and the push inbox. */
export interface AsVen {
  /** The VTN's base URL (scheme, host, port, optional prefix), without `/OpenADR2/…`. */
  readonly vtnUrl: string;
  readonly transport: Transport;
  /** Prefix of the VEN names the suite registers (`--ven-name`). */
  readonly venName: string;
  readonly client: RecordingClient;
  /** Whether the suite presents a client certificate (--cert/--key): without one a VTN cannot tell its VENs apart. */
  readonly clientCertificate: boolean;
  /** The suite's TLS material (security cases make their own handshakes with it). */
  readonly tls: TlsMaterial | undefined;
  /** A client certificate and key from the CA the VTN trusts, expired (R516); without it that case is skipped. */
  readonly expiredClient?: { readonly cert: string; readonly key: string } | undefined;
  readonly adapter: VtnAdapter | undefined;
  /** Signs what the suite sends (`--xml-signature`, R514); undefined: nothing signed. */
  readonly signer?: Signer | undefined;
  /** Base of the push transport addresses (the suite's server), for http-push. */
  readonly pushBase: string | undefined;
  readonly inbox: PushInbox;
  /** The suite's XMPP connection, when the run is over XMPP: one JID, so one VEN registered at a time. */
  readonly xmpp?: XmppRecorder | undefined;
  /** How long to wait for the VTN to deliver something (ms). */
  readonly deliveryTimeoutMs: number;
  /** Pause between polls while waiting (ms). */
  readonly pollGapMs: number;
  /** Minutes from now at which events the suite orders start (far events). */
  readonly eventLeadMinutes: number;
  /** The VENs registered in this run, by name (venId, registrationId). */
  readonly vens: Map<string, RegisteredVen>;
  /** Every registration the VTN granted in this run (venID → registrationID), whichever case made it. */
  readonly issued: Map<string, string>;
  /** Makes a fresh name for a simulated VEN. */
  nextName(tag: string): string;
}

export interface RegisteredVen {
  readonly name: string;
  readonly venId: string;
  readonly registrationId: string;
  readonly pull: boolean;
  readonly created: PayloadOf<'CreatedPartyRegistration'>;
  /** The report requests the VTN piggy-backed on its oadrRegisteredReport (R344). */
  readonly requests: ReportRequest[];
  /** The eventIDs the VEN has been sent so far (to recognise a new event whose ID the VTN chose). */
  readonly knownEvents: Set<string>;
}

export interface OadrAnswer extends HttpAnswer {
  /** The decoded payload, when the body is one. */
  readonly payload: Payload | undefined;
  /** Why the body is no payload (not XML, HTML, empty). */
  readonly decodeError: string | undefined;
  readonly profile: '2.0a' | '2.0b' | undefined;
  /** Over XMPP: the condition of the IQ error the VTN answered with (then `status` is the HTTP status it stands for). */
  readonly iqError?: string | undefined;
}

const serviceUrl = (base: string, service: string, profile: '2.0a' | '2.0b' = '2.0b'): string =>
  `${base.replace(/\/+$/, '')}/OpenADR2/Simple/${profile === '2.0b' ? '2.0b/' : ''}${service}`;

/** Decodes an HTTP answer body as OpenADR, saying what it is when it is not. */
export function decodeAnswer(a: HttpAnswer): OadrAnswer {
  if (a.body.trim() === '') return { ...a, payload: undefined, decodeError: 'the body is empty', profile: undefined };
  try {
    const d = decodeDocument(a.body);
    return { ...a, payload: d.message.payload, decodeError: undefined, profile: d.profile };
  } catch (err) {
    const type = a.headers['content-type'] ?? 'no Content-Type';
    const html = /^\s*(<!doctype html|<html)/i.test(a.body) ? 'HTML' : 'no OpenADR payload';
    return { ...a, payload: undefined, decodeError: `${html} (${type}): ${(err as Error).message}`, profile: undefined };
  }
}

export interface SendOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly method?: string;
  readonly profile?: '2.0a' | '2.0b';
  /** Replaces the service URL. */
  readonly url?: string;
  /** Send it unsigned even when the suite signs (R514 cases). */
  readonly unsigned?: boolean;
}

/**
 * The HTTP status an IQ error condition stands for (§9.3.4.4.2: a schema failure is HTTP's 406 and
 * XMPP's bad-request; RFC 6120's conditions for the others), so that a case judges both alike.
 */
const IQ_ERROR_STATUS: Readonly<Record<string, number>> = { 'bad-request': 400, forbidden: 403, 'not-authorized': 403, 'item-not-found': 404, 'not-allowed': 405, 'policy-violation': 413, 'feature-not-implemented': 501, 'service-unavailable': 503 };

/** The answer to an IQ set with a payload (§9.3.4.2): the IQ result's child, decoded, or the IQ error. */
export function iqAnswer(a: IqAnswer): OadrAnswer {
  if (a.condition !== undefined) return { status: IQ_ERROR_STATUS[a.condition] ?? 500, headers: {}, body: '', payload: undefined, decodeError: `IQ error ${a.condition}`, profile: undefined, iqError: a.condition };
  return decodeAnswer({ status: 200, headers: {}, body: a.result ?? '' });
}

/** Posts a payload (or raw text) to one of the VTN's services (over XMPP: sends it to the VTN's JID). */
export async function send(ctx: AsVen, service: string, body: Payload | string, o: SendOptions = {}): Promise<OadrAnswer> {
  const plain = typeof body === 'string' ? body : encodeOadr(body, o.profile === undefined ? undefined : { profile: o.profile });
  const text = ctx.signer === undefined || o.unsigned === true ? plain : ctx.signer(plain);
  const answer = ctx.xmpp !== undefined ? iqAnswer(await ctx.xmpp.request(text)) : decodeAnswer(await ctx.client.send({ method: o.method ?? 'POST', url: o.url ?? serviceUrl(ctx.vtnUrl, service, o.profile), body: text, headers: { 'content-type': 'application/xml', ...o.headers } }));
  const p = answer.payload;
  if (p?.type === 'CreatedPartyRegistration' && p.response.code === 200 && p.venId !== undefined && p.registrationId !== undefined) ctx.issued.set(p.venId, p.registrationId);
  return answer;
}

/** The payload of a 200 answer, of the type expected; anything else ends the case with what came instead. */
export function expectPayload<T extends PayloadType>(a: OadrAnswer, type: T, what: string): PayloadOf<T> {
  if (a.iqError !== undefined) throw new PeerMisbehaved(`${what}: the VTN answered IQ error ${a.iqError} instead of an IQ result with oadr${type}`);
  if (a.status !== 200) throw new PeerMisbehaved(`${what}: the VTN answered HTTP ${a.status} instead of 200 with oadr${type}${a.body === '' ? '' : ` (${a.body.slice(0, 120).replace(/\s+/g, ' ')})`}`);
  if (a.payload === undefined) throw new PeerMisbehaved(`${what}: the VTN answered ${a.decodeError ?? 'nothing'} instead of oadr${type}`);
  if (a.payload.type !== type) throw new PeerMisbehaved(`${what}: the VTN answered oadr${a.payload.type} instead of oadr${type}`);
  return a.payload as PayloadOf<T>;
}

const V = '2.0b' as const;
let counter = 0;
/** A requestID unique in this run. */
export const rid = (tag: string): string => `${tag}-${(++counter).toString(36)}`;

export const build = {
  query: (): Payload => ({ type: 'QueryRegistration', schemaVersion: V, requestId: rid('q') }),
  create(o: { name: string; pull: boolean; transportName?: 'simpleHttp' | 'xmpp' | undefined; transportAddress?: string | undefined; registrationId?: string; venId?: string }): Payload {
    const xmpp = o.transportName === 'xmpp';
    return {
      type: 'CreatePartyRegistration',
      schemaVersion: V,
      requestId: rid('reg'),
      ...(o.registrationId === undefined ? {} : { registrationId: o.registrationId }),
      ...(o.venId === undefined ? {} : { venId: o.venId }),
      profileName: '2.0b',
      transportName: xmpp ? 'xmpp' : 'simpleHttp',
      ...(o.transportAddress === undefined ? {} : { transportAddress: o.transportAddress }),
      reportOnly: false,
      xmlSignature: false,
      venName: o.name,
      // §9.3.4.1: an XMPP VEN names its JID; oadrHttpPullModel is HTTP's.
      ...(xmpp ? {} : { httpPullModel: o.pull }),
    };
  },
  poll: (venId: string): Payload => ({ type: 'Poll', schemaVersion: V, venId }),
  requestEvent: (venId: string, replyLimit?: number): Payload => ({ type: 'RequestEvent', schemaVersion: V, requestId: rid('re'), venId, ...(replyLimit === undefined ? {} : { replyLimit }) }),
  createdEvent(venId: string, answers: ReadonlyArray<{ eventId: string; modificationNumber: number; requestId: string; optType?: 'optIn' | 'optOut'; code?: number }>): Payload {
    return {
      type: 'CreatedEvent',
      schemaVersion: V,
      response: { code: 200, requestId: '' },
      eventResponses: answers.map((a) => ({ code: a.code ?? 200, requestId: a.requestId, qualifiedEventId: { eventId: a.eventId, modificationNumber: a.modificationNumber }, optType: a.optType ?? 'optIn' })),
      venId,
    };
  },
  response: (venId: string, requestId = ''): Payload => ({ type: 'Response', schemaVersion: V, response: { code: 200, requestId }, venId }),
  cancelRegistration: (venId: string, registrationId: string): Payload => ({ type: 'CancelPartyRegistration', schemaVersion: V, requestId: rid('cr'), registrationId, venId }),
  /** The VEN's metadata: TELEMETRY_USAGE (powerReal) and TELEMETRY_STATUS, as R510 asks of a B VEN. */
  metadata: (venId: string): Payload => ({
    type: 'RegisterReport',
    schemaVersion: V,
    requestId: rid('rr'),
    venId,
    reports: [
      {
        duration: 'PT2H',
        descriptions: [
          {
            rId: 'usage',
            reportDataSource: { resourceIds: [`${venId}-res`] },
            reportType: 'usage',
            itemBase: { type: 'powerReal', description: 'RealPower', units: 'W', siScaleCode: 'none', powerAttributes: { hertz: 50, voltage: 230, ac: true } },
            readingType: 'Direct Read',
            samplingRate: { minPeriod: 'PT1M', maxPeriod: 'PT15M', onChange: false },
          },
        ],
        reportRequestId: '0',
        reportSpecifierId: 'usage-spec',
        reportName: 'METADATA_TELEMETRY_USAGE',
        createdDateTime: new Date().toISOString(),
      },
      {
        duration: 'PT2H',
        descriptions: [
          {
            rId: 'status',
            reportDataSource: { resourceIds: [`${venId}-res`] },
            reportType: 'x-resourceStatus',
            readingType: 'x-notApplicable',
            samplingRate: { minPeriod: 'PT1M', maxPeriod: 'PT15M', onChange: false },
          },
        ],
        reportRequestId: '0',
        reportSpecifierId: 'status-spec',
        reportName: 'METADATA_TELEMETRY_STATUS',
        createdDateTime: new Date().toISOString(),
      },
    ],
  }),
};

/** The answer a VEN gives to a payload the VTN sent it (pushed, or delivered by a poll), or undefined for a bare acknowledgement. */
export function venReplyTo(p: Payload, venId: string): Payload | undefined {
  const ok = (requestId = ''): { code: number; requestId: string } => ({ code: 200, requestId });
  switch (p.type) {
    case 'RegisterReport':
      return { type: 'RegisteredReport', schemaVersion: V, response: ok(p.requestId), venId };
    case 'CreateReport':
      return { type: 'CreatedReport', schemaVersion: V, response: ok(p.requestId), pendingReports: p.reportRequests.map((r) => r.reportRequestId), venId };
    case 'UpdateReport':
      return { type: 'UpdatedReport', schemaVersion: V, response: ok(p.requestId), venId };
    case 'CancelReport':
      return { type: 'CanceledReport', schemaVersion: V, response: ok(p.requestId), pendingReports: [], venId };
    case 'CancelPartyRegistration':
      return { type: 'CanceledPartyRegistration', schemaVersion: V, response: ok(p.requestId), registrationId: p.registrationId, venId };
    case 'RequestReregistration':
      return { type: 'Response', schemaVersion: V, response: ok(), venId };
    default:
      return undefined;
  }
}

/** The service a payload goes to (§9.1.2, Table 2). */
export function serviceOf(p: Payload): Service {
  if (/Report$/.test(p.type)) return 'EiReport';
  if (/registration/i.test(p.type)) return 'EiRegisterParty';
  if (/Opt$/.test(p.type)) return 'EiOpt';
  if (p.type === 'Poll') return 'OadrPoll';
  return 'EiEvent';
}

/** What the VTN pushed to one of the suite's VENs. */
export interface Pushed {
  readonly venName: string;
  readonly service: string;
  readonly payload: Payload;
  readonly headers: Readonly<Record<string, string>>;
}

/** The push inbox: the request handler of the suite's server for its push VENs (path `/ven/<name>/OpenADR2/Simple/2.0b/<service>`). */
export interface PushInbox {
  readonly handler: ServerHandler;
  /** Keeps what the VTN sent `venName` (pushed over HTTP or XMPP) and returns the VEN's answer, if any, as XML text. */
  take(venName: string, service: string, payload: Payload, headers: Readonly<Record<string, string>>): string | undefined;
  readonly received: Pushed[];
  /** Over XMPP: the VEN the suite's one JID holds (set before it registers, since the VTN may push before it answers). */
  readonly holder: { name: string | undefined };
  /** Resolves with the first payload (from index `from`) for `venName` that matches. */
  wait(venName: string, match: (p: Payload) => boolean, timeoutMs: number, signal: AbortSignal, from?: number): Promise<Pushed>;
  /** Where a VEN of this name gets pushed to, below the suite's base URL. */
  addressOf(base: string, venName: string): string;
  /** The venId each name was registered with (for the replies). */
  readonly venIds: Map<string, string>;
}

export function createPushInbox(signer?: Signer): PushInbox {
  const received: Pushed[] = [];
  const venIds = new Map<string, string>();
  const arrivals = createArrivals();
  const take = (venName: string, service: string, payload: Payload, headers: Readonly<Record<string, string>>): string | undefined => {
    received.push({ venName, service, payload, headers });
    arrivals.arrived();
    // A push may come before the answer to the registration that made it (over XMPP): then the payload names the venID.
    const reply = venReplyTo(payload, venIds.get(venName) ?? ('venId' in payload && payload.venId !== undefined ? payload.venId : venName));
    if (reply === undefined) return undefined;
    const xml = encodeOadr(reply);
    return signer === undefined ? xml : signer(xml);
  };
  const handler = (req: ServerRequest): ServerAnswer => {
    const m = /^\/ven\/([^/]+)\/OpenADR2\/Simple\/2\.0b\/(\w+)$/.exec(req.path);
    if (m === null) return { status: 404, body: '' };
    if (req.method !== 'POST') return { status: 501, body: '' };
    const venName = decodeURIComponent(m[1] as string);
    let payload: Payload;
    try {
      payload = decodeDocument(req.body).message.payload;
    } catch {
      return { status: 406, body: '' };
    }
    return { status: 200, body: take(venName, m[2] as string, payload, req.headers) ?? '' };
  };
  return {
    handler,
    take,
    holder: { name: undefined },
    received,
    venIds,
    addressOf: (base, venName) => `${base.replace(/\/+$/, '')}/ven/${encodeURIComponent(venName)}/`,
    wait: (venName, match, timeoutMs, signal, from = 0) =>
      arrivals.wait(() => received.slice(from).find((r) => r.venName === venName && match(r.payload)), timeoutMs, signal, `the VTN pushed nothing of what the case waits for to ${venName} within ${timeoutMs} ms`),
  };
}

export interface RegisterOptions {
  /** Default: pull unless the run's transport is http-push. */
  readonly pull?: boolean;
  readonly tag?: string;
  /** Send the VEN's metadata (oadrRegisterReport) after registering (default true), as R309 asks. */
  readonly metadata?: boolean;
}

/** Registers a fresh simulated VEN and completes the start (R309: metadata both ways); fails the case when the VTN refuses. */
export async function register(ctx: AsVen, t: CaseControl, o: RegisterOptions = {}): Promise<RegisteredVen> {
  const name = ctx.nextName(o.tag ?? 'ven');
  if (ctx.xmpp !== undefined && o.pull === true) t.skip(NO_POLL_OVER_XMPP);
  const pull = o.pull ?? ctx.transport === 'http-pull';
  if (!pull && ctx.xmpp === undefined && ctx.pushBase === undefined) t.skip('push needs the suite to listen for the VTN (--listen) and a push URL the VTN can reach');
  if (singleIdentity(ctx)) await releaseCertificate(ctx);
  if (ctx.xmpp !== undefined) ctx.inbox.holder.name = name;
  const a = await send(ctx, 'EiRegisterParty', build.create({ name, ...transportOf(ctx, name, pull) }));
  const created = expectPayload(a, 'CreatedPartyRegistration', 'registering a new VEN');
  if (created.response.code !== 200 || created.venId === undefined || created.registrationId === undefined) {
    throw new PeerMisbehaved(`registering a new VEN: the VTN answered code ${created.response.code}${created.response.description === undefined ? '' : ` (${created.response.description})`}${created.venId === undefined ? ', no venID' : ''}${created.registrationId === undefined ? ', no registrationID' : ''}; a VTN with a closed registration policy must let the suite's certificate register`);
  }
  const ven: RegisteredVen = { name, venId: created.venId, registrationId: created.registrationId, pull, created, requests: [], knownEvents: new Set<string>() };
  ctx.vens.set(name, ven);
  ctx.inbox.venIds.set(name, ven.venId);
  if (o.metadata ?? true) {
    const r = expectPayload(await send(ctx, 'EiReport', build.metadata(ven.venId)), 'RegisteredReport', 'sending the VEN metadata');
    const requests = r.reportRequests ?? [];
    if (requests.length > 0) {
      // §8.3.2.1 step 3: the requests piggy-backed on oadrRegisteredReport are confirmed with oadrCreatedReport.
      ven.requests.push(...requests);
      const pending: Payload = { type: 'CreatedReport', schemaVersion: V, response: { code: 200, requestId: '' }, pendingReports: requests.map((q) => q.reportRequestId), venId: ven.venId };
      expectPayload(await send(ctx, 'EiReport', pending), 'Response', 'oadrCreatedReport for the piggy-backed requests');
    }
  }
  return ven;
}

/** Why a case that polls is skipped over XMPP. */
export const NO_POLL_OVER_XMPP = 'the case polls: OpenADR over XMPP has no oadrPoll, the VTN pushes (R507)';

/** How a VEN of the suite registers: HTTP pull, HTTP push to the suite's server, or XMPP with the suite's full JID (§9.3.4.1). */
export function transportOf(ctx: AsVen, name: string, pull: boolean): { pull: boolean; transportName?: 'xmpp'; transportAddress?: string | undefined } {
  if (ctx.xmpp !== undefined) return { pull: false, transportName: 'xmpp', transportAddress: ctx.xmpp.jid() ?? '' };
  return { pull, transportAddress: pull || ctx.pushBase === undefined ? undefined : ctx.inbox.addressOf(ctx.pushBase, name) };
}

/** One client certificate, or one JID, can hold one registration at a time (§10.5.1, §9.3.4.1). */
export const singleIdentity = (ctx: AsVen): boolean => ctx.clientCertificate || ctx.xmpp !== undefined;

/**
 * With a client certificate (or one JID over XMPP) every VEN the suite registers has the same certificate, and a VTN binds
 * one venID to it (§10.5.1): the VEN registered before is cancelled first (R407) — before each case
 * and before each registration — so that each case starts with the certificate free and a VEN of its
 * own. Cases that need two VENs at once need two certificates.
 */
export async function releaseCertificate(ctx: AsVen): Promise<void> {
  const granted = [...ctx.issued];
  ctx.issued.clear();
  ctx.vens.clear();
  for (const [venId, registrationId] of granted) await send(ctx, 'EiRegisterParty', build.cancelRegistration(venId, registrationId));
}

/**
 * Waits for the VTN to deliver a payload matching `match` to `ven`: polls (pull) or watches the push
 * inbox (push). Other payloads delivered on the way are answered as a VEN would. `from`: push inbox
 * index to start at.
 */
export async function delivered<T extends PayloadType>(
  ctx: AsVen,
  t: CaseControl,
  ven: RegisteredVen,
  type: T,
  match: (p: PayloadOf<T>) => boolean = () => true,
  o: { readonly timeoutMs?: number; readonly from?: number } = {},
): Promise<PayloadOf<T>> {
  const timeoutMs = o.timeoutMs ?? ctx.deliveryTimeoutMs;
  if (!ven.pull) {
    const hit = await ctx.inbox.wait(ven.name, (p) => p.type === type && match(p as PayloadOf<T>), timeoutMs, t.signal, o.from ?? 0);
    return hit.payload as PayloadOf<T>;
  }
  const deadline = Date.now() + timeoutMs;
  const seen: string[] = [];
  while (Date.now() < deadline) {
    const p = await pollOnce(ctx, ven);
    if (p === undefined) {
      await pause(ctx.pollGapMs, t.signal);
      continue;
    }
    if (p.type === type && match(p as PayloadOf<T>)) return p as PayloadOf<T>;
    seen.push(`oadr${p.type}`);
    await replyAsVen(ctx, ven, p);
  }
  throw new PeerMisbehaved(`waited ${timeoutMs} ms for the VTN to deliver oadr${type}${seen.length === 0 ? '; every poll got an empty queue' : `; polls delivered ${seen.join(', ')}`}`);
}

/** One oadrPoll; undefined when the queue is empty (oadrResponse). */
export async function pollOnce(ctx: AsVen, ven: RegisteredVen): Promise<Payload | undefined> {
  const a = await send(ctx, 'OadrPoll', build.poll(ven.venId));
  if (a.status !== 200 || a.payload === undefined) throw new PeerMisbehaved(`oadrPoll: the VTN answered HTTP ${a.status}${a.decodeError === undefined ? '' : `, ${a.decodeError}`}`);
  return a.payload.type === 'Response' ? undefined : a.payload;
}

/** Answers a delivered payload as a VEN would (pull: a separate POST). */
export async function replyAsVen(ctx: AsVen, ven: RegisteredVen, p: Payload): Promise<OadrAnswer | undefined> {
  const reply = venReplyTo(p, ven.venId);
  return reply === undefined ? undefined : send(ctx, serviceOf(reply), reply);
}

/** Polls until the queue is empty, answering what comes (pull VENs only); returns what came. */
export async function drain(ctx: AsVen, ven: RegisteredVen, max = 20): Promise<Payload[]> {
  const out: Payload[] = [];
  if (!ven.pull) return out;
  for (let i = 0; i < max; i++) {
    const p = await pollOnce(ctx, ven);
    if (p === undefined) return out;
    out.push(p);
    await replyAsVen(ctx, ven, p);
  }
  throw new PeerMisbehaved(`the queue of ${ven.venId} did not empty in ${max} polls (R500)`);
}

/**
 * Asks the adapter (the VTN's, or the VEN's when the suite plays the VTN); skips the case without
 * one, fails it with what went wrong when the peer refused.
 */
export async function order<A extends AdapterAction | VenAdapterAction>(ctx: { readonly adapter: Adapter<A> | undefined }, t: CaseControl, action: A, o: AdapterOrder): Promise<void> {
  const peer = (VEN_ADAPTER_ACTIONS as readonly string[]).includes(action) ? 'VEN' : 'VTN';
  const hint = peer === 'VTN' ? '--admin-url and --admin-token, --hook, or --interactive' : '--hook or --interactive';
  if (ctx.adapter === undefined) t.skip(`needs the ${peer} to ${action.replace('-', ' ')}: give an adapter (${hint})`);
  try {
    await ctx.adapter.perform(action, o);
  } catch (err) {
    throw new PeerMisbehaved(`the ${ctx.adapter.name} adapter could not ${action}: ${(err as Error).message}`);
  }
}

/** Cases with two VENs at once: with one client certificate only one VEN can be registered (§10.5.1). */
export function needTwoVens(ctx: AsVen, t: CaseControl): void {
  if (ctx.xmpp !== undefined) t.skip('needs two VENs registered at once, which one JID cannot be (§9.3.4.1, R515)');
  if (ctx.clientCertificate) t.skip('needs two VENs registered at once, which one client certificate cannot be (§10.5.1); run it without TLS or with a VTN that binds no certificate');
}

let eventSerial = 0;
/** Orders a far event for `ven` and waits for the oadrDistributeEvent that carries it; returns the event and the payload. */
export async function issueEvent(
  ctx: AsVen,
  t: CaseControl,
  ven: RegisteredVen,
  o: Partial<Omit<AdapterOrder, 'venId'>> = {},
): Promise<{ event: OadrEvent; distribute: PayloadOf<'DistributeEvent'>; eventId: string }> {
  const from = ctx.inbox.received.length;
  const eventId = o.eventId ?? `conf-${Date.now().toString(36)}-${(++eventSerial).toString(36)}`;
  const startMs = o.startMs ?? Math.ceil((Date.now() + ctx.eventLeadMinutes * 60_000) / 60_000) * 60_000;
  await order(ctx, t, 'issue-event', { venId: ven.venId, eventId, startMs, durationMinutes: o.durationMinutes ?? 15, ...o });
  // A VTN may choose its own eventID: then the event is the one this VEN has not been sent before.
  const isNew = (e: OadrEvent): boolean => e.descriptor.eventId === eventId || !ven.knownEvents.has(e.descriptor.eventId);
  const distribute = await delivered(ctx, t, ven, 'DistributeEvent', (d) => (d.events ?? []).some(isNew), { from });
  const events = distribute.events ?? [];
  const event = events.find((e) => e.descriptor.eventId === eventId) ?? events.find(isNew);
  if (event === undefined) throw new PeerMisbehaved('the oadrDistributeEvent after the event was issued carries no new oadrEvent');
  for (const e of events) ven.knownEvents.add(e.descriptor.eventId);
  return { event, distribute, eventId: event.descriptor.eventId };
}

/** Asks the VTN for the VEN's events with oadrRequestEvent. */
export async function requestEvents(ctx: AsVen, ven: RegisteredVen, replyLimit?: number): Promise<PayloadOf<'DistributeEvent'>> {
  return expectPayload(await send(ctx, 'EiEvent', build.requestEvent(ven.venId, replyLimit)), 'DistributeEvent', 'oadrRequestEvent');
}
