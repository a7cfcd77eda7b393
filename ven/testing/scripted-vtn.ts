/**
 * A small scripted VTN for VEN tests: real OpenADR 2.0b XML over real HTTP on loopback, built
 * with `encodeOadr`. It registers any VEN, keeps a poll queue, serves oadrRequestEvent from a
 * settable event list, acknowledges reports and records everything it receives. It is a stand-in
 * until the end-to-end tests run against the real VTN (`vtn/`).
 */
import { buffer } from 'node:stream/consumers';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePayload, encodeOadr, type OadrEvent, type Payload, type ReportRequest } from '../../oadr/index.ts';

export interface Received {
  readonly service: string;
  readonly payload: Payload;
  readonly at: number;
  /** The request body as sent, byte for byte (UTF-8). */
  readonly raw: string;
}

/** How the scripted VTN misbehaves on a service (`misbehave`): an HTTP error with a body, a 200 that is no OpenADR payload, a 200 oadrUpdatedReport with an error code, or a dropped connection. */
export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly body: string }
  | { readonly kind: 'garbage'; readonly body: string }
  | { readonly kind: 'errorCode'; readonly code: number; readonly description: string }
  | { readonly kind: 'close' };

export interface ScriptedVtnOptions {
  readonly vtnId?: string;
  readonly venId?: string;
  readonly registrationId?: string;
  /** oadrRequestedOadrPollFreq (default PT10S). */
  readonly pollFreq?: string;
  /** Report requests to piggy-back on oadrRegisteredReport (R344). */
  readonly reportRequests?: readonly ReportRequest[];
}

