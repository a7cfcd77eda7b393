/**
 * Exact solver of the EMS problem (`problem.ts`): depth-first branch and bound over the start slot of
 * each appliance.
 *
 * - Candidates. For appliance m, every start s with [s, s + d_m) inside its window such that the run
 *   alone fits under the upper bound of every slot it covers (contract power, and P_target + ε in event
 *   slots). Sorted by (cost, |s − baseline|, s).
 * - Bounds. The cost is separable (eq. 5.1 is linear in δ), so at each node Σ over the appliances
 *   not yet placed of their cheapest start that still fits the load placed so far is a lower bound
 *   (forward checking: an appliance with no such start cuts the node). A second bound pours their
 *   energy into the cheapest free capacity under the slot bounds, ignoring windows and whole runs; it
 *   is the stronger one when appliances compete for the cheap slots. A branch whose bound cannot
 *   strictly beat the incumbent is cut, and since candidates are sorted by cost, so are all its later
 *   siblings. Without coupling constraints the first bound is exact and the first leaf is proved
 *   optimal at once.
 * - Ties. Only cost is optimised (eq. 5.1). Among equal-cost schedules the first found wins; as every
 *   appliance tries its least-shifted cheapest start first, that is usually, not provably, the one
 *   that moves appliances least (`totalShiftSlots` reports it).
 * - Feasibility. Placing a run checks the upper bound of each slot it covers against the load placed so
 *   far (contract power couples the appliances); in mode 'band' the lower bound P_target − ε of every
 *   event slot must stay reachable by the appliances still to place (precomputed suffix sums).
 * - Symmetry. Identical appliances (same power, duration, window and usual start) take non-decreasing
 *   starts.
 *
 * Complexity: with C_m ≤ T candidates per appliance and M appliances, the search visits at most
 * Σ_{k=1..M} Π_{m≤k} C_m ≤ (T + 1)^M nodes; memory is O(M · T).
 * That worst case is approached when the contract power (or a band target) makes many appliances
 * compete for the same cheap slots — a packing problem, NP-hard in general. Measured on random
 * households (`bench/ems.bench.ts`, 2 cores): 5 and 10 appliances are proved optimal in milliseconds
 * in nearly all cases; at 20 appliances with a binding contract power about a third of the cases
 * exhaust the default budget (2,000,000 nodes, a few seconds). Then the budget (`maxNodes`,
 * `deadlineMs`) stops the search and the best schedule found so far comes back with
 * `optimal: false` (status 'feasible'; compare `flexCost` with `lowerBoundFlexCost` for the gap), or
 * status 'unknown' if none was found. Each node costs O(M · d) for the forward check and O(T) for
 * the energy bound.
 */
import { EmsError, EmsErrorCode } from './errors.ts';
import { POWER_SLACK_W, ToleranceMode, prepareProblem } from './problem.ts';
import type { EmsProblem, FlexibleAppliance } from './problem.ts';
import { timeOfSlot } from './time-of-use.ts';

export const SolveStatus = {
  /** The schedule is proved optimal. */
  OPTIMAL: 'optimal',
  /** The budget ran out; the schedule is feasible but not proved optimal. */
  FEASIBLE: 'feasible',
  /** No schedule satisfies the constraints (proved); see `infeasibility`. */
  INFEASIBLE: 'infeasible',
  /** The budget ran out before any feasible schedule was found. */
  UNKNOWN: 'unknown',
} as const;
export type SolveStatusValue = (typeof SolveStatus)[keyof typeof SolveStatus];

export const InfeasibilityCode = {
  /** The fixed load alone exceeds the contract power in a slot. */
  FIXED_LOAD_ABOVE_CONTRACT: 'FIXED_LOAD_ABOVE_CONTRACT',
  /** In an event slot the fixed load alone exceeds P_target + ε: no shifting can reduce enough. */
  EVENT_TARGET_UNREACHABLE: 'EVENT_TARGET_UNREACHABLE',
  /** Mode 'band': in an event slot even every appliance that could run there cannot reach P_target − ε. */
  EVENT_TARGET_UNFILLABLE: 'EVENT_TARGET_UNFILLABLE',
  /** An appliance has no start in its window where its run fits, even alone. */
  APPLIANCE_CANNOT_RUN: 'APPLIANCE_CANNOT_RUN',
  /** Every appliance fits alone, but no combination satisfies all constraints together. */
  NO_FEASIBLE_COMBINATION: 'NO_FEASIBLE_COMBINATION',
} as const;
export type InfeasibilityCodeValue = (typeof InfeasibilityCode)[keyof typeof InfeasibilityCode];

export interface Infeasibility {
  readonly code: InfeasibilityCodeValue;
  /** What makes it infeasible and what would change that. */
  readonly message: string;
  readonly slot?: number;
  readonly applianceId?: string;
}

