/**
 * The folder mapping/ turns OpenADR business steps into contract calls, with its durable store and
 * unit conversions. It may depend on the part's top (the `Ledger` interface) and chaincode/; it works
 * the same over the embedded ledger and Fabric.
 *
 * The OpenADR ↔ contract mapping: one function per business step, over the `Ledger` interface.
 *
 *   notifyEvent     event request (start, slots, total reductionW, targeted meters)
 *                   → queryMissingBaselines, evaluateBaseline where missing → notifyDRevent with the
 *                   targeted meters that have a baseline as the cluster → queryLoadReductions
 *                   (a batch of meters per evaluation)
 *                   → each customer's OPR, W per 15-minute slot (the VTN sends it as −OPR LOAD_DISPATCH)
 *   modifyEvent     → modifyDRevent (version + 1 = OpenADR modificationNumber) → the new OPRs;
 *                   after the start only slots that have not started change (R20)
 *   cancelEvent     → cancelDRevent
 *   recordTelemetry readings (powerReal / energyReal with siScaleCode, any interval length) → the
 *                   durable accumulator → recordEnergy of every slot that is complete (or whose day
 *                   closed), energy-weighted: W_slot = Σ P·Δt / Σ Δt; the same reading twice counts
 *                   once, the same interval with another value corrects it (R346: the slot is
 *                   recorded again, the contract keeps the earlier value in its history)
 *   recordOpt       an opt answer to a notified event → recordOptState (in order per customer)
 *   programParams / setProgramParams → queryProgramParams / setProgramParams
 *   closeDay        partial slots of a day become recordable (called by settleEvent, or when due)
 *   settleEvent     closeDay → evaluateAvailability → getDRToken → each customer's milli-tokens
 *   submitClaims    an ended event's telemetry on the ledger (queryEnergyValue) → one submitFlexibility
 *                   per window slot as the aggregator (claims.ts); validateClaim → validateFlexibility
 *
 * Identities: the system operator (events, baselines, settlement, opt answers) and the retailers: each
 * meter's writes (enrolMeter, recordEnergy) and retailer-scoped reads (energy, balance, baseline) go
 * with the identity of its customer's retailer (`retailerOf`), the default retailer's when it names
 * none, so the contract itself keeps the retailers apart. Customer = meter (docs/contract.md). Every step
 * is idempotent: a repeated step finds its work done on the ledger or in the store and does not
 * repeat it.
 */
import { addDays, baselineModeFor, dayStartEpochMs, parseBaselineNotFound, slotOf, slotStartEpochMs } from '../../chaincode/index.ts';
import { LedgerError } from '../errors.ts';
import type { Ledger, LedgerIdentity, RetailerIdentity } from '../ledger.ts';
import { claimIdOf, claimRecord, DEFAULT_NOMINAL_VOLTAGES, type ClaimRecord, type NominalVoltages } from './claims.ts';
import { MappingError } from './errors.ts';
import type { EventWindow, MappedEvent, MappingStore, SampleOutcome, SlotPart } from './store.ts';
import { averageWatts, pointValue, type TelemetryUnit } from './units.ts';

export interface MappingIdentities {
  /** Org1MSP with `ID` = `operator:…` (the contract's system operator). */
  readonly operator: LedgerIdentity;
  /** The default retailer (`ID` = retailerId, in a retailer MSP): it acts for the meters `retailerOf` names no retailer for. */
  readonly retailer: LedgerIdentity;
  readonly retailerId: string;
  /**
   * The identity of a meter's retailer (the retailer of the meter's customer), which enables on the
   * ledger, enrols the meter, records its energy and reads its energy, balance and baseline;
   * undefined: the default retailer. Absent: the default retailer acts for every meter. Throwing
   * (a retailer without an identity) fails that meter's step with `NO_IDENTITY`: nothing is written
   * for it with another identity.
   */
  readonly retailerOf?: (meterId: string) => RetailerIdentity | undefined | Promise<RetailerIdentity | undefined>;
}

export interface LedgerMappingOptions {
  readonly ledger: Ledger;
  readonly identities: MappingIdentities;
  readonly store: MappingStore;
  /** Clock (ms), for refusing readings from the future and closing days. Default Date.now. */
  readonly now?: () => number;
  /** A day closes this long after its end (late reports still land in their slots). Default 1 h. */
  readonly dayCloseGraceMs?: number;
  /** Readings may end at most this far in the future (clock skew). Default 60 s. */
  readonly clockSkewMs?: number;
}

export interface EventRequest {
  readonly eventId: string;
  /** Any instant: an event off the slot grid covers its first (and last) slot in part. */
  readonly startMs: number;
  /** The event's length in slots (its duration is slots × slotMs unless `durationMs` is given). */
  readonly slots: number;
  /** Length of a slot; must be the contract's (24 h / slotsPerDay, 15 min). Default that. */
  readonly slotMs?: number;
  /** The event's length when it is not a whole number of slots. */
  readonly durationMs?: number;
  /**
   * Total reduction, W, while the event runs: one number, or one per window slot (every slot the
   * event overlaps). A slot covered in part is asked for W × covered / slot on the contract.
   */
  readonly reductionW: number | readonly number[];
  /** The targeted customers' meters. */
  readonly meterIds: readonly string[];
}

/** An event's allocation as the VTN receives it. */
export interface EventAllocation extends EventWindow {
  /** Time the event covers of each window slot (slotMs except for a partly covered first or last slot). */
  readonly coveredMs: readonly number[];
  /** Each customer's OPR, W per slot (the slot's average); only for that customer's VEN. */
  readonly oprByMeter: ReadonlyMap<string, readonly number[]>;
  /** Targeted meters the contract gave no allocation, with the reason. */
  readonly excluded: ReadonlyMap<string, string>;
  readonly unallocatedW: readonly number[];
}

export interface OptAnswer {
  readonly eventId: string;
  readonly meterId: string;
  readonly optType: 'optIn' | 'optOut';
  /** The OpenADR modificationNumber answered; a cancellation's higher number maps to the last contract version. */
  readonly modificationNumber: number;
  readonly atMs: number;
}

export interface TelemetryReading {
  readonly meterId: string;
  /** The report's rID (a series never repeats a start time). */
  readonly seriesId: string;
  readonly startMs: number;
  /** 0 for a point reading: instantaneous power, or an energy register (points.ts). */
  readonly durationMs: number;
  readonly value: number;
  readonly unit: TelemetryUnit;
}

export interface TelemetryResult {
  readonly accepted: number;
  /** The same reading again (the same report twice): ignored. */
  readonly duplicates: number;
  /** The same interval (series, start, duration) again with another value: it replaces the earlier one (R346) and its slots are recorded again. */
  readonly corrections: number;
  /** A reading for a series and start already held with another duration: the first one stays. */
  readonly conflicts: number;
  /** Readings refused (malformed, from the future), with the reason. */
  readonly rejected: ReadonlyArray<{ readonly reading: TelemetryReading; readonly reason: string }>;
  readonly recorded: FlushResult;
}

export interface FlushResult {
  /** Slots written to the ledger in this call, per meter-day. */
  readonly slots: ReadonlyArray<{ readonly meterId: string; readonly day: string; readonly slots: readonly number[]; readonly txId: string }>;
  readonly failed: ReadonlyArray<{ readonly meterId: string; readonly day: string; readonly error: Error }>;
}

