/**
 * CP56Time2a (IEC 60870-5-101 §7.2.6.18): seven octets, milliseconds (0–59999) little-endian, then
 * minutes with IV, hours with SU, day of month with day of week, month, year within the century.
 * The fields are kept as sent, so every tag round-trips byte-equal; `cp56FromDate` and
 * `cp56ToDate` convert in UTC (the century is 2000).
 */
import { Iec104Error } from '../errors.ts';

export interface Cp56Time {
  /** Milliseconds within the minute, 0–59999. */
  readonly ms: number;
  readonly minute: number;
  readonly hour: number;
  readonly day: number;
  /** 1 = Monday … 7 = Sunday, 0 = not used. */
  readonly dayOfWeek: number;
  readonly month: number;
  /** 0–99 within the century. */
  readonly year: number;
  /** The time is invalid (IV). */
  readonly invalid: boolean;
  /** Summer time (SU). */
  readonly summerTime: boolean;
}

export const CP56_SIZE = 7;

function range(v: number, lo: number, hi: number, what: string): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Iec104Error('BAD_VALUE', `CP56Time2a ${what} must be an integer ${lo}–${hi}, got ${v}`);
}

export function decodeCp56(b: Uint8Array, at: number): Cp56Time {
  const o = (i: number): number => b[at + i] as number;
  return {
    ms: o(0) | (o(1) << 8),
    minute: o(2) & 0x3f,
    invalid: (o(2) & 0x80) !== 0,
    hour: o(3) & 0x1f,
    summerTime: (o(3) & 0x80) !== 0,
    day: o(4) & 0x1f,
    dayOfWeek: o(4) >> 5,
    month: o(5) & 0x0f,
    year: o(6) & 0x7f,
  };
}

export function encodeCp56(t: Cp56Time, out: Uint8Array, at: number): void {
  range(t.ms, 0, 59_999, 'milliseconds');
  range(t.minute, 0, 59, 'minute');
  range(t.hour, 0, 23, 'hour');
  range(t.day, 1, 31, 'day of month');
  range(t.dayOfWeek, 0, 7, 'day of week');
  range(t.month, 1, 12, 'month');
  range(t.year, 0, 99, 'year');
  out[at] = t.ms & 0xff;
  out[at + 1] = t.ms >> 8;
  out[at + 2] = t.minute | (t.invalid ? 0x80 : 0);
  out[at + 3] = t.hour | (t.summerTime ? 0x80 : 0);
  out[at + 4] = t.day | (t.dayOfWeek << 5);
  out[at + 5] = t.month;
  out[at + 6] = t.year;
}

/** A UTC time tag for an instant (ms since the epoch), day of week not used (0), as most stations send. */
export function cp56FromDate(ms: number): Cp56Time {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (!Number.isFinite(ms) || year < 2000 || year > 2099) throw new Iec104Error('BAD_VALUE', `CP56Time2a holds years 2000–2099 here, got ${Number.isFinite(ms) ? year : ms}`);
  return {
    ms: d.getUTCSeconds() * 1000 + d.getUTCMilliseconds(),
    minute: d.getUTCMinutes(),
    hour: d.getUTCHours(),
    day: d.getUTCDate(),
    dayOfWeek: 0,
    month: d.getUTCMonth() + 1,
    year: year - 2000,
    invalid: false,
    summerTime: false,
  };
}

/** The instant of a time tag read as UTC in 2000–2099 (NaN when its fields make no date). */
export function cp56ToDate(t: Cp56Time): number {
  if (t.ms > 59_999 || t.minute > 59 || t.hour > 23 || t.day < 1 || t.month < 1 || t.month > 12) return Number.NaN;
  return Date.UTC(2000 + t.year, t.month - 1, t.day, t.hour, t.minute, 0, t.ms);
}
