/**
 * The VTN's event model and the pure functions over it: the status from the clock (R13, R47),
 * which events a VEN receives (R50, R52, R66), their order (R15, R3), and the `OadrEvent` a VEN
 * gets with its own signal values (R2, R8, R14, R29, R63, R100, R103, R105, R115), and the one a 2.0a
 * VEN gets (R7, R9, R113, §7.1). No I/O, no clock of its own: `now` is always an argument.
 */
import { formatDuration, type EventSignal, type ItemBase, type OadrEvent } from '../../oadr/index.ts';

export type OptType = 'optIn' | 'optOut';

/** One VEN's view of one event. */
/** powerReal in W at 50 Hz, 230 V AC: the units of the load-amount signals and of baselines. */
export const POWER_REAL_W: ItemBase = {
  type: 'powerReal',
  description: 'RealPower',
  units: 'W',
  siScaleCode: 'none',
  powerAttributes: { hertz: 50, voltage: 230, ac: true },
};

export interface EventVenState {
  readonly eventId: string;
  readonly venId: string;
  /** Signal values for this VEN, by signalID, one per interval. */
  readonly values: Readonly<Record<string, readonly number[]>>;
  /** The VEN's baseline for the event, W per interval (an event from the ledger: its customer's, frozen with the allocation); sent as eiEventBaseline. */
  readonly baselineW?: readonly number[] | undefined;
  readonly optType: OptType | undefined;
  readonly optModificationNumber: number | undefined;
  readonly optAt: number | undefined;
  /** Why the opt state is what it is, when the VTN set it (an availability schedule, R201) or oadrCreateOpt gave one. */
  readonly optReason?: string | undefined;
  /** requestID the VEN echoed in its eventResponse (R42). */
  readonly optRequestId: string | undefined;
  /** The VEN acknowledged the cancellation (R36, R50). */
  readonly cancelAcked: boolean;
  /** Deliveries of the cancelled event so far (R52), at most one per poll frequency (`cancelCountedAt`). */
  readonly cancelDeliveries: number;
  /** When a delivery of the cancelled event was last counted. */
  readonly cancelCountedAt?: number | undefined;
  readonly lastDeliveredAt: number | undefined;
}

export type EventStatus = 'far' | 'near' | 'active' | 'completed' | 'cancelled';
export type ResponseRequired = 'always' | 'never';

export interface VtnSignal {
  readonly signalId: string;
  /** A Table 1 name (`LOAD_DISPATCH`, `SIMPLE`…) or an `x-` name. */
  readonly signalName: string;
  readonly signalType: EventSignal['signalType'];
  readonly itemBase: ItemBase | undefined;
  /** Values for every VEN without its own, one per interval; undefined when each VEN has its own. */
  readonly values: readonly number[] | undefined;
}

export interface VtnEvent {
  readonly eventId: string;
  readonly programId: string;
  readonly marketContext: string;
  /** Creation order, the last tie-break of R15. */
  readonly seq: number;
  readonly createdAt: number;
  /** R4: 0 at creation; R5, R10: +1 on every change and on cancellation. */
  readonly modificationNumber: number;
  readonly modifiedAt: number;
  readonly modificationReason: string | undefined;
  readonly startMs: number;
  /** Duration of each interval; their sum is the event's duration, 0 meaning open-ended (R47). */
  readonly intervalsMs: readonly number[];
  readonly notificationMs: number;
  readonly rampUpMs: number | undefined;
  readonly recoveryMs: number | undefined;
  readonly startAfterMs: number | undefined;
  /** R3: 1 highest, larger lower, 0 none (lowest). */
  readonly priority: number;
  readonly testEvent: boolean;
  readonly vtnComment: string | undefined;
  readonly responseRequired: ResponseRequired;
  readonly signals: readonly VtnSignal[];
  /** The VENs the event targets (each receives it with only its own venID in eiTarget, R63). */
  readonly venIds: readonly string[];
  /** VENs a modification took out of the targets: each receives the event as cancelled (R10) until it acknowledges (R36, R52). */
  readonly removedVenIds?: readonly string[];
  readonly cancelled: boolean;
}

