/**
 * The VEN's event store (rules digest 4.5, 4.6, 4.8, 4.9): a pure state machine. `receiveEvents`
 * takes an oadrDistributeEvent and returns the new store and the oadrCreatedEvent to send;
 * `activeSetting` says what the device must do at an instant; `planAction` turns two settings into
 * a start / modify / stop. No I/O: the clock and the random source are passed in.
 */
import { durationToMs, ResponseCode, type CreatedEvent, type DistributeEvent, type EventResponse, type OadrEvent, type Target } from '../oadr/index.ts';
import type { DeviceLimits, DeviceReading } from './devices/device.ts';
import type { OptPolicy, OptTypeValue } from './opt-policy.ts';
import { DEFAULT_SIGNAL_PREFERENCE, resolveSignal, SignalUse, type PowerCommand, type SignalMapOptions } from './signal-map.ts';

/** Who this VEN is, for vtnID checks (R21) and target matching (R22, R48, R111). */
export interface VenIdentity {
  readonly venId: string;
  readonly vtnId: string;
  readonly resourceIds?: readonly string[];
  readonly groupIds?: readonly string[];
  readonly partyIds?: readonly string[];
  /** endDeviceAsset mrids this VEN controls (R111), e.g. `Storage`, `Smart_Inverter`. */
  readonly endDeviceAssets?: readonly string[];
  /** Market contexts served; undefined accepts any (R48 allows that by configuration). */
  readonly marketContexts?: readonly string[];
}

export interface StoredEvent {
  readonly event: OadrEvent;
  /** requestID of the oadrDistributeEvent that delivered this version (R42). */
  readonly requestId: string;
  /** The random start offset drawn from [0, startafter] (R30), ms. */
  readonly offsetMs: number;
  readonly optType: OptTypeValue;
  readonly optReason: string;
  /** testEvent other than `false` (R6): acknowledged, never actuated. */
  readonly test: boolean;
  /** Index of the signal used for actuation; undefined when no signal actuates (prices). */
  readonly signalIndex: number | undefined;
  /** Set on an explicit or implied cancellation: the instant the event stops (R59, R61, R65). */
  readonly stopAtMs?: number | undefined;
}

export interface EventStoreState {
  readonly events: Readonly<Record<string, StoredEvent>>;
}

export const EMPTY_EVENT_STORE: EventStoreState = { events: {} };

export interface ReceiveContext {
  readonly identity: VenIdentity;
  readonly now: number;
  /** Uniform in [0, 1): the R30 / R65 draws. */
  readonly random: () => number;
  readonly optPolicy: OptPolicy;
  readonly signals?: Readonly<SignalMapOptions> | undefined;
  readonly reading?: DeviceReading | undefined;
  readonly limits?: DeviceLimits | undefined;
}

export const EventOutcomeKind = {
  NEW: 'new',
  MODIFIED: 'modified',
  UNCHANGED: 'unchanged',
  STALE: 'stale',
  CANCELLED: 'cancelled',
  UNKNOWN_CANCELLED: 'unknown-cancelled',
  REJECTED: 'rejected',
  IMPLIED_CANCEL: 'implied-cancel',
} as const;
export type EventOutcomeKindValue = (typeof EventOutcomeKind)[keyof typeof EventOutcomeKind];

export interface EventOutcome {
  readonly eventId: string;
  readonly kind: EventOutcomeKindValue;
  readonly code: number;
  readonly optType: OptTypeValue | undefined;
  readonly reason: string;
}

export interface ReceiveResult {
  readonly state: EventStoreState;
  /** The oadrCreatedEvent to send, or undefined when nothing asks for one (R62 `never`). */
  readonly createdEvent: CreatedEvent | undefined;
  readonly outcomes: readonly EventOutcome[];
}

// ---- helpers ----------------------------------------------------------------------------------

const ms = (dateTime: string): number => Date.parse(dateTime);

/** R6 + R46: absent or empty testEvent is not a test; `false` is not a test; anything else is. */
export function isTestEvent(event: OadrEvent): boolean {
  const t = event.descriptor.testEvent?.trim();
  return t !== undefined && t !== '' && t.toLowerCase() !== 'false';
}

/** R512: compare market contexts after RFC 3986 normalisation (scheme and host case-insensitive). */
export function normalizeMarketContext(uri: string): string {
  try {
    const u = new URL(uri.trim());
    return u.href;
  } catch {
    return uri.trim();
  }
}