export interface ScriptedVtn {
  /** Base URL to give the VEN as its VTN URL. */
  readonly url: string;
  readonly received: Received[];
  /** Payloads of one type, in arrival order. */
  of<T extends Payload['type']>(type: T): Extract<Payload, { type: T }>[];
  /** Queues a payload for the next oadrPoll (R500). */
  enqueue(payload: Payload): void;
  /** The events oadrRequestEvent answers with. */
  setEvents(events: readonly OadrEvent[]): void;
  /** The next `n` requests get HTTP `status` (e.g. 503) instead of an answer. */
  failNext(n: number, status?: number): void;
  /** Every request to `service` gets `fault` until called with undefined (and the count of `faultHits` starts again). */
  misbehave(service: string, fault: Fault | undefined): void;
  /** Requests answered with the current fault since `misbehave` set it. */
  faultHits(): number;
  /** POSTs a payload to a push VEN's transport address; resolves with the HTTP status and body. */
  push(baseUrl: string, service: string, payload: Payload | string, contentType?: string, method?: string): Promise<{ status: number; body: string }>;
  /** Resolves when `predicate` holds over `received` (checked on every arrival), or rejects after `timeoutMs`. */
  waitFor(predicate: (received: readonly Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}


export async function createScriptedVtn(options: Readonly<ScriptedVtnOptions> = {}): Promise<ScriptedVtn> {
  const vtnId = options.vtnId ?? 'vtn-1';
  const venId = options.venId ?? 'ven-1';
  const registrationId = options.registrationId ?? 'reg-1';
  const received: Received[] = [];
  const queue: Payload[] = [];
  let events: OadrEvent[] = [];
  let failures = 0;
  let failStatus = 503;
  let fault: { service: string; fault: Fault } | undefined;
  let faultHits = 0;
  const watchers = new Set<() => void>();
  let seq = 0;

  const ok = (requestId = '') => ({ code: 200, description: 'OK', requestId });
  const response = (): Payload => ({ type: 'Response', schemaVersion: '2.0b', response: ok(), venId });

  function answer(p: Payload): Payload | undefined {
    switch (p.type) {
      case 'QueryRegistration':
        return { type: 'CreatedPartyRegistration', schemaVersion: '2.0b', response: ok(p.requestId), vtnId, profiles: [{ profileName: '2.0b', transports: ['simpleHttp'] }] };
      case 'CreatePartyRegistration':
        return {
          type: 'CreatedPartyRegistration',
          schemaVersion: '2.0b',
          response: ok(p.requestId),
          registrationId,
          venId,
          vtnId,
          profiles: [{ profileName: '2.0b', transports: ['simpleHttp'] }],
          pollFrequency: options.pollFreq ?? 'PT10S',
        };
      case 'CancelPartyRegistration':
        return { type: 'CanceledPartyRegistration', schemaVersion: '2.0b', response: ok(p.requestId), registrationId: p.registrationId, venId };
      case 'Poll':
        return queue.shift() ?? response();
      case 'RequestEvent':
        return { type: 'DistributeEvent', schemaVersion: '2.0b', response: ok(p.requestId), requestId: `de-${++seq}`, vtnId, ...(events.length > 0 ? { events } : {}) };
      case 'RegisterReport':
        return { type: 'RegisteredReport', schemaVersion: '2.0b', response: ok(p.requestId), ...(options.reportRequests === undefined ? {} : { reportRequests: [...options.reportRequests] }), venId };
      case 'UpdateReport':
        return { type: 'UpdatedReport', schemaVersion: '2.0b', response: ok(p.requestId), venId };
      case 'CreateOpt':
        return { type: 'CreatedOpt', schemaVersion: '2.0b', response: ok(p.requestId), optId: p.optId };
      default:
        return response();
    }
  }

  const server = createServer((req, res) => {
    void buffer(req).then((body) => {
      const service = (req.url ?? '').split('/').pop() ?? '';
      if (failures > 0) {
        failures--;
        res.writeHead(failStatus, { 'Content-Length': '0' }).end();
        return;
      }
      const f = fault !== undefined && fault.service === service ? fault.fault : undefined;
      if (f !== undefined && f.kind !== 'errorCode') {
        faultHits++;
        if (f.kind === 'close') {
          req.socket.destroy();
          return;
        }
        const status = f.kind === 'status' ? f.status : 200;
        res.writeHead(status, { 'Content-Type': f.kind === 'status' ? 'text/plain' : 'application/xml', 'Content-Length': String(Buffer.byteLength(f.body)) }).end(f.body);
        return;
      }
      let payload: Payload;
      try {
        payload = decodePayload(body);
      } catch {
        res.writeHead(406, { 'Content-Length': '0' }).end();
        return;
      }
      if (f !== undefined && f.kind === 'errorCode' && payload.type === 'UpdateReport') {
        faultHits++;
        const xml = encodeOadr({ type: 'UpdatedReport', schemaVersion: '2.0b', response: { code: f.code, description: f.description, requestId: payload.requestId }, venId });
        res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': String(Buffer.byteLength(xml)) }).end(xml);
        return;
      }
      received.push({ service, payload, at: Date.now(), raw: body.toString('utf8') });
      for (const w of [...watchers]) w();
      const out = answer(payload);
      const xml = out === undefined ? '' : encodeOadr(out);
      res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': String(Buffer.byteLength(xml)) }).end(xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    received,
    of: <T extends Payload['type']>(type: T) => received.map((r) => r.payload).filter((p): p is Extract<Payload, { type: T }> => p.type === type),
    enqueue: (p) => void queue.push(p),
    setEvents: (e) => void (events = [...e]),
    failNext(n, status = 503) {
      failures = n;
      failStatus = status;
    },
    misbehave(service, f) {
      fault = f === undefined ? undefined : { service, fault: f };
      faultHits = 0;
    },
    faultHits: () => faultHits,
    push(baseUrl, service, payload, contentType = 'application/xml', method = 'POST') {
      const body = typeof payload === 'string' ? payload : encodeOadr(payload);
      const url = new URL(`OpenADR2/Simple/2.0b/${service}`, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
      return new Promise((resolve, reject) => {
        const req = httpRequest(url, { method, headers: { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
          void buffer(res).then((b) => resolve({ status: res.statusCode ?? 0, body: b.toString('utf8') }));
        });
        req.on('error', reject);
        req.end(method === 'POST' ? body : undefined);
      });
    },
    waitFor(predicate, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        if (predicate(received)) return resolve();
        const check = (): void => {
          if (!predicate(received)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`scripted VTN: condition not met within ${timeoutMs} ms; received ${received.map((r) => r.payload.type).join(', ')}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
