/**
 * Test helpers: a VTN on loopback with a movable clock, and a minimal VEN that builds payloads
 * and POSTs them over real HTTP. For the VTN's tests and for other parts' integration tests.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { gunzipSync, inflateSync } from 'node:zlib';
import { decodeOadr, encodeOadr, type EventResponse, type Payload, type PayloadOf } from '../../oadr/index.ts';
import type { VtnConfigInput } from '../cli/config.ts';
import type { ServiceName } from '../services/dispatch.ts';
import type { Logger } from '../operations/logger.ts';
import { createVtn, type VtnOptions } from '../vtn.ts';
import type { Vtn } from '../vtn-api.ts';

export interface TestClock {
  now(): number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function createTestClock(start = Date.UTC(2030, 0, 15, 12, 0, 0)): TestClock {
  let t = start;
  return { now: () => t, set: (ms) => void (t = ms), advance: (ms) => void (t += ms) };
}

export interface TestVtn {
  readonly vtn: Vtn;
  readonly url: string;
  readonly clock: TestClock;
}

/** A listening VTN on 127.0.0.1 with an in-memory store (unless `options.store`/`dataDir` say otherwise); closed by `t.after`. */
/** Push to VENs on loopback over plain HTTP: the development settings the tests' push VENs need. */
export const LOOPBACK_PUSH = Object.freeze({ allowHttp: true, allowedHosts: ['127.0.0.1', 'localhost', '::1'] });

/**
 * A VTN on loopback for tests: in-memory store, policy open, pushes to loopback allowed, opt answers
 * sent to the ledger at once and /metrics rendered on every scrape (each test may set otherwise).
 */
export async function startTestVtn(
  t: { after(fn: () => unknown): void },
  config: VtnConfigInput = {},
  options: Omit<VtnOptions, 'config' | 'now'> & { readonly clock?: TestClock } = {},
): Promise<TestVtn> {
  const clock = options.clock ?? createTestClock();
  const vtn = createVtn({
    ...options,
    config: { dataDir: ':memory:', registrationPolicy: 'open', optCoalesceMs: 0, metricsCacheMs: 0, ...config, push: { ...LOOPBACK_PUSH, ...config.push } },
    now: clock.now,
  });
  t.after(() => vtn.close());
  const url = await vtn.listen({ host: '127.0.0.1', port: 0 });
  return { vtn, url, clock };
}

export interface PostResult {
  readonly status: number;
  readonly headers: Headers;
  readonly raw: Buffer;
  /** The decoded answer (after gunzip/inflate), when the body is an OpenADR payload. */
  readonly payload: Payload | undefined;
}

export async function postXml(
  url: string,
  service: ServiceName | string,
  body: string | Buffer,
  headers: Record<string, string> = {},
  prefix = '',
): Promise<PostResult> {
  const res = await fetch(`${url}${prefix}/OpenADR2/Simple/2.0b/${service}`, {
    method: 'POST',
    headers: { 'content-type': 'application/xml', 'accept-encoding': 'identity', ...headers },
    body,
  });
  const raw = Buffer.from(await res.arrayBuffer());
  const enc = res.headers.get('content-encoding');
  // fetch decompresses on its own only when it asked; we asked for identity unless the test overrides.
  let text = raw;
  if (enc === 'gzip' && raw[0] === 0x1f) text = gunzipSync(raw);
  if (enc === 'deflate' && raw[0] === 0x78) text = inflateSync(raw);
  let payload: Payload | undefined;
  if (res.status === 200 && text.length > 0) payload = decodeOadr(text).payload;
  return { status: res.status, headers: res.headers, raw, payload };
}

export async function post(url: string, service: ServiceName, payload: Payload, headers?: Record<string, string>): Promise<PostResult> {
  return postXml(url, service, encodeOadr(payload), headers);
}

/** Post and expect an answer of one type. */
export async function call<T extends Payload['type']>(url: string, service: ServiceName, payload: Payload, expect: T): Promise<PayloadOf<T>> {
  const r = await post(url, service, payload);
  if (r.status !== 200 || r.payload === undefined) throw new Error(`${service} answered HTTP ${r.status}`);
  if (r.payload.type !== expect) throw new Error(`${service} answered ${r.payload.type}, expected ${expect}`);
  return r.payload as PayloadOf<T>;
}

