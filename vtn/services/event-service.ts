/**
 * Events on the VTN: the public API (create, modify, cancel, get, list) that the admin REST API
 * and the IEC 104 bridge call, the `oadrDistributeEvent` each VEN receives (R15, R27, R40, R41,
 * R50, R52, R115), `oadrRequestEvent`, and `oadrCreatedEvent` with per-event opt state (R16, R17,
 * R25, R42, R48).
 */
import {
  checkPayloadRules,
  encodeOadr,
  OadrProtocolError,
  ResponseCode,
  type CreatedEvent,
  type DistributeEvent,
  type EventSignal,
  type ItemBase,
  type Payload,
  type RequestEvent,
} from '../../oadr/index.ts';
import { simpleLevelFor, type ProgramConfig } from '../cli/config.ts';
import { SCHEMA_VERSION, eiResponse, oadrResponse, requireVen, type VtnContext } from './context.ts';
import { ledgerError, ledgerUnreachable, VtnError } from '../errors.ts';
import {
  POWER_REAL_W,
  compareForDistribution,
  countsAsCancelDelivery,
  currentIntervalIndex,
  eventDurationMs,
  eventEndMs,
  eventFor,
  eventStatus,
  isDeliverable,
  scheduleStatus,
  signalValues,
  toOadrEvent,
  toOadrEvent20a,
  type EventStatus,
  type ResponseRequired,
  type VtnEvent,
  type VtnSignal,
} from './event-model.ts';
import type { DrEventNotice, LedgerSettlement } from '../ledger/port.ts';
import type { CustomerRecord, EventSagaRecord, VenRegistration } from '../store/store.ts';
import type { EventVenState, OptType } from './event-model.ts';
import { eventOpts, resourceEventOpts, unavailableDuring } from './opt-service.ts';
import { queueLedgerOpt } from './ledger-opt-work.ts';
import { queueDistributeEvent } from '../transports/ven-queue.ts';

/** Signal ids the VTN gives a program's load-amount signals. */
export const SIGNAL_IDS = { LOAD_DISPATCH: 'load-dispatch', SIMPLE: 'simple', 'x-LOAD_AMOUNT': 'load-amount' } as const;

export { POWER_REAL_W } from './event-model.ts';

export interface SignalInput {
  readonly signalId: string;
  readonly signalName: string;
  readonly signalType: EventSignal['signalType'];
  readonly itemBase?: ItemBase;
  /** Values for every targeted VEN without its own (one per slot, or one for all slots). */
  readonly values?: readonly number[] | number;
}

type PerSlot = readonly number[] | number;

export interface CreateEventInput extends EventDeliveryOptions {
  /** Default: the first configured program. */
  readonly programId?: string;
  readonly eventId?: string;
  readonly start: Date | number | string;
  /** Number of intervals, each `slotMs` long from the start (or `intervalsMs`). */
  readonly slots?: number;
  /**
   * The length in whole minutes instead of `slots`: the intervals follow the program's slot grid —
   * off the grid the first runs to the next slot boundary and the last from the last boundary —
   * as for an event from the ledger.
   */
  readonly durationMinutes?: number;
  /** Slot length; default the program's (15 min). */
  readonly slotMs?: number;
  /** Each interval's length when they differ (an event off the slot grid); default `slots` × `slotMs`. */
  readonly intervalsMs?: readonly number[];
  /**
   * Each VEN's load reduction in W (its customer's OPR), per slot or constant: turned into the
   * program's signals (LOAD_DISPATCH delta −W, SIMPLE level, x-LOAD_AMOUNT +W).
   */
  readonly perVenReductionW?: Readonly<Record<string, PerSlot>>;
  /** Explicit signals instead of the program's. */
  readonly signals?: readonly SignalInput[];
  /** Per-VEN values of explicit signals: venID → signalID → values. */
  readonly perVenSignals?: Readonly<Record<string, Readonly<Record<string, PerSlot>>>>;
  /** More targeted VENs, which get the signals' default values. */
  readonly venIds?: readonly string[];
  /** Each VEN's baseline, W per interval, sent as the event's eiEventBaseline (R101, R102). */
  readonly perVenBaselineW?: Readonly<Record<string, readonly number[]>>;
}

/** How an event is delivered, whoever computes its values: the same options for both kinds of event. */
export interface EventDeliveryOptions {
  readonly priority?: number;
  readonly testEvent?: boolean;
  readonly responseRequired?: ResponseRequired;
  readonly startAfterMs?: number;
  readonly rampUpMs?: number;
  readonly recoveryMs?: number;
  readonly notificationMs?: number;
  readonly vtnComment?: string;
}

export interface ModifyEventInput {
  readonly perVenReductionW?: Readonly<Record<string, PerSlot>>;
  readonly perVenSignals?: Readonly<Record<string, Readonly<Record<string, PerSlot>>>>;
  /** New default values by signalID. */
  readonly signalValues?: Readonly<Record<string, PerSlot>>;
  /** New baselines, W per interval (eiEventBaseline). */
  readonly perVenBaselineW?: Readonly<Record<string, readonly number[]>>;
  /** VENs the event targets from now on too; each gets its values from `perVenReductionW` / `perVenSignals`, else the signals' defaults. */
  readonly addVenIds?: readonly string[];
  /** VENs the event no longer targets: each receives it as cancelled until it acknowledges (R10, R36, R52). */
  readonly removeVenIds?: readonly string[];
  /** A new start, before the event has started (R20). */
  readonly start?: Date | number | string;
  /**
   * A new number of intervals (of the event's slot length, or `intervalsMs`). After the start the
   * intervals that have ended stay as they were (R20). When the number changes, every signal's
   * default values and every VEN's own values are given again for the new intervals.
   */
  readonly slots?: number;
  readonly intervalsMs?: readonly number[];
  readonly priority?: number;
  readonly vtnComment?: string;
  readonly modificationReason?: string;
}

/** Who an event from the ledger targets: every enrolled customer, some customers, or groups (a customer's retailer or program). */
export type EventTargets = 'all' | { readonly customerIds: readonly string[] } | { readonly groups: readonly string[] };

/**
 * A utility's request (admin `POST /api/v1/events`): a total reduction the ledger shares among the
 * targeted customers (notifyDRevent); each customer's VEN then receives its own OPR.
 */
export interface LedgerEventInput extends EventDeliveryOptions {
  readonly programId?: string;
  readonly eventId?: string;
  /**
   * Any instant. Off the slot grid the first interval runs to the next slot boundary (and the
   * last from the last boundary to the end): one interval per slot the event overlaps.
   */
  readonly start: Date | number | string;
  /** The duration: a number of slots, or `durationMinutes` (any whole number of minutes). */
  readonly slots?: number;
  readonly durationMinutes?: number;
  /** Total reduction, W, while the event runs: constant or one value per interval. */
  readonly reductionW: PerSlot;
  /** Default 'all'. */
  readonly targets?: EventTargets;
}

/** A new total for an event from the ledger (a new contract version; before the event starts). */
export interface LedgerEventChange {
  /** The total reduction, W, per interval of the (new) schedule, or constant. */
  readonly reductionW: PerSlot;
  /** A new start within the event's day, before the event starts (R20). */
  readonly start?: Date | number | string;
  /** A new duration within the event's day: slots or whole minutes; the slots that have started stay (R20). */
  readonly slots?: number;
  readonly durationMinutes?: number;
  /** New targets, before the start: the ledger shares the total among them; VENs no longer targeted receive the event cancelled. */
  readonly targets?: EventTargets;
  readonly priority?: number;
  readonly vtnComment?: string;
  readonly modificationReason?: string;
}

export interface LedgerEventView extends EventView {
  /** Targeted customers that receive nothing, with the reason (no baseline…). */
  readonly skipped: Readonly<Record<string, string>>;
}

export interface CreateLedgerEventOptions {
  /** Keep the request as a pending creation when the ledger cannot be reached, instead of refusing it. */
  readonly pendingWhenUnreachable: boolean;
}

/**
 * An event from a total reduction the VTN accepted while the ledger could not be reached, before
 * the contract allocated its shares: no VEN has it. `pending` until the ledger answers again (then
 * notifyDRevent runs, keyed by the event id, and the event is created and distributed); `expired`
 * when its start passed first, `cancelled` when the operator cancelled it first (either is never
 * sent; whatever of it reached the ledger is cancelled there); `refused` when the ledger, back,
 * refused it (`reason` says why).
 */
export interface PendingLedgerEventView {
  readonly eventId: string;
  readonly ledger: 'pending' | 'expired' | 'refused' | 'cancelled';
  readonly programId: string;
  /** ISO start and the event's length. */
  readonly start: string;
  readonly durationMinutes: number;
  /** The total reduction asked, W per interval. */
  readonly reductionW: readonly number[];
  /** The customers the ledger is to share it among. */
  readonly customerIds: readonly string[];
  /** When the VTN accepted the request (ISO). */
  readonly acceptedAt: string;
  /** The ledger's last failure, or why it expired, was refused or cancelled. */
  readonly reason?: string;
}

export interface EventVenView {
  readonly venId: string;
  /** The VEN's customer, when it is still registered. */
  readonly customerId?: string | undefined;
  /** The customer's OPR from the ledger, W per slot (events from the ledger only). */
  readonly oprW?: readonly number[] | undefined;
  /** Usage telemetry intervals received from the VEN for the event's period. */
  readonly telemetryPoints?: number;
  readonly lastTelemetryAt?: number | undefined;
  readonly values: Readonly<Record<string, readonly number[]>>;
  readonly optType: OptType | undefined;
  readonly optModificationNumber: number | undefined;
  readonly optAt: number | undefined;
  readonly optReason?: string | undefined;
  /** A modification took the VEN out of the event's targets: it receives the event as cancelled until it acknowledges. */
  readonly removed: boolean;
  /** The VEN's baseline for the event, W per interval (eiEventBaseline). */
  readonly baselineW?: readonly number[] | undefined;
  /** The opt state of the resources an event opt (oadrCreateOpt with the eventID) named; `optType` covers the others (R202, R206). */
  readonly resourceOpts?: Readonly<Record<string, OptType>>;
  readonly cancelAcked: boolean;
  readonly lastDeliveredAt: number | undefined;
}

export interface EventView {
  readonly event: VtnEvent;
  readonly status: EventStatus;
  readonly vens: readonly EventVenView[];
  /**
   * Events from the ledger: customers with an allocation whose VEN has not registered yet; each
   * receives the event when its VEN registers, while the event is pending or active.
   */
  readonly customersWithoutVen?: readonly string[];
  /**
   * Events from the ledger: `open` until the event ends, then `pending` until the settlement
   * scheduler (or `settle`) settles it on the ledger; `settled` or `cancelled` after.
   */
  readonly settlement?: 'open' | 'pending' | 'settled' | 'cancelled';
  /** Events from the ledger: `recorded` (the contract allocated the shares); see PendingLedgerEventView for those waiting. */
  readonly ledger?: 'recorded';
}