export interface SolveBudget {
  /** Most search nodes (run placements) to visit; default 2,000,000. */
  readonly maxNodes?: number;
  /** Most milliseconds to search, measured with `now` (required with it). */
  readonly deadlineMs?: number;
  /** Clock for `deadlineMs`, e.g. `performance.now`; the solver is pure without it. */
  readonly now?: () => number;
}

export const DEFAULT_MAX_NODES = 2_000_000;

export interface ScheduledRun {
  readonly id: string;
  readonly powerW: number;
  readonly startSlot: number;
  /** Exclusive. */
  readonly endSlot: number;
  /** startSlot − baselineStartSlot (negative: earlier than usual). */
  readonly shiftSlots: number;
}

export interface EmsSolution {
  readonly status: SolveStatusValue;
  /** True only when status is 'optimal'. */
  readonly optimal: boolean;
  /** One run per appliance in the problem's order; empty when no schedule was found. */
  readonly runs: ScheduledRun[];
  /** appliance id → start slot; empty when no schedule was found. */
  readonly starts: Record<string, number>;
  /** P_optim per slot, W; empty when no schedule was found. */
  readonly loadW: number[];
  /** P_BL per slot and P_target per event slot (null elsewhere), for reporting. */
  readonly baselineW: readonly number[];
  readonly targetW: readonly (number | null)[];
  /** Supply cost of the whole load and of the flexible part; NaN when no schedule was found. */
  readonly totalCost: number;
  readonly flexCost: number;
  /** Cost of the flexible part if no constraint coupled the appliances: no schedule can cost less. */
  readonly lowerBoundFlexCost: number;
  readonly totalShiftSlots: number;
  /** Search nodes visited. */
  readonly nodes: number;
  readonly infeasibility?: Infeasibility;
}

interface Candidate {
  readonly start: number;
  readonly cost: number;
  readonly shift: number;
}

const sameRun = (a: FlexibleAppliance, b: FlexibleAppliance): boolean =>
  a.powerW === b.powerW &&
  a.durationSlots === b.durationSlots &&
  a.earliestStartSlot === b.earliestStartSlot &&
  a.latestEndSlot === b.latestEndSlot &&
  a.baselineStartSlot === b.baselineStartSlot;

