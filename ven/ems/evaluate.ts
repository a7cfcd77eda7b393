/**
 * An independent checker: given start slots for every appliance, the load, the cost and every
 * constraint the schedule breaks. It shares nothing with the solver's search, so tests use it to
 * check the solver, and a VEN can use it to check a schedule it is about to apply.
 */
import { POWER_SLACK_W, ToleranceMode, prepareProblem } from './problem.ts';
import type { EmsProblem, PreparedProblem } from './problem.ts';

export const ViolationCode = {
  /** An appliance has no start, or its run leaves its allowed window. */
  OUTSIDE_WINDOW: 'OUTSIDE_WINDOW',
  /** P_optim,h > contract power (eq. 5.9). */
  CONTRACT_POWER_EXCEEDED: 'CONTRACT_POWER_EXCEEDED',
  /** In an event slot, P_optim,h > P_target,h + ε (eq. 5.7). */
  ABOVE_EVENT_TARGET: 'ABOVE_EVENT_TARGET',
  /** In an event slot of mode 'band', P_optim,h < P_target,h − ε (eq. 5.5–5.6). */
  BELOW_EVENT_TARGET: 'BELOW_EVENT_TARGET',
} as const;
export type ViolationCodeValue = (typeof ViolationCode)[keyof typeof ViolationCode];

export interface Violation {
  readonly code: ViolationCodeValue;
  readonly slot?: number;
  readonly applianceId?: string;
  /** The load (or start) found, and the bound it broke. */
  readonly value?: number;
  readonly bound?: number;
}

export interface ScheduleEvaluation {
  /** P_optim per slot, W. */
  readonly loadW: number[];
  /** Supply cost of the whole load (eq. 5.1), in the tariff's currency. */
  readonly totalCost: number;
  /** Cost of the flexible appliances only. */
  readonly flexCost: number;
  /** Σ |start − baselineStart| over the appliances, slots. */
  readonly totalShiftSlots: number;
  readonly violations: Violation[];
}

/** Evaluates the schedule `starts` (appliance id → start slot) against `problem`. */
export function evaluateSchedule(problem: Readonly<EmsProblem>, starts: Readonly<Record<string, number>>, prepared?: PreparedProblem): ScheduleEvaluation {
  const p = prepared ?? prepareProblem(problem);
  const loadW = [...problem.fixedLoadW];
  const violations: Violation[] = [];
  let flexCost = 0;
  let totalShiftSlots = 0;
  for (const a of problem.appliances) {
    const s = starts[a.id];
    if (s === undefined || !Number.isInteger(s) || s < a.earliestStartSlot || s + a.durationSlots > a.latestEndSlot) {
      violations.push({ code: ViolationCode.OUTSIDE_WINDOW, applianceId: a.id, ...(s === undefined ? {} : { value: s }) });
      continue;
    }
    totalShiftSlots += Math.abs(s - a.baselineStartSlot);
    for (let h = s; h < s + a.durationSlots; h++) {
      loadW[h]! += a.powerW;
      flexCost += a.powerW * p.costPerW[h]!;
    }
  }
  let totalCost = 0;
  for (let h = 0; h < p.slots; h++) {
    const load = loadW[h]!;
    totalCost += load * p.costPerW[h]!;
    if (load > problem.contractPowerW + POWER_SLACK_W) violations.push({ code: ViolationCode.CONTRACT_POWER_EXCEEDED, slot: h, value: load, bound: problem.contractPowerW });
    const target = p.targetW[h];
    if (target === null || target === undefined) continue;
    const eps = problem.toleranceW ?? 0;
    if (load > target + eps + POWER_SLACK_W) violations.push({ code: ViolationCode.ABOVE_EVENT_TARGET, slot: h, value: load, bound: target + eps });
    if ((problem.toleranceMode ?? ToleranceMode.AT_LEAST) === ToleranceMode.BAND && load < target - eps - POWER_SLACK_W) {
      violations.push({ code: ViolationCode.BELOW_EVENT_TARGET, slot: h, value: load, bound: target - eps });
    }
  }
  return { loadW, totalCost, flexCost, totalShiftSlots, violations };
}