export interface EventsApi {
  /** An event with per-VEN values given by the caller. */
  create(input: CreateEventInput): EventView;
  /**
   * An event from the ledger: notifyDRevent, then each targeted customer's VEN gets its own OPR.
   * Rejects with LEDGER_UNAVAILABLE while the ledger cannot be reached (nothing is made).
   */
  create(input: LedgerEventInput): Promise<LedgerEventView>;
  /**
   * The same, but while the ledger cannot be reached the request is kept durably and resolves as
   * pending (`catchUp` completes it when the ledger answers again): the admin API's creation.
   */
  create(input: LedgerEventInput, options: CreateLedgerEventOptions): Promise<LedgerEventView | PendingLedgerEventView>;
  modify(eventId: string, changes: ModifyEventInput): EventView;
  /** A new total for an event from the ledger: modifyDRevent, then each VEN's new OPR. */
  modify(eventId: string, changes: LedgerEventChange): Promise<EventView>;
  /** Cancels at once for the VENs; an event from the ledger is cancelled there too (see `ledgerIdle`). */
  cancel(eventId: string, reason?: string): EventView;
  /**
   * Cancels a pending creation (one of `pendingCreations`): it reads `cancelled` at once, is never
   * created nor sent to a VEN, and is cancelled on the ledger by the outbox's next pass in case the
   * ledger took it (a lost answer, or a creation running now, which then stops before the VENs).
   * Idempotent; NOT_FOUND for no such creation, NOT_ALLOWED for one that expired or was refused.
   */
  cancelPending(eventId: string, reason?: string): PendingLedgerEventView;
  get(eventId: string): EventView | undefined;
  list(): EventView[];
  /** Settlement of an event from the ledger: telemetry of its day closed, availability, tokens. */
  settle(eventId: string): Promise<LedgerSettlement>;
  /** Resolves once the ledger calls started in the background (cancellations, re-allocations) have finished. */
  ledgerIdle(): Promise<void>;
  /** Event creations accepted while the ledger could not be reached, and those that expired or were refused since. */
  pendingCreations(): PendingLedgerEventView[];
  /** One of them, or undefined. */
  pendingCreation(eventId: string): PendingLedgerEventView | undefined;
  /**
   * The ledger work the events owe: pending creations completed (or expired once their start has
   * passed), cancellations the ledger has not taken yet sent again. Rejects, leaving the rest for
   * the next call, while the ledger cannot be reached; the outbox of ledger work calls it at each pass.
   */
  catchUp(): Promise<void>;
  /**
   * After a VEN's availability schedules changed (R201): each of its pending events it is now
   * unavailable for (from now to the event's end) records it as opted out, unless an event opt of
   * its own governs that event (R206); under `eventsWhenUnavailable: 'withhold'` the event is taken
   * from it instead. An event from the ledger that has not started is shared again among the other
   * customers (in the background; `ledgerIdle`). Returns the events it changed.
   */
  applyAvailability(venId: string): string[];
  /**
   * At start, before serving: completes each event creation a crash cut short (the event has not
   * ended) or cancels it on the ledger; returns the event ids by outcome (`left`: retried next start).
   */
  recoverCreations(): Promise<{ readonly completed: readonly string[]; readonly compensated: readonly string[]; readonly left: readonly string[]; readonly pending: readonly string[] }>;
}

function invalid(message: string): never {
  throw new VtnError('INVALID_ARGUMENT', message);
}

function toMs(t: Date | number | string, what: string): number {
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) invalid(`${what} is not a valid time: ${String(t)}`);
  return ms;
}

function perSlot(v: PerSlot, slots: number, what: string): number[] {
  const arr = typeof v === 'number' ? new Array<number>(slots).fill(v) : [...v];
  if (arr.length !== slots) invalid(`${what} has ${arr.length} values for ${slots} slots; give one per slot or a single number`);
  if (arr.some((x) => typeof x !== 'number' || !Number.isFinite(x))) invalid(`${what} must hold finite numbers`);
  return arr;
}

function programSignals(program: ProgramConfig): VtnSignal[] {
  return program.signals.map((name): VtnSignal => {
    switch (name) {
      case 'LOAD_DISPATCH':
        return { signalId: SIGNAL_IDS.LOAD_DISPATCH, signalName: 'LOAD_DISPATCH', signalType: 'delta', itemBase: POWER_REAL_W, values: undefined };
      case 'SIMPLE':
        return { signalId: SIGNAL_IDS.SIMPLE, signalName: 'SIMPLE', signalType: 'level', itemBase: undefined, values: undefined };
      case 'x-LOAD_AMOUNT':
        return { signalId: SIGNAL_IDS['x-LOAD_AMOUNT'], signalName: 'x-LOAD_AMOUNT', signalType: 'setpoint', itemBase: POWER_REAL_W, values: undefined };
    }
  });
}

/** A VEN's values of the program signals for its reduction W (ARCHITECTURE.md, "The load-amount signal"). */
function reductionValues(program: ProgramConfig, signals: readonly VtnSignal[], w: readonly number[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const s of signals) {
    if (s.signalId === SIGNAL_IDS.LOAD_DISPATCH) out[s.signalId] = w.map((x) => (x === 0 ? 0 : -x));
    else if (s.signalId === SIGNAL_IDS.SIMPLE) out[s.signalId] = w.map((x) => simpleLevelFor(program, x));
    else if (s.signalId === SIGNAL_IDS['x-LOAD_AMOUNT']) out[s.signalId] = [...w];
  }
  return out;
}

/** R104 beyond what checkPayloadRules knows: LOAD_DISPATCH level is an integer −10…10. */
function checkValueRanges(e: VtnEvent, venId: string, values: Readonly<Record<string, readonly number[]>>): void {
  for (const s of e.signals) {
    const v = values[s.signalId] ?? s.values;
    if (v === undefined) invalid(`VEN ${venId} has no values for signal ${s.signalId}; give perVenSignals or default values`);
    if (s.signalName === 'LOAD_DISPATCH' && s.signalType === 'level' && v.some((x) => !Number.isInteger(x) || x < -10 || x > 10)) {
      invalid(`R104: LOAD_DISPATCH level values are integers from -10 to 10 (signal ${s.signalId}, VEN ${venId})`);
    }
  }
}

/** Validate an event as each VEN would receive it (R104, R105, R107, R8, R9, R116…); refuse at the API, never distribute. */
function validateForVens(ctx: VtnContext, e: VtnEvent, values: ReadonlyMap<string, Readonly<Record<string, readonly number[]>>>, now: number): void {
  let first = true;
  let first20a = true;
  for (const [venId, v] of values) {
    checkValueRanges(e, venId, v);
    if (ctx.store.getRegistration(venId)?.profileName === '2.0a') {
      // R506, R7, R9: a 2.0a VEN receives the event as SIMPLE levels; refuse at the API what it cannot receive.
      const levels = simpleLevels20a(ctx, e, { values: v });
      if (levels === undefined) {
        invalid(`VEN ${venId} speaks OpenADR 2.0a, which carries SIMPLE levels only (R7): give the event a SIMPLE, x-LOAD_AMOUNT or LOAD_DISPATCH delta (W) signal, or a per-VEN reduction in W`);
      }
      if (levels.some((x) => !Number.isInteger(x) || x < 0 || x > 3)) invalid(`R9: SIMPLE levels are 0, 1, 2 or 3 (VEN ${venId})`);
      if (first20a) {
        try {
          encodeOadr({ type: 'DistributeEvent', requestId: 'validate', vtnId: 'validate', events: [toOadrEvent20a(e, venId, levels, now, new Date(now).toISOString())] }, { profile: '2.0a' });
        } catch (err) {
          throw new VtnError('INVALID_ARGUMENT', `the event cannot be written as OpenADR 2.0a for VEN ${venId}: ${(err as Error).message}`, { cause: err });
        }
        first20a = false;
      }
      continue;
    }
    const payload: DistributeEvent = {
      type: 'DistributeEvent',
      schemaVersion: SCHEMA_VERSION,
      requestId: 'validate',
      vtnId: 'validate',
      events: [toOadrEvent(e, venId, { values: v }, now, new Date(now).toISOString())],
    };
    const errors = checkPayloadRules({ payload }).filter((f) => f.severity === 'error');
    if (errors.length > 0) invalid(`the event is not valid OpenADR 2.0b for VEN ${venId}: ${errors.map((f) => `${f.rule} ${f.message}`).join('; ')}`);
    if (first) {
      try {
        encodeOadr(payload);
      } catch (err) {
        throw new VtnError('INVALID_ARGUMENT', `the event cannot be written as OpenADR 2.0b: ${(err as Error).message}`, { cause: err });
      }
      first = false;
    }
  }
}

/**
 * The SIMPLE levels a 2.0a VEN receives for an event (R7, R9): the event's SIMPLE signal when it
 * has one, else its share in W (x-LOAD_AMOUNT, or LOAD_DISPATCH delta in W) mapped by the program
 * (`simpleLevelsW`, `simpleLevel`); undefined when the event carries neither.
 */
export function simpleLevels20a(ctx: VtnContext, e: VtnEvent, state: Pick<EventVenState, 'values'>): number[] | undefined {
  const find = (id: string): readonly number[] | undefined => {
    const s = e.signals.find((x) => x.signalId === id);
    return s === undefined ? undefined : signalValues(e, s, state);
  };
  const simple = e.signals.find((x) => x.signalName === 'SIMPLE' || x.signalName === 'simple');
  if (simple !== undefined) return [...(signalValues(e, simple, state) ?? [])];
  const program = ctx.programs.get(e.programId);
  if (program === undefined) return undefined;
  const amount = find(SIGNAL_IDS['x-LOAD_AMOUNT']);
  if (amount !== undefined) return amount.map((w) => simpleLevelFor(program, w));
  const dispatch = e.signals.find((x) => x.signalId === SIGNAL_IDS.LOAD_DISPATCH && x.signalType === 'delta');
  const delta = dispatch === undefined ? undefined : signalValues(e, dispatch, state);
  if (delta !== undefined) return delta.map((d) => simpleLevelFor(program, -d));
  return undefined;
}

function newVenState(eventId: string, venId: string, values: Readonly<Record<string, readonly number[]>>): EventVenState {
  return { eventId, venId, values, optType: undefined, optModificationNumber: undefined, optAt: undefined, optRequestId: undefined, cancelAcked: false, cancelDeliveries: 0, lastDeliveredAt: undefined };
}

/** Baselines by VEN, each checked to give one W value per interval. */
function baselinesOf(perVen: Readonly<Record<string, readonly number[]>> | undefined, slots: number): Map<string, number[]> {
  return new Map(Object.entries(perVen ?? {}).map(([venId, w]) => [venId, perSlot(w, slots, `perVenBaselineW[${venId}]`)] as const));
}

/** The VENs among `venIds` that their availability schedules make unavailable during the event, with the reason (R201). */
function unavailableVens(ctx: VtnContext, e: VtnEvent, venIds: readonly string[], program: ProgramConfig): Map<string, string> {
  const out = new Map<string, string>();
  for (const venId of venIds) {
    const reason = unavailableDuring(ctx, venId, e.startMs, eventEndMs(e), program);
    if (reason !== undefined) out.set(venId, reason);
  }
  return out;
}

/**
 * The start and intervals of a modified event: a new start only before the event starts (R20); new
 * intervals keep those that have ended (`pastEnded`) and may not end the event in the past.
 */