const intersects = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  a !== undefined && b !== undefined && a.some((x) => b.includes(x));

const isEmptyTarget = (t: Target): boolean => Object.values(t).every((v) => v === undefined || (Array.isArray(v) && v.length === 0));

/** R22, §8.2.1: empty eiTarget targets the VEN; otherwise any matching criterion does (ORed). */
export function targetMatches(target: Target, identity: VenIdentity): boolean {
  if (isEmptyTarget(target)) return true;
  return (
    (target.venIds ?? []).includes(identity.venId) ||
    intersects(target.resourceIds, identity.resourceIds) ||
    intersects(target.groupIds, identity.groupIds) ||
    intersects(target.partyIds, identity.partyIds) ||
    intersects(target.endDeviceAssets, identity.endDeviceAssets)
  );
}

/** The effective window of a stored event (R30, R47, R18): start inclusive, end exclusive. */
export function eventWindow(stored: StoredEvent): { readonly startMs: number; readonly endMs: number } {
  const p = stored.event.activePeriod;
  const dtstart = ms(p.dtstart);
  const startMs = dtstart + stored.offsetMs;
  const durationMs = durationToMs(p.duration, dtstart);
  let endMs = durationMs === 0 ? Infinity : startMs + durationMs;
  if (stored.stopAtMs !== undefined) endMs = Math.min(endMs, stored.stopAtMs);
  return { startMs, endMs };
}

const startAfterMs = (event: OadrEvent): number => {
  const sa = event.activePeriod.startAfter;
  return sa === undefined ? 0 : Math.max(0, durationToMs(sa, ms(event.activePeriod.dtstart)));
};

interface Check {
  readonly code: number;
  readonly reason: string;
  readonly signalIndex?: number | undefined;
  readonly commands?: readonly PowerCommand[];
}

/** Validates a new or modified event; on success picks the actuating signal. */
function checkEvent(event: OadrEvent, ctx: ReceiveContext): Check {
  const d = event.descriptor;
  const { identity } = ctx;
  if (identity.marketContexts !== undefined) {
    const mc = normalizeMarketContext(d.marketContext);
    if (!identity.marketContexts.some((m) => normalizeMarketContext(m) === mc)) {
      return { code: ResponseCode.TARGET_MISMATCH, reason: `marketContext ${d.marketContext} is not served by this VEN (R48)` };
    }
  }
  if (!targetMatches(event.target, identity)) return { code: ResponseCode.TARGET_MISMATCH, reason: 'eiTarget does not name this VEN or its resources (R48)' };
  const p = event.activePeriod;
  const dtstart = ms(p.dtstart);
  let durationMs: number;
  try {
    durationMs = durationToMs(p.duration, dtstart);
    startAfterMs(event);
  } catch {
    return { code: ResponseCode.INVALID_DATA, reason: `bad duration ${p.duration} (R33)` };
  }
  if (durationMs < 0) return { code: ResponseCode.INVALID_DATA, reason: 'negative event duration (R33)' };
  for (const s of event.signals) {
    if (durationMs === 0) break; // R47: open-ended; the intervals need not add up
    let sum = 0;
    for (const i of s.intervals) sum += i.duration === undefined ? 0 : durationToMs(i.duration, dtstart);
    if (sum !== durationMs) return { code: ResponseCode.INVALID_DATA, reason: `signal ${s.signalId}: intervals sum to ${sum} ms, the event lasts ${durationMs} ms (R33)` };
  }
  const resolved = event.signals.map((s) => resolveSignal(s, ctx.signals));
  for (const [i, r] of resolved.entries()) {
    if (!r.ok) return { code: r.code, reason: r.reason };
    const s = event.signals[i];
    const mrids = s?.target?.endDeviceAssets;
    // R111 + R112: a signal aimed at device classes this VEN does not have cannot be resolved.
    if (mrids !== undefined && mrids.length > 0 && !intersects(mrids, identity.endDeviceAssets)) {
      return { code: ResponseCode.DEPLOYMENT_ERROR, reason: `signal ${s?.signalId ?? i} targets ${mrids.join(', ')}: no such resource on this VEN (R112)` };
    }
  }
  const preference = ctx.signals?.preference ?? DEFAULT_SIGNAL_PREFERENCE;
  let signalIndex: number | undefined;
  let rank = Infinity;
  for (const [i, r] of resolved.entries()) {
    if (!r.ok || r.use !== SignalUse.ACTUATE) continue;
    const name = event.signals[i]?.signalName ?? '';
    const k = preference.indexOf(name);
    const rk = k < 0 ? preference.length : k;
    if (rk < rank) {
      rank = rk;
      signalIndex = i;
    }
  }
  const end = durationMs === 0 ? Infinity : dtstart + durationMs + startAfterMs(event);
  if (end <= ctx.now) return { code: ResponseCode.NOT_ALLOWED, reason: 'the event ended before it arrived (R33)' };
  let commands: PowerCommand[] = [];
  if (signalIndex !== undefined) {
    const r = resolved[signalIndex];
    const s = event.signals[signalIndex];
    if (r !== undefined && r.ok && s !== undefined) commands = s.intervals.map((iv) => r.command(iv.value));
  }
  return { code: ResponseCode.OK, reason: 'OK', signalIndex, commands };
}