/** Solves `problem` exactly within `budget`. Throws `EmsError` only for a malformed problem or budget. */
export function solveSchedule(problem: Readonly<EmsProblem>, budget: Readonly<SolveBudget> = {}): EmsSolution {
  const maxNodes = budget.maxNodes ?? DEFAULT_MAX_NODES;
  if (!(maxNodes > 0)) throw new EmsError(EmsErrorCode.INVALID_BUDGET, `maxNodes ${maxNodes} must be > 0`);
  if (budget.deadlineMs !== undefined && !(budget.deadlineMs > 0 && budget.now !== undefined)) {
    throw new EmsError(EmsErrorCode.INVALID_BUDGET, 'deadlineMs must be > 0 and comes with a now() clock');
  }
  const p = prepareProblem(problem);
  const slotMinutes = problem.slotMinutes ?? 15;
  const T = p.slots;
  const band = (problem.toleranceMode ?? ToleranceMode.AT_LEAST) === ToleranceMode.BAND;
  const fixed = problem.fixedLoadW;
  const unsolved = (infeasibility: Infeasibility | undefined, status: SolveStatusValue, nodes = 0, lowerBoundFlexCost = Number.NaN): EmsSolution => ({
    status,
    optimal: false,
    runs: [],
    starts: {},
    loadW: [],
    baselineW: p.baselineW,
    targetW: p.targetW,
    totalCost: Number.NaN,
    flexCost: Number.NaN,
    lowerBoundFlexCost,
    totalShiftSlots: Number.NaN,
    nodes,
    ...(infeasibility === undefined ? {} : { infeasibility }),
  });

  // Slot-wise checks that no schedule can fix.
  for (let h = 0; h < T; h++) {
    if (fixed[h]! > problem.contractPowerW + POWER_SLACK_W) {
      return unsolved({ code: InfeasibilityCode.FIXED_LOAD_ABOVE_CONTRACT, slot: h, message: `at ${timeOfSlot(h, slotMinutes)} the fixed load ${fixed[h]} W alone exceeds the contract power ${problem.contractPowerW} W; raise the contract power or check the load profile` }, SolveStatus.INFEASIBLE);
    }
    if (fixed[h]! > p.upperW[h]! + POWER_SLACK_W) {
      return unsolved({ code: InfeasibilityCode.EVENT_TARGET_UNREACHABLE, slot: h, message: `at ${timeOfSlot(h, slotMinutes)} the fixed load ${fixed[h]} W alone exceeds the event target + ε (${p.upperW[h]} W); shifting flexible appliances cannot reduce that much: opt out or widen ε` }, SolveStatus.INFEASIBLE);
    }
  }

  // Candidates of each appliance, alone.
  const cands: Candidate[][] = [];
  for (const a of problem.appliances) {
    const list: Candidate[] = [];
    for (let s = a.earliestStartSlot; s + a.durationSlots <= a.latestEndSlot; s++) {
      let fits = true;
      let price = 0;
      for (let h = s; h < s + a.durationSlots; h++) {
        if (fixed[h]! + a.powerW > p.upperW[h]! + POWER_SLACK_W) {
          fits = false;
          break;
        }
        price += p.costPerW[h]!;
      }
      if (fits) list.push({ start: s, cost: a.powerW * price, shift: Math.abs(s - a.baselineStartSlot) });
    }
    if (list.length === 0) {
      return unsolved({ code: InfeasibilityCode.APPLIANCE_CANNOT_RUN, applianceId: a.id, message: `appliance ${a.id} (${a.powerW} W, ${a.durationSlots} slots) fits nowhere in ${timeOfSlot(a.earliestStartSlot, slotMinutes)}–${timeOfSlot(a.latestEndSlot, slotMinutes)} under the contract power and event target; widen its window or opt out` }, SolveStatus.INFEASIBLE);
    }
    list.sort((x, y) => x.cost - y.cost || x.shift - y.shift || x.start - y.start);
    cands.push(list);
  }

  // Search order: biggest energy first (fails first), then fewest candidates; identical appliances adjacent.
  const M = problem.appliances.length;
  const order = Array.from({ length: M }, (_, i) => i).sort((i, j) => {
    const a = problem.appliances[i]!;
    const b = problem.appliances[j]!;
    return (
      b.powerW * b.durationSlots - a.powerW * a.durationSlots ||
      cands[i]!.length - cands[j]!.length ||
      b.powerW - a.powerW ||
      a.earliestStartSlot - b.earliestStartSlot ||
      a.latestEndSlot - b.latestEndSlot ||
      a.baselineStartSlot - b.baselineStartSlot ||
      i - j
    );
  });
  const apps = order.map((i) => problem.appliances[i]!);
  const candsOrdered = order.map((i) => cands[i]!);
  const twinOfPrevious = apps.map((a, k) => k > 0 && sameRun(a, apps[k - 1]!));

  // Root lower bound (reported), and the energy the appliances k.. still have to place, W·slots.
  let rootLowerBound = 0;
  for (const list of candsOrdered) rootLowerBound += list[0]!.cost;
  const energyFrom = new Array<number>(M + 1).fill(0);
  for (let k = M - 1; k >= 0; k--) energyFrom[k] = energyFrom[k + 1]! + apps[k]!.powerW * apps[k]!.durationSlots;
  const slotsByPrice = Array.from({ length: T }, (_, h) => h).sort((x, y) => p.costPerW[x]! - p.costPerW[y]! || x - y);

  // Mode 'band': reach[k][h] = most power the appliances k.. can add to event slot h.
  const eventSlots: number[] = [];
  for (let h = 0; h < T; h++) if (p.lowerW[h]! > Number.NEGATIVE_INFINITY) eventSlots.push(h);
  const reach: Float64Array[] = [];
  if (band) {
    for (let k = 0; k <= M; k++) reach.push(new Float64Array(T));
    for (let k = M - 1; k >= 0; k--) {
      const covers = new Uint8Array(T);
      for (const c of candsOrdered[k]!) for (let h = c.start; h < c.start + apps[k]!.durationSlots; h++) covers[h] = 1;
      for (let h = 0; h < T; h++) reach[k]![h] = reach[k + 1]![h]! + (covers[h] === 1 ? apps[k]!.powerW : 0);
    }
    for (const h of eventSlots) {
      if (fixed[h]! + reach[0]![h]! < p.lowerW[h]! - POWER_SLACK_W) {
        return unsolved({ code: InfeasibilityCode.EVENT_TARGET_UNFILLABLE, slot: h, message: `at ${timeOfSlot(h, slotMinutes)} even every appliance that can run then leaves the load below the event target − ε (${p.lowerW[h]} W); the request over-shoots this household: use mode 'at-least' or widen ε` }, SolveStatus.INFEASIBLE);
      }
    }
  }

  // Depth-first branch and bound.
  const load = Float64Array.from(fixed);
  const chosen = new Array<number>(M).fill(-1);
  let best: { cost: number; shift: number; starts: number[] } | null = null;
  let nodes = 0;
  let stopped = false;
  const t0 = budget.now?.() ?? 0;
  const costTol = (c: number): number => 1e-9 * Math.max(1, Math.abs(c));
  /** Can a schedule costing `cost` (or a subtree bounded below by it) strictly improve on the incumbent? */
  const improves = (cost: number): boolean => best === null || cost < best.cost - costTol(best.cost);

  const fitsNow = (k: number, start: number): boolean => {
    const a = apps[k]!;
    for (let h = start; h < start + a.durationSlots; h++) if (load[h]! + a.powerW > p.upperW[h]! + POWER_SLACK_W) return false;
    return true;
  };
  const firstFit = (k: number): Candidate | undefined => {
    for (const c of candsOrdered[k]!) if (fitsNow(k, c.start)) return c;
    return undefined;
  };
  const search = (k: number, cost: number, shift: number): void => {
    if (k === M) {
      if (improves(cost)) best = { cost, shift, starts: [...chosen] };
      return;
    }
    // Forward check: every appliance still to place needs a start that fits the load placed so far;
    // its cheapest such start bounds its cost (loads only grow deeper down, so the bound stays valid).
    let restCost = 0;
    let ownCost = 0;
    for (let j = k; j < M; j++) {
      const f = firstFit(j);
      if (f === undefined) return;
      if (j === k) ownCost = f.cost;
      else restCost += f.cost;
    }
    // Second bound, for when the appliances compete for the cheap slots: pour their energy into the
    // cheapest free capacity, ignoring windows and whole runs. Either bound is valid; use the larger.
    let energy = energyFrom[k]!;
    let poured = 0;
    for (const h of slotsByPrice) {
      const room = p.upperW[h]! - load[h]!;
      if (room <= 0) continue;
      const take = Math.min(room, energy);
      poured += take * p.costPerW[h]!;
      energy -= take;
      if (energy <= POWER_SLACK_W) break;
    }
    if (energy > POWER_SLACK_W) return;
    if (!improves(cost + Math.max(poured, ownCost + restCost))) return;
    const a = apps[k]!;
    const d = a.durationSlots;
    const minStart = twinOfPrevious[k] ? chosen[k - 1]! : -1;
    for (const c of candsOrdered[k]!) {
      if (!improves(cost + c.cost + restCost)) break; // sorted by cost: no later sibling is better
      if (c.start < minStart) continue;
      if (++nodes > maxNodes || (budget.deadlineMs !== undefined && (nodes & 1023) === 0 && budget.now!() - t0 > budget.deadlineMs)) {
        stopped = true;
        return;
      }
      if (!fitsNow(k, c.start)) continue;
      for (let h = c.start; h < c.start + d; h++) load[h]! += a.powerW;
      let reachable = true;
      if (band) {
        const r = reach[k + 1]!;
        for (const h of eventSlots) {
          if (load[h]! + r[h]! < p.lowerW[h]! - POWER_SLACK_W) {
            reachable = false;
            break;
          }
        }
      }
      if (reachable) {
        chosen[k] = c.start;
        search(k + 1, cost + c.cost, shift + c.shift);
        chosen[k] = -1;
      }
      for (let h = c.start; h < c.start + d; h++) load[h]! -= a.powerW;
      if (stopped) return;
    }
  };
  search(0, 0, 0);

  const found = best as { cost: number; shift: number; starts: number[] } | null;
  if (found === null) {
    return stopped
      ? unsolved(undefined, SolveStatus.UNKNOWN, nodes, rootLowerBound)
      : unsolved({ code: InfeasibilityCode.NO_FEASIBLE_COMBINATION, message: 'each appliance fits alone, but no combination keeps every slot within the contract power and the event target; widen a window or ε, or opt out' }, SolveStatus.INFEASIBLE, nodes, rootLowerBound);
  }
  const startOf = new Map<string, number>();
  apps.forEach((a, k) => startOf.set(a.id, found.starts[k]!));
  const starts: Record<string, number> = {};
  const runs: ScheduledRun[] = problem.appliances.map((a) => {
    const s = startOf.get(a.id)!;
    starts[a.id] = s;
    return { id: a.id, powerW: a.powerW, startSlot: s, endSlot: s + a.durationSlots, shiftSlots: s - a.baselineStartSlot };
  });
  const loadW = Array.from(fixed);
  for (const r of runs) for (let h = r.startSlot; h < r.endSlot; h++) loadW[h]! += r.powerW;
  let totalCost = 0;
  for (let h = 0; h < T; h++) totalCost += loadW[h]! * p.costPerW[h]!;
  return {
    status: stopped ? SolveStatus.FEASIBLE : SolveStatus.OPTIMAL,
    optimal: !stopped,
    runs,
    starts,
    loadW,
    baselineW: p.baselineW,
    targetW: p.targetW,
    totalCost,
    flexCost: found.cost,
    lowerBoundFlexCost: rootLowerBound,
    totalShiftSlots: found.shift,
    nodes,
  };
}

