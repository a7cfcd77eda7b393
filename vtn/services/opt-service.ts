/**
 * EiOpt on the VTN (R200–R211, rules §5): availability schedules and event-qualifying opts from
 * oadrCreateOpt, checked (R200, R205, R206, R208, R209), stored per VEN and optID, superseded as
 * R203 says, cancelled by oadrCancelOpt (R204, R211), and honoured: an event opt sets the VEN's opt
 * state for that event (and only another oadrCreateOpt changes it afterwards, R206), and
 * `availableAt` answers whether a VEN's schedules leave it available at a time.
 *
 * Program decisions of R201, per program (`ProgramConfig`): which schedules are accepted
 * (`optSchedules`), whether time no schedule covers is available (`optUncovered`), which type wins
 * where optIn and optOut overlap (`optOverlapWinner`), and whether a VEN unavailable during part of
 * a new event's window still receives it, recorded as opted out, or not at all
 * (`eventsWhenUnavailable`; either way it is left out of a ledger event's allocation). Overlaps
 * within one type are allowed (R203 already replaces a VEN's earlier schedules of a type). The
 * program of a schedule is the one its marketContext names (R205), else the VEN's customer's.
 */
import { durationToMs as durationMsFrom, OadrProtocolError, ResponseCode, type CancelOpt, type CreatedEvent, type CreateOpt, type Payload, type Target } from '../../oadr/index.ts';
import { SCHEMA_VERSION, eiResponse, requireVen, type VtnContext } from './context.ts';
import { eventEndMs } from './event-model.ts';
import type { OptType } from './event-model.ts';
import { queueLedgerOpt } from './ledger-opt-work.ts';
import { programOfVen } from './report-service.ts';
import type { ProgramConfig } from '../cli/config.ts';

/** R111 / R209: the endDeviceAsset mrids a device class may name (plus `x-…`). */
export const END_DEVICE_ASSETS = [
  'Thermostat', 'Strip_Heater', 'Baseboard_Heater', 'Water_Heater', 'Pool_Pump', 'Sauna', 'Hot_tub', 'Smart_Appliance', 'Irrigation_Pump',
  'Managed_Commercial_and_Industrial_Loads', 'Simple_Residential_On_Off_Loads', 'Exterior_Lighting', 'Interior_Lighting', 'Electric_Vehicle',
  'Generation_Systems', 'Load_Control_Switch', 'Smart_Inverter', 'EVSE', 'RESU', 'Energy_Management_System', 'Smart_Energy_Module', 'Storage',
] as const;

/** One availability window; `endMs` undefined = open-ended (R210). */
export interface OptWindow {
  readonly startMs: number;
  readonly endMs: number | undefined;
}

/** One use of an optID: for a set of resources (empty = all of the VEN's), an event or a schedule. */
export interface OptEntry {
  readonly optType: OptType;
  readonly optReason: string;
  readonly marketContext: string | undefined;
  /** Event opt: the event and the modificationNumber named. */
  readonly eventId: string | undefined;
  readonly modificationNumber: number | undefined;
  /** Resources named in eiTarget besides the venID (resourceID, endDeviceAsset…); empty = every resource (R202). */
  readonly resources: readonly string[];
  readonly deviceClass: readonly string[];
  readonly windows: readonly OptWindow[];
  readonly requestId: string;
  readonly createdAt: number;
  /** R203: a later schedule replaced this one from this instant on. */
  readonly supersededAt: number | undefined;
  /** R203: a later schedule naming some resources replaced this one for those resources, from these instants on; it goes on for the others. */
  readonly supersededFor?: Readonly<Record<string, number>>;
}

/** What the store holds under (venID, optID). */
export interface StoredOpt {
  readonly optId: string;
  readonly entries: readonly OptEntry[];
}

export interface OptView extends OptEntry {
  readonly optId: string;
  readonly venId: string;
}

