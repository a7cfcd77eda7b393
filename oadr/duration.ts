/**
 * ISO 8601 durations as OpenADR uses them (R1, §8.1): `PT15M`, `P1D`, `PT0S`, years and months
 * included, no decimal components. The schema's pattern (xcal:DurationValueType) is
 * `(\+|-)?P((\d+Y)?(\d+M)?(\d+D)?T?(\d+H)?(\d+M)?(\d+S)?)|(\d+W)`; we also read `P2W`, which
 * many implementations send, but never write weeks.
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

const DURATION = /^([+-])?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
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
  const start = new Date(typeof from === 'number' ? from : from.getTime());
  const end = new Date(start.getTime());
  end.setUTCMonth(end.getUTCMonth() + sign * (p.years * 12 + p.months));
  return end.getTime() - start.getTime() + sign * fixed;
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
