/**
 * The adapter for our own VTN: its admin REST API (docs/vtn.md), JSON over HTTP(S) with a bearer
 * token, and with the admin client certificate when the VTN serves the API over mutual TLS. Events
 * are created per VEN (`perVenReductionW`), without the ledger's allocation.
 */
import { request } from 'node:https';
import type { AdapterAction, AdapterOrder, VtnAdapter } from './adapter.ts';

export interface AdminAdapterOptions {
  /** The admin API's base, e.g. `https://127.0.0.1:8080/api/v1`. */
  readonly url: string;
  readonly token: string;
  /** The admin client certificate chain and key, and the CAs trusted for the VTN (PEM): mutual TLS. */
  readonly tls?: { readonly cert?: string | undefined; readonly key?: string | undefined; readonly ca?: string | undefined } | undefined;
}

type Call = (method: string, url: string, headers: Record<string, string>, body: string | undefined) => Promise<{ status: number; text: string }>;

const viaFetch: Call = async (method, url, headers, body) => {
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: res.status, text: await res.text() };
};

/** HTTPS with a client certificate (global fetch cannot present one). */
const viaTls =
  (tls: NonNullable<AdminAdapterOptions['tls']>): Call =>
  (method, url, headers, body) =>
    new Promise((resolve, reject) => {
      const req = request(url, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) }, cert: tls.cert, key: tls.key, ca: tls.ca, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer from the admin API within 30 s (${method} ${url})`)));
      req.on('error', reject);
      req.end(body);
    });

export function createAdminAdapter(options: Readonly<AdminAdapterOptions>): VtnAdapter {
  const base = options.url.replace(/\/+$/, '');
  const send = options.tls === undefined ? viaFetch : viaTls(options.tls);
  const call = async (method: string, path: string, body?: unknown): Promise<void> => {
    const headers = { authorization: `Bearer ${options.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const res = await send(method, `${base}${path}`, headers, body === undefined ? undefined : JSON.stringify(body));
    if (res.status < 200 || res.status > 299) throw new Error(`the admin API answered ${method} ${path} with HTTP ${res.status}: ${res.text.slice(0, 300)}`);
  };
  const order = (o: AdapterOrder): string => encodeURIComponent(o.venId);
  const actions: Record<AdapterAction, (o: AdapterOrder) => Promise<void>> = {
    'issue-event': (o) =>
      call('POST', '/events', {
        ...(o.eventId === undefined ? {} : { eventId: o.eventId }),
        start: new Date(o.startMs ?? Date.now()).toISOString(),
        durationMinutes: o.durationMinutes ?? 15,
        perVenReductionW: { [o.venId]: [...(o.values ?? [1000])] },
        ...(o.priority === undefined ? {} : { priority: o.priority }),
        ...(o.responseRequired === undefined ? {} : { responseRequired: o.responseRequired }),
        ...(o.startAfterMs === undefined ? {} : { startAfterMs: o.startAfterMs }),
      }),
    'modify-event': (o) => call('PATCH', `/events/${encodeURIComponent(o.eventId ?? '')}`, { perVenReductionW: { [o.venId]: [...(o.values ?? [500])] } }),
    'cancel-event': (o) => call('POST', `/events/${encodeURIComponent(o.eventId ?? '')}/cancel`, {}),
    'request-report': (o) => call('POST', `/vens/${order(o)}/report-requests`),
    'cancel-registration': (o) => call('POST', `/vens/${order(o)}/cancel-registration`),
    'request-reregistration': (o) => call('POST', `/vens/${order(o)}/request-reregistration`),
  };
  return { name: 'admin', perform: (action, o) => actions[action](o) };
}