function newSchedule(e: VtnEvent, changes: ModifyEventInput, now: number, pastEnded: number, slotMs: number): { startMs: number; intervalsMs: readonly number[] } {
  const startMs = changes.start === undefined ? e.startMs : toMs(changes.start, 'start');
  if (startMs !== e.startMs && now >= e.startMs) throw new VtnError('NOT_ALLOWED', `event '${e.eventId}' has started; its start cannot change (R20) — change its intervals or cancel it`);
  let intervalsMs = e.intervalsMs;
  if (changes.intervalsMs !== undefined || changes.slots !== undefined) {
    const slots = changes.slots ?? changes.intervalsMs?.length ?? 0;
    if (!Number.isInteger(slots) || slots < 1) invalid(`slots must be a positive integer, got ${String(changes.slots)}`);
    intervalsMs = changes.intervalsMs === undefined ? [...e.intervalsMs.slice(0, Math.min(slots, e.intervalsMs.length)), ...new Array<number>(Math.max(0, slots - e.intervalsMs.length)).fill(slotMs)] : [...changes.intervalsMs];
    if (intervalsMs.length !== slots || intervalsMs.some((d) => !Number.isInteger(d) || d < 1000 || d % 1000 !== 0)) invalid(`intervalsMs must give ${slots} whole-second durations`);
    for (let i = 0; i < pastEnded; i++) {
      if (intervalsMs[i] !== e.intervalsMs[i]) throw new VtnError('NOT_ALLOWED', `event '${e.eventId}': interval ${i} has already ended; its duration cannot change (R20)`);
    }
  }
  const endMs = startMs + intervalsMs.reduce((a, b) => a + b, 0);
  if ((startMs !== e.startMs || intervalsMs !== e.intervalsMs) && endMs <= now) throw new VtnError('NOT_ALLOWED', 'the modified event would end in the past; give a later start or more intervals (R20)');
  return { startMs, intervalsMs };
}

export function hasDeliverableEvents(ctx: VtnContext, venId: string): boolean {
  const now = ctx.now();
  return ctx.store.listVenEvents(venId).some(({ event, state }) => isDeliverable(eventFor(event, venId), state, now, ctx.config.cancelRetries));
}

let seqCounter = 0;

