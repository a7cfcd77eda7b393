/**
 * The VEN's side of EiOpt (R200–R211, rules digest §5), pure: the opt schedules it has sent, the
 * oadrCreateOpt / oadrCancelOpt payloads, and the re-run of the opt policy when the device's
 * status changes mid-event.
 *
 * - An availability schedule (no eventID) carries one or more vavailability windows (R200, R206);
 *   duration 0 means open-ended (R210). An event opt (qualifiedEventID, R206) carries neither
 *   windows nor marketContext and changes the VEN's opt state for that event after its
 *   oadrCreatedEvent; the VTN keeps it against later oadrCreatedEvent answers.
 * - eiTarget always names the VEN (R208); resourceIDs / endDeviceAssets narrow it (R202, R209).
 *   No resources = the whole VEN, which is what the VTN's `availableAt` and event view count.
 * - State is `{ opts }` keyed by optID, `pending` until the VTN's oadrCreatedOpt 200 arrives; the
 *   VEN keeps it in its data directory and resends pending ones when it is operational again.
 */
import { formatDuration, ResponseCode, type CancelOpt, type CreateOpt, type OPT_REASONS } from '../oadr/index.ts';
import type { DeviceLimits, DeviceReading } from './devices/device.ts';
import { VenError, VenErrorCode } from './errors.ts';
import { eventWindow, type EventStoreState, type StoredEvent } from './event-store.ts';
import type { OptPolicy, OptTypeValue } from './opt-policy.ts';
import { resolveSignal, type PowerCommand, type SignalMapOptions } from './signal-map.ts';

export type OptReasonValue = (typeof OPT_REASONS)[number];

export const OptStatus = { PENDING: 'pending', ACKNOWLEDGED: 'acknowledged' } as const;
export type OptStatusValue = (typeof OptStatus)[keyof typeof OptStatus];

/** One availability window: `durationMs` 0 = open-ended (R210). */
export interface OptWindowInput {
  readonly start: Date | number | string;
  readonly durationMs: number;
}

/** What `ven.opt.schedule(...)` takes. */
export interface OptScheduleInput {
  /** Default: a new ID. The same optID again replaces that schedule (R204). */
  readonly optId?: string | undefined;
  readonly optType: OptTypeValue;
  /** Default `participating` for optIn, `notParticipating` for optOut. */
  readonly optReason?: OptReasonValue | undefined;
  /** A program of the VTN (R205); schedules only. */
  readonly marketContext?: string | undefined;
  /** Availability windows; required without `eventId`, forbidden with it (R206). */
  readonly windows?: readonly OptWindowInput[] | undefined;
  /** An event opt (R206): the event, and its modificationNumber (default: the one the VEN holds). */
  readonly eventId?: string | undefined;
  readonly modificationNumber?: number | undefined;
  /** The VEN's resources the opt is for (R202); default none = the whole VEN. */
  readonly resourceIds?: readonly string[] | undefined;
  /** oadrDeviceClass endDeviceAsset mrids (R209). */
  readonly deviceClass?: readonly string[] | undefined;
}

/** One stored opt, as sent. */
export interface OptRecord {
  readonly optId: string;
  readonly optType: OptTypeValue;
  readonly optReason: OptReasonValue;
  readonly marketContext?: string | undefined;
  readonly windows: readonly { readonly dtstart: string; readonly duration: string }[];
  readonly eventId?: string | undefined;
  readonly modificationNumber?: number | undefined;
  readonly resourceIds: readonly string[];
  readonly deviceClass: readonly string[];
  readonly requestId: string;
  readonly createdDateTime: string;
  readonly status: OptStatusValue;
}

export interface OptState {
  readonly opts: Readonly<Record<string, OptRecord>>;
}

export const EMPTY_OPT_STATE: OptState = { opts: {} };

const invalid = (message: string): never => {
  throw new VenError(VenErrorCode.INVALID_CONFIG, message);
};

