/**
 * The EMS problem of thesis section 5.6, as plain data, and what every solver and checker derives
 * from it. Symbols of the thesis in brackets.
 *
 * - The day is cut into T slots of `slotMinutes` (h ∈ T); `pricePerKWh[h]` is the supply price
 *   (C_el,supply,h) and `fixedLoadW[h]` the non-shiftable load (P_fix,h).
 * - Each flexible appliance m runs once, whole, at its rated power (P*_flex,m) for
 *   `durationSlots` consecutive slots, starting no earlier than `earliestStartSlot` and ending no
 *   later than `latestEndSlot`. Shifting a run keeps its energy (eq. 5.8): nothing is reduced.
 * - The optimised load is P_optim,h = P_fix,h + Σ_m δ_m,h · P*_flex,m (eq. 5.4) and must stay within
 *   the contract power in every slot (eq. 5.9).
 * - During a DR event the target is P_target,h = P_BL,h − OPR_h (eq. 5.2). In the default mode
 *   `'at-least'` the EMS must reduce at least OPR − ε: P_optim,h ≤ P_target,h + ε, the one-sided form
 *   the thesis actually writes as eq. 5.7. Mode `'band'` is eq. 5.5–5.6 taken literally,
 *   |P_optim,h − P_target,h| ≤ ε: reducing much more than asked (a "load valley") is then infeasible.
 * - The objective is the supply cost Σ_h C_h · P_optim,h · Δt (eq. 5.1). Among equal-cost schedules
 *   the solver returns the first it finds, trying each appliance's least-shifted cheapest start first
 *   (deterministic; see `solver.ts`).
 */
import { invalidProblem } from './errors.ts';

export const ToleranceMode = {
  /** Eq. 5.7: reduce at least OPR − ε; more is fine. */
  AT_LEAST: 'at-least',
  /** Eq. 5.5–5.6: stay within ±ε of the target. */
  BAND: 'band',
} as const;
export type ToleranceModeValue = (typeof ToleranceMode)[keyof typeof ToleranceMode];

export interface FlexibleAppliance {
  readonly id: string;
  /** Rated power while running, W (P*_flex,m), > 0. */
  readonly powerW: number;
  /** Length of one whole run, slots, ≥ 1. */
  readonly durationSlots: number;
  /** First slot the run may start in (inclusive). */
  readonly earliestStartSlot: number;
  /** Slot by which the run must have ended (exclusive): the run occupies [start, start + duration) ⊆ [earliest, latestEnd). */
  readonly latestEndSlot: number;
  /** The user's usual start (from NILM history); it makes up the default baseline and the tie-break. */
  readonly baselineStartSlot: number;
}

export interface DrEventRequest {
  readonly startSlot: number;
  readonly durationSlots: number;
  /** Requested reduction (OPR), W: one value for the whole event or one per event slot. */
  readonly reductionW: number | readonly number[];
}

export interface EmsProblem {
  /** Minutes per slot; default 15. */
  readonly slotMinutes?: number;
  /** Price per kWh of each slot; its length is the horizon T. */
  readonly pricePerKWh: readonly number[];
  /** Non-shiftable load per slot, W, length T. */
  readonly fixedLoadW: readonly number[];
  readonly appliances: readonly FlexibleAppliance[];
  /** Contract power, W (eq. 5.9). */
  readonly contractPowerW: number;
  /** The DR event; without one the EMS only minimises cost (its ordinary service). */
  readonly event?: DrEventRequest | undefined;
  /** Customer baseline per slot, W, as the ledger sent it; default P_fix + the usual runs (eq. 5.3). */
  readonly baselineW?: readonly number[] | undefined;
  /** ε, W, ≥ 0; default 0. */
  readonly toleranceW?: number;
  readonly toleranceMode?: ToleranceModeValue;
}

/** What the solver and the checker derive from a valid problem. Arrays have length T. */
export interface PreparedProblem {
  readonly slots: number;
  readonly slotHours: number;
  readonly baselineW: readonly number[];
  /** P_target,h in event slots, null elsewhere. */
  readonly targetW: readonly (number | null)[];
  /** Upper bound of P_optim,h: the contract power, and in event slots also P_target,h + ε. */
  readonly upperW: readonly number[];
  /** Lower bound of P_optim,h: P_target,h − ε in event slots of mode 'band', −∞ elsewhere. */
  readonly lowerW: readonly number[];
  /** Energy cost of one W during slot h: price × Δt / 1000 (so cost = Σ W × this). */
  readonly costPerW: readonly number[];
}

const isNonNegative = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
const isSlotIndex = (x: unknown, max: number): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= max;