export function createEventsApi(ctx: VtnContext): EventsApi {
  const view = (event: VtnEvent): EventView => {
    const oprs = ctx.ledger?.allocations?.oprOf(event.eventId);
    const endMs = eventEndMs(event);
    const status = eventStatus(event, ctx.now());
    const states = ctx.store.listEventVens(event.eventId);
    const reached = new Set(states.map((s) => ctx.store.getRegistration(s.venId)?.customerId));
    const ledgerPart: Pick<EventView, 'customersWithoutVen' | 'settlement' | 'ledger'> =
      oprs === undefined
        ? {}
        : {
            customersWithoutVen: [...oprs.keys()].filter((c) => !reached.has(c)),
            settlement: ctx.ledger?.allocations?.settled?.(event.eventId) === true ? 'settled' : status === 'cancelled' ? 'cancelled' : status === 'completed' ? 'pending' : 'open',
            ledger: 'recorded',
          };
    return {
      event,
      status,
      ...ledgerPart,
      vens: states.map((s) => {
        const customerId = ctx.store.getRegistration(s.venId)?.customerId;
        const resourceOpts = resourceEventOpts(ctx, s.venId).get(event.eventId);
        const points = ctx.store.listTelemetryPoints(s.venId, event.startMs, Number.isFinite(endMs) ? endMs : undefined).filter((p) => p.value !== undefined);
        return {
          venId: s.venId,
          customerId,
          oprW: customerId === undefined ? undefined : oprs?.get(customerId),
          telemetryPoints: points.length,
          lastTelemetryAt: points.reduce<number | undefined>((m, p) => (m === undefined || p.receivedAt > m ? p.receivedAt : m), undefined),
          values: s.values,
          ...(s.baselineW === undefined ? {} : { baselineW: s.baselineW }),
          optType: s.optType,
          optModificationNumber: s.optModificationNumber,
          optAt: s.optAt,
          optReason: s.optReason,
          removed: event.removedVenIds?.includes(s.venId) === true,
          ...(resourceOpts === undefined ? {} : { resourceOpts }),
          cancelAcked: s.cancelAcked,
          lastDeliveredAt: s.lastDeliveredAt,
        };
      }),
    };
  };
  const mustGet = (eventId: string): VtnEvent => {
    const e = ctx.store.getEvent(eventId);
    if (e === undefined) throw new VtnError('NOT_FOUND', `no event '${eventId}'; list the events to find its id`);
    return e;
  };
  const requireRegistered = (venId: string): void => {
    if (ctx.store.getRegistration(venId) === undefined) invalid(`VEN '${venId}' is not registered; target registered VENs only`);
  };
  /**
   * A newly targeted VEN's state, in the caller's transaction; one its availability schedules make
   * unavailable (`reason`) is recorded as opted out (R16, R201), on the ledger too.
   */
  const putNewVenState = (event: VtnEvent, venId: string, values: Readonly<Record<string, readonly number[]>>, reason: string | undefined, now: number, baselineW?: readonly number[]): void => {
    const state = { ...newVenState(event.eventId, venId, values), ...(baselineW === undefined ? {} : { baselineW }) };
    const m = event.modificationNumber;
    ctx.store.putEventVen(reason === undefined ? state : { ...state, optType: 'optOut', optModificationNumber: m, optAt: now, optReason: reason });
    if (reason === undefined) return;
    ctx.log.info({ eventId: event.eventId, venId, reason }, 'VEN opted out by its availability schedule');
    const customerId = ctx.store.getRegistration(venId)?.customerId;
    if (customerId !== undefined) queueLedgerOpt(ctx, { eventId: event.eventId, modificationNumber: m, venId, customerId, optType: 'optOut', at: now });
  };

  const local = {
    create(input: CreateEventInput, options: { readonly allowNoVen?: boolean } = {}): EventView {
      const now = ctx.now();
      const program = input.programId === undefined ? ctx.programs.defaultProgram() : ctx.programs.get(input.programId);
      if (program === undefined) return invalid(`unknown program '${input.programId ?? ''}'; list the programs (GET /api/v1/programs) or create it`);
      const slotMs = input.slotMs ?? program.slotMs;
      if (!Number.isInteger(slotMs) || slotMs < 1000 || slotMs % 1000 !== 0) invalid(`slotMs must be whole seconds, got ${String(slotMs)}`);
      const startMs = toMs(input.start, 'start');
      let intervalsMs: number[];
      if (input.slots !== undefined || input.intervalsMs !== undefined) {
        const count = input.slots ?? input.intervalsMs?.length ?? 0;
        if (!Number.isInteger(count) || count < 1) invalid(`slots must be a positive integer, got ${String(input.slots)}`);
        intervalsMs = input.intervalsMs === undefined ? new Array<number>(count).fill(slotMs) : [...input.intervalsMs];
        if (intervalsMs.length !== count || intervalsMs.some((d) => !Number.isInteger(d) || d < 1000 || d % 1000 !== 0)) invalid(`intervalsMs must give ${count} whole-second durations`);
      } else if (input.durationMinutes !== undefined) {
        if (!Number.isInteger(input.durationMinutes) || input.durationMinutes < 1) invalid(`durationMinutes must be a positive whole number, got ${String(input.durationMinutes)}`);
        if (startMs % 1000 !== 0) invalid('start must be a whole second');
        // As for an event from the ledger: one interval per slot of the grid the event overlaps.
        intervalsMs = slotIntervals(startMs, input.durationMinutes * 60_000, slotMs);
      } else {
        return invalid("give slots, durationMinutes or intervalsMs (the event's length)");
      }
      const slots = intervalsMs.length;
      const baselines = baselinesOf(input.perVenBaselineW, slots);
      // R20 / R33: an event entirely in the past is refused.
      if (startMs + intervalsMs.reduce((a, b) => a + b, 0) <= now) throw new VtnError('NOT_ALLOWED', 'the event would end in the past; give a start time from now on (R20)');
      const eventId = input.eventId ?? ctx.newId('event');
      if (ctx.store.getEvent(eventId) !== undefined) invalid(`event '${eventId}' exists; eventIDs are unique (R70)`);
      const signals: VtnSignal[] =
        input.signals === undefined
          ? programSignals(program)
          : input.signals.map((s) => ({
              signalId: s.signalId,
              signalName: s.signalName,
              signalType: s.signalType,
              itemBase: s.itemBase,
              values: s.values === undefined ? undefined : perSlot(s.values, slots, `signal ${s.signalId} values`),
            }));
      const values = new Map<string, Record<string, number[]>>();
      for (const [venId, w] of Object.entries(input.perVenReductionW ?? {})) {
        values.set(venId, reductionValues(program, signals, perSlot(w, slots, `perVenReductionW[${venId}]`)));
      }
      for (const [venId, bySignal] of Object.entries(input.perVenSignals ?? {})) {
        const v = values.get(venId) ?? {};
        for (const [signalId, xs] of Object.entries(bySignal)) {
          if (!signals.some((s) => s.signalId === signalId)) invalid(`perVenSignals[${venId}] names unknown signal '${signalId}'`);
          v[signalId] = perSlot(xs, slots, `perVenSignals[${venId}][${signalId}]`);
        }
        values.set(venId, v);
      }
      for (const venId of input.venIds ?? []) if (!values.has(venId)) values.set(venId, {});
      if (values.size === 0 && options.allowNoVen !== true) invalid('the event targets no VEN; give perVenReductionW, perVenSignals or venIds');
      for (const venId of values.keys()) requireRegistered(venId);
      for (const venId of baselines.keys()) if (!values.has(venId)) invalid(`perVenBaselineW names VEN '${venId}', which the event does not target`);
      let event: VtnEvent = {
        eventId,
        programId: program.id,
        marketContext: program.marketContext,
        seq: now * 1000 + (seqCounter++ % 1000),
        createdAt: now,
        modificationNumber: 0, // R4
        modifiedAt: now,
        modificationReason: undefined,
        startMs,
        intervalsMs,
        notificationMs: input.notificationMs ?? program.notificationMs,
        rampUpMs: input.rampUpMs ?? program.rampUpMs,
        recoveryMs: input.recoveryMs,
        startAfterMs: input.startAfterMs,
        priority: input.priority ?? program.priority,
        testEvent: input.testEvent ?? program.testEvent,
        vtnComment: input.vtnComment,
        responseRequired: input.responseRequired ?? 'always',
        signals,
        venIds: [...values.keys()],
        cancelled: false,
      };
      validateForVens(ctx, event, values, now);
      // R201 (the program's choices): a VEN unavailable during the event by its availability
      // schedules is recorded as opted out (R16) and still receives the event, or, with
      // `eventsWhenUnavailable: 'withhold'`, is not sent it at all.
      const unavailable = new Map<string, string>();
      for (const venId of values.keys()) {
        const reason = unavailableDuring(ctx, venId, startMs, eventEndMs(event), program as ProgramConfig);
        if (reason !== undefined) unavailable.set(venId, reason);
      }
      if (program.eventsWhenUnavailable === 'withhold' && unavailable.size > 0) {
        for (const [venId, reason] of unavailable) {
          values.delete(venId);
          ctx.log.info({ eventId, venId, reason }, 'event withheld from a VEN its availability schedules make unavailable (R201)');
        }
        unavailable.clear();
        if (values.size === 0 && options.allowNoVen !== true) throw new VtnError('NOT_ALLOWED', `every targeted VEN is unavailable during the event, and program '${program.id}' withholds events from unavailable VENs (R201)`);
        event = { ...event, venIds: [...values.keys()] };
      }
      ctx.store.transaction(() => {
        ctx.store.putEvent(event);
        for (const [venId, v] of values) {
          putNewVenState(event, venId, v, unavailable.get(venId), now, baselines.get(venId));
          queueDistributeEvent(ctx, venId);
        }
      });
      if (unavailable.size > 0) ctx.ledgerWork?.kick();
      ctx.log.info({ eventId, programId: program.id, vens: values.size, start: new Date(startMs).toISOString(), slots }, 'event created');
      return view(event);
    },

    modify(eventId: string, changes: ModifyEventInput): EventView {
      const now = ctx.now();
      const e = mustGet(eventId);
      if (e.cancelled) throw new VtnError('NOT_ALLOWED', `event '${eventId}' is cancelled; create a new event instead`);
      if (now >= eventEndMs(e)) throw new VtnError('NOT_ALLOWED', `event '${eventId}' has completed; the past cannot be changed (R20)`);
      const program = ctx.programs.get(e.programId) ?? ctx.programs.defaultProgram();
      // Intervals that have ended may not change (R20), nor may the start once it has passed.
      const started = now >= e.startMs;
      const pastEnded = started ? Math.max(0, currentIntervalIndex(e, now)) : 0;
      const { startMs, intervalsMs } = newSchedule(e, changes, now, pastEnded, program.slotMs);
      const slots = intervalsMs.length;
      const resized = slots !== e.intervalsMs.length;
      const baselines = baselinesOf(changes.perVenBaselineW, slots);
      const checkPast = (what: string, before: readonly number[] | undefined, after: readonly number[]): void => {
        for (let i = 0; i < pastEnded; i++) {
          if ((before ?? [])[i] !== after[i]) throw new VtnError('NOT_ALLOWED', `${what}: interval ${i} has already ended and cannot change (R20)`);
        }
      };
      const resizedWithout = (what: string): never =>
        invalid(`${what} has ${e.intervalsMs.length} values and the event now has ${slots} intervals; give them again for the new intervals`);
      const signals = e.signals.map((s) => {
        const nv = changes.signalValues?.[s.signalId];
        if (nv === undefined) return s.values !== undefined && resized ? resizedWithout(`the default values of signal ${s.signalId}`) : s;
        const values = perSlot(nv, slots, `signalValues[${s.signalId}]`);
        checkPast(`signal ${s.signalId}`, s.values, values);
        return { ...s, values };
      });
      for (const id of Object.keys(changes.signalValues ?? {})) if (!e.signals.some((s) => s.signalId === id)) invalid(`event '${eventId}' has no signal '${id}'`);
      const states = new Map(ctx.store.listEventVens(eventId).map((s) => [s.venId, s] as const));
      const targeted = new Set(e.venIds);
      const removed = new Set(e.removedVenIds ?? []);
      for (const venId of changes.removeVenIds ?? []) {
        if (!targeted.has(venId)) invalid(`VEN '${venId}' is not targeted by event '${eventId}'; nothing to remove`);
        targeted.delete(venId);
        removed.add(venId);
      }
      const added = new Set<string>();
      for (const venId of changes.addVenIds ?? []) {
        if (targeted.has(venId)) invalid(`VEN '${venId}' is already targeted by event '${eventId}'`);
        requireRegistered(venId);
        targeted.add(venId);
        removed.delete(venId);
        added.add(venId);
      }
      if (targeted.size === 0) invalid(`the modification would leave event '${eventId}' without a target; cancel the event instead`);
      for (const venId of baselines.keys()) if (!targeted.has(venId)) invalid(`perVenBaselineW names VEN '${venId}', which the event does not target`);
      const newValues = new Map<string, Record<string, readonly number[]>>();
      for (const venId of targeted) newValues.set(venId, added.has(venId) ? {} : { ...states.get(venId)?.values });
      const given = new Set<string>();
      const touch = (venId: string): Record<string, readonly number[]> => {
        const v = newValues.get(venId);
        if (v === undefined) return invalid(`VEN '${venId}' is not targeted by event '${eventId}'`);
        return v;
      };
      for (const [venId, w] of Object.entries(changes.perVenReductionW ?? {})) {
        const values = reductionValues(program as ProgramConfig, e.signals, perSlot(w, slots, `perVenReductionW[${venId}]`));
        Object.assign(touch(venId), values);
        for (const id of Object.keys(values)) given.add(`${venId}\u0000${id}`);
      }
      for (const [venId, bySignal] of Object.entries(changes.perVenSignals ?? {})) {
        const v = touch(venId);
        for (const [signalId, xs] of Object.entries(bySignal)) {
          if (!e.signals.some((s) => s.signalId === signalId)) invalid(`perVenSignals[${venId}] names unknown signal '${signalId}'`);
          v[signalId] = perSlot(xs, slots, `perVenSignals[${venId}][${signalId}]`);
          given.add(`${venId}\u0000${signalId}`);
        }
      }
      for (const [venId, v] of newValues) {
        const before = states.get(venId)?.values ?? {};
        for (const s of e.signals) {
          const after = v[s.signalId];
          if (after === undefined) continue;
          if (resized && !given.has(`${venId}\u0000${s.signalId}`)) resizedWithout(`VEN ${venId}'s signal ${s.signalId}`);
          if (!added.has(venId)) checkPast(`VEN ${venId} signal ${s.signalId}`, before[s.signalId] ?? s.values, after);
        }
      }
      // R5: every change raises modificationNumber by exactly 1.
      let next: VtnEvent = {
        ...e,
        startMs,
        intervalsMs,
        signals,
        venIds: [...targeted],
        removedVenIds: removed.size === 0 ? undefined : [...removed],
        priority: changes.priority ?? e.priority,
        vtnComment: changes.vtnComment ?? e.vtnComment,
        modificationReason: changes.modificationReason ?? e.modificationReason,
        modificationNumber: e.modificationNumber + 1,
        modifiedAt: now,
      };
      validateForVens(ctx, next, newValues, now);
      // R201: a VEN added while its availability schedules make it unavailable, as at creation.
      const unavailable = unavailableVens(ctx, next, [...added], program as ProgramConfig);
      if (program.eventsWhenUnavailable === 'withhold' && unavailable.size > 0) {
        for (const venId of unavailable.keys()) newValues.delete(venId);
        unavailable.clear();
        next = { ...next, venIds: [...newValues.keys()] };
        if (next.venIds.length === 0) throw new VtnError('NOT_ALLOWED', `every VEN left targeted by event '${eventId}' is unavailable, and program '${program.id}' withholds events from unavailable VENs (R201)`);
      }
      ctx.store.transaction(() => {
        ctx.store.putEvent(next);
        for (const [venId, v] of newValues) {
          const s = states.get(venId);
          const baselineW = baselines.get(venId) ?? (resized ? undefined : s?.baselineW);
          if (!added.has(venId) && s !== undefined) ctx.store.putEventVen({ ...s, values: v, baselineW });
          else putNewVenState(next, venId, v, unavailable.get(venId), now, baselineW);
          queueDistributeEvent(ctx, venId);
        }
        for (const venId of changes.removeVenIds ?? []) {
          const s = states.get(venId);
          if (s !== undefined) ctx.store.putEventVen({ ...s, cancelAcked: false, cancelDeliveries: 0 });
          queueDistributeEvent(ctx, venId);
        }
      });
      if (unavailable.size > 0) ctx.ledgerWork?.kick();
      ctx.log.info({ eventId, modificationNumber: next.modificationNumber, added: [...added], removed: changes.removeVenIds ?? [], startMs, slots }, 'event modified');
      return view(next);
    },

    cancel(eventId: string, reason?: string): EventView {
      const now = ctx.now();
      const e = mustGet(eventId);
      if (e.cancelled) return view(e);
      if (now >= eventEndMs(e)) throw new VtnError('NOT_ALLOWED', `event '${eventId}' has completed; it cannot be cancelled`);
      // R10: status cancelled, modificationNumber + 1.
      const next: VtnEvent = { ...e, cancelled: true, modificationNumber: e.modificationNumber + 1, modifiedAt: now, modificationReason: reason ?? e.modificationReason };
      ctx.store.transaction(() => {
        ctx.store.putEvent(next);
        for (const s of ctx.store.listEventVens(eventId)) {
          if (s.cancelAcked && e.removedVenIds?.includes(s.venId) === true) continue; // told already that the event is cancelled for it
          ctx.store.putEventVen({ ...s, cancelAcked: false, cancelDeliveries: 0 });
          queueDistributeEvent(ctx, s.venId);
        }
      });
      ctx.log.info({ eventId, modificationNumber: next.modificationNumber }, 'event cancelled');
      return view(next);
    },

    get(eventId: string): EventView | undefined {
      const e = ctx.store.getEvent(eventId);
      return e === undefined ? undefined : view(e);
    },

    list(): EventView[] {
      return ctx.store.listEvents().map(view);
    },
  };
  const ledgerEvents = createLedgerEvents(ctx, local);
  return {
    create: ((input: CreateEventInput | LedgerEventInput, options?: CreateLedgerEventOptions) =>
      'reductionW' in input ? ledgerEvents.create(input, options?.pendingWhenUnreachable === true) : local.create(input)) as EventsApi['create'],
    modify: ((eventId: string, changes: ModifyEventInput | LedgerEventChange) => {
      // A new start or length: the VENs' availability schedules are checked again against it (R201).
      const movesEvent = ['start', 'slots', 'intervalsMs', 'durationMinutes'].some((k) => (changes as Record<string, unknown>)[k] !== undefined);
      const recheck = (v: EventView): EventView => {
        if (movesEvent) for (const venId of v.event.venIds) applyAvailability(ctx, local, ledgerEvents, venId);
        return movesEvent ? (local.get(eventId) ?? v) : v;
      };
      return 'reductionW' in changes ? ledgerEvents.modify(eventId, changes).then(recheck) : recheck(local.modify(eventId, changes));
    }) as EventsApi['modify'],
    cancel: (eventId, reason) => {
      const v = local.cancel(eventId, reason);
      ledgerEvents.cancelled(eventId);
      return v;
    },
    cancelPending: (eventId, reason) => ledgerEvents.cancelPending(eventId, reason),
    get: local.get,
    list: local.list,
    settle: (eventId) => ledgerEvents.settle(eventId),
    ledgerIdle: () => ledgerEvents.idle(),
    pendingCreations: () => ledgerEvents.pendingViews(),
    pendingCreation: (eventId) => ledgerEvents.pendingViews().find((p) => p.eventId === eventId),
    catchUp: async () => (ctx.ledger === undefined ? undefined : ledgerEvents.catchUp()),
    applyAvailability: (venId) => applyAvailability(ctx, local, ledgerEvents, venId),
    recoverCreations: async () => (ctx.ledger === undefined ? { completed: [], compensated: [], left: [], pending: [] } : ledgerEvents.recover()),
  };
}

type LocalEventsApi = Pick<EventsApi, 'get' | 'list'> & {
  create(input: CreateEventInput, options?: { readonly allowNoVen?: boolean }): EventView;
  modify(eventId: string, changes: ModifyEventInput): EventView;
};

/** Errors of a notifyDRevent the ledger refused outright: a creation failing with one has nothing to compensate. */
const refusedByLedger = new WeakSet<object>();

