/**
 * A slot meter: accumulates energy per fixed-length slot (15 minutes for OpenADR telemetry and the
 * contract's `recordEnergy`) and closes each slot with its energy and its average power in whole W,
 * the value a TELEMETRY_USAGE report carries for that interval. Pure: times are passed in.
 */
import { DeviceError, DeviceErrorCode } from './errors.ts';

export interface SlotReading {
  /** Slot index counted from the meter's `startMs`. */
  readonly slot: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly energyWh: number;
  /** energy / slot length, rounded to the nearest W. */
  readonly averagePowerW: number;
}

export interface SlotMeterOptions {
  /** Start of slot 0, ms since the epoch (any origin works if used consistently). */
  readonly startMs: number;
  /** Slot length, ms; default 15 minutes. */
  readonly slotMs?: number;
}

export interface SlotMeter {
  /** Adds a constant `powerW` over [fromMs, toMs), split across the slots it spans. */
  add(fromMs: number, toMs: number, powerW: number): void;
  /** Closes every slot that ended at or before `nowMs` and was not closed yet, oldest first. */
  close(nowMs: number): SlotReading[];
}

const MS_PER_HOUR = 3_600_000;

export function createSlotMeter(options: Readonly<SlotMeterOptions>): SlotMeter {
  const slotMs = options.slotMs ?? 15 * 60_000;
  if (!(slotMs > 0) || !Number.isFinite(options.startMs)) {
    throw new DeviceError(DeviceErrorCode.INVALID_ARGUMENT, `slot meter needs a finite startMs and slotMs > 0 (got ${options.startMs}, ${slotMs})`);
  }
  const energyWms = new Map<number, number>(); // slot → W·ms
  let nextToClose = 0;
  const slotOf = (ms: number): number => Math.floor((ms - options.startMs) / slotMs);
  return {
    add(fromMs, toMs, powerW) {
      if (!(toMs >= fromMs) || !Number.isFinite(powerW)) throw new DeviceError(DeviceErrorCode.INVALID_ARGUMENT, `meter interval [${fromMs}, ${toMs}) or power ${powerW} W is not valid`);
      let t = Math.max(fromMs, options.startMs);
      while (t < toMs) {
        const slot = slotOf(t);
        const end = Math.min(toMs, options.startMs + (slot + 1) * slotMs);
        if (slot >= nextToClose) energyWms.set(slot, (energyWms.get(slot) ?? 0) + powerW * (end - t));
        t = end;
      }
    },
    close(nowMs) {
      const out: SlotReading[] = [];
      const last = slotOf(nowMs); // first slot not yet ended
      for (; nextToClose < last; nextToClose++) {
        const energyWh = (energyWms.get(nextToClose) ?? 0) / MS_PER_HOUR;
        energyWms.delete(nextToClose);
        const startMs = options.startMs + nextToClose * slotMs;
        out.push({ slot: nextToClose, startMs, endMs: startMs + slotMs, energyWh, averagePowerW: Math.round((energyWh * MS_PER_HOUR) / slotMs) });
      }
      return out;
    },
  };
}
