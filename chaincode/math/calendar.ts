/**
 * Calendar days and wall-clock slots in a program's time zone (dr-contract.md, "Time grid").
 *
 * A day is a calendar date 'YYYY-MM-DD' in the program's time zone (default Europe/Rome). A day
 * has `slotsPerDay` slots of equal wall-clock length (S = 96: 15 minutes); the slot of an instant
 * is `floor(secondsSinceLocalMidnight · S / 86400)` from the wall clock.
 *
 * DST days, stated once:
 * - short day (clocks go forward, Rome: last Sunday of March, 02:00 → 03:00): the slots of the
 *   skipped hour (02:00–02:59, slots 8–11 at S = 96) are never the slot of any instant, so a
 *   meter's record of that day holds no energy there (the contract still takes S values; 0 W);
 * - long day (clocks go back, Rome: last Sunday of October, 03:00 → 02:00): the repeated hour's
 *   two passes fall in the same slots (8–11), whose values then cover 30 real minutes;
 * - `slotStartEpochMs` returns the first instant whose wall clock reads the slot's start or later:
 *   the first pass of a repeated slot, the transition instant for a skipped one.
 *
 * Time-zone offsets come from the ICU data of the Node.js runtime (`Intl.DateTimeFormat`); all
 * endorsers must run the same tz data for dates near a rule change (Node 24.21: tz 2026c).
 * Calendar arithmetic on days (`previousDays`, `isWeekend`) is pure proleptic-Gregorian and does
 * not depend on the time zone.
 */
import { MathArgumentError, requireInteger } from './errors.ts';

export const DEFAULT_TIME_ZONE = 'Europe/Rome';
export const DEFAULT_SLOTS_PER_DAY = 96;

const MS_PER_DAY = 86_400_000;
const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface DaySlot {
  readonly day: string;
  /** 0-based slot index in [0, slotsPerDay). */
  readonly slot: number;
}

/** True when `value` is a real calendar date written 'YYYY-MM-DD' (years 0001–9999). */
export function isDay(value: unknown): value is string {
  return typeof value === 'string' && dayToUtcMs(value) !== undefined;
}

/** The calendar day of an instant in `timeZone`. */
export function dayOf(epochMs: number, timeZone: string = DEFAULT_TIME_ZONE): string {
  const wall = wallClockMs(requireEpochMs(epochMs), timeZone);
  return utcMsToDay(wall - mod(wall, MS_PER_DAY));
}

/** The day and wall-clock slot of an instant in `timeZone`. */
export function slotOf(epochMs: number, timeZone: string = DEFAULT_TIME_ZONE, slotsPerDay: number = DEFAULT_SLOTS_PER_DAY): DaySlot {
  requireSlotsPerDay(slotsPerDay);
  const wall = wallClockMs(requireEpochMs(epochMs), timeZone);
  const msOfDay = mod(wall, MS_PER_DAY);
  // Whole seconds of the wall clock; msOfDay < 86.4e6, so the product stays far below 2^53.
  const slot = Math.floor((Math.floor(msOfDay / 1000) * slotsPerDay) / 86_400);
  return { day: utcMsToDay(wall - msOfDay), slot };
}

/** Saturday or Sunday (the LowXofY baseline days). */
export function isWeekend(day: string): boolean {
  const weekday = new Date(requireDay(day)).getUTCDay();
  return weekday === 0 || weekday === 6;
}

/** The `n` calendar days immediately before `day`, most recent first. */
export function previousDays(day: string, n: number): string[] {
  const start = requireDay(day);
  requireInteger('n', n, 0, 100_000);
  const days: string[] = [];
  for (let i = 1; i <= n; i++) days.push(utcMsToDay(start - i * MS_PER_DAY));
  return days;
}

/** The calendar day `n` days after `day` (negative `n`: before). */
export function addDays(day: string, n: number): string {
  requireInteger('n', n, -1_000_000, 1_000_000);
  return utcMsToDay(requireDay(day) + n * MS_PER_DAY);
}