/** Builds the record of a new opt, checked as the VTN will check it (R200, R206, R210). */
export function newOptRecord(input: Readonly<OptScheduleInput>, ctx: { readonly now: number; readonly optId: string; readonly requestId: string; readonly events: EventStoreState }): OptRecord {
  if (input.optType !== 'optIn' && input.optType !== 'optOut') invalid(`optType must be optIn or optOut, got ${String(input.optType)}`);
  const windows = input.windows ?? [];
  let modificationNumber: number | undefined;
  if (input.eventId !== undefined) {
    if (windows.length > 0 || input.marketContext !== undefined) invalid('an opt on an event carries no availability windows and no marketContext (R206)');
    const held = ctx.events.events[input.eventId];
    // R206: oadrCreateOpt on an event only when the event was `always` when last received.
    if (held !== undefined && held.event.responseRequired !== 'always') invalid(`event ${input.eventId} was last received with responseRequired never: the VEN may not opt on it with oadrCreateOpt (R206)`);
    modificationNumber = input.modificationNumber ?? held?.event.descriptor.modificationNumber;
    if (modificationNumber === undefined) invalid(`event ${input.eventId} is not known to this VEN; give its modificationNumber (R206)`);
  } else if (windows.length === 0) {
    invalid('an opt schedule without an eventId needs at least one availability window (R206)');
  }
  const out = windows.map((w, i) => {
    const startMs = w.start instanceof Date ? w.start.getTime() : typeof w.start === 'number' ? w.start : Date.parse(w.start);
    if (!Number.isFinite(startMs)) invalid(`window ${i}: start ${String(w.start)} is not a time`);
    if (!Number.isFinite(w.durationMs) || w.durationMs < 0) invalid(`window ${i}: durationMs must be ≥ 0 (0 = open-ended, R210)`);
    return { dtstart: new Date(startMs).toISOString(), duration: formatDuration(w.durationMs) };
  });
  return {
    optId: ctx.optId,
    optType: input.optType,
    optReason: input.optReason ?? (input.optType === 'optIn' ? 'participating' : 'notParticipating'),
    ...(input.marketContext === undefined ? {} : { marketContext: input.marketContext }),
    windows: out,
    ...(input.eventId === undefined ? {} : { eventId: input.eventId, modificationNumber }),
    resourceIds: [...(input.resourceIds ?? [])],
    deviceClass: [...(input.deviceClass ?? [])],
    requestId: ctx.requestId,
    createdDateTime: new Date(ctx.now).toISOString(),
    status: OptStatus.PENDING,
  };
}

/** oadrCreateOpt for a record (R200: vavailability; R206: qualifiedEventID; R208: eiTarget names this VEN). */
export function createOptPayload(record: OptRecord, venId: string): CreateOpt {
  const p: CreateOpt = {
    type: 'CreateOpt',
    schemaVersion: '2.0b',
    optId: record.optId,
    optType: record.optType,
    optReason: record.optReason,
    venId,
    createdDateTime: record.createdDateTime,
    requestId: record.requestId,
    target: { venIds: [venId], ...(record.resourceIds.length === 0 ? {} : { resourceIds: [...record.resourceIds] }) },
  };
  if (record.marketContext !== undefined) p.marketContext = record.marketContext;
  if (record.windows.length > 0) p.availability = record.windows.map((w) => ({ dtstart: w.dtstart, duration: w.duration }));
  if (record.eventId !== undefined) p.qualifiedEventId = { eventId: record.eventId, modificationNumber: record.modificationNumber ?? 0 };
  if (record.deviceClass.length > 0) p.deviceClass = { endDeviceAssets: [...record.deviceClass] };
  return p;
}

export function cancelOptPayload(optId: string, venId: string, requestId: string): CancelOpt {
  return { type: 'CancelOpt', schemaVersion: '2.0b', requestId, optId, venId };
}

export function putOpt(state: OptState, record: OptRecord): OptState {
  return { opts: { ...state.opts, [record.optId]: record } };
}

export function removeOpt(state: OptState, optId: string): OptState {
  if (state.opts[optId] === undefined) return state;
  const opts = { ...state.opts };
  delete opts[optId];
  return { opts };
}

