/**
 * Slots of a day and time-of-use tariffs. The EMS works on a day cut into equal slots (15 minutes by
 * default, the resolution of the thesis's meters and of the contract's OPR vector); a tariff is one
 * price per slot. Prices are in any currency per kWh (the thesis uses c€/kWh); costs come out in the
 * same currency.
 */
import { EmsError, EmsErrorCode } from './errors.ts';

export const MINUTES_PER_DAY = 1440;

/** `'10:30'` → slot 42 with 15-minute slots. `'24:00'` is the end of the day (slot 96). */
export function slotOfTime(hhmm: string, slotMinutes = 15): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  const hours = Number(m?.[1]);
  const minutes = Number(m?.[2]);
  const total = hours * 60 + minutes;
  if (m === null || minutes > 59 || total > MINUTES_PER_DAY) {
    throw new EmsError(EmsErrorCode.INVALID_TIME, `time ${JSON.stringify(hhmm)} is not HH:MM between 00:00 and 24:00`);
  }
  if (total % slotMinutes !== 0) {
    throw new EmsError(EmsErrorCode.INVALID_TIME, `time ${hhmm} is not on a ${slotMinutes}-minute slot boundary; round it to a slot start`);
  }
  return total / slotMinutes;
}

/** Slot 42 → `'10:30'` with 15-minute slots; slot 96 → `'24:00'`. */
export function timeOfSlot(slot: number, slotMinutes = 15): string {
  const total = slot * slotMinutes;
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}

export interface TariffPeriod {
  /** Start, `'HH:MM'`, inclusive. */
  readonly from: string;
  /** End, `'HH:MM'`, exclusive; `'24:00'` for midnight. Periods do not wrap past midnight: split them. */
  readonly to: string;
  /** Price per kWh in this period. */
  readonly price: number;
}

export interface TouPricesOptions {
  readonly slotMinutes?: number;
  readonly periods: readonly TariffPeriod[];
  /** Price of slots no period covers; without it every slot must be covered. */
  readonly defaultPrice?: number;
}

/** One price per slot of a day from time-of-use periods (later periods override earlier ones). */
export function touPrices(options: Readonly<TouPricesOptions>): number[] {
  const slotMinutes = options.slotMinutes ?? 15;
  if (!Number.isInteger(slotMinutes) || slotMinutes <= 0 || MINUTES_PER_DAY % slotMinutes !== 0) {
    throw new EmsError(EmsErrorCode.INVALID_TIME, `slotMinutes ${slotMinutes} must divide a day (15, 30, 60, …)`);
  }
  const prices: (number | undefined)[] = new Array<number | undefined>(MINUTES_PER_DAY / slotMinutes).fill(options.defaultPrice);
  for (const p of options.periods) {
    const from = slotOfTime(p.from, slotMinutes);
    const to = slotOfTime(p.to, slotMinutes);
    if (to <= from) throw new EmsError(EmsErrorCode.INVALID_TIME, `tariff period ${p.from}–${p.to} is empty or wraps midnight; split it at 24:00`);
    for (let s = from; s < to; s++) prices[s] = p.price;
  }
  const gap = prices.indexOf(undefined);
  if (gap >= 0) throw new EmsError(EmsErrorCode.INVALID_TIME, `no tariff period covers ${timeOfSlot(gap, slotMinutes)}; add one or give defaultPrice`);
  return prices as number[];
}

export interface ItalianBandPrices {
  /** F1, "on-peak". */
  readonly onPeak: number;
  /** F2, "mid-peak". */
  readonly midPeak: number;
  /** F3, "off-peak". */
  readonly offPeak: number;
  readonly slotMinutes?: number;
}

/**
 * The Italian time bands of a working day (Monday–Friday, not a holiday), as the thesis's case uses
 * them: F1 08:00–19:00, F2 07:00–08:00 and 19:00–23:00, F3 23:00–07:00. (Saturdays are F2 07:00–23:00,
 * Sundays and holidays F3 all day; build those with `touPrices`.)
 */
export function italianWeekdayPrices(options: Readonly<ItalianBandPrices>): number[] {
  return touPrices({
    ...(options.slotMinutes === undefined ? {} : { slotMinutes: options.slotMinutes }),
    periods: [
      { from: '00:00', to: '07:00', price: options.offPeak },
      { from: '07:00', to: '08:00', price: options.midPeak },
      { from: '08:00', to: '19:00', price: options.onPeak },
      { from: '19:00', to: '23:00', price: options.midPeak },
      { from: '23:00', to: '24:00', price: options.offPeak },
    ],
  });
}