// ---- receiving --------------------------------------------------------------------------------

/** Processes one oadrDistributeEvent (R56–R62, R19, R21, R30, R33, R48, R59–R61, R65, R109, R112). */
export function receiveEvents(state: EventStoreState, payload: DistributeEvent, ctx: ReceiveContext): ReceiveResult {
  const { identity, now } = ctx;
  const requestId = payload.requestId;
  const events = payload.events ?? [];
  const anyAlways = events.some((e) => e.responseRequired === 'always');
  // R21: a wrong vtnID is an error for the whole payload; the store is left alone.
  if (payload.vtnId !== identity.vtnId) {
    return {
      state,
      createdEvent: anyAlways ? createdEvent(identity.venId, [], { code: ResponseCode.INVALID_ID, description: `vtnID ${payload.vtnId} is not ${identity.vtnId} (R21)`, requestId }) : undefined,
      outcomes: [],
    };
  }
  // An oadrDistributeEvent that carries an error (an answer to oadrRequestEvent) is not a full set.
  if (payload.response !== undefined && payload.response.code !== ResponseCode.OK) return { state, createdEvent: undefined, outcomes: [] };

  const next: Record<string, StoredEvent> = { ...state.events };
  const outcomes: EventOutcome[] = [];
  const responses: EventResponse[] = [];
  const seen = new Set<string>();
  const respond = (e: OadrEvent, kind: EventOutcomeKindValue, code: number, optType: OptTypeValue, reason: string): void => {
    outcomes.push({ eventId: e.descriptor.eventId, kind, code, optType, reason });
    if (e.responseRequired !== 'always') return; // R62: `never` gets no answer
    responses.push({
      code,
      ...(code === ResponseCode.OK ? {} : { description: reason }),
      requestId,
      qualifiedEventId: { eventId: e.descriptor.eventId, modificationNumber: e.descriptor.modificationNumber },
      optType,
    });
  };

  for (const e of events) {
    const id = e.descriptor.eventId;
    const mod = e.descriptor.modificationNumber;
    seen.add(id);
    const known = state.events[id];
    if (known !== undefined && mod < known.event.descriptor.modificationNumber) {
      respond(e, EventOutcomeKind.STALE, ResponseCode.OUT_OF_SEQUENCE, 'optOut', `modificationNumber ${mod} is lower than ${known.event.descriptor.modificationNumber} (R58)`);
      continue;
    }
    if (e.descriptor.eventStatus === 'cancelled') {
      if (known === undefined) {
        respond(e, EventOutcomeKind.UNKNOWN_CANCELLED, ResponseCode.OK, 'optIn', 'cancelled event was not known (R60)');
      } else {
        next[id] = cancel(known, e, requestId, now, ctx.random);
        respond(e, EventOutcomeKind.CANCELLED, ResponseCode.OK, 'optIn', 'cancellation confirmed (R59, R36)');
      }
      continue;
    }
    if (known !== undefined && mod === known.event.descriptor.modificationNumber) {
      // R62: answered again with the same opt state; nothing changes (the VTN's status may have).
      next[id] = { ...known, event: e, requestId };
      respond(e, EventOutcomeKind.UNCHANGED, ResponseCode.OK, known.optType, known.optReason);
      continue;
    }
    const check = checkEvent(e, ctx);
    if (check.code !== ResponseCode.OK) {
      // R19: one bad event does not sink the batch. A rejected modification drops the old version too.
      delete next[id];
      respond(e, EventOutcomeKind.REJECTED, check.code, 'optOut', check.reason);
      continue;
    }
    const test = isTestEvent(e);
    const decision = ctx.optPolicy({ eventId: id, commands: check.commands ?? [], reading: ctx.reading, limits: ctx.limits, test });
    const window = startAfterMs(e);
    // R30: draw the offset once; a modification keeps it unless startafter itself changed.
    const offsetMs =
      known !== undefined && startAfterMs(known.event) === window ? known.offsetMs : window === 0 ? 0 : Math.floor(ctx.random() * (window + 1));
    next[id] = { event: e, requestId, offsetMs, optType: decision.optType, optReason: decision.reason, test, signalIndex: check.signalIndex };
    respond(e, known === undefined ? EventOutcomeKind.NEW : EventOutcomeKind.MODIFIED, ResponseCode.OK, decision.optType, decision.reason);
  }

  // R61: a known event the VTN no longer sends is cancelled implicitly (randomised stop, R65).
  for (const [id, stored] of Object.entries(state.events)) {
    if (seen.has(id) || stored.stopAtMs !== undefined) continue;
    next[id] = cancel(stored, stored.event, stored.requestId, now, ctx.random);
    outcomes.push({ eventId: id, kind: EventOutcomeKind.IMPLIED_CANCEL, code: ResponseCode.OK, optType: undefined, reason: 'left out of the last oadrDistributeEvent (R61)' });
  }

  const pruned = pruneEvents({ events: next }, now);
  return {
    state: pruned,
    createdEvent: responses.length > 0 ? createdEvent(identity.venId, responses) : undefined,
    outcomes,
  };
}