export function acknowledgeOpt(state: OptState, optId: string): OptState {
  const r = state.opts[optId];
  return r === undefined ? state : putOpt(state, { ...r, status: OptStatus.ACKNOWLEDGED });
}

/** The opt state the VEN's own latest event opt gives each event (the VTN keeps it, R206). */
export function eventOptTypes(state: OptState): Map<string, OptTypeValue> {
  const latest = new Map<string, OptRecord>();
  for (const r of Object.values(state.opts)) {
    if (r.eventId === undefined || r.resourceIds.length > 0 || r.deviceClass.length > 0) continue;
    const cur = latest.get(r.eventId);
    if (cur === undefined || r.createdDateTime >= cur.createdDateTime) latest.set(r.eventId, r);
  }
  return new Map([...latest].map(([id, r]) => [id, r.optType]));
}

/** Drops event opts of events the VEN no longer holds (ended, cancelled, forgotten). */
export function pruneEventOpts(state: OptState, events: EventStoreState): OptState {
  let next = state;
  for (const r of Object.values(state.opts)) if (r.eventId !== undefined && events.events[r.eventId] === undefined) next = removeOpt(next, r.optId);
  return next;
}

/** An event the re-run policy now opts out of. */
export interface OptOutChange {
  readonly eventId: string;
  readonly modificationNumber: number;
  readonly optReason: OptReasonValue;
  readonly reason: string;
}

/** The status of a device that the policy depends on and that can change mid-event. */
export function deviceStatusKey(reading: DeviceReading | undefined): string {
  return reading === undefined ? 'unknown' : `${reading.online ? 'online' : 'offline'}/${reading.manualOverride ? 'override' : 'auto'}`;
}

function commandsOf(stored: StoredEvent, signals: Readonly<SignalMapOptions> | undefined): PowerCommand[] {
  const s = stored.signalIndex === undefined ? undefined : stored.event.signals[stored.signalIndex];
  if (s === undefined) return [];
  const r = resolveSignal(s, signals);
  return r.ok ? s.intervals.map((iv) => r.command(iv.value)) : [];
}

/**
 * CHOICE (device status change mid-event): the policy is run again for every opted-in, non-test
 * event that has not ended; those it now opts out of are returned, to go to the VTN as an
 * oadrCreateOpt optOut with qualifiedEventID (R206) — reason `outageRunStatus` when offline,
 * `overrideStatus` under manual override. The VEN never opts back in on its own when the device
 * returns (the VTN has planned without it; an operator can, with `ven.opt.schedule`).
 */
export function optOutsOnStatusChange(
  events: EventStoreState,
  ctx: { readonly now: number; readonly policy: OptPolicy; readonly reading: DeviceReading | undefined; readonly limits: DeviceLimits | undefined; readonly signals?: Readonly<SignalMapOptions> | undefined },
): OptOutChange[] {
  const out: OptOutChange[] = [];
  for (const [eventId, stored] of Object.entries(events.events)) {
    if (stored.optType !== 'optIn' || stored.test || stored.stopAtMs !== undefined) continue;
    if (stored.event.responseRequired === 'never') continue; // R206: such an event cannot be opted
    if (eventWindow(stored).endMs <= ctx.now) continue;
    const d = ctx.policy({ eventId, commands: commandsOf(stored, ctx.signals), reading: ctx.reading, limits: ctx.limits, test: false });
    if (d.optType !== 'optOut') continue;
    const optReason: OptReasonValue = ctx.reading === undefined || !ctx.reading.online ? 'outageRunStatus' : ctx.reading.manualOverride ? 'overrideStatus' : 'notParticipating';
    out.push({ eventId, modificationNumber: stored.event.descriptor.modificationNumber, optReason, reason: d.reason });
  }
  return out;
}

/** The VTN's answer code as a VenError when it is not 200. */
export function optAnswerError(what: string, optId: string, code: number, description: string | undefined): VenError | undefined {
  if (code === ResponseCode.OK) return undefined;
  return new VenError(VenErrorCode.OPT_REFUSED, `the VTN refused ${what} ${optId} with ${code}${description === undefined || description === '' ? '' : `: ${description}`}; fix the opt and send it again`, { responseCode: code });
}