export interface OptAtOptions {
  /** Only schedules for this market context, and those without one, apply (R205). */
  readonly marketContext?: string;
  /**
   * One resource of the VEN (as `OptEntry.resources` names it: a resourceID, `endDeviceAsset:…`,
   * `group:…`, `meter:…`, `sdp:…`): the schedules naming it and the whole-VEN ones not superseded
   * for it (R202, R203). Absent: the VEN as a whole — its whole-VEN schedules.
   */
  readonly resource?: string;
}

export interface OptApi {
  /** Every stored opt entry of a VEN, oldest first. */
  list(venId: string): OptView[];
  /** The schedule entries (not event opts) in force at `time` for the whole VEN, or for `options.resource` (R203). */
  at(venId: string, time: Date | number, options?: OptAtOptions): OptView[];
  /** Whether the VEN's schedules leave it (or `options.resource`) available at `time`, under the R201 choices of the program (the one `marketContext` names, else the VEN's). */
  availableAt(venId: string, time: Date | number, options?: OptAtOptions): boolean;
  /** False when the VEN is unavailable during any part of `[from, to)` (how `events.create` decides, R201). */
  availableDuring(venId: string, from: Date | number, to: Date | number, options?: OptAtOptions): boolean;
}

const fail = (code: ConstructorParameters<typeof OadrProtocolError>[0], message: string): never => {
  throw new OadrProtocolError(code, message);
};

/** RFC 3986 comparison enough for marketContext (R512): scheme and host case-insensitive. */
function sameContext(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}

function resourcesOf(t: Target): string[] {
  return [
    ...(t.resourceIds ?? []),
    ...(t.endDeviceAssets ?? []).map((m) => `endDeviceAsset:${m}`),
    ...(t.groupIds ?? []).map((g) => `group:${g}`),
    ...(t.meterAssets ?? []).map((m) => `meter:${m}`),
    ...(t.serviceDeliveryPoints ?? []).map((n) => `sdp:${n}`),
  ].sort();
}

function stored(raw: unknown, optId: string): StoredOpt {
  const o = raw as Partial<StoredOpt> | null;
  return { optId, entries: o !== null && typeof o === 'object' && Array.isArray(o.entries) ? o.entries : [] };
}

function listStored(ctx: VtnContext, venId: string): StoredOpt[] {
  return ctx.store.listOpts(venId).map((r) => stored(r.opt, r.optId));
}

/** R209: oadrDeviceClass holds only endDeviceAsset, with R111 values or `x-…`. */
function checkDeviceClass(t: Target | undefined): string[] {
  if (t === undefined) return [];
  const others = Object.entries(t).filter(([k, v]) => k !== 'endDeviceAssets' && Array.isArray(v) && v.length > 0);
  if (others.length > 0) fail(ResponseCode.COMPLIANCE_ERROR, `oadrDeviceClass holds only endDeviceAsset, not ${others.map(([k]) => k).join(', ')} (R209)`);
  const mrids = t.endDeviceAssets ?? [];
  for (const m of mrids) {
    if (!m.startsWith('x-') && !(END_DEVICE_ASSETS as readonly string[]).includes(m)) {
      fail(ResponseCode.INVALID_DATA, `oadrDeviceClass '${m}' is not an endDeviceAsset of R111; use one of the listed mrids or an x- name (R209)`);
    }
  }
  return mrids;
}

function windowsOf(p: CreateOpt): OptWindow[] {
  return (p.availability ?? []).map((pr, i) => {
    if (pr.startAfter !== undefined || pr.notification !== undefined || pr.rampUp !== undefined || pr.recovery !== undefined) {
      fail(ResponseCode.COMPLIANCE_ERROR, `availability ${i} carries tolerance, x-eiNotification, x-eiRampUp or x-eiRecovery; vavailability has none (R200)`);
    }
    const startMs = Date.parse(pr.dtstart);
    let ms: number;
    try {
      ms = durationMsFrom(pr.duration, startMs);
    } catch {
      return fail(ResponseCode.INVALID_DATA, `availability ${i} has an unreadable duration '${pr.duration}'`);
    }
    if (ms < 0) fail(ResponseCode.INVALID_DATA, `availability ${i} has a negative duration '${pr.duration}'`);
    return { startMs, endMs: ms === 0 ? undefined : startMs + ms }; // R210: 0 = open-ended
  });
}