/** The first instant of `day` in `timeZone` (local midnight, or the first instant after a gap). */
export function dayStartEpochMs(day: string, timeZone: string = DEFAULT_TIME_ZONE): number {
  return wallToEpochMs(requireDay(day), timeZone);
}

/**
 * The first instant whose wall clock in `timeZone` reads the start of `slot` of `day` or later
 * (see the DST note at the top of this file).
 */
export function slotStartEpochMs(day: string, slot: number, timeZone: string = DEFAULT_TIME_ZONE, slotsPerDay: number = DEFAULT_SLOTS_PER_DAY): number {
  requireSlotsPerDay(slotsPerDay);
  requireInteger('slot', slot, 0, slotsPerDay - 1);
  return wallToEpochMs(requireDay(day) + Math.floor((slot * MS_PER_DAY) / slotsPerDay), timeZone);
}

// ---- internals -------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        era: 'short',
      });
    } catch (err) {
      throw new MathArgumentError(`unknown time zone ${JSON.stringify(timeZone)}; use an IANA name such as Europe/Rome`, { cause: err });
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

// Stryker disable next-line all: the per-bucket offset memo is a cache; a wrong bucket, bound or skipped memo only makes it miss, and a miss computes the same offset
const OFFSET_BUCKET_MS = 15 * 60_000;
const offsetMemo = new Map<string, number>();

/**
 * The wall clock of `epochMs` in `timeZone`, written as if it were a UTC instant. The zone's offset
 * is memoised per 15-minute UTC bucket when it is the same at both ends of the bucket (no
 * transition inside: real zones change their offset at most twice a year, on whole quarter hours
 * since 1900); other buckets, and instants before 1900, are computed each time.
 */
function wallClockMs(epochMs: number, timeZone: string): number {
  // Stryker disable next-line all: the per-bucket offset memo is a cache; a wrong bucket, bound or skipped memo only makes it miss, and a miss computes the same offset
  if (epochMs < -2_208_988_800_000) return formatWallClockMs(epochMs, timeZone);
  const bucket = Math.floor(epochMs / OFFSET_BUCKET_MS);
  const key = `${timeZone}\u0000${bucket}`;
  let offset = offsetMemo.get(key);
  // Stryker disable next-line all: the per-bucket offset memo is a cache; a miss computes the same offset
  if (offset === undefined) {
    const start = bucket * OFFSET_BUCKET_MS;
    // Stryker disable next-line all: the per-bucket offset memo is a cache; a wrong bucket, bound or skipped memo only makes it miss, and a miss computes the same offset
    const first = formatWallClockMs(start, timeZone) - start;
    // Stryker disable next-line all: the per-bucket offset memo is a cache; a wrong bucket, bound or skipped memo only makes it miss, and a miss computes the same offset
    const last = formatWallClockMs(start + OFFSET_BUCKET_MS - 1, timeZone) - (start + OFFSET_BUCKET_MS - 1);
    // Stryker disable next-line all: the direct computation is exact; the memo is used only when the offset cannot change in the bucket
    if (first !== last) return formatWallClockMs(epochMs, timeZone);
    // Stryker disable next-line all: clearing a cache changes nothing but time
    if (offsetMemo.size >= 4096) offsetMemo.clear();
    // Stryker disable next-line all: the per-bucket offset memo is a cache; a wrong bucket, bound or skipped memo only makes it miss, and a miss computes the same offset
    offsetMemo.set(key, first);
    offset = first;
  }
  return epochMs + offset;
}

function formatWallClockMs(epochMs: number, timeZone: string): number {
  let year = 0;
  let month = 0;
  let date = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  // Stryker disable next-line BooleanLiteral: the era part is always in the formatter's output and sets it
  let bc = false;
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) {
    switch (part.type) {
      case 'year': year = Number(part.value); break;
      case 'month': month = Number(part.value); break;
      case 'day': date = Number(part.value); break;
      case 'hour': hour = Number(part.value); break;
      case 'minute': minute = Number(part.value); break;
      case 'second': second = Number(part.value); break;
      case 'era': bc = part.value === 'BC' || part.value === 'B'; break;
      // Stryker disable next-line ConditionalExpression: the other parts (literals, dayPeriod) are ignored either way
      default: break;
    }
  }
  const utc = new Date(0);
  utc.setUTCFullYear(bc ? 1 - year : year, month - 1, date);
  utc.setUTCHours(hour, minute, second, mod(epochMs, 1000));
  return utc.getTime();
}