/** A customer's part of an event on the ledger (`LedgerMapping.customerEvent`). */
export interface CustomerEventRecord {
  readonly meterId: string;
  readonly eventId: string;
  readonly day: string;
  /** Slot indexes of the day the event covers. */
  readonly window: readonly number[];
  /** The contract's event status (notified, active, completed, settled, cancelled). */
  readonly status: string;
  /** OPR per window slot, W. */
  readonly oprW: readonly number[];
  /** The baseline per window slot frozen with the allocation, W (absent in an allocation written without it). */
  readonly baselineW?: readonly number[];
  readonly balanceMilli: number;
  /** Availability per slot of the day, parts per million (0.5 = 500000 before any event). */
  readonly availabilityPpm: readonly number[];
  /** The reward of this event once settled: milli-tokens per slot of `slots`. */
  readonly reward: { readonly slots: readonly number[]; readonly perSlotMilli: readonly number[]; readonly totalMilli: number } | null;
}

/** Where a slot value on the ledger came from. */
export type SlotSource = 'measured' | 'imported' | 'missing';

/** One meter-day as the ledger holds it, W per slot, with each slot's source. */
export interface EnergyDayView {
  readonly meterId: string;
  readonly day: string;
  /** W per slot (null: none on the ledger). */
  readonly values: ReadonlyArray<number | null>;
  /** `measured`: recorded from the VEN's telemetry by this mapping; `imported`: from meter history; `missing`. */
  readonly sources: readonly SlotSource[];
  /** Slot start times (ms). */
  readonly startsMs: readonly number[];
}

export interface SettlementResult {
  readonly eventId: string;
  readonly status: 'settled' | 'partial' | 'cancelled';
  /** Milli-tokens each settled customer earned in this event. */
  readonly rewardsMilli: ReadonlyMap<string, number>;
  /** Customers that could not be settled yet (e.g. measurements missing), with the reason. */
  readonly unsettled: ReadonlyMap<string, string>;
}

/** A window slot's flexibility claim: its period and the record on the ledger (null: not submitted yet). */
export interface EventClaim {
  readonly claimId: string;
  readonly slot: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly record: ClaimRecord | null;
}

/** What `submitClaims` did. */
export interface ClaimsOutcome {
  /**
   * `submitted`: every period's claim is on the ledger (written now or before); `waiting`: not yet
   * (`reason`: the event has not ended, or telemetry is missing before the day closes); `none`: the
   * event gets no claims (cancelled, or no customer was allocated).
   */
  readonly state: 'submitted' | 'waiting' | 'none';
  readonly reason?: string;
  /** Claims this call wrote. */
  readonly submitted: number;
}

/** What a modification changes besides the total. */
export interface EventChange {
  readonly startMs?: number;
  readonly durationMs?: number;
  /** The meters the event targets from now on (before the start only; the contract keeps a started event's cluster). */
  readonly meterIds?: readonly string[];
}

export interface LedgerMapping {
  /** Enables each meter's retailer and enrols the meters that are not yet, each as its retailer (idempotent). */
  ensureParticipants(meterIds: readonly string[]): Promise<void>;
  /** Records whole days of a meter's history (the retailer's data hub upload), W per slot. */
  importEnergy(meterId: string, days: ReadonlyArray<{ readonly day: string; readonly values: ReadonlyArray<number | null> }>): Promise<string[]>;
  notifyEvent(request: EventRequest): Promise<EventAllocation>;
  /**
   * modifyDRevent: a new total, and optionally a new start or duration (within the event's day) and,
   * before the start, new targeted meters. Slots that have started keep their slot and request (R20).
   */
  modifyEvent(eventId: string, reductionW: number | readonly number[], change?: EventChange): Promise<EventAllocation>;
  /**
   * cancelDRevent; idempotent, and for an event only the ledger knows too (nothing to do when neither
   * does). `deliveredUntilMs`: when the VENs were told of the cancellation; the metering periods that
   * ended by then were delivered under the event and are claimed (`submitClaims`). Absent (a creation
   * undone, the event never sent), nothing of it was delivered.
   */
  cancelEvent(eventId: string, deliveredUntilMs?: number): Promise<void>;
  /**
   * A customer's opt answer (oadrCreatedEvent / oadrCreateOpt for an event) → `recordOptState`.
   * Resolves `undefined` without a transaction when the event was not notified through this mapping
   * or the meter has no allocation in it (nothing on the ledger to answer to).
   */
  recordOpt(opt: OptAnswer): Promise<{ readonly txId: string; readonly unchanged: boolean } | undefined>;
  recordTelemetry(readings: readonly TelemetryReading[]): Promise<TelemetryResult>;
  /** A meter-day's slot values on the ledger and where each came from. */
  energyDay(meterId: string, day: string): Promise<EnergyDayView>;
  /** For each reading, whether the accumulator holds it (same meter, series, start, duration and value: a correction it lacks is not held). */
  holds(readings: readonly TelemetryReading[]): boolean[];
  /** Records the partial slots of `day` (for the given meters, or all). */
  closeDay(day: string, meterIds?: readonly string[]): Promise<FlushResult>;
  /** Closes every day whose end + grace has passed. */
  closeDueDays(): Promise<FlushResult>;
  /** When `day` closes: its end in the contract's time zone plus the grace for late reports (ms). */
  dayClosesAt(day: string): Promise<number>;
  settleEvent(eventId: string): Promise<SettlementResult>;
  /**
   * The event's flexibility claims (claims.ts), one per window slot, submitted as the aggregator (the
   * default retailer) once the event's last slot has ended and its telemetry is on the ledger: every
   * allocated customer's value for every slot, or, once the event's day has closed (`dayClosesAt`),
   * whatever the ledger holds — a missing value makes its claim fail, with the reason. Idempotent: a
   * claim already on the ledger is not written again (the contract refuses a second record of an id;
   * it is read back), so a call after a crash or a ledger error submits only what is missing.
   */
  submitClaims(eventId: string, nominal?: NominalVoltages): Promise<ClaimsOutcome>;
  /** Each window slot's claim of an event notified through this mapping, as the ledger holds it. */
  claims(eventId: string): Promise<EventClaim[]>;
  /** One claim as the ledger holds it; undefined when it has none of that id. */
  claim(claimId: string): Promise<ClaimRecord | undefined>;
  /** validateFlexibility as the system operator: UNKNOWN_CLAIM, or NOT_ALLOWED for a failed or confirmed claim. */
  validateClaim(claimId: string): Promise<ClaimRecord>;
  /** A customer's token balance, milli-tokens. */
  balanceMilli(meterId: string): Promise<number>;
  /**
   * The contract's baseline record of a meter for a day; without one, `found: false` and why
   * (`BaselineShortfall`: the day's kind, the complete days needed, found and missing).
   */
  baseline(meterId: string, day: string): Promise<Record<string, unknown>>;
  event(eventId: string): MappedEvent | undefined;
  /** The contract's record of an event (queryDRevent): day, window, requested, allocated and unallocated W per slot, status. */
  eventRecord(eventId: string): Promise<Record<string, unknown>>;
  /**
   * One customer's part of an event as the contract holds it: its allocation (queryLoadReduction:
   * day, window, OPR and window baseline per slot) and its account (queryEarnedToken: balance,
   * availability per slot, and the event's reward per slot once settled).
   */
  customerEvent(meterId: string, eventId: string): Promise<CustomerEventRecord>;
  /** The contract's program parameters (queryProgramParams). */
  programParams(): Promise<Record<string, unknown>>;
  /** setProgramParams (the system operator); the parameters after the change. */
  setProgramParams(params: Readonly<Record<string, unknown>>): Promise<Record<string, unknown>>;
  /** The contract's day and slot of an instant. */
  slotOf(ms: number): Promise<{ readonly day: string; readonly slot: number }>;
}