/**
 * oadrCreateOpt: checked, stored, superseding earlier schedules (R203); an event opt for the whole
 * VEN becomes its opt state for the event, and goes to the ledger like an oadrCreatedEvent opt.
 */
export function handleCreateOpt(ctx: VtnContext, p: CreateOpt): Payload {
  const reg = requireVen(ctx, p.venId);
  const now = ctx.now();
  // R208, §8.5.2: eiTarget names this VEN or no VEN at all.
  const foreign = (p.target.venIds ?? []).filter((v) => v !== reg.venId);
  if (foreign.length > 0) fail(ResponseCode.INVALID_ID, `eiTarget names venID '${foreign[0] ?? ''}', not this VEN's '${reg.venId}' (R208)`);
  const eventId = p.qualifiedEventId?.eventId;
  const windows = windowsOf(p);
  if (eventId !== undefined) {
    // R206: an event opt has no vavailability and no marketContext.
    if (windows.length > 0 || p.marketContext !== undefined) fail(ResponseCode.COMPLIANCE_ERROR, 'an opt on an event carries no vavailability and no marketContext (R206)');
  } else if (windows.length === 0) {
    fail(ResponseCode.COMPLIANCE_ERROR, 'an opt schedule without an eventID needs vavailability (R206)');
  }
  const deviceClass = checkDeviceClass(p.deviceClass);
  if (p.marketContext !== undefined && !ctx.programs.list().some((pr) => sameContext(pr.marketContext, p.marketContext as string))) {
    fail(ResponseCode.TARGET_MISMATCH, `marketContext '${p.marketContext}' is not a program of this VTN (R205)`);
  }
  if (eventId === undefined) {
    const program = programOf(ctx, reg.venId, p.marketContext);
    if (program.optSchedules !== 'both' && program.optSchedules !== p.optType) {
      fail(ResponseCode.NOT_ALLOWED, `program '${program.id}' accepts only ${program.optSchedules} schedules, not ${p.optType} (R201)`);
    }
  }
  if (eventId !== undefined) {
    const e = ctx.store.getEvent(eventId);
    const state = e === undefined ? undefined : ctx.store.getEventVen(eventId, reg.venId);
    if (e === undefined || state === undefined) return fail(ResponseCode.INVALID_ID, `eventID '${eventId}' is not an event of VEN ${reg.venId} (R206)`);
    if (e.removedVenIds?.includes(reg.venId) === true) fail(ResponseCode.NOT_ALLOWED, `event '${eventId}' no longer targets VEN ${reg.venId}; it is cancelled for it`);
    if (e.responseRequired === 'never') fail(ResponseCode.COMPLIANCE_ERROR, `event '${eventId}' is sent with responseRequired never; it cannot be opted by oadrCreateOpt (R206)`);
    if ((p.qualifiedEventId?.modificationNumber ?? 0) > e.modificationNumber) {
      fail(ResponseCode.OUT_OF_SEQUENCE, `event '${eventId}' is at modificationNumber ${e.modificationNumber}, the opt names ${p.qualifiedEventId?.modificationNumber ?? 0}`);
    }
    if (now >= eventEndMs(e) && !e.cancelled) fail(ResponseCode.NOT_ALLOWED, `event '${eventId}' has completed; its opt state cannot change`);
  }
  const entry: OptEntry = {
    optType: p.optType,
    optReason: p.optReason,
    marketContext: p.marketContext,
    eventId,
    modificationNumber: p.qualifiedEventId?.modificationNumber,
    resources: resourcesOf(p.target),
    deviceClass,
    windows,
    requestId: p.requestId,
    createdAt: now,
    supersededAt: undefined,
  };
  const wholeVen = entry.resources.length === 0 && deviceClass.length === 0;
  ctx.store.transaction(() => {
    if (eventId === undefined) {
      // R203: a venID-only schedule replaces every earlier one of its type from now on; one naming
      // resources replaces earlier ones for those resources only.
      for (const o of listStored(ctx, reg.venId)) {
        let changed = false;
        const entries = o.entries.map((x) => {
          if (x.eventId !== undefined || x.optType !== entry.optType || x.supersededAt !== undefined) return x;
          if (entry.marketContext !== undefined && (x.marketContext === undefined || !sameContext(x.marketContext, entry.marketContext))) return x;
          const covered = entry.resources.length === 0 || (x.resources.length > 0 && x.resources.every((r) => entry.resources.includes(r)));
          if (covered) {
            changed = true;
            return { ...x, supersededAt: now };
          }
          // Split: the older schedule goes on for the resources the new one does not name.
          const named = (x.resources.length === 0 ? entry.resources : x.resources.filter((r) => entry.resources.includes(r))).filter((r) => x.supersededFor?.[r] === undefined);
          if (named.length === 0) return x;
          changed = true;
          return { ...x, supersededFor: { ...x.supersededFor, ...Object.fromEntries(named.map((r) => [r, now])) } };
        });
        if (changed) ctx.store.putOpt(reg.venId, o.optId, { optId: o.optId, entries }, now);
      }
    }
    // R204: an optID may be used for several resource sets; the same set again replaces its entry.
    const prev = stored(ctx.store.listOpts(reg.venId).find((r) => r.optId === p.optId)?.opt, p.optId);
    const key = (x: OptEntry): string => `${x.eventId ?? ''}|${x.resources.join(',')}|${x.deviceClass.join(',')}`;
    const entries = [...prev.entries.filter((x) => key(x) !== key(entry)), entry];
    ctx.store.putOpt(reg.venId, p.optId, { optId: p.optId, entries }, now);
    if (eventId !== undefined && wholeVen) {
      const e = ctx.store.getEvent(eventId);
      const state = ctx.store.getEventVen(eventId, reg.venId);
      if (e !== undefined && state !== undefined) {
        ctx.store.putEventVen({ ...state, optType: p.optType, optModificationNumber: e.modificationNumber, optAt: now, optRequestId: p.requestId, optReason: p.optReason });
      }
      // The event's opt state goes to the ledger through the outbox, written with the opt itself.
      queueLedgerOpt(ctx, { eventId, modificationNumber: e?.modificationNumber ?? 0, venId: reg.venId, customerId: reg.customerId, optType: p.optType, at: now });
    }
  });
  ctx.log.info({ venId: reg.venId, optId: p.optId, optType: p.optType, eventId, resources: entry.resources, windows: windows.length }, 'opt stored');
  if (eventId !== undefined && wholeVen) ctx.ledgerWork?.kick();
  if (eventId === undefined && wholeVen) ctx.availabilityChanged?.(reg.venId);
  return { type: 'CreatedOpt', schemaVersion: SCHEMA_VERSION, response: eiResponse(ResponseCode.OK, p.requestId), optId: p.optId };
}