function offsetMs(epochMs: number, timeZone: string): number {
  return wallClockMs(epochMs, timeZone) - epochMs;
}

/** The first instant whose wall clock reads `wall` or later (assumes ≤ 1 offset change within ±1 day). */
function wallToEpochMs(wall: number, timeZone: string): number {
  const before = offsetMs(wall - MS_PER_DAY, timeZone);
  const after = offsetMs(wall + MS_PER_DAY, timeZone);
  const candidates = [wall - before, wall - after].filter((t) => wallClockMs(t, timeZone) === wall);
  if (candidates.length > 0) return Math.min(...candidates);
  // `wall` falls in a gap: find the transition instant, the first one whose wall clock is past it.
  let low = wall - after; // reads earlier than `wall`
  let high = wall - before; // reads later than `wall`
  // Stryker disable next-line all: in a gap the offset grows, so low < high already; kept for safety
  if (low > high) [low, high] = [high, low];
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    // Stryker disable next-line EqualityOperator: inside a gap no instant reads `wall` itself, so > and >= agree
    if (wallClockMs(middle, timeZone) >= wall) high = middle;
    else low = middle;
  }
  return high;
}

/**
 * The instants whose day can be one of 0001-01-01 … 9999-12-31 in some time zone (zones are at most
 * a day from UTC): 0001-01-01T00:00Z and 10000-01-01T00:00Z, each widened by two days. Outside them
 * the answer is out of range anyway, and Intl (whose instants end at ±8.64e15 ms) is never asked.
 */
const FIRST_EPOCH_MS = -62_135_596_800_000 - 2 * MS_PER_DAY;
const LAST_EPOCH_MS = 253_402_300_800_000 + 2 * MS_PER_DAY;

function requireEpochMs(epochMs: number): number {
  if (typeof epochMs !== 'number' || !Number.isSafeInteger(epochMs) || Math.abs(epochMs) > 8.64e15) {
    throw new MathArgumentError(`epochMs must be an integer count of milliseconds, got ${String(epochMs)}`);
  }
  if (epochMs < FIRST_EPOCH_MS || epochMs > LAST_EPOCH_MS) {
    throw new MathArgumentError(`date out of range (years 0001–9999): ${new Date(epochMs).toISOString()}`);
  }
  return epochMs;
}

function requireSlotsPerDay(slotsPerDay: number): void {
  requireInteger('slotsPerDay', slotsPerDay, 1, 86_400);
}

/** Midnight UTC of the day as epoch ms, or a `MathArgumentError`. */
function requireDay(day: string): number {
  // Stryker disable next-line ConditionalExpression: the pattern refuses any non-string too (as its text)
  const ms = typeof day === 'string' ? dayToUtcMs(day) : undefined;
  if (ms === undefined) throw new MathArgumentError(`day must be a calendar date 'YYYY-MM-DD', got ${JSON.stringify(day)}`);
  return ms;
}

function dayToUtcMs(day: string): number | undefined {
  const match = DAY_PATTERN.exec(day);
  if (match === null) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const date = Number(match[3]);
  if (year < 1) return undefined;
  // Month 00 or 13, day 00 or 32, 02-30: Date rolls them into another month, so the round trip refuses them.
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, date);
  if (utc.getUTCMonth() !== month - 1 || utc.getUTCDate() !== date) return undefined;
  return utc.getTime();
}

function utcMsToDay(ms: number): string {
  const utc = new Date(ms);
  const year = utc.getUTCFullYear();
  if (year < 1 || year > 9999) throw new MathArgumentError(`date out of range (years 0001–9999): ${utc.toISOString()}`);
  return `${String(year).padStart(4, '0')}-${String(utc.getUTCMonth() + 1).padStart(2, '0')}-${String(utc.getUTCDate()).padStart(2, '0')}`;
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}
