/**
 * A simulated household: a non-shiftable load profile plus shiftable appliances whose runs are kept
 * whole (a run is moved, never cut or shortened, as in the EMS model of thesis section 5.6), behind a
 * 15-minute meter. It stands in for the thesis testbed's emulated households (one inverter for the
 * non-shiftable profile, one for the shiftable loads, one smart meter) in tests and in the demo: the
 * meter's closed slots are the VEN's TELEMETRY_USAGE values, and an EMS schedule is applied with
 * `applySchedule`. Pure: the clock is injected, nothing runs by itself — call `update()` (or `read()`)
 * whenever the clock has moved.
 */
import { DeviceError, DeviceErrorCode } from './errors.ts';
import { createSlotMeter } from './household-sim-meter.ts';
import type { SlotReading } from './household-sim-meter.ts';

export interface SimAppliance {
  readonly id: string;
  /** Power while running, W. */
  readonly powerW: number;
  readonly durationSlots: number;
  /** Slot the run starts in, counted from `startMs` (may lie beyond the first day). */
  readonly startSlot: number;
}

export interface HouseholdSimOptions {
  /** Start of slot 0 (usually local midnight of the simulated day), ms. */
  readonly startMs: number;
  /** Slot length, minutes; default 15. */
  readonly slotMinutes?: number;
  /** Non-shiftable load per slot of one day, W; repeats day after day. */
  readonly fixedLoadW: readonly number[];
  readonly appliances?: readonly SimAppliance[];
  /** The clock, ms. */
  readonly now: () => number;
}

export const RunState = { PENDING: 'pending', RUNNING: 'running', DONE: 'done' } as const;
export type RunStateValue = (typeof RunState)[keyof typeof RunState];

export interface SimRun extends SimAppliance {
  readonly endSlot: number;
  readonly state: RunStateValue;
}

export interface HouseholdSim {
  /** Power drawn at `atMs` (default now), W. */
  powerW(atMs?: number): number;
  /** Slot index of `atMs` (default now). */
  slotAt(atMs?: number): number;
  /** The appliances' runs and whether each is pending, running or done at the current time. */
  runs(): SimRun[];
  /**
   * Moves the run of appliance `id` to `startSlot`. A run that has started cannot be moved (it is kept
   * whole), nor can a run be moved to a slot that has begun. Throws DeviceError INVALID_ARGUMENT.
   */
  reschedule(id: string, startSlot: number): void;
  /** Moves several runs (an EMS solution's `starts`, shifted by `slotOffset` if the EMS day is not slot 0). Checks all before moving any. */
  applySchedule(starts: Readonly<Record<string, number>>, slotOffset?: number): void;
  /** Integrates the power up to now into the meter and returns the slots that closed since the last call. */
  update(): SlotReading[];
}

export function createHouseholdSim(options: Readonly<HouseholdSimOptions>): HouseholdSim {
  const slotMs = (options.slotMinutes ?? 15) * 60_000;
  const perDay = options.fixedLoadW.length;
  if (perDay === 0 || !options.fixedLoadW.every((w) => Number.isFinite(w) && w >= 0)) {
    throw new DeviceError(DeviceErrorCode.INVALID_ARGUMENT, 'fixedLoadW must hold one non-negative W value per slot of a day');
  }
  const runs = new Map<string, SimAppliance>();
  for (const a of options.appliances ?? []) {
    if (runs.has(a.id) || !(a.powerW > 0) || !(Number.isInteger(a.durationSlots) && a.durationSlots >= 1) || !Number.isInteger(a.startSlot)) {
      throw new DeviceError(DeviceErrorCode.INVALID_ARGUMENT, `appliance ${a.id}: ids must be unique, powerW > 0, durationSlots and startSlot whole numbers`);
    }
    runs.set(a.id, { ...a });
  }
  const meter = createSlotMeter({ startMs: options.startMs, slotMs });
  let integratedTo = options.startMs;

  const slotAt = (ms: number): number => Math.floor((ms - options.startMs) / slotMs);
  const powerInSlot = (slot: number): number => {
    let w = slot < 0 ? 0 : options.fixedLoadW[slot % perDay]!;
    for (const r of runs.values()) if (slot >= r.startSlot && slot < r.startSlot + r.durationSlots) w += r.powerW;
    return w;
  };
  const stateOf = (r: SimAppliance, slot: number): RunStateValue =>
    slot < r.startSlot ? RunState.PENDING : slot < r.startSlot + r.durationSlots ? RunState.RUNNING : RunState.DONE;
  const checkMove = (id: string, startSlot: number, now: number): SimAppliance => {
    const r = runs.get(id);
    if (r === undefined) throw new DeviceError(DeviceErrorCode.INVALID_ARGUMENT, `no appliance ${JSON.stringify(id)} in this household`);
    if (!Number.isInteger(startSlot)) throw new DeviceError(DeviceErrorCode.INVALID_ARGUMENT, `start slot ${startSlot} of ${id} is not a whole slot`);
    // A run is kept whole: once its first slot has begun it can neither move nor stop.
    if (now >= options.startMs + r.startSlot * slotMs && startSlot !== r.startSlot) {
      throw new DeviceError(DeviceErrorCode.INVALID_ARGUMENT, `${id} started at slot ${r.startSlot} and runs whole; it cannot be moved now`);
    }
    if (startSlot !== r.startSlot && options.startMs + startSlot * slotMs < now) {
      throw new DeviceError(DeviceErrorCode.INVALID_ARGUMENT, `slot ${startSlot} has already begun; ${id} can only be moved to a slot that starts now or later`);
    }
    return r;
  };

  return {
    powerW: (atMs = options.now()) => powerInSlot(slotAt(atMs)),
    slotAt: (atMs = options.now()) => slotAt(atMs),
    runs() {
      const slot = slotAt(options.now());
      return [...runs.values()].map((r) => ({ ...r, endSlot: r.startSlot + r.durationSlots, state: stateOf(r, slot) }));
    },
    reschedule(id, startSlot) {
      const r = checkMove(id, startSlot, options.now());
      runs.set(id, { ...r, startSlot });
    },
    applySchedule(starts, slotOffset = 0) {
      const now = options.now();
      const moves = Object.entries(starts).map(([id, s]) => [checkMove(id, s + slotOffset, now), s + slotOffset] as const);
      for (const [r, s] of moves) runs.set(r.id, { ...r, startSlot: s });
    },
    update() {
      const now = options.now();
      // Power is constant within a slot (the profile is per slot, runs start on slot boundaries),
      // so integrating slot by slot is exact.
      while (integratedTo < now) {
        const slot = slotAt(integratedTo);
        const end = Math.min(now, options.startMs + (slot + 1) * slotMs);
        meter.add(integratedTo, end, powerInSlot(slot));
        integratedTo = end;
      }
      return meter.close(now);
    },
  };
}
