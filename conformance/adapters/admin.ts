/**
 * The adapter for our own VTN: its admin REST API (docs/vtn.md), JSON over HTTP(S) with a bearer
 * token. Events are created per VEN (`perVenReductionW`), without the ledger's allocation.
 */
import type { AdapterAction, AdapterOrder, VtnAdapter } from './adapter.ts';

export interface AdminAdapterOptions {
  /** The admin API's base, e.g. `https://127.0.0.1:8080/api/v1`. */
  readonly url: string;
  readonly token: string;
  /** Injected for TLS with the operator's client certificate (default: global fetch). */
  readonly fetch?: typeof fetch;
}

export function createAdminAdapter(options: Readonly<AdminAdapterOptions>): VtnAdapter {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const call = async (method: string, path: string, body?: unknown): Promise<void> => {
    const res = await doFetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${options.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`the admin API answered ${method} ${path} with HTTP ${res.status}: ${text.slice(0, 300)}`);
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