/** What the saga records of an event creation from the ledger. */
interface SagaRequest {
  readonly notice: DrEventNotice;
  readonly input: LedgerEventInput;
  /** Customers opted out by their VEN's availability schedule (R201): no participants, their VENs get zeros. */
  readonly optedOut: readonly string[];
}

/**
 * An event of `durationMs` from `startMs` cut at the slot boundaries (multiples of `slotMs` since
 * the epoch, which are the contract's quarter hours in every time zone): the first interval runs
 * to the next boundary, the last from the last boundary to the end.
 */
export function slotIntervals(startMs: number, durationMs: number, slotMs: number): number[] {
  const out: number[] = [];
  const endMs = startMs + durationMs;
  for (let t = startMs; t < endMs; ) {
    const next = Math.min(endMs, (Math.floor(t / slotMs) + 1) * slotMs);
    out.push(next - t);
    t = next;
  }
  return out;
}

const describeIntervals = (startMs: number, intervalsMs: readonly number[]): string =>
  `${intervalsMs.length} from ${new Date(startMs).toISOString()}, of ${intervalsMs.map((d) => d / 60_000).join(', ')} min`;

/**
 * What a VEN sheds in each interval for the OPR the ledger allocated (each slot's average): an
 * interval covering part of its slot carries OPR × slot / covered, so the slot's average is the OPR.
 */
export function venReductionW(oprW: readonly number[], intervalsMs: readonly number[], slotMs: number): number[] {
  return oprW.map((w, i) => Math.round((w * slotMs) / (intervalsMs[i] ?? slotMs)));
}

/** The slot length an event's intervals were cut on: its program's (15 min unless configured). */
const slotMsOf = (ctx: VtnContext, e: VtnEvent): number => ctx.programs.get(e.programId)?.slotMs ?? 900_000;

/**
 * A VEN that registers (or registers again) receives every event from the ledger that is pending
 * or active and allocated to its customer (R50): its state for each is created here, in the
 * registration's transaction.
 */
export function attachPendingEvents(ctx: VtnContext, venId: string, customerId: string): string[] {
  const allocations = ctx.ledger?.allocations;
  if (allocations === undefined) return [];
  const now = ctx.now();
  const attached: string[] = [];
  for (const e of ctx.store.listEvents()) {
    if (e.cancelled || scheduleStatus(e, now) === 'completed' || ctx.store.getEventVen(e.eventId, venId) !== undefined) continue;
    const opr = allocations.oprOf(e.eventId)?.get(customerId);
    const program = ctx.programs.get(e.programId);
    if (opr === undefined || program === undefined) continue;
    const baselineW = allocations.baselineOf?.(e.eventId)?.get(customerId);
    const state = newVenState(e.eventId, venId, reductionValues(program, e.signals, venReductionW(opr, e.intervalsMs, slotMsOf(ctx, e))));
    ctx.store.putEventVen(baselineW === undefined || baselineW.length !== e.intervalsMs.length ? state : { ...state, baselineW });
    if (!e.venIds.includes(venId)) ctx.store.putEvent({ ...e, venIds: [...e.venIds, venId] });
    attached.push(e.eventId);
  }
  if (attached.length > 0) ctx.log.info({ venId, customerId, events: attached }, 'events allocated before the VEN registered are now delivered to it');
  return attached;
}

/**
 * The registered VEN of each customer that has one, as `findRegistrationByCustomer` finds it (the
 * first by venID): for an event over many customers one read of every registration instead of a
 * query per customer.
 */
function registeredVens(ctx: VtnContext, customerIds: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (customerIds.length * 2 < ctx.store.countRegistrations()) {
    for (const customerId of customerIds) {
      const reg = ctx.store.findRegistrationByCustomer(customerId);
      if (reg !== undefined && reg.state === 'registered') out.set(customerId, reg.venId);
    }
    return out;
  }
  const wanted = new Set(customerIds);
  const first = new Map<string, VenRegistration>();
  for (const reg of ctx.store.listRegistrations()) if (wanted.has(reg.customerId) && !first.has(reg.customerId)) first.set(reg.customerId, reg);
  for (const customerId of customerIds) {
    const reg = first.get(customerId);
    if (reg !== undefined && reg.state === 'registered') out.set(customerId, reg.venId);
  }
  return out;
}