/** oadrCancelOpt: the optID goes for every resource set it was used for (R204); a superseded one too, without error (R211). */
export function handleCancelOpt(ctx: VtnContext, p: CancelOpt): Payload {
  const reg = requireVen(ctx, p.venId);
  if (!ctx.store.deleteOpt(reg.venId, p.optId)) fail(ResponseCode.INVALID_ID, `VEN ${reg.venId} has no opt '${p.optId}' (R208)`);
  ctx.log.info({ venId: reg.venId, optId: p.optId }, 'opt cancelled');
  return { type: 'CanceledOpt', schemaVersion: SCHEMA_VERSION, response: eiResponse(ResponseCode.OK, p.requestId), optId: p.optId };
}

/** The opt type each event's whole-VEN oadrCreateOpt set (the latest wins). */
export function eventOpts(ctx: VtnContext, venId: string): Map<string, OptType> {
  const latest = new Map<string, OptEntry>();
  for (const o of listStored(ctx, venId)) {
    for (const x of o.entries) {
      if (x.eventId === undefined || x.resources.length > 0 || x.deviceClass.length > 0) continue;
      const cur = latest.get(x.eventId);
      if (cur === undefined || x.createdAt >= cur.createdAt) latest.set(x.eventId, x);
    }
  }
  return new Map([...latest].map(([id, x]) => [id, x.optType]));
}

