/**
 * The household EMS of thesis section 5.6 inside a household's VEN: when the VEN has opted in to
 * an event, it reads the event's LOAD_DISPATCH delta (−OPR per 15-minute slot), asks the EMS solver
 * for the cheapest schedule of the shiftable appliances that keeps each event slot at least the
 * asked reduction below the household's usual load, and moves the runs there (whole, never cut).
 *
 * Moving a run sheds at most the run's power in the slots it leaves, so in each slot the EMS is asked
 * for min(OPR, the shiftable load usually running then): in the others it keeps every run out. The
 * plan is kept by the caller (`onPlan`), so a restart applies the same runs again.
 */
import { eventWindow, italianWeekdayPrices, solveSchedule, THESIS_PRICES_C_EUR_PER_KWH, type StoredEvent, type Ven } from '../ven/index.ts';
import { SLOT_MS, SLOTS_PER_DAY, usualDayW, type Household } from './scenario.ts';

export interface HouseholdEmsOptions {
  readonly household: Household;
  readonly ven: Ven;
  /** Applies the runs' new starts to the household (slots of its day). */
  readonly apply: (starts: Readonly<Record<string, number>>) => void;
  /** Start of the household's day (local midnight), ms. */
  readonly dayStartMs: number;
  /** Events already planned (after a restart), so they are not planned again. */
  readonly planned?: readonly string[];
  readonly onPlan?: (eventId: string, starts: Readonly<Record<string, number>>) => void;
  /** The EMS found no schedule, or the household refused it: the runs stay where they are. */
  readonly onError?: (eventId: string, error: Error) => void;
  /** The clock, ms: runs are only ever moved to slots that have not begun. */
  readonly now: () => number;
}

export interface HouseholdEms {
  /** Plans every event the VEN opted in to and has not planned yet; call after each VEN tick. */
  check(): void;
}

/** Reductions the EMS is asked for in each event slot: the OPR, at most the shiftable load usually running then. */
export function emsRequest(h: Household, oprW: readonly number[], startSlot: number): number[] {
  const usual = usualDayW(h);
  return oprW.map((w, k) => Math.max(0, Math.min(w, (usual[startSlot + k] ?? 0) - (h.fixedLoadW[startSlot + k] ?? 0))));
}

export function createHouseholdEms(options: Readonly<HouseholdEmsOptions>): HouseholdEms {
  const { household: h } = options;
  const planned = new Set(options.planned ?? []);
  const plan = (eventId: string, stored: StoredEvent): void => {
    planned.add(eventId);
    const signal = stored.signalIndex === undefined ? undefined : stored.event.signals[stored.signalIndex];
    if (signal === undefined || signal.signalName !== 'LOAD_DISPATCH' || signal.signalType !== 'delta') return;
    const { startMs } = eventWindow(stored);
    const startSlot = Math.round((startMs - options.dayStartMs) / SLOT_MS);
    const oprW = signal.intervals.map((i) => Math.max(0, -(i.value ?? 0)));
    if (startSlot < 0 || startSlot + oprW.length > SLOTS_PER_DAY) return;
    const reductionW = emsRequest(h, oprW, startSlot);
    // Only runs that have not begun can move, and only to slots that have not begun; the others
    // count as load that cannot move.
    const nowSlot = Math.ceil((options.now() - options.dayStartMs) / SLOT_MS);
    const movable = h.appliances.filter((a) => a.baselineStartSlot >= nowSlot && a.latestEndSlot - Math.max(a.earliestStartSlot, nowSlot) >= a.durationSlots);
    const fixedLoadW = [...h.fixedLoadW];
    for (const a of h.appliances.filter((x) => !movable.includes(x))) for (let k = a.baselineStartSlot; k < a.baselineStartSlot + a.durationSlots; k++) fixedLoadW[k] = (fixedLoadW[k] ?? 0) + a.powerW;
    try {
      const solution = solveSchedule({
        slotMinutes: 15,
        pricePerKWh: italianWeekdayPrices(THESIS_PRICES_C_EUR_PER_KWH),
        fixedLoadW,
        appliances: movable.map((a) => ({ ...a, earliestStartSlot: Math.max(a.earliestStartSlot, nowSlot) })),
        contractPowerW: h.contractPowerW,
        baselineW: usualDayW(h),
        event: { startSlot, durationSlots: oprW.length, reductionW },
        toleranceW: 0,
        toleranceMode: 'at-least',
      });
      if (Object.keys(solution.starts).length === 0) throw new Error(`the EMS found no schedule (${solution.status}${solution.infeasibility === undefined ? '' : `: ${JSON.stringify(solution.infeasibility)}`})`);
      options.apply(solution.starts);
      options.onPlan?.(eventId, solution.starts);
    } catch (e) {
      options.onError?.(eventId, e as Error);
    }
  };
  return {
    check() {
      for (const [eventId, stored] of Object.entries(options.ven.status().events.events)) {
        if (planned.has(eventId) || stored.optType !== 'optIn' || stored.test) continue;
        plan(eventId, stored);
      }
    },
  };
}
