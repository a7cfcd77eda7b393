/**
 * ISO 8601 durations as OpenADR uses them (R1, §8.1): `PT15M`, `P1D`, `PT0S`, years and months
 * included, no decimal components. The schema's pattern (xcal:DurationValueType) is
 * `(\+|-)?P((\d+Y)?(\d+M)?(\d+D)?T?(\d+H)?(\d+M)?(\d+S)?)|(\d+W)`; we also read `P2W`, which
 * many implementations send, and a fraction on the seconds, but write neither (`canonicalDuration`).
 */

export interface DurationParts {
  readonly negative: boolean;
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

// The schema's pattern makes the `T` optional (`P1H` is valid); a fraction on the seconds is read
// and truncated (rules digest §10: R1 forbids writing decimals, §8.1 asks receivers to cope).
const DURATION = /^([+-])?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.\d+)?S)?$/;
const WEEKS = /^([+-])?P?(\d+)W$/;

export function isDuration(s: string): boolean {
  return DURATION.test(s) || WEEKS.test(s);
}

/** Parse a duration; `undefined` when it is not one. `P` and `PT` alone (legal in the schema) are zero. */
export function parseDuration(s: string): DurationParts | undefined {
  const m = DURATION.exec(s);
  if (m !== null) {
    const n = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]));
    return { negative: m[1] === '-', years: n(2), months: n(3), weeks: 0, days: n(4), hours: n(5), minutes: n(6), seconds: n(7) };
  }
  const w = WEEKS.exec(s);
  if (w !== null) {
    return { negative: w[1] === '-', years: 0, months: 0, weeks: Number(w[2]), days: 0, hours: 0, minutes: 0, seconds: 0 };
  }
  return undefined;
}

/**
 * The form we write for a duration we read: the same components, weeks as days, `T` where the
 * schema wants it, no fraction, `PT0S` for zero. `PT60M` stays `PT60M` (no carrying).
 */
export function canonicalDuration(s: string): string | undefined {
  const p = parseDuration(s);
  if (p === undefined) return undefined;
  const days = p.days + p.weeks * 7;
  let out = `${p.negative ? '-' : ''}P`;
  if (p.years > 0) out += `${p.years}Y`;
  if (p.months > 0) out += `${p.months}M`;
  if (days > 0) out += `${days}D`;
  if (p.hours > 0 || p.minutes > 0 || p.seconds > 0) {
    out += 'T';
    if (p.hours > 0) out += `${p.hours}H`;
    if (p.minutes > 0) out += `${p.minutes}M`;
    if (p.seconds > 0) out += `${p.seconds}S`;
  }
  return out.endsWith('P') ? `${out}T0S` : out;
}

/**
 * Length of a duration in milliseconds. Years and months are applied calendar-wise from `from`
 * (CHOICE in §2.5 of the rules digest); without `from`, a duration with years or months is an error.
 */
export function durationToMs(s: string, from?: Date | number): number {
  const p = parseDuration(s);
  if (p === undefined) throw new RangeError(`not an ISO 8601 duration: '${s}'`);
  const sign = p.negative ? -1 : 1;
  const fixed = (((p.weeks * 7 + p.days) * 24 + p.hours) * 60 + p.minutes) * 60_000 + p.seconds * 1000;
  if (p.years === 0 && p.months === 0) return sign * fixed;
  if (from === undefined) throw new RangeError(`duration '${s}' has years or months: a start date is needed to measure it`);
  const start = typeof from === 'number' ? from : from.getTime();
  return addMonths(start, sign * (p.years * 12 + p.months)) - start + sign * fixed;
}

/**
 * Add whole months the way XML Schema Part 2 (Appendix E) adds durations to date-times: the day of
 * the month is pinned to the last day of a shorter month (31 January + P1M = 28 February).
 */
function addMonths(epochMs: number, months: number): number {
  const d = new Date(epochMs);
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return Date.UTC(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** Write milliseconds as a duration: days, hours, minutes and whole seconds (`PT0S` for zero). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot write ${ms} ms as a duration`);
  const negative = ms < 0;
  let s = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(s / 86_400);
  s -= days * 86_400;
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  s -= minutes * 60;
  let out = negative ? '-P' : 'P';
  if (days > 0) out += `${days}D`;
  if (hours > 0 || minutes > 0 || s > 0 || days === 0) {
    out += 'T';
    if (hours > 0) out += `${hours}H`;
    if (minutes > 0) out += `${minutes}M`;
    if (s > 0 || (hours === 0 && minutes === 0)) out += `${s}S`;
  }
  return out;
}
