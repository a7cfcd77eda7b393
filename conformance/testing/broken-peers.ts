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

type CreateOpt = Extract<Payload, { type: 'CreateOpt' }>;
const mapOpt = (p: Payload, f: (o: CreateOpt) => CreateOpt): Payload | undefined => (p.type === 'CreateOpt' ? f(p) : undefined);
const isSchedule = (o: CreateOpt): boolean => o.qualifiedEventId === undefined;

/** VEN: x-eiNotification in every vavailability window (breaks R200). */
export const venOptWindowsWithNotification: Rewrites = {
  request: (p) => mapOpt(p, (o) => ({ ...o, availability: (o.availability ?? []).map((w) => ({ ...w, notification: 'PT10M' })) })),
};

/** VEN: eiTarget of its opts without its venID (breaks R208). */
export const venOptTargetWithoutVenId: Rewrites = {
  request: (p) => mapOpt(p, (o) => ({ ...o, target: { ...o.target, venIds: undefined, groupIds: ['conformance-group'] } })),
};

/** VEN: open-ended availability windows sent as one hour (breaks R210). */
export const venOptOpenEndedAsOneHour: Rewrites = {
  request: (p) => mapOpt(p, (o) => ({ ...o, availability: (o.availability ?? []).map((w) => (w.duration === 'PT0S' || w.duration === 'P0D' ? { ...w, duration: 'PT1H' } : w)) })),
};

/** VEN: resource-level schedules widened to the whole VEN, the resourceIDs dropped (breaks R202). */
export const venOptDroppingResources: Rewrites = {
  request: (p) => mapOpt(p, (o) => ({ ...o, target: { ...o.target, resourceIds: undefined } })),
};

/** VEN: event opts with a vavailability window and a marketContext (breaks R206). */
export const venEventOptWithAvailability: Rewrites = {
  request: (p) => mapOpt(p, (o) => (isSchedule(o) ? o : { ...o, marketContext: 'http://MarketContext1', availability: [{ dtstart: new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 3_600_000).toISOString(), duration: 'PT1H' }] })),
};

/** VEN: oadrCancelOpt with another venID (breaks R208). */
export const venCancellingWithForeignVenId: Rewrites = {
  request: (p) => (p.type === 'CancelOpt' ? { ...p, venId: 'someone-else' } : undefined),
};

/** VEN: before its next availability schedule, opts out of the last event it got with responseRequired never (breaks R206). */
export function venOptingOnNeverEvents(): Rewrites {
  const never: string[] = [];
  const done = new Set<string>();
  return {
    response: (p) => {
      if (p.type === 'DistributeEvent') for (const e of p.events ?? []) if (e.responseRequired === 'never' && !done.has(e.descriptor.eventId)) never.push(e.descriptor.eventId);
      return undefined;
    },
    request: (p) => {
      const eventId = never.at(-1);
      if (p.type !== 'CreateOpt' || !isSchedule(p) || eventId === undefined) return undefined;
      for (const id of never) done.add(id);
      never.length = 0;
      return { before: { ...p, optId: `${p.optId}-never`, availability: [], qualifiedEventId: { eventId, modificationNumber: 0 } } };
    },
  };
}

/** VEN: before its next availability schedule, cancels the optID of its last event opt (breaks R211). */
export function venCancellingEventOpts(): Rewrites {
  let eventOpt: string | undefined;
  return {
    request: (p) => {
      if (p.type !== 'CreateOpt') return undefined;
      if (!isSchedule(p)) {
        eventOpt = p.optId;
        return undefined;
      }
      if (eventOpt === undefined) return undefined;
      const optId = eventOpt;
      eventOpt = undefined;
      return { before: { type: 'CancelOpt', schemaVersion: '2.0b', requestId: 'broken-cancel', optId, venId: p.venId } };
    },
  };
}

/** VEN: told to poll as fast as it likes (oadrRequestedOadrPollFreq PT0S), while the suite asked for its own (breaks R500, §9.1.8). */
export const venPollingFasterThanAsked: Rewrites = {
  response: (p) => (p.type === 'CreatedPartyRegistration' && p.pollFrequency !== undefined ? { ...p, pollFrequency: 'PT0S' } : undefined),
};