/** The event as one VEN sees it: cancelled for a VEN a modification took out of its targets. */
export function eventFor(e: VtnEvent, venId: string): VtnEvent {
  return e.cancelled || e.removedVenIds === undefined || !e.removedVenIds.includes(venId) ? e : { ...e, cancelled: true };
}

export const eventDurationMs = (e: VtnEvent): number => e.intervalsMs.reduce((a, b) => a + b, 0);

/** End of the active period; Infinity for an open-ended event (R47). */
export function eventEndMs(e: VtnEvent): number {
  const d = eventDurationMs(e);
  return d === 0 ? Number.POSITIVE_INFINITY : e.startMs + d;
}

/** Status from the clock, ignoring cancellation (R13: far → near at ramp-up → active at dtstart → completed). */
export function scheduleStatus(e: VtnEvent, now: number): Exclude<EventStatus, 'cancelled'> {
  if (now >= eventEndMs(e)) return 'completed';
  if (now >= e.startMs) return 'active';
  if (e.rampUpMs !== undefined && e.rampUpMs > 0 && now >= e.startMs - e.rampUpMs) return 'near';
  return 'far';
}

export function eventStatus(e: VtnEvent, now: number): EventStatus {
  return e.cancelled ? 'cancelled' : scheduleStatus(e, now);
}

/**
 * Whether a VEN still receives an event (R50): far, near and active ones; a cancelled one until
 * the VEN acknowledges it, it completes or `cancelRetries` deliveries pass (R36, R52); a completed
 * one with startafter until dtstart + duration + startafter (R66).
 */
export function isDeliverable(e: VtnEvent, state: EventVenState, now: number, cancelRetries: number): boolean {
  const status = scheduleStatus(e, now);
  const r66 = status === 'completed' && (e.startAfterMs ?? 0) > 0 && now < eventEndMs(e) + (e.startAfterMs ?? 0);
  if (e.cancelled) {
    if (state.cancelAcked || state.cancelDeliveries >= cancelRetries) return false;
    return status !== 'completed' || r66;
  }
  return status !== 'completed' || r66;
}

/**
 * A delivery of a cancelled event counts against `cancelRetries` (R52) when it is the first, or
 * comes a poll frequency after the last one counted: a burst of deliveries for other reasons (new
 * events polled one after another) does not use up the VEN's time to acknowledge.
 */
export function countsAsCancelDelivery(state: Pick<EventVenState, 'cancelDeliveries' | 'cancelCountedAt'>, now: number, pollFrequencyMs: number): boolean {
  return state.cancelDeliveries === 0 || state.cancelCountedAt === undefined || now - state.cancelCountedAt >= pollFrequencyMs;
}

const priorityRank = (p: number): number => (p === 0 ? Number.POSITIVE_INFINITY : p);

/**
 * R15 order: active before pending; active by priority (0 last, R3), then dtstart; pending by
 * dtstart; events kept only by R66 last (CHOICE); ties by creation sequence, then eventID, so the
 * order is stable across replies. A cancelled event keeps the place of its schedule status.
 */