/**
 * The opt state of each resource an event opt named (R202, R206: the latest oadrCreateOpt naming
 * it wins), by eventID; the VEN's own opt state covers the resources none named.
 */
export function resourceEventOpts(ctx: VtnContext, venId: string): Map<string, Record<string, OptType>> {
  const latest = new Map<string, Map<string, OptEntry>>();
  for (const o of listStored(ctx, venId)) {
    for (const x of o.entries) {
      if (x.eventId === undefined) continue;
      const byResource = latest.get(x.eventId) ?? new Map<string, OptEntry>();
      for (const r of [...x.resources, ...x.deviceClass.map((d) => `deviceClass:${d}`)]) {
        const cur = byResource.get(r);
        if (cur === undefined || x.createdAt >= cur.createdAt) byResource.set(r, x);
      }
      latest.set(x.eventId, byResource);
    }
  }
  return new Map([...latest].filter(([, m]) => m.size > 0).map(([id, m]) => [id, Object.fromEntries([...m].map(([r, x]) => [r, x.optType]))]));
}

/**
 * R206: once oadrCreateOpt has set a VEN's opt state for an event, oadrCreatedEvent no longer
 * changes it. The eventResponses of such events keep the opt's type (their acknowledgement of a
 * cancellation still counts).
 */
export function keepOptStates(ctx: VtnContext, p: CreatedEvent): CreatedEvent {
  if (p.eventResponses === undefined || p.eventResponses.length === 0 || ctx.store.getRegistration(p.venId) === undefined) return p;
  const governed = eventOpts(ctx, p.venId);
  if (governed.size === 0) return p;
  const eventResponses = p.eventResponses.map((r) => {
    const optType = governed.get(r.qualifiedEventId.eventId);
    if (optType === undefined || optType === r.optType) return r;
    ctx.log.info({ venId: p.venId, eventId: r.qualifiedEventId.eventId, kept: optType, ignored: r.optType }, 'opt state set by oadrCreateOpt kept; oadrCreatedEvent cannot change it (R206)');
    return { ...r, optType };
  });
  return { ...p, eventResponses };
}

function toMs(t: Date | number): number {
  return t instanceof Date ? t.getTime() : t;
}

/** Every stored opt entry of a VEN, oldest first. */
function listViews(ctx: VtnContext, venId: string): OptView[] {
  const out: OptView[] = [];
  for (const o of listStored(ctx, venId)) for (const x of o.entries) out.push({ ...x, optId: o.optId, venId });
  return out.sort((a, b) => a.createdAt - b.createdAt);
}

/**
 * A schedule (not an event opt) for the market context (R205) that speaks for the VEN as a whole, or
 * for `options.resource`: a whole-VEN one, or one naming that resource (R202).
 */
function isVenSchedule(x: OptEntry, options: OptAtOptions): boolean {
  const wholeVen = x.resources.length === 0 && x.deviceClass.length === 0;
  return (
    x.eventId === undefined &&
    (wholeVen || (options.resource !== undefined && x.resources.includes(options.resource))) &&
    (x.marketContext === undefined || (options.marketContext !== undefined && sameContext(x.marketContext, options.marketContext)))
  );
}