/** R59, R61, R65: stop now, or after a random delay in [0, startafter] for a randomised event. */
function cancel(stored: StoredEvent, event: OadrEvent, requestId: string, now: number, random: () => number): StoredEvent {
  const window = startAfterMs(stored.event);
  const delay = window === 0 ? 0 : Math.floor(random() * (window + 1));
  const stopAtMs = stored.stopAtMs === undefined ? now + delay : Math.min(stored.stopAtMs, now + delay);
  return { ...stored, event, requestId, stopAtMs };
}

/** Drops cancelled events whose stop instant has passed. */
export function pruneEvents(state: EventStoreState, now: number): EventStoreState {
  let changed = false;
  const events: Record<string, StoredEvent> = {};
  for (const [id, s] of Object.entries(state.events)) {
    if (s.stopAtMs !== undefined && s.stopAtMs <= now) changed = true;
    else events[id] = s;
  }
  return changed ? { events } : state;
}

function createdEvent(venId: string, eventResponses: EventResponse[], response = { code: ResponseCode.OK as number, description: 'OK', requestId: '' }): CreatedEvent {
  // R42: eiResponse/requestID stays empty when eventResponses are present; R35: they are mandatory unless the eiResponse is an error.
  return {
    type: 'CreatedEvent',
    schemaVersion: '2.0b',
    response,
    ...(eventResponses.length > 0 ? { eventResponses } : {}),
    venId,
  };
}

/**
 * A later opt change for a known event (§8.1: a new oadrCreatedEvent, with the delivering
 * requestID, R42). Undefined createdEvent when the event is unknown or was last received `never` (R206).
 */
export function changeOpt(state: EventStoreState, eventId: string, optType: OptTypeValue, reason: string, venId: string): { state: EventStoreState; createdEvent: CreatedEvent | undefined } {
  const stored = state.events[eventId];
  if (stored === undefined || stored.optType === optType) return { state, createdEvent: undefined };
  const updated: StoredEvent = { ...stored, optType, optReason: reason };
  const nextState = { events: { ...state.events, [eventId]: updated } };
  if (stored.event.responseRequired !== 'always') return { state: nextState, createdEvent: undefined };
  const d = stored.event.descriptor;
  return {
    state: nextState,
    createdEvent: createdEvent(venId, [{ code: ResponseCode.OK, requestId: stored.requestId, qualifiedEventId: { eventId, modificationNumber: d.modificationNumber }, optType }]),
  };
}

// ---- schedule ---------------------------------------------------------------------------------