export function compareForDistribution(a: VtnEvent, b: VtnEvent, now: number): number {
  const group = (e: VtnEvent): number => {
    const s = scheduleStatus(e, now);
    return s === 'active' ? 0 : s === 'completed' ? 2 : 1;
  };
  const ga = group(a);
  const gb = group(b);
  if (ga !== gb) return ga - gb;
  if (ga === 0) {
    const pa = priorityRank(a.priority);
    const pb = priorityRank(b.priority);
    if (pa !== pb) return pa < pb ? -1 : 1;
  }
  if (a.startMs !== b.startMs) return a.startMs - b.startMs;
  if (a.seq !== b.seq) return a.seq - b.seq;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** Values of one signal for one VEN. */
export function signalValues(e: VtnEvent, s: VtnSignal, state: Pick<EventVenState, 'values'>): readonly number[] | undefined {
  return state.values[s.signalId] ?? s.values;
}

/** Index of the interval in force at `now`, or -1 outside the active period. */
export function currentIntervalIndex(e: VtnEvent, now: number): number {
  if (now < e.startMs || now >= eventEndMs(e)) return -1;
  let t = e.startMs;
  for (let i = 0; i < e.intervalsMs.length; i++) {
    const d = e.intervalsMs[i] as number;
    if (d === 0 || now < t + d) return i;
    t += d;
  }
  return e.intervalsMs.length - 1;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The `oadrEvent` one VEN receives. `createdDateTime` is the same for every event of one
 * payload (R115): the caller passes the time the payload is built.
 */
export function toOadrEvent(e: VtnEvent, venId: string, state: Pick<EventVenState, 'values' | 'baselineW'>, now: number, createdDateTime: string): OadrEvent {
  const idx = e.cancelled ? -1 : currentIntervalIndex(e, now);
  const signals: EventSignal[] = e.signals.map((s) => {
    const values = signalValues(e, s, state) ?? [];
    const sig: EventSignal = {
      intervals: e.intervalsMs.map((d, i) => ({ duration: formatDuration(d), uid: String(i), value: values[i] ?? 0 })),
      signalName: s.signalName as EventSignal['signalName'],
      signalType: s.signalType,
      signalId: s.signalId,
      // R14, R29: the value in force now; 0 outside the active period.
      currentValue: idx < 0 ? 0 : (values[idx] ?? 0),
    };
    if (s.itemBase !== undefined) sig.itemBase = s.itemBase;
    return sig;
  });
  const properties: OadrEvent['activePeriod'] = {
    dtstart: iso(e.startMs),
    duration: formatDuration(eventDurationMs(e)),
    notification: formatDuration(e.notificationMs),
  };
  if (e.startAfterMs !== undefined && e.startAfterMs > 0) properties.startAfter = formatDuration(e.startAfterMs);
  if (e.rampUpMs !== undefined) properties.rampUp = formatDuration(e.rampUpMs);
  if (e.recoveryMs !== undefined) properties.recovery = formatDuration(e.recoveryMs);
  const descriptor: OadrEvent['descriptor'] = {
    eventId: e.eventId,
    modificationNumber: e.modificationNumber,
    modificationDateTime: iso(e.modifiedAt),
    priority: e.priority,
    marketContext: e.marketContext,
    createdDateTime,
    eventStatus: eventStatus(e, now),
    testEvent: e.testEvent ? 'true' : 'false',
  };
  if (e.modificationReason !== undefined) descriptor.modificationReason = e.modificationReason;
  if (e.vtnComment !== undefined) descriptor.vtnComment = e.vtnComment;
  const event: OadrEvent = {
    descriptor,
    activePeriod: properties,
    signals,
    target: { venIds: [venId] },
    responseRequired: e.responseRequired,
  };
  // R101, R102: the baseline's intervals are the event's, uid from 0, durations adding up to its own.
  const baselineW = state.baselineW;
  if (baselineW !== undefined && baselineW.length === e.intervalsMs.length && !e.cancelled) {
    event.baseline = {
      dtstart: iso(e.startMs),
      duration: formatDuration(eventDurationMs(e)),
      intervals: e.intervalsMs.map((d, i) => ({ duration: formatDuration(d), uid: String(i), value: baselineW[i] ?? 0 })),
      baselineId: `baseline-${e.eventId}`,
      resourceIds: [],
      baselineName: 'customer baseline',
      itemBase: POWER_REAL_W,
    };
  }
  return event;
}

/** The one signal a 2.0a VEN receives: SIMPLE, level (R7, R69). */
const SIMPLE_20A: Omit<VtnSignal, 'values'> = { signalId: 'simple', signalName: 'SIMPLE', signalType: 'level', itemBase: undefined };

/**
 * The `oadrEvent` a 2.0a VEN receives (§7.1): exactly one SIMPLE signal with the given levels (R7,
 * R9), currentValue always present (R113; 0 outside the active period, R14), no
 * modificationDateTime or modificationReason.
 */
export function toOadrEvent20a(e: VtnEvent, venId: string, simpleLevels: readonly number[], now: number, createdDateTime: string): OadrEvent {
  const signal: VtnSignal = { ...SIMPLE_20A, values: simpleLevels };
  const event = toOadrEvent({ ...e, signals: [signal] }, venId, { values: {} }, now, createdDateTime);
  const { modificationDateTime: _, modificationReason: __, ...descriptor } = event.descriptor;
  return { ...event, descriptor };
}