/** The program whose R201 choices apply: the one `marketContext` names (R205), else the VEN's customer's. */
function programOf(ctx: VtnContext, venId: string, marketContext: string | undefined): ProgramConfig {
  const named = marketContext === undefined ? undefined : ctx.programs.list().find((p) => sameContext(p.marketContext, marketContext));
  const reg = ctx.store.getRegistration(venId);
  return named ?? (reg === undefined ? ctx.programs.defaultProgram() : programOfVen(ctx, reg));
}

/** A schedule in force at `t` (for `resource`, when given): not superseded yet (R203), one of its windows covering `t`. */
function inForceAt(x: OptEntry, t: number, resource?: string): boolean {
  const until = resource === undefined ? undefined : x.supersededFor?.[resource];
  return (x.supersededAt === undefined || t < x.supersededAt) && (until === undefined || t < until) && x.windows.some((w) => t >= w.startMs && (w.endMs === undefined || t < w.endMs));
}

/**
 * Why a VEN is unavailable during some part of `[fromMs, toMs)` under the program's R201 choices,
 * or undefined when it is available throughout. CHOICE (R201): unavailable at any instant of an
 * event's window is unavailable for the event. The whole-VEN schedules of the program's market
 * context (and those without one) decide; at each instant where the schedules change: optIn and
 * optOut both in force → `optOverlapWinner`; one of them → that one; none → `optUncovered`.
 */
export function unavailableDuring(ctx: VtnContext, venId: string, fromMs: number, toMs: number, program: ProgramConfig, resource?: string): string | undefined {
  const schedules = listViews(ctx, venId).filter((x) => isVenSchedule(x, { marketContext: program.marketContext, resource }));
  const instants = new Set<number>([fromMs]);
  for (const x of schedules) {
    const split = resource === undefined ? undefined : x.supersededFor?.[resource];
    for (const t of [x.supersededAt, split, ...x.windows.flatMap((w) => [w.startMs, w.endMs])]) if (t !== undefined && t > fromMs && t < toMs) instants.add(t);
  }
  for (const t of [...instants].sort((a, b) => a - b)) {
    const ins = schedules.filter((x) => x.optType === 'optIn' && inForceAt(x, t, resource));
    const outs = schedules.filter((x) => x.optType === 'optOut' && inForceAt(x, t, resource));
    const out = outs[0];
    if (out !== undefined && (ins.length === 0 || program.optOverlapWinner === 'optOut')) {
      return `not available: opt schedule '${out.optId}' (${out.optReason}) covers ${new Date(t).toISOString()} of the event window (R201)`;
    }
    if (ins.length === 0 && out === undefined && program.optUncovered === 'unavailable') {
      return `not available: no optIn schedule covers ${new Date(t).toISOString()} of the event window, and program '${program.id}' counts uncovered time as unavailable (R201)`;
    }
  }
  return undefined;
}

export function createOptApi(ctx: VtnContext): OptApi {
  const list = (venId: string): OptView[] => listViews(ctx, venId);
  const at = (venId: string, time: Date | number, options: OptAtOptions = {}): OptView[] => {
    const t = toMs(time);
    return list(venId).filter((x) => isVenSchedule(x, options) && inForceAt(x, t, options.resource));
  };
  const during = (venId: string, from: number, to: number, options: OptAtOptions) =>
    unavailableDuring(ctx, venId, from, to, programOf(ctx, venId, options.marketContext), options.resource) === undefined;
  return {
    list,
    at,
    availableAt: (venId, time, options = {}) => during(venId, toMs(time), toMs(time) + 1, options),
    availableDuring: (venId, from, to, options = {}) => during(venId, toMs(from), toMs(to), options),
  };
}