function sortedCustomers(list: readonly CustomerRecord[]): CustomerRecord[] {
  return [...list].sort((a, b) => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
}

/**
 * Events from the ledger (issue 5, "From a utility's request to each VEN's signal"): the request
 * goes to the contract (notifyDRevent), the contract shares it among the targeted customers, and
 * each customer's VEN receives only its own OPR (R63: only its own venID in eiTarget).
 */
function createLedgerEvents(ctx: VtnContext, local: LocalEventsApi) {
  const pending = new Set<Promise<unknown>>();
  const reallocations = new Map<string, Promise<unknown>>();
  /** Creations being run now (by `create`, `recover` or `catchUp`): no other call touches their saga meanwhile. */
  const inFlight = new Set<string>();
  /** Whether an event cancelled for the VENs may still be notified on the ledger (a background cancellation failed; unknown at start). */
  let cancelsOwed = true;
  // In a cluster, the process running a creation holds its claim (a session lock, gone with the
  // process): a `started` saga whose claim is free was cut short. One process: always granted.
  const claimCreation = (eventId: string): boolean => ctx.store.cluster?.claimEvent(eventId) ?? true;
  const releaseCreation = (eventId: string): void => ctx.store.cluster?.releaseEvent(eventId);
  const sagaOf = (eventId: string): EventSagaRecord | undefined => ctx.store.listEventSagas().find((x) => x.eventId === eventId);
  const track = (p: Promise<unknown>): void => {
    const q = p.finally(() => pending.delete(q));
    pending.add(q);
  };
  const port = () => {
    const l = ctx.ledger;
    if (l === undefined) throw new VtnError('NOT_ALLOWED', 'this VTN runs without a ledger; start it with the embedded ledger (the default of oadr-ledger vtn) to send events from a total reduction');
    return l;
  };
  const targetsOf = (targets: EventTargets): CustomerRecord[] => {
    const all = ctx.store.listCustomers();
    if (targets === 'all') return sortedCustomers(all);
    if ('customerIds' in targets) {
      return sortedCustomers(
        targets.customerIds.map((id) => {
          const c = ctx.store.getCustomer(id);
          if (c === undefined) return invalid(`unknown customer '${id}'; enrol it first`);
          return c;
        }),
      );
    }
    if ('groups' in targets) {
      const groups = new Set(targets.groups);
      return sortedCustomers(all.filter((c) => (c.retailer !== undefined && groups.has(c.retailer)) || (c.programId !== undefined && groups.has(c.programId))));
    }
    return invalid("targets must be 'all', { customerIds: [...] } or { groups: [...] }");
  };

  return {
    async create(input: LedgerEventInput, keep: boolean): Promise<LedgerEventView | PendingLedgerEventView> {
      port();
      const now = ctx.now();
      const program = input.programId === undefined ? ctx.programs.defaultProgram() : ctx.programs.get(input.programId);
      if (program === undefined) return invalid(`unknown program '${input.programId ?? ''}'; list the programs (GET /api/v1/programs) or create it`);
      if (input.testEvent ?? program.testEvent) {
        throw new VtnError('NOT_ALLOWED', `a test event (R6${input.testEvent === undefined ? `: program '${program.id}' sends test events` : ''}) is not recorded on the ledger — its day would leave the customers' baselines and settlement would pay for reductions nobody was asked for; send it with perCustomerReductionW or perVenReductionW`);
      }
      const slotMs = program.slotMs;
      const startMs = toMs(input.start, 'start');
      if (input.slots !== undefined && (!Number.isInteger(input.slots) || input.slots < 1)) invalid(`slots must be a positive integer, got ${String(input.slots)}`);
      if (input.slots === undefined && input.durationMinutes !== undefined && (!Number.isInteger(input.durationMinutes) || input.durationMinutes < 1)) invalid(`durationMinutes must be a positive whole number, got ${String(input.durationMinutes)}`);
      const durationMs = input.slots !== undefined ? input.slots * slotMs : input.durationMinutes !== undefined ? input.durationMinutes * 60_000 : invalid('give slots or durationMinutes (the event\'s length)');
      if (startMs % 1000 !== 0) invalid('start must be a whole second');
      if (startMs + durationMs <= now) throw new VtnError('NOT_ALLOWED', 'the event would end in the past; give a start time from now on (R20)');
      const intervalsMs = slotIntervals(startMs, durationMs, slotMs);
      const reductionW = perSlot(input.reductionW, intervalsMs.length, `reductionW (one per interval: ${describeIntervals(startMs, intervalsMs)})`);
      if (reductionW.some((w) => !Number.isInteger(w) || w < 0)) invalid('reductionW values are whole W ≥ 0');
      const eventId = input.eventId ?? ctx.newId('event');
      if (ctx.store.getEvent(eventId) !== undefined) invalid(`event '${eventId}' exists; eventIDs are unique (R70)`);
      const accepted = sagaOf(eventId);
      if (accepted !== undefined) invalid(`event '${eventId}' was accepted already (ledger: ${pendingView(ctx, accepted).ledger}); eventIDs are unique (R70) — read it with GET /api/v1/events/${eventId}`);
      // Every enrolled, targeted customer takes part; a customer whose VEN is not registered yet
      // receives the event when it registers (attachPendingEvents).
      const customerIds = targetsOf(input.targets ?? 'all').map((c) => c.customerId);
      const venOf = registeredVens(ctx, customerIds);
      if (customerIds.length === 0) throw new VtnError('NOT_ALLOWED', 'no enrolled customer is targeted; enrol customers or change the targets');
      // R201 (CHOICE): a customer whose VEN's availability schedule opts it out during the event is
      // no participant of the allocation; its VEN gets the event with zero values, opted out.
      const optedOut = new Map<string, string>();
      for (const [customerId, venId] of venOf) {
        if (unavailableDuring(ctx, venId, startMs, startMs + durationMs, program) !== undefined) optedOut.set(customerId, venId);
      }
      const participants = customerIds.filter((c) => !optedOut.has(c));
      if (participants.length === 0) throw new VtnError('NOT_ALLOWED', 'every targeted customer is opted out of the event window by its availability schedule (R201)');
      const request: SagaRequest = {
        notice: { eventId, programId: program.id, startMs, slotMs, slots: intervalsMs.length, durationMs, reductionW, customerIds: participants },
        input: { ...input, start: startMs, eventId },
        optedOut: [...optedOut.keys()],
      };
      // The claim on the creation, then the saga's record, before the ledger is touched: a crash from
      // here on is completed or compensated (recover, at the next start or, in a cluster, by the
      // lease holder's catch-up), never left half done.
      if (!claimCreation(eventId)) invalid(`event '${eventId}' is being created by another VTN process; eventIDs are unique (R70)`);
      try {
        ctx.store.putEventSaga({ eventId, state: 'started', request, at: now });
      } catch (err) {
        releaseCreation(eventId);
        throw err;
      }
      return this.run(request, keep);
    },

    /**
     * The creation from its recorded request: done (the saga's row goes with the stored event),
     * pending while the ledger cannot be reached (the row stays, `catchUp` completes it), or compensated.
     * Ends the claim `create` took.
     */
    async run(request: SagaRequest, keep: boolean): Promise<LedgerEventView | PendingLedgerEventView> {
      const { eventId } = request.notice;
      inFlight.add(eventId);
      try {
        return await this.complete(request);
      } catch (err) {
        // Unreachable, or no answer in time (the ledger may have taken it): kept, and completed
        // later with the same event id — notifyDRevent's idempotency key — so it is made once.
        if (keep && ledgerUnreachable(err)) return this.park(eventId, err);
        // The ledger refused the request itself (it never took this event): nothing to undo.
        if (refusedByLedger.has(err as object)) ctx.store.deleteEventSaga(eventId);
        else await this.compensate(eventId, err);
        throw err;
      } finally {
        inFlight.delete(eventId);
        releaseCreation(eventId);
      }
    },

    /** Keeps a creation the ledger could not take now as pending; the outbox of ledger work tries it again. */
    park(eventId: string, err: unknown): PendingLedgerEventView {
      const saga = sagaOf(eventId);
      if (saga === undefined) throw err;
      // Cancelled meanwhile: it stays so; the outbox's passes cancel it on the ledger.
      if (saga.outcome === 'cancelled') {
        ctx.ledgerWork?.kick();
        return pendingView(ctx, saga);
      }
      const parked: EventSagaRecord = { ...saga, state: 'pending', error: (err as Error).message };
      ctx.store.putEventSaga(parked);
      ctx.log.warn({ eventId, err }, 'the ledger cannot be reached: the event is kept as pending and created when the ledger answers again; no VEN receives it until then');
      ctx.ledgerWork?.kick();
      return pendingView(ctx, parked);
    },

    /**
     * Cancels on the ledger what a failed creation may have left there; the saga's row stays until
     * that succeeds, then goes, or becomes `outcome` (kept for the operator). Resolves to the
     * ledger's failure, undefined once cancelled.
     */
    async compensate(eventId: string, cause: unknown, outcome?: 'expired' | 'refused'): Promise<unknown> {
      const ledger = port();
      const saga = sagaOf(eventId);
      // The operator's cancellation stands, whatever else ended the creation.
      const cancelled = saga?.outcome === 'cancelled';
      const why = cancelled ? (saga.error ?? (cause as Error).message) : (cause as Error).message;
      const keepAs = cancelled ? 'cancelled' : (outcome ?? saga?.outcome);
      if (saga !== undefined) ctx.store.putEventSaga({ ...saga, state: 'compensating', error: why, ...(keepAs === undefined ? {} : { outcome: keepAs }) });
      try {
        await ledger.cancelEvent?.(eventId);
      } catch (err) {
        ctx.log.error({ err, eventId, cause: why }, `event creation ${keepAs ?? 'failed'} and the ledger did not cancel it yet; the VTN tries again`);
        return err;
      }
      const { outcome: _o, ...done } = sagaOf(eventId) ?? { eventId, state: 'compensating', request: saga?.request, at: ctx.now() };
      if (keepAs === undefined) ctx.store.deleteEventSaga(eventId);
      else ctx.store.putEventSaga({ ...done, state: keepAs, error: why });
      ctx.log.warn({ eventId, err: cause }, `event creation ${keepAs ?? 'failed'}; the event is cancelled on the ledger`);
      return undefined;
    },

    cancelPending(eventId: string, reason?: string): PendingLedgerEventView {
      const saga = ctx.store.getEvent(eventId) === undefined ? sagaOf(eventId) : undefined;
      if (saga === undefined) throw new VtnError('NOT_FOUND', `no event '${eventId}' waiting for the ledger; list the events to find its id`);
      const seen = pendingView(ctx, saga);
      if (seen.ledger === 'cancelled') return seen;
      if (seen.ledger !== 'pending') throw new VtnError('NOT_ALLOWED', `event '${eventId}' is ${seen.ledger} (${seen.reason ?? ''}); it was never sent to the VENs and there is nothing to cancel`);
      // Whatever runs its creation now (a catch-up's notifyDRevent) stops before the VENs: `complete` reads this.
      const why = `cancelled by the operator${reason === undefined || reason === '' ? '' : ` (${reason})`} before the ledger allocated its shares; it was never sent to the VENs`;
      const marked: EventSagaRecord = { ...saga, state: 'compensating', outcome: 'cancelled', error: why };
      ctx.store.putEventSaga(marked);
      ctx.log.info({ eventId, creating: inFlight.has(eventId) }, 'pending event cancelled; it is never sent to the VENs, and the outbox cancels it on the ledger in case the ledger took it');
      ctx.ledgerWork?.kick();
      return pendingView(ctx, marked);
    },

    pendingViews(): PendingLedgerEventView[] {
      return ctx.store.listEventSagas().flatMap((saga) => (ctx.store.getEvent(saga.eventId) === undefined ? [pendingView(ctx, saga)] : []));
    },

    /**
     * The ledger work events owe, in order: each pending creation completed (or, once its start has
     * passed, expired: never sent to the VENs, cancelled on the ledger in case the ledger took it
     * before the connection was lost), compensations not finished, then the cancellations of events
     * cancelled for the VENs that the ledger has not taken. The first failure to reach the ledger
     * stops the pass and rejects; a refusal of the ledger ends that creation as `refused`.
     */
    async catchUp(): Promise<void> {
      const now = ctx.now();
      for (const { eventId } of ctx.store.listEventSagas()) {
        // Read again: the operator may have cancelled it while an earlier step of this pass ran.
        const saga = sagaOf(eventId);
        if (saga === undefined) continue;
        const { startMs, durationMs, slots, slotMs } = (saga.request as SagaRequest).notice;
        const endMs = startMs + (durationMs ?? slots * slotMs);
        if (ENDED_CREATION.has(saga.state)) {
          // Kept a week past the event's end for the operator to read, then dropped.
          if (now > endMs + ENDED_CREATION_KEPT_MS) ctx.store.deleteEventSaga(eventId);
          continue;
        }
        if (inFlight.has(eventId)) continue;
        // `started`: running in a call now, or cut short by a crash. In a cluster (this pass runs in
        // the lease holder) one cut short in any process — its claim went with it — is recovered
        // here, within a pass; with one process, at the next start (`recover`).
        if (saga.state === 'started') {
          if (ctx.store.cluster !== undefined) await this.recoverClaimed(eventId, 'the stop of another VTN process');
          continue;
        }
        if (ctx.store.getEvent(eventId) !== undefined) {
          ctx.store.deleteEventSaga(eventId);
          continue;
        }
        // A process of the cluster that runs this creation now (its compensation, say) keeps it.
        if (!claimCreation(eventId)) continue;
        inFlight.add(eventId);
        try {
          if (saga.state === 'compensating') {
            const failed = await this.compensate(eventId, new Error(saga.error ?? 'the creation failed'));
            if (failed !== undefined && ledgerUnreachable(failed)) throw failed;
          } else if (now >= startMs) {
            const failed = await this.compensate(eventId, new Error(`its start ${new Date(startMs).toISOString()} passed while the ledger could not be reached; it was never sent to the VENs — create a new event`), 'expired');
            if (failed !== undefined && ledgerUnreachable(failed)) throw failed;
          } else {
            try {
              await this.complete(saga.request as SagaRequest);
              ctx.log.info({ eventId, pendingSince: new Date(saga.at).toISOString() }, 'pending event: the ledger allocated its shares; distributed to the VENs');
            } catch (err) {
              const current = sagaOf(eventId) ?? saga;
              if (current.outcome === 'cancelled') {
                // Cancelled while the ledger took it: cancelled there too, now or at a later pass.
                const failed = await this.compensate(eventId, err);
                if (failed !== undefined && ledgerUnreachable(failed)) throw failed;
                continue;
              }
              if (ledgerUnreachable(err)) {
                ctx.store.putEventSaga({ ...current, error: (err as Error).message });
                throw err;
              }
              // The ledger, back, refuses it (no baseline any more, another event under this id…): it ends here.
              if (refusedByLedger.has(err as object)) ctx.store.putEventSaga({ ...saga, state: 'refused', error: (err as Error).message });
              else await this.compensate(eventId, err, 'refused');
              ctx.log.error({ eventId, err }, 'pending event refused by the ledger; it is not created');
            }
          }
        } finally {
          inFlight.delete(eventId);
          releaseCreation(eventId);
        }
      }
      if (!cancelsOwed) return;
      const allocations = ctx.ledger?.allocations;
      for (const e of ctx.store.listEvents()) {
        if (!e.cancelled || allocations?.notified?.(e.eventId) !== true) continue;
        try {
          await port().cancelEvent?.(e.eventId, e.modifiedAt);
          ctx.log.info({ eventId: e.eventId }, 'the ledger takes the cancellation of the event now');
        } catch (err) {
          if (ledgerUnreachable(err)) throw err;
          // Refused for good (settled meanwhile…): sending it again changes nothing.
          ctx.log.error({ err, eventId: e.eventId }, 'the ledger refuses the cancellation of the event; it stays cancelled for the VENs only');
        }
      }
      cancelsOwed = false;
    },

    /**
     * At start: each creation cut short (by a crash, or a failure whose compensation did not finish)
     * is completed if the event has not ended, else cancelled on the ledger. In a cluster, a creation
     * another process runs now (it holds the claim) is not touched.
     */
    async recover(): Promise<{ completed: string[]; compensated: string[]; left: string[]; pending: string[] }> {
      const out = { completed: [] as string[], compensated: [] as string[], left: [] as string[], pending: [] as string[] };
      for (const saga of ctx.store.listEventSagas()) {
        const { eventId } = saga;
        if (inFlight.has(eventId)) continue;
        if (ctx.store.getEvent(eventId) !== undefined) {
          ctx.store.deleteEventSaga(eventId);
          continue;
        }
        // Pending creations wait for catchUp (the outbox's passes); ended ones are records only.
        if (saga.state === 'pending' || ENDED_CREATION.has(saga.state)) {
          if (saga.state === 'pending') out.pending.push(eventId);
          continue;
        }
        const outcome = await this.recoverClaimed(eventId, 'a restart');
        if (outcome !== undefined) out[outcome].push(eventId);
      }
      return out;
    },

    /**
     * One creation cut short, if this process can claim it (in a cluster: no other process runs it):
     * read again under the claim, then completed if the event has not ended, else cancelled on the
     * ledger. Undefined when not claimed or no longer cut short.
     */
    async recoverClaimed(eventId: string, cutBy: string): Promise<'completed' | 'compensated' | 'left' | 'pending' | undefined> {
      if (!claimCreation(eventId)) return undefined;
      inFlight.add(eventId);
      try {
        const saga = sagaOf(eventId);
        if (saga === undefined || (saga.state !== 'started' && saga.state !== 'compensating')) return undefined;
        if (ctx.store.getEvent(eventId) !== undefined) {
          ctx.store.deleteEventSaga(eventId);
          return undefined;
        }
        const request = saga.request as SagaRequest;
        const { startMs, durationMs, slots, slotMs } = request.notice;
        if (saga.state === 'started' && ctx.now() < startMs + (durationMs ?? slots * slotMs)) {
          try {
            await this.complete(request);
            ctx.log.info({ eventId }, `event creation cut short by ${cutBy}: completed`);
            return 'completed';
          } catch (err) {
            if (ledgerUnreachable(err)) {
              this.park(eventId, err);
              return 'pending';
            }
            ctx.log.warn({ err, eventId }, `event creation cut short by ${cutBy} could not complete; cancelling it on the ledger`);
          }
        }
        await this.compensate(eventId, new Error(saga.error ?? 'the VTN stopped during the creation'));
        return ctx.store.listEventSagas().some((x) => x.eventId === eventId) ? 'left' : 'compensated';
      } finally {
        inFlight.delete(eventId);
        releaseCreation(eventId);
      }
    },

    /** The steps after notifyDRevent; also what a restart runs to complete a creation cut short. */
    async complete(request: SagaRequest): Promise<LedgerEventView> {
      const ledger = port();
      const { notice, input } = request;
      const { eventId, slotMs } = notice;
      const optedOut = new Set(request.optedOut);
      const venOf = registeredVens(ctx, [...notice.customerIds, ...request.optedOut]);
      const intervalsMs = slotIntervals(notice.startMs, notice.durationMs ?? notice.slots * slotMs, slotMs);
      let oprs: ReadonlyMap<string, readonly number[]>;
      try {
        oprs = await ledger.notifyEvent(notice);
      } catch (err) {
        const e = ledgerError(err, `the ledger did not take event '${eventId}'`);
        // The ledger refused the request itself (malformed, another event under this id): it holds nothing of ours.
        if (e.code === 'INVALID_ARGUMENT') refusedByLedger.add(e);
        throw e;
      }
      const skipped: Record<string, string> = {};
      for (const c of notice.customerIds) if (!oprs.has(c)) skipped[c] = 'no allocation on the ledger (no baseline for the event day)';
      if (oprs.size === 0) {
        await ledger.cancelEvent?.(eventId).catch(() => undefined);
        throw new VtnError('NOT_ALLOWED', `the ledger gave no targeted customer an allocation: ${Object.values(skipped)[0] ?? ''}`);
      }
      const perVenReductionW: Record<string, readonly number[]> = {};
      const perVenBaselineW: Record<string, readonly number[]> = {};
      const baselines = ledger.allocations?.baselineOf?.(eventId);
      for (const [customerId, venId] of venOf) {
        const opr = oprs.get(customerId);
        if (optedOut.has(customerId)) perVenReductionW[venId] = new Array<number>(intervalsMs.length).fill(0);
        else if (opr !== undefined) perVenReductionW[venId] = venReductionW(opr, intervalsMs, slotMs);
        const baselineW = baselines?.get(customerId);
        if (baselineW !== undefined && perVenReductionW[venId] !== undefined) perVenBaselineW[venId] = baselineW;
      }
      // The event and the end of its saga in one transaction.
      const v = ctx.store.transaction(() => {
        // Cancelled by the operator while the ledger took it: not stored, never sent (the caller cancels it on the ledger).
        if (sagaOf(eventId)?.outcome === 'cancelled') throw new VtnError('NOT_ALLOWED', `event '${eventId}' was cancelled before the ledger had allocated its shares; it is not created, and it is cancelled on the ledger`);
        const created = local.create(
          {
            eventId,
            programId: notice.programId,
            start: notice.startMs,
            slots: intervalsMs.length,
            slotMs,
            intervalsMs,
            perVenReductionW,
            perVenBaselineW,
            ...pick(input, ['priority', 'testEvent', 'responseRequired', 'startAfterMs', 'rampUpMs', 'recoveryMs', 'notificationMs', 'vtnComment']),
          },
          { allowNoVen: true },
        );
        ctx.store.deleteEventSaga(eventId);
        return created;
      });
      ctx.log.info({ eventId, vens: Object.keys(perVenReductionW).length, withoutVen: v.customersWithoutVen?.length ?? 0, skipped: Object.keys(skipped).length }, 'event from the ledger distributed');
      return { ...v, skipped };
    },

    async modify(eventId: string, changes: LedgerEventChange): Promise<EventView> {
      const ledger = port();
      const e = ctx.store.getEvent(eventId);
      if (e === undefined) throw new VtnError('NOT_FOUND', `no event '${eventId}'; list the events to find its id`);
      if (ledger.allocations?.oprOf(eventId) === undefined || ledger.modifyEvent === undefined) throw new VtnError('NOT_ALLOWED', `event '${eventId}' was not created from the ledger; modify its per-VEN values instead`);
      if (e.cancelled) throw new VtnError('NOT_ALLOWED', `event '${eventId}' is cancelled; create a new event instead`);
      // After the start the intervals that have started keep their total and allocations (R20: the
      // mapping and the contract refuse a change to them); the rest is allocated anew.
      const now = ctx.now();
      if (now >= eventEndMs(e)) throw new VtnError('NOT_ALLOWED', `event '${eventId}' has completed; the past cannot be changed (R20)`);
      const slotMs = slotMsOf(ctx, e);
      const startMs = changes.start === undefined ? e.startMs : toMs(changes.start, 'start');
      if (startMs % 1000 !== 0) invalid('start must be a whole second');
      if (startMs !== e.startMs && now >= e.startMs) throw new VtnError('NOT_ALLOWED', `event '${eventId}' has started; its start cannot change (R20) — change its duration or cancel it`);
      if (changes.slots !== undefined && (!Number.isInteger(changes.slots) || changes.slots < 1)) invalid(`slots must be a positive integer, got ${String(changes.slots)}`);
      if (changes.durationMinutes !== undefined && (!Number.isInteger(changes.durationMinutes) || changes.durationMinutes < 1)) invalid(`durationMinutes must be a positive whole number, got ${String(changes.durationMinutes)}`);
      const durationMs = changes.slots !== undefined ? changes.slots * slotMs : changes.durationMinutes !== undefined ? changes.durationMinutes * 60_000 : eventDurationMs(e);
      const newTimes = startMs !== e.startMs || durationMs !== eventDurationMs(e);
      if (newTimes && startMs + durationMs <= now) throw new VtnError('NOT_ALLOWED', 'the modified event would end in the past; give a later start or a longer duration (R20)');
      const intervalsMs = newTimes ? slotIntervals(startMs, durationMs, slotMs) : e.intervalsMs;
      const reductionW = perSlot(changes.reductionW, intervalsMs.length, `reductionW (one per interval: ${describeIntervals(startMs, intervalsMs)})`);
      if (reductionW.some((w) => !Number.isInteger(w) || w < 0)) invalid('reductionW values are whole W ≥ 0');
      // New targets: every enrolled, targeted customer but those its VEN's availability opts out (R201), as at creation.
      const program = ctx.programs.get(e.programId) ?? ctx.programs.defaultProgram();
      const targeted = changes.targets === undefined ? undefined : targetsOf(changes.targets).map((c) => c.customerId);
      const stillTargeted = new Set(targeted);
      let customerIds: string[] | undefined;
      if (targeted !== undefined) {
        const venOf = registeredVens(ctx, targeted);
        customerIds = targeted.filter((c) => {
          const venId = venOf.get(c);
          return venId === undefined || unavailableDuring(ctx, venId, startMs, startMs + durationMs, program as ProgramConfig) === undefined;
        });
        if (customerIds.length === 0) throw new VtnError('NOT_ALLOWED', targeted.length === 0 ? 'no enrolled customer is targeted; change the targets or cancel the event' : 'every targeted customer is opted out of the event window by its availability schedule (R201)');
      }
      let oprs: ReadonlyMap<string, readonly number[]>;
      try {
        oprs = await ledger.modifyEvent(eventId, reductionW, { ...(newTimes ? { startMs, durationMs } : {}), ...(customerIds === undefined ? {} : { customerIds }) });
      } catch (err) {
        throw ledgerError(err, `the ledger did not take the modification of '${eventId}'`);
      }
      const venValues = (opr: readonly number[] | undefined): number[] => (opr === undefined ? new Array<number>(intervalsMs.length).fill(0) : venReductionW(opr, intervalsMs, slotMs));
      const perVenReductionW: Record<string, readonly number[]> = {};
      const perVenBaselineW: Record<string, readonly number[]> = {};
      const baselines = ledger.allocations?.baselineOf?.(eventId);
      const removeVenIds: string[] = [];
      const reached = new Set<string>();
      for (const venId of e.venIds) {
        const customerId = ctx.store.getRegistration(venId)?.customerId;
        const opr = customerId === undefined ? undefined : oprs.get(customerId);
        if (customerId !== undefined) reached.add(customerId);
        // A VEN whose customer the new targets leave out receives the event cancelled; one left without an allocation gets zero values.
        if (targeted !== undefined && (customerId === undefined || !stillTargeted.has(customerId))) removeVenIds.push(venId);
        else perVenReductionW[venId] = venValues(opr);
        const baselineW = customerId === undefined ? undefined : baselines?.get(customerId);
        if (baselineW !== undefined && perVenReductionW[venId] !== undefined) perVenBaselineW[venId] = baselineW;
      }
      const addVenIds: string[] = [];
      // Read again: a VEN may have registered while the ledger worked.
      const venNow = targeted === undefined ? undefined : registeredVens(ctx, targeted);
      for (const customerId of targeted ?? []) {
        const venId = venNow?.get(customerId);
        if (reached.has(customerId) || venId === undefined) continue;
        addVenIds.push(venId);
        perVenReductionW[venId] = venValues(oprs.get(customerId));
        const baselineW = baselines?.get(customerId);
        if (baselineW !== undefined) perVenBaselineW[venId] = baselineW;
      }
      return local.modify(eventId, {
        perVenReductionW,
        perVenBaselineW,
        ...(addVenIds.length === 0 ? {} : { addVenIds }),
        ...(removeVenIds.length === 0 ? {} : { removeVenIds }),
        ...(newTimes ? { start: startMs, intervalsMs } : {}),
        ...pick(changes, ['priority', 'vtnComment', 'modificationReason']),
      });
    },

    cancelled(eventId: string): void {
      const ledger = ctx.ledger;
      if (ledger?.cancelEvent === undefined || ledger.allocations?.oprOf(eventId) === undefined) return;
      track(
        ledger.cancelEvent(eventId, ctx.store.getEvent(eventId)?.modifiedAt).catch((err: unknown) => {
          cancelsOwed = true;
          ctx.log.error({ err, eventId }, 'the ledger did not cancel the event; it is cancelled for the VENs — the outbox of ledger work sends the cancellation again (so does events.settle)');
          ctx.ledgerWork?.kick();
        }),
      );
    },

    async settle(eventId: string): Promise<LedgerSettlement> {
      const ledger = port();
      const e = ctx.store.getEvent(eventId);
      if (e === undefined) throw new VtnError('NOT_FOUND', `no event '${eventId}'; list the events to find its id`);
      if (ledger.settleEvent === undefined || ledger.allocations?.oprOf(eventId) === undefined) throw new VtnError('NOT_ALLOWED', `event '${eventId}' was not created from the ledger; there is nothing to settle`);
      await this.idle();
      // A cancelled event is cancelled on the ledger too (retried here if the background call failed); nothing to mint.
      if (e.cancelled && ledger.cancelEvent !== undefined) await ledger.cancelEvent(eventId, e.modifiedAt).catch((err: unknown) => Promise.reject(ledgerError(err, `the ledger did not cancel '${eventId}'`)));
      if (!e.cancelled && ctx.now() < eventEndMs(e)) throw new VtnError('NOT_ALLOWED', `event '${eventId}' has not ended; settle it after ${new Date(eventEndMs(e)).toISOString()}`);
      try {
        const s = await ledger.settleEvent(eventId);
        ctx.log.info({ eventId, status: s.status, settled: s.rewardsMilli.size, unsettled: s.unsettled.size }, 'event settled on the ledger');
        return s;
      } catch (err) {
        throw ledgerError(err, `settlement of '${eventId}' failed`);
      }
    },

    async idle(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },

    /**
     * Shares an event's request again among its targets (in the background, one at a time per
     * event): the modification leaves out of the allocation those their availability now makes
     * unavailable, and takes `withheld` out of the targets.
     */
    reallocate(eventId: string, withheld?: string): void {
      const run = async (): Promise<void> => {
        const e = ctx.store.getEvent(eventId);
        const requestW = ctx.ledger?.allocations?.requestOf?.(eventId);
        if (e === undefined || e.cancelled || requestW === undefined || ctx.now() >= e.startMs) return;
        const customerIds = new Set(ctx.ledger?.allocations?.oprOf(eventId)?.keys());
        for (const venId of e.venIds) {
          const customerId = ctx.store.getRegistration(venId)?.customerId;
          if (customerId !== undefined) customerIds.add(customerId);
        }
        if (withheld !== undefined) customerIds.delete(withheld);
        await this.modify(eventId, { reductionW: requestW, targets: { customerIds: [...customerIds] }, modificationReason: 'availability' });
        ctx.log.info({ eventId, customers: customerIds.size }, 'event shared again among the customers available for it (R201)');
      };
      const p = (reallocations.get(eventId) ?? Promise.resolve())
        .then(run)
        .catch((err: unknown) => ctx.log.error({ err, eventId }, 'sharing the event again after an availability change failed; the VEN is recorded as opted out, its allocation stays on the ledger'));
      reallocations.set(eventId, p);
      track(p.finally(() => (reallocations.get(eventId) === p ? reallocations.delete(eventId) : undefined)));
    },
  };
}

/** How long an expired, refused or cancelled creation stays readable after its event's end. */
const ENDED_CREATION_KEPT_MS = 7 * 86_400_000;
/** The states of a creation that ended without an event: records for the operator only. */
const ENDED_CREATION: ReadonlySet<EventSagaRecord['state']> = new Set(['expired', 'refused', 'cancelled']);

/** A creation's record as the operator reads it; `pending` past its start reads as expired at once (catchUp then cancels it). */
function pendingView(ctx: VtnContext, saga: EventSagaRecord): PendingLedgerEventView {
  const { notice } = saga.request as SagaRequest;
  const durationMs = notice.durationMs ?? notice.slots * notice.slotMs;
  const state = saga.state === 'expired' || saga.state === 'refused' || saga.state === 'cancelled' ? saga.state : saga.state === 'compensating' ? (saga.outcome ?? 'refused') : ctx.now() >= notice.startMs ? 'expired' : 'pending';
  return {
    eventId: saga.eventId,
    ledger: state,
    programId: notice.programId,
    start: new Date(notice.startMs).toISOString(),
    durationMinutes: durationMs / 60_000,
    reductionW: notice.reductionW,
    customerIds: notice.customerIds,
    acceptedAt: new Date(saga.at).toISOString(),
    ...(saga.error === undefined ? {} : { reason: saga.error }),
  };
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** See `EventsApi.applyAvailability`. */
function applyAvailability(ctx: VtnContext, local: LocalEventsApi, ledgerEvents: ReturnType<typeof createLedgerEvents>, venId: string): string[] {
  const reg = ctx.store.getRegistration(venId);
  if (reg === undefined) return [];
  const now = ctx.now();
  const governed = eventOpts(ctx, venId);
  const changed: string[] = [];
  for (const { event, state } of ctx.store.listVenEvents(venId)) {
    const e = eventFor(event, venId);
    if (e.cancelled || scheduleStatus(e, now) === 'completed' || governed.has(e.eventId) || state.optType === 'optOut') continue;
    const program = (ctx.programs.get(e.programId) ?? ctx.programs.defaultProgram()) as ProgramConfig;
    const reason = unavailableDuring(ctx, venId, Math.max(e.startMs, now), eventEndMs(e), program);
    if (reason === undefined) continue;
    changed.push(e.eventId);
    // The contract keeps a started event's cluster: only an event that has not started is shared again
    // (a started one keeps the VEN, recorded as opted out, whatever the program says).
    const fromLedger = ctx.ledger?.allocations?.oprOf(e.eventId) !== undefined;
    const reshare = fromLedger && now < e.startMs;
    if (program.eventsWhenUnavailable === 'withhold' && (reshare || (!fromLedger && e.venIds.length > 1))) {
      ctx.log.info({ eventId: e.eventId, venId, reason }, 'event taken from a VEN its availability schedules now make unavailable (R201)');
      if (reshare) ledgerEvents.reallocate(e.eventId, reg.customerId);
      else local.modify(e.eventId, { removeVenIds: [venId], modificationReason: 'availability' });
      continue;
    }
    ctx.store.transaction(() => {
      ctx.store.putEventVen({ ...state, optType: 'optOut', optModificationNumber: e.modificationNumber, optAt: now, optReason: reason, optRequestId: undefined });
      queueLedgerOpt(ctx, { eventId: e.eventId, modificationNumber: e.modificationNumber, venId, customerId: reg.customerId, optType: 'optOut', at: now });
    });
    ctx.log.info({ eventId: e.eventId, venId, reason }, 'VEN opted out of a pending event by its availability schedule (R201)');
    if (reshare) ledgerEvents.reallocate(e.eventId);
  }
  if (changed.length > 0) ctx.ledgerWork?.kick();
  return changed;
}

/**
 * The `oadrDistributeEvent` for one VEN now: all its far, near and active events (and cancelled
 * ones until acknowledged), in R15 order, at most `replyLimit` (R27), one createdDateTime (R115),
 * eiResponse 200 (R40), a filled requestID (R41). Records the delivery (R52).
 */
export function buildDistributeEvent(ctx: VtnContext, venId: string, options: { readonly requestId?: string; readonly replyLimit?: number | undefined } = {}): DistributeEvent {
  const now = ctx.now();
  const created = new Date(now).toISOString();
  let list = ctx.store
    .listVenEvents(venId)
    .map(({ event, state }) => ({ event: eventFor(event, venId), state }))
    .filter(({ event, state }) => isDeliverable(event, state, now, ctx.config.cancelRetries));
  list.sort((a, b) => compareForDistribution(a.event, b.event, now));
  if (options.replyLimit !== undefined && options.replyLimit > 0) list = list.slice(0, options.replyLimit);
  const requestId = options.requestId !== undefined && options.requestId !== '' ? options.requestId : ctx.newId('req');
  if (list.length > 0) {
    ctx.store.transaction(() => {
      for (const { event, state } of list) {
        const counted = event.cancelled && countsAsCancelDelivery(state, now, ctx.config.pollFrequencyMs);
        ctx.store.putEventVen(counted ? { ...state, lastDeliveredAt: now, cancelDeliveries: state.cancelDeliveries + 1, cancelCountedAt: now } : { ...state, lastDeliveredAt: now });
      }
    });
  }
  const is20a = ctx.store.getRegistration(venId)?.profileName === '2.0a';
  return {
    type: 'DistributeEvent',
    schemaVersion: SCHEMA_VERSION,
    response: eiResponse(ResponseCode.OK, options.requestId ?? ''),
    requestId,
    vtnId: ctx.config.vtnId,
    events: list.map(({ event, state }) =>
      is20a ? toOadrEvent20a(event, venId, simpleLevels20a(ctx, event, state) ?? [], now, created) : toOadrEvent(event, venId, state, now, created),
    ),
  };
}

/** oadrRequestEvent: the VEN's events now (R40, R27); errors come back in oadrDistributeEvent (R517). */
export function handleRequestEvent(ctx: VtnContext, p: RequestEvent): Payload {
  const reg = requireVen(ctx, p.venId);
  return buildDistributeEvent(ctx, reg.venId, { requestId: p.requestId, replyLimit: p.replyLimit });
}

export function distributeEventError(ctx: VtnContext, code: Parameters<typeof eiResponse>[0], requestId: string, description: string): Payload {
  return { type: 'DistributeEvent', schemaVersion: SCHEMA_VERSION, response: eiResponse(code, requestId, description), requestId: requestId === '' ? ctx.newId('req') : requestId, vtnId: ctx.config.vtnId };
}

/**
 * oadrCreatedEvent: record each eventResponse's opt state (R16, R17), a cancelled event's
 * acknowledgement (R36), skip all when eiResponse is an error (R25); answer 452 for an unknown
 * eventID and 450 for a wrong modificationNumber (R48), recording the valid ones anyway.
 */
export function handleCreatedEvent(ctx: VtnContext, p: CreatedEvent): Payload {
  const reg = requireVen(ctx, p.venId);
  const now = ctx.now();
  if (p.response.code < 200 || p.response.code >= 300) {
    ctx.log.info({ venId: reg.venId, code: p.response.code, description: p.response.description }, 'oadrCreatedEvent reports an error; eventResponses skipped (R25)');
    return oadrResponse(reg.venId, ResponseCode.OK, p.response.requestId);
  }
  let error: OadrProtocolError | undefined;
  const recorded: Array<{ eventId: string; modificationNumber: number; optType: OptType }> = [];
  const acknowledged: string[] = [];
  ctx.store.transaction(() => {
    for (const r of p.eventResponses ?? []) {
      const { eventId, modificationNumber } = r.qualifiedEventId;
      const stored = ctx.store.getEvent(eventId);
      const e = stored === undefined ? undefined : eventFor(stored, reg.venId);
      const state = e === undefined ? undefined : ctx.store.getEventVen(eventId, reg.venId);
      if (e === undefined || state === undefined) {
        error ??= new OadrProtocolError(ResponseCode.INVALID_ID, `eventID '${eventId}' is not an event of VEN ${reg.venId} (R48)`);
        continue;
      }
      if (modificationNumber !== e.modificationNumber) {
        error ??= new OadrProtocolError(
          ResponseCode.OUT_OF_SEQUENCE,
          `event '${eventId}' is at modificationNumber ${e.modificationNumber}, the response names ${modificationNumber} (R48)`,
        );
        continue;
      }
      if (e.cancelled) {
        // R36: the answer to a cancellation acknowledges it; it is not an opt (the ledger records no opt for a cancelled event).
        ctx.store.putEventVen({ ...state, cancelAcked: true });
        acknowledged.push(eventId);
        continue;
      }
      ctx.store.putEventVen({
        ...state,
        optType: r.optType,
        optModificationNumber: modificationNumber,
        optAt: now,
        optRequestId: r.requestId,
        optReason: r.optType === state.optType ? state.optReason : undefined,
        cancelAcked: state.cancelAcked,
      });
      // The opt state and its ledger work in one transaction, before the VEN hears 200.
      queueLedgerOpt(ctx, { eventId, modificationNumber, optType: r.optType, venId: reg.venId, customerId: reg.customerId, at: now });
      recorded.push({ eventId, modificationNumber, optType: r.optType });
    }
  });
  if (acknowledged.length > 0) ctx.log.info({ venId: reg.venId, eventIds: acknowledged }, 'cancellation acknowledged (R36)');
  for (const r of recorded) ctx.log.info({ venId: reg.venId, ...r }, 'opt state recorded');
  if (recorded.length > 0) ctx.ledgerWork?.kick();
  if (error !== undefined) throw error;
  return oadrResponse(reg.venId, ResponseCode.OK, p.response.requestId);
}