/** Why a meter has no baseline for a day (`baseline()` adds it to `found: false`). */
export interface BaselineShortfall {
  /** The target day's kind: a weekday's baseline takes the highest-energy days (HighXofY), a weekend's the lowest (LowXofY). */
  readonly dayKind: 'weekday' | 'weekend';
  /** Complete days without a DR event needed before the day (X: 21 for a weekday, 14 for a weekend by default). */
  readonly daysNeeded: number;
  /** Such days the ledger holds among the last Y (35) before the day (when there are enough: daysNeeded, i.e. at least that many). */
  readonly daysFound: number;
  readonly daysMissing: number;
  readonly reason: string;
}

interface GridParams {
  readonly timeZone: string;
  readonly slotsPerDay: number;
}

const json = <T>(text: string): T => JSON.parse(text) as T;

/**
 * Meters per evaluation of the contract's batch queries (queryMissingBaselines, queryLoadReductions):
 * a cluster of 10,000 is five evaluations, which the embedded ledger's endorsement workers run side
 * by side, instead of one per meter.
 */
export const METERS_PER_QUERY = 2_000;

/** Days whose meters with a baseline the mapping remembers (`ensureBaselines`). */
const BASELINE_DAYS_KEPT = 4;

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

function contractCodeOf(err: unknown): string | undefined {
  return err instanceof LedgerError ? err.contractCode : undefined;
}

function isRetryable(err: unknown): boolean {
  return err instanceof LedgerError && err.code === 'VALIDATION' && (err.validationCode?.name === 'MVCC_READ_CONFLICT' || err.validationCode?.name === 'PHANTOM_READ_CONFLICT');
}

function ledgerFailure(what: string, err: unknown): MappingError {
  return new MappingError('LEDGER', `${what}: ${(err as Error).message}`, { cause: err });
}

function perSlot(v: number | readonly number[], slots: number): number[] {
  const arr = typeof v === 'number' ? new Array<number>(slots).fill(v) : [...v];
  if (arr.length !== slots) throw new MappingError('INVALID_REQUEST', `reductionW has ${arr.length} values for ${slots} slots; give one per slot or one number`);
  for (const x of arr) {
    if (!Number.isSafeInteger(x) || x < 0) throw new MappingError('INVALID_REQUEST', `reductionW values are whole W ≥ 0, got ${String(x)}`);
  }
  return arr;
}

/** The slot parts of [startMs, endMs) on the contract's grid (a reading may span slots, even days). */
export function slotParts(startMs: number, endMs: number, grid: GridParams): SlotPart[] {
  const { timeZone, slotsPerDay } = grid;
  const nominal = 86_400_000 / slotsPerDay;
  const parts: SlotPart[] = [];
  let t = startMs;
  while (t < endMs) {
    const { day, slot } = slotOf(t, timeZone, slotsPerDay);
    const slotStartMs = slotStartEpochMs(day, slot, timeZone, slotsPerDay);
    let slotEndMs = slot + 1 >= slotsPerDay ? dayStartEpochMs(addDays(day, 1), timeZone) : slotStartEpochMs(day, slot + 1, timeZone, slotsPerDay);
    // Second pass of a repeated hour (DST end): the slot's next boundary on the wall clock.
    if (slotEndMs <= t) slotEndMs = t + nominal - ((t - slotStartMs) % nominal);
    const end = Math.min(endMs, slotEndMs);
    parts.push({ day, slot, slotStartMs, slotEndMs, overlapMs: end - t });
    t = end;
  }
  return parts;
}

/**
 * The contract's day and window of an event over [startMs, endMs): every slot the event overlaps,
 * with the time it covers of each (`coveredMs`). An event may start and end at any second; its
 * first and last slots are then covered in part. It must lie within one contract day and avoid the
 * hour of a clock change.
 */
export function eventGrid(startMs: number, endMs: number, slotMs: number, grid: GridParams): { day: string; window: number[]; coveredMs: number[] } {
  const { timeZone, slotsPerDay } = grid;
  const nominal = 86_400_000 / slotsPerDay;
  if (!Number.isSafeInteger(startMs) || !Number.isSafeInteger(endMs) || endMs <= startMs) throw new MappingError('INVALID_REQUEST', `the event must end after it starts, on whole milliseconds (${String(startMs)}–${String(endMs)})`);
  if (slotMs !== nominal) throw new MappingError('OFF_GRID', `the contract's slots are ${nominal / 60_000} minutes; the event's are ${slotMs / 60_000}`);
  const parts = slotParts(startMs, endMs, grid);
  const day = (parts[0] as SlotPart).day;
  if (parts.some((p) => p.day !== day)) {
    throw new MappingError('OFF_GRID', `the event crosses midnight of ${day} in ${timeZone}; a contract event lies within one day — split it in two events`);
  }
  const window = parts.map((p) => p.slot);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as SlotPart;
    if (p.slotEndMs - p.slotStartMs !== nominal || (i > 0 && p.slot !== (window[i - 1] as number) + 1)) {
      throw new MappingError('OFF_GRID', `slot ${p.slot} of ${day} is not ${nominal / 60_000} minutes after the one before (a clock change in ${timeZone}); avoid the hour of the change`);
    }
  }
  return { day, window, coveredMs: parts.map((p) => p.overlapMs) };
}

/**
 * The request the contract receives for a window slot the event covers in part: the reduction
 * averaged over the whole slot (the contract's values are slot averages), W × covered / slot.
 */
export function slotAverageRequest(requestW: readonly number[], coveredMs: readonly number[], slotMs: number): number[] {
  return requestW.map((w, i) => Math.round((w * (coveredMs[i] ?? slotMs)) / slotMs));
}

/** The value the accumulator keeps for a reading (W of a sample, a point's value); undefined for one it would refuse. */
function heldValueOf(r: TelemetryReading): number | undefined {
  try {
    return r.durationMs === 0 ? pointValue(r.value, r.unit).value : averageWatts(r.value, r.unit, r.durationMs);
  } catch {
    return undefined;
  }
}