const V = '2.0b' as const;

export const ven = {
  create(o: { venName?: string; pull?: boolean; transportAddress?: string; registrationId?: string; venId?: string; requestId?: string } = {}): Payload {
    const p: Payload = {
      type: 'CreatePartyRegistration',
      schemaVersion: V,
      requestId: o.requestId ?? 'rq-reg',
      profileName: '2.0b',
      transportName: 'simpleHttp',
      reportOnly: false,
      xmlSignature: false,
      httpPullModel: o.pull ?? true,
    };
    if (o.venName !== undefined) p.venName = o.venName;
    if (o.transportAddress !== undefined) p.transportAddress = o.transportAddress;
    if (o.registrationId !== undefined) p.registrationId = o.registrationId;
    if (o.venId !== undefined) p.venId = o.venId;
    return p;
  },
  query: (requestId = 'rq-q'): Payload => ({ type: 'QueryRegistration', schemaVersion: V, requestId }),
  poll: (venId: string): Payload => ({ type: 'Poll', schemaVersion: V, venId }),
  requestEvent: (venId: string, replyLimit?: number, requestId = 'rq-ev'): Payload => ({
    type: 'RequestEvent',
    schemaVersion: V,
    requestId,
    venId,
    ...(replyLimit === undefined ? {} : { replyLimit }),
  }),
  createdEvent(venId: string, responses: ReadonlyArray<{ eventId: string; modificationNumber: number; optType?: 'optIn' | 'optOut'; requestId?: string }>): Payload {
    const eventResponses: EventResponse[] = responses.map((r) => ({
      code: 200,
      requestId: r.requestId ?? 'rq-dist',
      qualifiedEventId: { eventId: r.eventId, modificationNumber: r.modificationNumber },
      optType: r.optType ?? 'optIn',
    }));
    return { type: 'CreatedEvent', schemaVersion: V, response: { code: 200, requestId: '' }, eventResponses, venId };
  },
  /** oadrCreateOpt for the whole VEN: for one event (R206), or an availability schedule of windows [start ms, ISO duration]. */
  createOpt(venId: string, o: { optType: 'optIn' | 'optOut'; optId?: string; eventId?: string; modificationNumber?: number; windows?: ReadonlyArray<readonly [number, string]> }): Payload {
    const p: Payload = {
      type: 'CreateOpt',
      schemaVersion: V,
      optId: o.optId ?? `opt-${o.eventId ?? 'schedule'}`,
      optType: o.optType,
      optReason: 'participating',
      venId,
      createdDateTime: new Date(0).toISOString(),
      requestId: 'rq-opt',
      target: { venIds: [venId] },
    };
    if (o.eventId !== undefined) p.qualifiedEventId = { eventId: o.eventId, modificationNumber: o.modificationNumber ?? 0 };
    if (o.windows !== undefined) p.availability = o.windows.map(([start, duration]) => ({ dtstart: new Date(start).toISOString(), duration }));
    return p;
  },
  cancel: (venId: string, registrationId: string): Payload => ({ type: 'CancelPartyRegistration', schemaVersion: V, requestId: 'rq-c', registrationId, venId }),
  registeredReport: (venId: string): Payload => ({ type: 'RegisteredReport', schemaVersion: V, response: { code: 200, requestId: '' }, venId }),
  response: (venId: string): Payload => ({ type: 'Response', schemaVersion: V, response: { code: 200, requestId: '' }, venId }),
  /** The VEN's METADATA_TELEMETRY_USAGE registration: one powerReal data point. */
  telemetryMetadata(
    venId: string,
    o: { rId?: string; reportSpecifierId?: string; siScaleCode?: 'none' | 'k'; minPeriod?: string; maxPeriod?: string; duration?: string; createdDateTime?: string; requestId?: string } = {},
  ): Payload {
    return {
      type: 'RegisterReport',
      schemaVersion: V,
      requestId: o.requestId ?? 'rq-m',
      venId,
      reports: [
        {
          duration: o.duration ?? 'PT2H',
          descriptions: [
            {
              rId: o.rId ?? 'usage',
              reportType: 'usage',
              readingType: 'Direct Read',
              itemBase: { type: 'powerReal', description: 'RealPower', units: 'W', siScaleCode: o.siScaleCode ?? 'none', powerAttributes: { hertz: 50, voltage: 230, ac: true } },
              samplingRate: { minPeriod: o.minPeriod ?? 'PT1M', maxPeriod: o.maxPeriod ?? 'PT15M', onChange: false },
            },
          ],
          reportRequestId: '0',
          reportSpecifierId: o.reportSpecifierId ?? 'rs-1',
          reportName: 'METADATA_TELEMETRY_USAGE',
          createdDateTime: o.createdDateTime ?? '2030-01-15T12:00:00.000Z',
        },
      ],
    };
  },
};

