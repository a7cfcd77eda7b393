/**
 * Deliberately broken peers: our VTN and VEN with one fault each, made by rewriting their payloads
 * on the wire (rewriting-proxy.ts). The suite must fail each on the rule it breaks.
 */
import type { OadrEvent, Payload } from '../../oadr/index.ts';
import type { Rewrites } from './rewriting-proxy.ts';

const mapEvents = (p: Payload, f: (events: OadrEvent[]) => OadrEvent[]): Payload | undefined => (p.type === 'DistributeEvent' ? { ...p, events: f(p.events ?? []) } : undefined);

/** VTN: every event keeps modificationNumber 0, whatever changed (breaks R5, R10). */
export const vtnReusingModificationNumbers: Rewrites = {
  response: (p) => mapEvents(p, (events) => events.map((e) => ({ ...e, descriptor: { ...e.descriptor, modificationNumber: 0 } }))),
};

/** VTN: only the first event of each oadrDistributeEvent, the pending ones after it dropped (breaks R50). */
export const vtnOmittingPendingEvents: Rewrites = {
  response: (p) => mapEvents(p, (events) => events.slice(0, 1)),
};

/** VTN: LOAD_DISPATCH signals in energy units (Wh) instead of power (breaks R104). */
export const vtnWithWrongSignalUnit: Rewrites = {
  response: (p) =>
    mapEvents(p, (events) =>
      events.map((e) => ({ ...e, signals: e.signals.map((s) => (s.signalName === 'LOAD_DISPATCH' ? { ...s, itemBase: { type: 'energyReal' as const, description: 'RealEnergy' as const, units: 'Wh' as const, siScaleCode: 'none' as const } } : s)) })),
    ),
};

/** VTN: a data report (oadrUpdateReport) is answered with oadrResponse, not oadrUpdatedReport (breaks §8.3.2). */
export const vtnAnsweringReportsWithoutUpdatedReport: Rewrites = {
  response: (p, request) => (request?.type === 'UpdateReport' && p.type === 'UpdatedReport' ? { type: 'Response', schemaVersion: '2.0b', response: p.response, ...(p.venId === undefined ? {} : { venId: p.venId }) } : undefined),
};

/** VEN: never sends oadrCreatedEvent (the proxy swallows it and acknowledges it itself; breaks R12). */
export const venNeverSendingCreatedEvent: Rewrites = {
  request: (p) => (p.type === 'CreatedEvent' ? { answer: { type: 'Response', schemaVersion: '2.0b', response: { code: 200, requestId: '' }, venId: p.venId } } : undefined),
};

/** VEN: report intervals newest first (a one-interval report gets an earlier interval appended after it; breaks R314). */
export const venReportingIntervalsOutOfOrder: Rewrites = {
  request: (p) => {
    if (p.type !== 'UpdateReport') return undefined;
    return {
      ...p,
      reports: (p.reports ?? []).map((r) => {
        const iv = r.intervals ?? [];
        const first = iv[0];
        if (first === undefined) return r;
        const withStart = iv.length > 1 ? iv : [first, { ...first, dtstart: new Date(Date.parse(first.dtstart ?? r.dtstart ?? new Date().toISOString()) - 60_000).toISOString() }];
        const reversed = [...withStart].reverse();
        return iv.length > 1 ? { ...r, intervals: reversed } : { ...r, intervals: withStart };
      }),
    };
  },
};