export function createLedgerMapping(options: Readonly<LedgerMappingOptions>): LedgerMapping {
  const { ledger, store } = options;
  const { operator, retailer, retailerId } = options.identities;
  const defaultRetailer: RetailerIdentity = { retailerId, identity: retailer };
  const now = options.now ?? Date.now;
  const graceMs = options.dayCloseGraceMs ?? 3_600_000;
  const skewMs = options.clockSkewMs ?? 60_000;
  let grid: GridParams | undefined;
  const retailersReady = new Map<string, Promise<void>>();
  const meters = new Map<string, Promise<void>>();
  let flushChain: Promise<unknown> = Promise.resolve();
  /** Meters whose baseline for a day is on the ledger, for the latest days events were notified for. */
  const baselinesKnown = new Map<string, Set<string>>();
  const optChains = new Map<string, Promise<void>>();

  const submit = async (identity: LedgerIdentity, fn: string, args: readonly string[]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ledger.submit(identity, fn, args);
      } catch (err) {
        if (attempt < 4 && isRetryable(err)) continue;
        throw err;
      }
    }
  };

  const params = async (): Promise<GridParams> => {
    if (grid === undefined) {
      const p = json<GridParams>(await ledger.evaluate(operator, 'queryProgramParams', []));
      grid = { timeZone: p.timeZone, slotsPerDay: p.slotsPerDay };
    }
    return grid;
  };

  /** The retailer identity that acts for a meter: its customer's retailer's, or the default one. */
  const retailerFor = async (meterId: string): Promise<RetailerIdentity> => {
    try {
      return (await options.identities.retailerOf?.(meterId)) ?? defaultRetailer;
    } catch (err) {
      throw err instanceof MappingError ? err : new MappingError('NO_IDENTITY', `meter ${meterId}: ${(err as Error).message}`, { cause: err });
    }
  };

  const ensureRetailer = (id: string): Promise<void> => {
    let p = retailersReady.get(id);
    if (p === undefined) {
      p = (async () => {
        const r = json<{ enabled: boolean }>(await ledger.evaluate(operator, 'queryRetailer', [id]));
        if (!r.enabled) await submit(operator, 'enableRetailer', [id]);
      })().catch((err: unknown) => {
        retailersReady.delete(id);
        throw ledgerFailure(`enabling retailer ${id}`, err);
      });
      retailersReady.set(id, p);
    }
    return p;
  };

  /** The meter enrolled by `by` (a meter another retailer holds stays refused: METER_HELD). */
  const ensureMeter = (meterId: string, by: RetailerIdentity): Promise<void> => {
    const key = `${by.retailerId}\u0000${meterId}`;
    let p = meters.get(key);
    if (p === undefined) {
      p = (async () => {
        await ensureRetailer(by.retailerId);
        try {
          const m = json<{ enabled: boolean; retailerId: string }>(await ledger.evaluate(by.identity, 'queryMeter', [meterId]));
          if (m.enabled && m.retailerId === by.retailerId) return;
        } catch (err) {
          if (contractCodeOf(err) !== 'NOT_FOUND' && contractCodeOf(err) !== 'ACCESS_DENIED') throw err;
        }
        await submit(by.identity, 'enrolMeter', [meterId]);
      })().catch((err: unknown) => {
        meters.delete(key);
        throw err instanceof MappingError ? err : ledgerFailure(`enrolling meter ${meterId} as ${by.retailerId}`, err);
      });
      meters.set(key, p);
    }
    return p;
  };

  /** The meter's retailer identity, enabled and holding the meter on the ledger. */
  const enrolled = async (meterId: string): Promise<RetailerIdentity> => {
    const by = await retailerFor(meterId);
    await ensureMeter(meterId, by);
    return by;
  };

  /** The identity a retailer-scoped read of a meter goes with: its retailer's, enabled on the ledger. */
  const readerOf = async (meterId: string): Promise<LedgerIdentity> => {
    const by = await retailerFor(meterId);
    await ensureRetailer(by.retailerId);
    return by.identity;
  };

  const energyDay = async (meterId: string, day: string): Promise<EnergyDayView> => {
    const g = await params();
    let onLedger: { found: boolean; values?: Array<number | null> } = { found: false };
    const reader = await readerOf(meterId);
    try {
      onLedger = json(await ledger.evaluate(reader, 'queryEnergyValue', [meterId, day]));
    } catch (err) {
      if (contractCodeOf(err) === 'INVALID_ARGUMENT') throw new MappingError('INVALID_REQUEST', (err as Error).message, { cause: err });
      if (contractCodeOf(err) !== 'NOT_FOUND') throw ledgerFailure(`reading the energy of ${meterId} for ${day}`, err);
    }
    const values = onLedger.values ?? new Array<number | null>(g.slotsPerDay).fill(null);
    const measured = new Set(store.slots(meterId, day).filter((s) => s.recordedW !== undefined).map((s) => s.slot));
    return {
      meterId,
      day,
      values,
      sources: values.map((v, i) => (v === null ? 'missing' : measured.has(i) ? 'measured' : 'imported')),
      startsMs: values.map((_, i) => slotStartEpochMs(day, i, g.timeZone, g.slotsPerDay)),
    };
  };

  const dayClosesAt = async (day: string): Promise<number> => dayStartEpochMs(addDays(day, 1), (await params()).timeZone) + graceMs;

  /**
   * The periods of an event notified through this mapping: each window slot with its start and end;
   * of a cancelled event, those that had ended when its VENs were told (none when it was never sent).
   */
  const periodsOf = async (eventId: string): Promise<{ e: MappedEvent; periods: Array<{ claimId: string; slot: number; startMs: number; endMs: number }> }> => {
    const e = store.getEvent(eventId);
    if (e === undefined) throw new MappingError('UNKNOWN_EVENT', `event ${eventId} was not notified through this VTN`);
    const g = await params();
    const periods = e.window.map((slot) => {
      const startMs = slotStartEpochMs(e.day, slot, g.timeZone, g.slotsPerDay);
      return { claimId: claimIdOf(eventId, slot), slot, startMs, endMs: startMs + e.slotMs };
    });
    if (e.status !== 'cancelled') return { e, periods };
    return { e, periods: periods.filter((p) => e.deliveredUntilMs !== undefined && p.endMs <= e.deliveredUntilMs) };
  };

  /** A claim on the ledger (`queryFlexibility`, which anyone on the channel may read); undefined when there is none. */
  const claimOnLedger = async (claimId: string): Promise<ClaimRecord | undefined> => {
    try {
      return json<ClaimRecord>(await ledger.evaluate(operator, 'queryFlexibility', [claimId]));
    } catch (err) {
      if (contractCodeOf(err) === 'NOT_FOUND') return undefined;
      if (contractCodeOf(err) === 'INVALID_ARGUMENT') throw new MappingError('UNKNOWN_CLAIM', `no claim '${claimId}': ${(err as Error).message}`, { cause: err });
      throw ledgerFailure(`reading claim ${claimId}`, err);
    }
  };

  /** Each meter's values on the ledger for the event's day, 100 meters at a time. */
  const ledgerValues = async (meterIds: readonly string[], day: string): Promise<Map<string, ReadonlyArray<number | null>>> => {
    const out = new Map<string, ReadonlyArray<number | null>>();
    for (let i = 0; i < meterIds.length; i += 100) {
      const days = await Promise.all(meterIds.slice(i, i + 100).map((m) => energyDay(m, day)));
      for (const d of days) out.set(d.meterId, d.values);
    }
    return out;
  };

  const submitClaims = async (eventId: string, nominal: NominalVoltages = DEFAULT_NOMINAL_VOLTAGES): Promise<ClaimsOutcome> => {
    const { e, periods } = await periodsOf(eventId);
    if (e.status === 'cancelled' && periods.length === 0) return { state: 'none', reason: `event ${eventId} was cancelled before any of its metering periods ended`, submitted: 0 };
    const meterIds = Object.keys(e.oprByMeter).sort();
    if (meterIds.length === 0) return { state: 'none', reason: `no customer was allocated a part of event ${eventId}`, submitted: 0 };
    if (e.claimsSubmitted === true) return { state: 'submitted', submitted: 0 };
    const t = now();
    const endMs = Math.max(...periods.map((p) => p.endMs));
    if (t < endMs) return { state: 'waiting', reason: `the event's last metering period ends at ${new Date(endMs).toISOString()}`, submitted: 0 };
    const values = await ledgerValues(meterIds, e.day);
    const missing = periods.reduce((n, p) => n + meterIds.filter((m) => values.get(m)?.[p.slot] == null).length, 0);
    if (missing > 0) {
      const closesAt = await dayClosesAt(e.day);
      if (t < closesAt) return { state: 'waiting', reason: `${missing} slot values of the event's customers are not on the ledger yet; claimed as they are once the day closes at ${new Date(closesAt).toISOString()}`, submitted: 0 };
    }
    await ensureRetailer(retailerId);
    let submitted = 0;
    for (const p of periods) {
      const period = new Map(meterIds.map((m) => [m, values.get(m)?.[p.slot] ?? null] as const));
      const record = claimRecord(p.claimId, p.startMs, period, nominal);
      try {
        await submit(retailer, 'submitFlexibility', [JSON.stringify(record)]);
        submitted++;
      } catch (err) {
        if (contractCodeOf(err) !== 'CONFLICT') throw ledgerFailure(`submitting claim ${p.claimId} of event ${eventId}`, err);
        // Already on the ledger (a call before that crashed or lost the answer): kept as it is, if it is ours.
        const held = await claimOnLedger(p.claimId);
        if (held !== undefined && held.retailerId !== retailerId) {
          throw new MappingError('NOT_ALLOWED', `claim ${p.claimId} is on the ledger from retailer ${held.retailerId}, not from this VTN's ${retailerId}; event ids must be unique on the channel`, { cause: err });
        }
      }
    }
    const latest = store.getEvent(eventId) ?? e;
    store.putEvent({ ...latest, claimsSubmitted: true });
    return { state: 'submitted', submitted };
  };

  const ensureParticipants = async (meterIds: readonly string[]): Promise<void> => {
    await Promise.all(meterIds.map(enrolled));
  };

  /**
   * Each targeted meter's baseline for `day`, evaluated where missing; meters without one are
   * excluded. A baseline on the ledger stays there (the contract never deletes one), so the meters
   * known to have one are remembered for the days of the latest events and not asked about again.
   */
  const ensureBaselines = async (day: string, meterIds: readonly string[], excluded: Map<string, string>): Promise<void> => {
    const known = baselinesKnown.get(day) ?? new Set<string>();
    baselinesKnown.delete(day);
    baselinesKnown.set(day, known);
    for (const old of baselinesKnown.keys()) if (baselinesKnown.size > BASELINE_DAYS_KEPT) baselinesKnown.delete(old);
    const unknown = meterIds.filter((m) => !known.has(m));
    const missing = new Set((await Promise.all(chunks(unknown, METERS_PER_QUERY).map(async (batch) => json<{ missing: string[] }>(await ledger.evaluate(operator, 'queryMissingBaselines', [day, JSON.stringify(batch)])).missing))).flat());
    for (const m of unknown) if (!missing.has(m)) known.add(m);
    await Promise.all(
      [...missing].map(async (meterId) => {
        try {
          await submit(operator, 'evaluateBaseline', [meterId, day]);
          known.add(meterId);
        } catch (err) {
          if (contractCodeOf(err) === 'BASELINE_NOT_FOUND') excluded.set(meterId, (err as Error).message);
          else throw ledgerFailure(`evaluating the baseline of ${meterId} for ${day}`, err);
        }
      }),
    );
  };

  /**
   * Why a meter has no baseline for `day`: the contract's own answer, from `evaluateBaseline` run as
   * an evaluation (simulated, nothing ordered or written): too few complete days without a DR event
   * before the day (how many found, how many the day's kind needs), or enough of them (the baseline is
   * recorded when an event for the day is created).
   */
  const baselineShortfall = async (meterId: string, day: string): Promise<BaselineShortfall> => {
    const p = json<{ baselineY: number; baselineXWeekday: number; baselineXWeekend: number }>(await ledger.evaluate(operator, 'queryProgramParams', []));
    const dayKind = baselineModeFor(day) === 'low' ? 'weekend' : 'weekday';
    const X = dayKind === 'weekend' ? p.baselineXWeekend : p.baselineXWeekday;
    const rule = `${day} is a ${dayKind}: its baseline averages the ${X} ${dayKind === 'weekend' ? 'lowest' : 'highest'}-energy of the last ${p.baselineY} complete days (96 slots) without a DR event before it`;
    let found: number;
    try {
      await ledger.evaluate(operator, 'evaluateBaseline', [meterId, day]);
      return { dayKind, daysNeeded: X, daysFound: X, daysMissing: 0, reason: `${rule}; the ledger holds enough of them: the baseline is recorded when an event for that day is created` };
    } catch (err) {
      const code = contractCodeOf(err);
      if (code === 'NOT_FOUND') found = 0; // the meter has no data on the ledger yet
      else if (code === 'BASELINE_NOT_FOUND') found = parseBaselineNotFound((err as Error).message)?.found ?? 0;
      else throw ledgerFailure(`explaining the missing baseline of ${meterId} for ${day}`, err);
    }
    const missing = Math.max(0, X - found);
    return {
      dayKind,
      daysNeeded: X,
      daysFound: found,
      daysMissing: missing,
      reason: `no baseline yet: ${rule}; the ledger holds ${found}: import ${missing} more complete day${missing === 1 ? '' : 's'} of meter history before ${day} (POST /api/v1/customers/{id}/energy)`,
    };
  };

  /** Each meter's OPR and the window baseline frozen with it (queryLoadReductions), by meter. */
  const queryOprs = async (eventId: string, meterIds: readonly string[], excluded: Map<string, string>): Promise<{ oprs: Map<string, number[]>; baselines: Map<string, number[]> }> => {
    const out = new Map<string, { oprW: number[]; baselineW?: number[] }>();
    await Promise.all(
      chunks(meterIds, METERS_PER_QUERY).map(async (batch) => {
        let r: { allocations: Array<{ meterId: string; oprW: number[]; baselineW?: number[] }>; missing: Array<{ meterId: string; reason: string }> };
        try {
          r = json(await ledger.evaluate(operator, 'queryLoadReductions', [eventId, JSON.stringify(batch)]));
        } catch (err) {
          if (contractCodeOf(err) !== 'NOT_FOUND') throw ledgerFailure(`reading the OPRs of ${batch.length} meters in ${eventId}`, err);
          for (const meterId of batch) excluded.set(meterId, (err as Error).message);
          return;
        }
        for (const a of r.allocations) out.set(a.meterId, a);
        for (const m of r.missing) excluded.set(m.meterId, m.reason);
      }),
    );
    // Sorted by meter: the result never depends on the order the ledger answered in.
    const sorted = [...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return {
      oprs: new Map(sorted.map(([m, a]) => [m, a.oprW])),
      baselines: new Map(sorted.flatMap(([m, a]) => (a.baselineW === undefined ? [] : [[m, a.baselineW] as const]))),
    };
  };

  const allocationOf = (e: MappedEvent): EventAllocation => {
    const { oprByMeter, baselineByMeter: _baselines, excluded, coveredMs, status: _status, rewardsMilli: _rewards, ...window } = e;
    const head: EventWindow = window;
    return {
      ...head,
      coveredMs: coveredMs ?? e.window.map(() => e.slotMs),
      oprByMeter: new Map(Object.entries(oprByMeter)),
      excluded: new Map(Object.entries(excluded)),
      unallocatedW: [],
    };
  };

  interface ContractEventSummary {
    version: number;
    day: string;
    window: number[];
    requestW: number[];
    customers: number;
    unallocatedW: number[];
    status: string;
    updatedTxId?: string;
    txId?: string;
  }

  // ---- telemetry --------------------------------------------------------------------------------

  const flushNow = async (): Promise<FlushResult> => {
    const g = await params();
    const groups = new Map<string, ReturnType<MappingStore['slotsToRecord']>>();
    for (const s of store.slotsToRecord()) {
      const key = `${s.meterId}\u0000${s.day}`;
      const list = groups.get(key) ?? [];
      list.push(s);
      groups.set(key, list);
    }
    const done: Array<FlushResult['slots'][number]> = [];
    const failed: Array<FlushResult['failed'][number]> = [];
    await Promise.all(
      [...groups.values()].map(async (slots) => {
        const first = slots[0];
        if (first === undefined) return;
        const { meterId, day } = first;
        const values = new Array<number | null>(g.slotsPerDay).fill(null);
        const marks: Array<{ slot: number; watts: number; final: boolean }> = [];
        let changed = false;
        for (const s of slots) {
          // Energy-weighted average over the covered time; the contract takes whole W ≥ 0.
          const watts = Math.max(0, Math.round(s.energyWms / s.coveredMs));
          values[s.slot] = watts;
          marks.push({ slot: s.slot, watts, final: s.coveredMs >= s.slotEndMs - s.slotStartMs });
          if (s.recordedW !== watts) changed = true;
        }
        try {
          let txId = '';
          let blockNumber: number | undefined;
          if (changed) {
            const by = await enrolled(meterId);
            ({ txId, blockNumber } = await submit(by.identity, 'recordEnergy', [meterId, day, JSON.stringify(values)]));
            done.push({ meterId, day, slots: marks.map((m) => m.slot), txId });
          }
          store.markRecorded(meterId, day, marks, txId, blockNumber);
        } catch (err) {
          failed.push({ meterId, day, error: err instanceof MappingError ? err : ledgerFailure(`recording ${meterId} ${day}`, err) });
        }
      }),
    );
    return { slots: done, failed };
  };

  /** One flush at a time: two flushes of one meter-day would conflict on MVCC. */
  const flush = (): Promise<FlushResult> => {
    const p = flushChain.then(flushNow, flushNow);
    flushChain = p.catch(() => undefined);
    return p;
  };

  const closeDay = async (day: string, meterIds?: readonly string[]): Promise<FlushResult> => {
    store.closeDay(day, meterIds);
    return flush();
  };

  return {
    ensureParticipants,

    async importEnergy(meterId, days) {
      const by = await enrolled(meterId);
      const results = await Promise.all(days.map((d) => submit(by.identity, 'recordEnergy', [meterId, d.day, JSON.stringify(d.values)]).catch((err: unknown) => Promise.reject(ledgerFailure(`recording ${meterId} ${d.day}`, err)))));
      return results.map((r) => r.txId);
    },

    async notifyEvent(request) {
      const g = await params();
      const slotMs = request.slotMs ?? 86_400_000 / g.slotsPerDay;
      if (!Number.isSafeInteger(request.slots) || request.slots < 1) throw new MappingError('INVALID_REQUEST', `slots must be a positive integer, got ${String(request.slots)}`);
      const endMs = request.startMs + (request.durationMs ?? request.slots * slotMs);
      const { day, window, coveredMs } = eventGrid(request.startMs, endMs, slotMs, g);
      const requestW = perSlot(request.reductionW, window.length);
      const contractW = slotAverageRequest(requestW, coveredMs, slotMs);
      const targeted = [...new Set(request.meterIds)].sort();
      if (targeted.length === 0) throw new MappingError('INVALID_REQUEST', 'the event targets no customer; give customer ids, groups or all');
      const known = store.getEvent(request.eventId);
      if (known !== undefined) {
        if (known.day !== day || JSON.stringify(known.window) !== JSON.stringify(window) || JSON.stringify(known.requestW) !== JSON.stringify(requestW)) {
          throw new MappingError('INVALID_REQUEST', `event ${request.eventId} was notified with another window or request; modify it or choose a new eventId`);
        }
        return allocationOf(known);
      }
      await ensureParticipants(targeted);
      const excluded = new Map<string, string>();
      await ensureBaselines(day, targeted, excluded);
      const candidates = targeted.filter((m) => !excluded.has(m));
      if (candidates.length === 0) {
        throw new MappingError('NO_CUSTOMERS', `no targeted customer has a baseline for ${day}: ${[...excluded.values()][0] ?? ''}; import their meter history first`);
      }
      let summary: ContractEventSummary;
      try {
        summary = json<ContractEventSummary>((await submit(operator, 'notifyDRevent', [request.eventId, day, JSON.stringify(window), JSON.stringify(contractW), JSON.stringify(candidates)])).result);
      } catch (err) {
        if (contractCodeOf(err) !== 'CONFLICT') throw ledgerFailure(`notifying event ${request.eventId}`, err);
        // Notified before a crash: the ledger's record is the one to continue from.
        summary = json<ContractEventSummary>(await ledger.evaluate(operator, 'queryDRevent', [request.eventId]));
        if (summary.day !== day || JSON.stringify(summary.window) !== JSON.stringify(window) || (summary.version === 0 && JSON.stringify(summary.requestW) !== JSON.stringify(contractW))) {
          throw new MappingError('INVALID_REQUEST', `event ${request.eventId} exists on the ledger with another day or window; choose a new eventId`, { cause: err });
        }
      }
      const { oprs, baselines } = await queryOprs(request.eventId, candidates, excluded);
      const e: MappedEvent = {
        eventId: request.eventId,
        version: summary.version,
        day,
        window,
        startMs: request.startMs,
        slotMs,
        coveredMs,
        requestW,
        oprByMeter: Object.fromEntries(oprs),
        baselineByMeter: Object.fromEntries(baselines),
        excluded: Object.fromEntries(excluded),
        clusterSize: summary.customers,
        status: 'notified',
        txId: summary.txId ?? summary.updatedTxId ?? '',
      };
      store.putEvent(e);
      return { ...allocationOf(e), unallocatedW: summary.unallocatedW };
    },

    async modifyEvent(eventId, reductionW, change = {}) {
      const e = store.getEvent(eventId);
      if (e === undefined) throw new MappingError('UNKNOWN_EVENT', `event ${eventId} was not notified through this VTN`);
      if (e.status !== 'notified') throw new MappingError('NOT_ALLOWED', `event ${eventId} is ${e.status}; it cannot be modified`);
      const covered = e.coveredMs ?? e.window.map(() => e.slotMs);
      const started = now() >= e.startMs;
      const startMs = change.startMs ?? e.startMs;
      const durationMs = change.durationMs ?? covered.reduce((x, y) => x + y, 0);
      const grid = startMs === e.startMs && change.durationMs === undefined ? { day: e.day, window: e.window, coveredMs: covered } : eventGrid(startMs, startMs + durationMs, e.slotMs, await params());
      if (grid.day !== e.day) throw new MappingError('INVALID_REQUEST', `event ${eventId} lies on ${e.day}; a modification cannot move it to ${grid.day} — cancel it and create a new event`);
      const requestW = perSlot(reductionW, grid.window.length);
      // R20: a slot that has started keeps its place, its covered time and its request (the contract keeps its allocations).
      for (let i = 0, at = e.startMs; i < e.window.length && at <= now(); at += covered[i] ?? e.slotMs, i++) {
        if (grid.window[i] !== e.window[i] || grid.coveredMs[i] !== covered[i] || requestW[i] !== e.requestW[i]) {
          throw new MappingError('NOT_ALLOWED', `event ${eventId}: the slot from ${new Date(at).toISOString()} has started; its reduction stays ${String(e.requestW[i])} W (R20) and its slot and covered time stay — change only slots that have not started`);
        }
      }
      const excluded = new Map(change.meterIds === undefined ? Object.entries(e.excluded) : []);
      let meterIds = Object.keys(e.oprByMeter);
      if (change.meterIds !== undefined) {
        if (started) throw new MappingError('NOT_ALLOWED', `event ${eventId} has started; its customers stay (the contract keeps a started event's cluster)`);
        const targeted = [...new Set(change.meterIds)].sort();
        if (targeted.length === 0) throw new MappingError('INVALID_REQUEST', 'the event would target no customer; cancel it instead');
        await ensureParticipants(targeted);
        await ensureBaselines(e.day, targeted, excluded);
        meterIds = targeted.filter((m) => !excluded.has(m));
        if (meterIds.length === 0) throw new MappingError('NO_CUSTOMERS', `no targeted customer has a baseline for ${e.day}: ${[...excluded.values()][0] ?? ''}; import their meter history first`);
      }
      const contractW = slotAverageRequest(requestW, grid.coveredMs, e.slotMs);
      const windowJson = JSON.stringify(grid.window);
      let summary: ContractEventSummary;
      try {
        // Idempotent by event id and version: a modification the ledger took before a crash (its
        // version ahead of the store's, with this window and request) is continued from, never made twice.
        const onLedger = json<ContractEventSummary>(await ledger.evaluate(operator, 'queryDRevent', [eventId]));
        summary =
          onLedger.version > e.version && JSON.stringify(onLedger.requestW) === JSON.stringify(contractW) && JSON.stringify(onLedger.window) === windowJson
            ? onLedger
            : json<ContractEventSummary>((await submit(operator, 'modifyDRevent', [eventId, windowJson, JSON.stringify(contractW), change.meterIds === undefined ? '' : JSON.stringify(meterIds)])).result);
      } catch (err) {
        const code = contractCodeOf(err);
        if (code === 'CONFLICT') throw new MappingError('NOT_ALLOWED', (err as Error).message, { cause: err });
        if (code === 'INVALID_ARGUMENT') throw new MappingError('INVALID_REQUEST', (err as Error).message, { cause: err });
        throw ledgerFailure(`modifying event ${eventId}`, err);
      }
      const { oprs, baselines } = await queryOprs(eventId, meterIds, excluded);
      const next: MappedEvent = {
        ...e,
        version: summary.version,
        startMs,
        window: grid.window,
        coveredMs: grid.coveredMs,
        requestW,
        oprByMeter: Object.fromEntries(oprs),
        baselineByMeter: Object.fromEntries(baselines),
        excluded: Object.fromEntries(excluded),
        clusterSize: summary.customers,
        txId: summary.txId ?? '',
      };
      store.putEvent(next);
      return { ...allocationOf(next), unallocatedW: summary.unallocatedW };
    },

    async cancelEvent(eventId, deliveredUntilMs) {
      // Also for an event the store does not know (notified before a crash, the VTN's compensation):
      // cancelled on the ledger if it is there, nothing to do if it is not.
      const e = store.getEvent(eventId);
      if (e?.status === 'cancelled') return;
      try {
        await submit(operator, 'cancelDRevent', [eventId]);
      } catch (err) {
        if (e === undefined && contractCodeOf(err) === 'NOT_FOUND') return;
        if (contractCodeOf(err) !== 'CONFLICT') throw ledgerFailure(`cancelling event ${eventId}`, err);
        const onLedger = json<{ status: string }>(await ledger.evaluate(operator, 'queryDRevent', [eventId]));
        if (onLedger.status !== 'cancelled') throw new MappingError('NOT_ALLOWED', (err as Error).message, { cause: err });
      }
      if (e !== undefined) store.putEvent({ ...e, status: 'cancelled', ...(deliveredUntilMs === undefined ? {} : { deliveredUntilMs }) });
    },

    recordOpt(opt) {
      const e = store.getEvent(opt.eventId);
      if (e === undefined || e.oprByMeter[opt.meterId] === undefined) return Promise.resolve(undefined);
      const version = Math.min(opt.modificationNumber, e.version);
      const args = [opt.eventId, opt.meterId, opt.optType, String(version), String(Math.trunc(opt.atMs))];
      // One customer's answers reach the ledger in the order they were given.
      const key = `${opt.eventId}\u0000${opt.meterId}`;
      const run = (optChains.get(key) ?? Promise.resolve()).then(async () => {
        try {
          const r = await submit(operator, 'recordOptState', args);
          return { txId: r.txId, unchanged: json<{ unchanged: boolean }>(r.result).unchanged };
        } catch (err) {
          throw contractCodeOf(err) === 'CONFLICT' ? new MappingError('NOT_ALLOWED', (err as Error).message, { cause: err }) : ledgerFailure(`recording the opt answer of ${opt.meterId} to ${opt.eventId}`, err);
        }
      });
      const tail = run.then(() => undefined, () => undefined);
      optChains.set(key, tail);
      void tail.then(() => {
        if (optChains.get(key) === tail) optChains.delete(key);
      });
      return run;
    },

    programParams: async () => json<Record<string, unknown>>(await ledger.evaluate(operator, 'queryProgramParams', [])),

    async setProgramParams(changes) {
      try {
        await submit(operator, 'setProgramParams', [JSON.stringify(changes)]);
      } catch (err) {
        const code = contractCodeOf(err);
        if (code === 'INVALID_ARGUMENT') throw new MappingError('INVALID_REQUEST', (err as Error).message, { cause: err });
        // OPERATOR_LOCKOUT: the change would take the operator's authority from the caller.
        if (code === 'CONFLICT' || code === 'OPERATOR_LOCKOUT') throw new MappingError('NOT_ALLOWED', (err as Error).message, { cause: err });
        throw ledgerFailure('setting the program parameters', err);
      }
      grid = undefined; // the time zone or slots per day may have changed
      return json<Record<string, unknown>>(await ledger.evaluate(operator, 'queryProgramParams', []));
    },

    async recordTelemetry(readings) {
      const g = await params();
      const limit = now() + skewMs;
      let accepted = 0;
      let duplicates = 0;
      let corrections = 0;
      let conflicts = 0;
      const rejected: Array<TelemetryResult['rejected'][number]> = [];
      const partsOf = (fromMs: number, toMs: number): SlotPart[] => slotParts(fromMs, toMs, g);
      // One store transaction (one fsync) for the whole batch, not one per reading.
      store.batch(() => {
        for (const r of readings) {
          let outcome: SampleOutcome;
          try {
            if (!Number.isSafeInteger(r.startMs) || !Number.isSafeInteger(r.durationMs)) throw new MappingError('INVALID_READING', 'reading start and duration must be whole ms');
            if (r.startMs + r.durationMs > limit) throw new MappingError('INVALID_READING', `reading ends at ${new Date(r.startMs + r.durationMs).toISOString()}, in the future; check the VEN's clock`);
            if (typeof r.meterId !== 'string' || r.meterId === '') throw new MappingError('INVALID_READING', 'reading without a meter');
            if (r.durationMs === 0) {
              // A point: its slots are integrated from the series' points around it (points.ts).
              const p = pointValue(r.value, r.unit);
              outcome = store.addPoint({ meterId: r.meterId, seriesId: r.seriesId, t: r.startMs, kind: p.kind, value: p.value }, partsOf);
            } else {
              const watts = averageWatts(r.value, r.unit, r.durationMs);
              outcome = store.addSample({ meterId: r.meterId, seriesId: r.seriesId, startMs: r.startMs, durationMs: r.durationMs, watts }, partsOf(r.startMs, r.startMs + r.durationMs));
            }
          } catch (err) {
            if (!(err instanceof MappingError)) throw err;
            rejected.push({ reading: r, reason: err.message });
            continue;
          }
          if (outcome === 'added') accepted++;
          else if (outcome === 'duplicate') duplicates++;
          else if (outcome === 'corrected') corrections++;
          else conflicts++;
        }
      });
      const recorded = accepted + corrections > 0 || store.slotsToRecord().length > 0 ? await flush() : { slots: [], failed: [] };
      return { accepted, duplicates, corrections, conflicts, rejected, recorded };
    },

    energyDay,

    holds: (readings) => readings.map((r) => store.holds(r.meterId, r.seriesId, r.startMs, r.durationMs, heldValueOf(r))),

    closeDay,

    async closeDueDays() {
      const g = await params();
      const t = now();
      const slots: Array<FlushResult['slots'][number]> = [];
      const failed: Array<FlushResult['failed'][number]> = [];
      for (const day of store.openDays()) {
        if (dayStartEpochMs(addDays(day, 1), g.timeZone) + graceMs > t) continue;
        const r = await closeDay(day);
        slots.push(...r.slots);
        failed.push(...r.failed);
      }
      return { slots, failed };
    },

    dayClosesAt,

    async settleEvent(eventId) {
      const e = store.getEvent(eventId);
      if (e === undefined) throw new MappingError('UNKNOWN_EVENT', `event ${eventId} was not notified through this VTN`);
      if (e.status === 'cancelled') return { eventId, status: 'cancelled', rewardsMilli: new Map(), unsettled: new Map() };
      if (e.status === 'settled' && e.rewardsMilli !== undefined) return { eventId, status: 'settled', rewardsMilli: new Map(Object.entries(e.rewardsMilli)), unsettled: new Map() };
      const all = Object.keys(e.oprByMeter).sort();
      if (all.length === 0) return { eventId, status: 'settled', rewardsMilli: new Map(), unsettled: new Map() };
      const closed = await closeDay(e.day, all);
      const unsettled = new Map<string, string>();
      for (const f of closed.failed) unsettled.set(f.meterId, f.error.message);
      // A batch refused because one customer lacks measurements is retried per customer.
      const batch = async (fn: string, ids: readonly string[]): Promise<string[]> => {
        if (ids.length === 0) return [];
        try {
          await submit(operator, fn, [eventId, JSON.stringify(ids)]);
          return [...ids];
        } catch (err) {
          const code = contractCodeOf(err);
          if (code === 'CONFLICT') throw new MappingError('NOT_ALLOWED', (err as Error).message, { cause: err });
          if (code !== 'NOT_FOUND' || ids.length === 1) {
            if (ids.length === 1 && code === 'NOT_FOUND') {
              unsettled.set(ids[0] as string, (err as Error).message);
              return [];
            }
            throw ledgerFailure(`${fn} of event ${eventId}`, err);
          }
          const ok: string[] = [];
          for (const id of ids) ok.push(...(await batch(fn, [id])));
          return ok;
        }
      };
      const ready = await batch('evaluateAvailability', all.filter((m) => !unsettled.has(m)));
      const settled = await batch('getDRToken', ready);
      const rewardsMilli = new Map<string, number>();
      await Promise.all(
        settled.map(async (meterId) => {
          const r = json<{ reward: { totalMilli: number } | null }>(await ledger.evaluate(operator, 'queryEarnedToken', [meterId, eventId]));
          rewardsMilli.set(meterId, r.reward?.totalMilli ?? 0);
        }),
      );
      const sorted = new Map([...rewardsMilli].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      if (unsettled.size === 0) store.putEvent({ ...e, status: 'settled', rewardsMilli: Object.fromEntries(sorted) });
      return { eventId, status: unsettled.size === 0 ? 'settled' : 'partial', rewardsMilli: sorted, unsettled };
    },

    submitClaims,

    async claims(eventId) {
      const { periods } = await periodsOf(eventId);
      return Promise.all(periods.map(async (p) => ({ ...p, record: (await claimOnLedger(p.claimId)) ?? null })));
    },

    claim: claimOnLedger,

    async validateClaim(claimId) {
      try {
        return json<ClaimRecord>((await submit(operator, 'validateFlexibility', [claimId])).result);
      } catch (err) {
        const code = contractCodeOf(err);
        if (code === 'NOT_FOUND' || code === 'INVALID_ARGUMENT') throw new MappingError('UNKNOWN_CLAIM', (err as Error).message, { cause: err });
        if (code === 'CONFLICT') throw new MappingError('NOT_ALLOWED', (err as Error).message, { cause: err });
        throw ledgerFailure(`validating claim ${claimId}`, err);
      }
    },

    async balanceMilli(meterId) {
      return json<{ balanceMilli: number }>(await ledger.evaluate(await readerOf(meterId), 'queryEarnedToken', [meterId, ''])).balanceMilli;
    },

    async baseline(meterId, day) {
      let record: Record<string, unknown>;
      try {
        record = json<Record<string, unknown>>(await ledger.evaluate(await readerOf(meterId), 'queryBaseline', [meterId, day]));
      } catch (err) {
        if (contractCodeOf(err) !== 'NOT_FOUND') throw err;
        record = { meterId, day, found: false }; // a meter the ledger does not know yet: no data imported
      }
      return record.found === true ? record : { ...record, ...(await baselineShortfall(meterId, day)) };
    },

    event: (eventId) => store.getEvent(eventId),

    async eventRecord(eventId) {
      try {
        return json<Record<string, unknown>>(await ledger.evaluate(operator, 'queryDRevent', [eventId]));
      } catch (err) {
        if (contractCodeOf(err) === 'NOT_FOUND') throw new MappingError('UNKNOWN_EVENT', (err as Error).message, { cause: err });
        throw ledgerFailure(`reading event ${eventId}`, err);
      }
    },

    async customerEvent(meterId, eventId) {
      const reader = await readerOf(meterId);
      try {
        const a = json<{ day: string; window: number[]; status: string; oprW: number[]; baselineW?: number[] }>(await ledger.evaluate(reader, 'queryLoadReduction', [eventId, meterId]));
        const t = json<{ balanceMilli: number; availabilityPpm: number[]; reward: { slots: number[]; perSlotMilli: number[]; totalMilli: number } | null }>(
          await ledger.evaluate(reader, 'queryEarnedToken', [meterId, eventId]),
        );
        const reward = t.reward === null ? null : { slots: t.reward.slots, perSlotMilli: t.reward.perSlotMilli, totalMilli: t.reward.totalMilli };
        return {
          meterId, eventId, day: a.day, window: a.window, status: a.status, oprW: a.oprW,
          ...(a.baselineW === undefined ? {} : { baselineW: a.baselineW }),
          balanceMilli: t.balanceMilli, availabilityPpm: t.availabilityPpm, reward,
        };
      } catch (err) {
        if (contractCodeOf(err) === 'NOT_FOUND') throw new MappingError('UNKNOWN_EVENT', (err as Error).message, { cause: err });
        throw ledgerFailure(`reading the part of ${meterId} in event ${eventId}`, err);
      }
    },

    async slotOf(ms) {
      const g = await params();
      return slotOf(ms, g.timeZone, g.slotsPerDay);
    },
  };
}