/** What a push VEN received: the path, the headers and the decoded payload. */
export interface PushReceived {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly payload: Payload;
}

/** The answers of a push VEN that acknowledges everything: oadrRegisteredReport to the VTN's metadata, an empty 200 to the rest. */
export const acknowledgePushes = (p: Payload): { status: number; body?: Payload } =>
  p.type === 'RegisterReport' ? { status: 200, body: { type: 'RegisteredReport', schemaVersion: V, response: { code: 200, requestId: p.requestId }, venId: p.venId ?? '' } } : { status: 200 };

/** A push VEN on loopback: records what it receives; `answer` decides the status and body (default: acknowledge). */
export async function startPushVen(t: { after(fn: () => unknown): void }, answer: (p: Payload, n: number) => { status: number; body?: Payload } = acknowledgePushes) {
  const received: PushReceived[] = [];
  const server = createServer((req, res) => {
    void buffer(req).then((raw) => {
      const payload = decodeOadr(raw).payload;
      received.push({ path: req.url ?? '', headers: req.headers, payload });
      const a = answer(payload, received.length);
      const body = a.body === undefined ? Buffer.alloc(0) : Buffer.from(encodeOadr(a.body));
      res.writeHead(a.status, { 'content-type': 'application/xml', 'content-length': body.length });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  return { received, base: `http://127.0.0.1:${port}/ven/` };
}

/** Register a VEN (policy open by default in startTestVtn) and drain its queue; returns its IDs. */
export async function registerVen(url: string, venName: string, o: { pull?: boolean; transportAddress?: string; drain?: boolean } = {}): Promise<{ venId: string; registrationId: string }> {
  const created = await call(url, 'EiRegisterParty', ven.create({ venName, ...o }), 'CreatedPartyRegistration');
  if (created.response.code !== 200 || created.venId === undefined || created.registrationId === undefined) {
    throw new Error(`registration of ${venName} failed with ${created.response.code}: ${created.response.description ?? ''}`);
  }
  if (o.drain ?? (o.pull ?? true)) await drain(url, created.venId);
  return { venId: created.venId, registrationId: created.registrationId };
}

/** Poll until oadrResponse; returns what was delivered. */
export async function drain(url: string, venId: string, max = 20): Promise<Payload[]> {
  const out: Payload[] = [];
  for (let i = 0; i < max; i++) {
    const { status, payload: p } = await post(url, 'OadrPoll', ven.poll(venId));
    if (status !== 200) throw new Error(`oadrPoll answered HTTP ${status}`);
    if (p === undefined || p.type === 'Response') return out;
    out.push(p);
  }
  throw new Error(`the queue of ${venId} did not drain in ${max} polls`);
}

/** A recording logger that also resolves `listening` with the URL of the VTN command's 'VTN listening' line. */
export function listeningLogger(): { readonly logger: ReturnType<typeof recordingLogger>; readonly listening: Promise<string> } {
  const log = recordingLogger();
  let heard!: (url: string) => void;
  const listening = new Promise<string>((r) => (heard = r));
  const logger = Object.assign(Object.create(log) as typeof log, {
    info: (obj: object, msg?: string) => {
      log.info(obj, msg);
      if (msg === 'VTN listening') heard((obj as { url: string }).url);
    },
  });
  return { logger, listening };
}

/** A logger that keeps every record (to check that bad input is logged once, with the venID). */
export function recordingLogger(): Logger & { readonly records: Array<Record<string, unknown> & { level: string; msg: string | undefined }> } {
  const records: Array<Record<string, unknown> & { level: string; msg: string | undefined }> = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: string) => (obj: object, msg?: string) => void records.push({ ...bindings, ...obj, level, msg });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => make({ ...bindings, ...b }) };
  };
  return Object.assign(make({}), { records });
}