export interface ActiveSetting {
  readonly eventId: string;
  readonly modificationNumber: number;
  readonly intervalIndex: number;
  readonly command: PowerCommand;
}

/** Start of each interval of the stored event's actuating signal, relative to the event start, ms. */
function intervalStarts(stored: StoredEvent): number[] {
  const s = stored.signalIndex === undefined ? undefined : stored.event.signals[stored.signalIndex];
  if (s === undefined) return [];
  const from = ms(stored.event.activePeriod.dtstart);
  const starts: number[] = [];
  let t = 0;
  for (const iv of s.intervals) {
    starts.push(t);
    t += iv.duration === undefined ? 0 : durationToMs(iv.duration, from);
  }
  return starts;
}

const priorityRank = (p: number | undefined): number => (p === undefined || p === 0 ? Number.MAX_SAFE_INTEGER : p);

/**
 * What the device must do at `now`: the opted-in, non-test events active then; among
 * overlapping ones (R18) the highest priority (R3: 1 first, 0 last), then the later start.
 * Ends are exclusive and starts inclusive, so back-to-back events hand over at the boundary.
 * The received eventStatus is ignored (R114): the window decides.
 */
export function activeSetting(state: EventStoreState, now: number): ActiveSetting | undefined {
  let best: { s: StoredEvent; startMs: number } | undefined;
  for (const s of Object.values(state.events)) {
    if (s.optType !== 'optIn' || s.test || s.signalIndex === undefined) continue;
    const { startMs, endMs } = eventWindow(s);
    if (now < startMs || now >= endMs) continue;
    if (
      best === undefined ||
      priorityRank(s.event.descriptor.priority) < priorityRank(best.s.event.descriptor.priority) ||
      (priorityRank(s.event.descriptor.priority) === priorityRank(best.s.event.descriptor.priority) && startMs > best.startMs)
    ) {
      best = { s, startMs };
    }
  }
  if (best === undefined) return undefined;
  const signal = best.s.event.signals[best.s.signalIndex ?? 0];
  if (signal === undefined) return undefined;
  const starts = intervalStarts(best.s);
  const elapsed = now - best.startMs;
  let index = 0;
  for (const [i, st] of starts.entries()) if (st <= elapsed) index = i;
  const r = resolveSignalCommand(best.s, index);
  if (r === undefined) return undefined;
  return { eventId: best.s.event.descriptor.eventId, modificationNumber: best.s.event.descriptor.modificationNumber, intervalIndex: index, command: r };
}

function resolveSignalCommand(stored: StoredEvent, index: number, options?: Readonly<SignalMapOptions>): PowerCommand | undefined {
  const s = stored.signalIndex === undefined ? undefined : stored.event.signals[stored.signalIndex];
  const iv = s?.intervals[index];
  if (s === undefined || iv === undefined) return undefined;
  const r = resolveSignal(s, options);
  return r.ok ? r.command(iv.value) : undefined;
}

/** The next instant after `now` at which `activeSetting` may change (an event or interval boundary). */
export function nextChangeAt(state: EventStoreState, now: number): number | undefined {
  let next = Infinity;
  for (const s of Object.values(state.events)) {
    const { startMs, endMs } = eventWindow(s);
    const candidates = [startMs, endMs, ...intervalStarts(s).map((t) => startMs + t)];
    if (s.stopAtMs !== undefined) candidates.push(s.stopAtMs);
    for (const c of candidates) if (c > now && c < next) next = c;
  }
  return Number.isFinite(next) ? next : undefined;
}

export type DeviceAction =
  | { readonly type: 'none' }
  | { readonly type: 'start'; readonly setting: ActiveSetting }
  | { readonly type: 'modify'; readonly setting: ActiveSetting }
  | { readonly type: 'stop'; readonly eventId: string };

const sameCommand = (a: PowerCommand, b: PowerCommand): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The device action that takes the device from `previous` to `next`. */
export function planAction(previous: ActiveSetting | undefined, next: ActiveSetting | undefined): DeviceAction {
  if (previous === undefined) return next === undefined ? { type: 'none' } : { type: 'start', setting: next };
  if (next === undefined) return { type: 'stop', eventId: previous.eventId };
  if (previous.eventId === next.eventId && sameCommand(previous.command, next.command)) return { type: 'none' };
  return { type: 'modify', setting: next };
}