/** Validates `problem` (throws `EmsError` INVALID_PROBLEM) and derives baseline, target and bounds. */
export function prepareProblem(problem: Readonly<EmsProblem>): PreparedProblem {
  const slotMinutes = problem.slotMinutes ?? 15;
  if (!(typeof slotMinutes === 'number' && slotMinutes > 0)) throw invalidProblem(`slotMinutes ${slotMinutes} must be a positive number of minutes`);
  const T = problem.pricePerKWh.length;
  if (T === 0) throw invalidProblem('pricePerKWh is empty; give one price per slot of the horizon');
  if (!problem.pricePerKWh.every((p) => typeof p === 'number' && Number.isFinite(p))) throw invalidProblem('pricePerKWh holds a value that is not a finite number');
  if (problem.fixedLoadW.length !== T) throw invalidProblem(`fixedLoadW has ${problem.fixedLoadW.length} slots but pricePerKWh has ${T}; give one value per slot`);
  if (!problem.fixedLoadW.every(isNonNegative)) throw invalidProblem('fixedLoadW holds a negative or non-finite value; the EMS models a consumer (no injection)');
  if (!isNonNegative(problem.contractPowerW)) throw invalidProblem(`contractPowerW ${problem.contractPowerW} must be a non-negative number of W`);
  const toleranceW = problem.toleranceW ?? 0;
  if (!isNonNegative(toleranceW)) throw invalidProblem(`toleranceW ${toleranceW} must be a non-negative number of W`);
  const mode = problem.toleranceMode ?? ToleranceMode.AT_LEAST;
  if (mode !== ToleranceMode.AT_LEAST && mode !== ToleranceMode.BAND) throw invalidProblem(`toleranceMode ${String(mode)} must be 'at-least' or 'band'`);

  const ids = new Set<string>();
  for (const a of problem.appliances) {
    const where = `appliance ${JSON.stringify(a.id)}`;
    if (typeof a.id !== 'string' || a.id === '' || ids.has(a.id)) throw invalidProblem(`${where}: ids must be non-empty and unique`);
    ids.add(a.id);
    if (!(isNonNegative(a.powerW) && a.powerW > 0)) throw invalidProblem(`${where}: powerW ${a.powerW} must be > 0`);
    if (!(Number.isInteger(a.durationSlots) && a.durationSlots >= 1)) throw invalidProblem(`${where}: durationSlots ${a.durationSlots} must be a whole number ≥ 1`);
    if (!isSlotIndex(a.earliestStartSlot, T) || !isSlotIndex(a.latestEndSlot, T)) throw invalidProblem(`${where}: earliestStartSlot and latestEndSlot must be slots in 0..${T}`);
    if (a.latestEndSlot - a.earliestStartSlot < a.durationSlots) {
      throw invalidProblem(`${where}: window ${a.earliestStartSlot}..${a.latestEndSlot} is shorter than the run (${a.durationSlots} slots); widen the window`);
    }
    if (!isSlotIndex(a.baselineStartSlot, T - a.durationSlots)) throw invalidProblem(`${where}: baselineStartSlot ${a.baselineStartSlot} must let the run end within the horizon`);
  }

  let baselineW: number[];
  if (problem.baselineW === undefined) {
    baselineW = [...problem.fixedLoadW];
    for (const a of problem.appliances) for (let h = a.baselineStartSlot; h < a.baselineStartSlot + a.durationSlots; h++) baselineW[h]! += a.powerW;
  } else {
    if (problem.baselineW.length !== T) throw invalidProblem(`baselineW has ${problem.baselineW.length} slots but the horizon has ${T}`);
    if (!problem.baselineW.every((x) => typeof x === 'number' && Number.isFinite(x))) throw invalidProblem('baselineW holds a value that is not a finite number');
    baselineW = [...problem.baselineW];
  }

  const targetW: (number | null)[] = new Array<number | null>(T).fill(null);
  const upperW: number[] = new Array<number>(T).fill(problem.contractPowerW);
  const lowerW: number[] = new Array<number>(T).fill(Number.NEGATIVE_INFINITY);
  const ev = problem.event;
  if (ev !== undefined) {
    if (!(Number.isInteger(ev.durationSlots) && ev.durationSlots >= 1) || !isSlotIndex(ev.startSlot, T - ev.durationSlots)) {
      throw invalidProblem(`event ${ev.startSlot}+${ev.durationSlots} slots must lie within the horizon of ${T} slots`);
    }
    const reduction = typeof ev.reductionW === 'number' ? new Array<number>(ev.durationSlots).fill(ev.reductionW) : [...ev.reductionW];
    if (reduction.length !== ev.durationSlots) throw invalidProblem(`event reductionW has ${reduction.length} values for ${ev.durationSlots} slots; give one value or one per slot`);
    if (!reduction.every((x) => typeof x === 'number' && Number.isFinite(x))) throw invalidProblem('event reductionW holds a value that is not a finite number');
    for (let i = 0; i < ev.durationSlots; i++) {
      const h = ev.startSlot + i;
      const target = baselineW[h]! - reduction[i]!;
      targetW[h] = target;
      upperW[h] = Math.min(problem.contractPowerW, target + toleranceW);
      if (mode === ToleranceMode.BAND) lowerW[h] = target - toleranceW;
    }
  }
  const slotHours = slotMinutes / 60;
  return {
    slots: T,
    slotHours,
    baselineW,
    targetW,
    upperW,
    lowerW,
    costPerW: problem.pricePerKWh.map((p) => (p * slotHours) / 1000),
  };
}

/** Slack, W, allowed on every power comparison so that sums of non-integer powers do not flip a check. */
export const POWER_SLACK_W = 1e-6;
