/**
 * Simple (text) types of the OpenADR 2.0b schema: how a text node is read into our model and
 * written back. `parse` returns `INVALID` rather than throwing (the codec builds the error with
 * the element path); `format` returns `INVALID` for a model value it cannot write.
 */
import { canonicalDuration } from './duration.ts';

export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

export interface Scalar<T> {
  readonly kind: 'scalar';
  /** What the schema calls the type, for error messages. */
  readonly name: string;
  /** True when surrounding whitespace is insignificant (xs:token, numbers, dates…). */
  readonly collapse: boolean;
  parse(text: string): T | Invalid;
  format(value: unknown): string | Invalid;
}

function scalar<T>(name: string, collapse: boolean, parse: (s: string) => T | Invalid, format: (v: unknown) => string | Invalid): Scalar<T> {
  return { kind: 'scalar', name, collapse, parse, format };
}

/** xs:string: kept exactly as written. */
export const str: Scalar<string> = scalar('string', false, (s) => s, (v) => (typeof v === 'string' ? v : INVALID));

/** xs:token and xs:anyURI: whitespace collapsed. */
export const token: Scalar<string> = scalar('token', true, (s) => collapseWs(s), (v) => (typeof v === 'string' ? collapseWs(v) : INVALID));

const UINT = /^\+?\d+$/;
const INT = /^[+-]?\d+$/;
/** xs:unsignedInt */
export const uint: Scalar<number> = scalar(
  'unsignedInt',
  true,
  (s) => {
    if (!UINT.test(s)) return INVALID;
    const n = Number(s);
    return n <= 0xffffffff ? n : INVALID;
  },
  (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? String(v) : INVALID),
);

/** ei:ConfidenceType: unsignedInt 0–100. */
export const percent: Scalar<number> = scalar(
  'confidence (0-100)',
  true,
  (s) => {
    const n = uint.parse(s);
    return n !== INVALID && n <= 100 ? n : INVALID;
  },
  (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 100 ? String(v) : INVALID),
);

const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** xs:float / xs:double: numbers, with INF, -INF and NaN as the schema spells them. */
export const float: Scalar<number> = scalar(
  'float',
  true,
  (s) => {
    if (FLOAT.test(s)) return Number(s);
    if (s === 'INF' || s === '+INF') return Infinity;
    if (s === '-INF') return -Infinity;
    if (s === 'NaN') return NaN;
    return INVALID;
  },
  (v) => {
    if (typeof v !== 'number') return INVALID;
    if (Object.is(v, -0)) return '-0';
    if (Number.isFinite(v)) return String(v);
    return Number.isNaN(v) ? 'NaN' : v > 0 ? 'INF' : '-INF';
  },
);

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
/** xs:decimal: no exponent, no INF. */
export const decimal: Scalar<number> = scalar(
  'decimal',
  true,
  (s) => (DECIMAL.test(s) ? Number(s) : INVALID),
  (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return INVALID;
    if (Object.is(v, -0)) return '-0';
    const s = String(v);
    return s.includes('e') ? expandExponent(s) : s;
  },
);

/** `-2.5e+22` → `-25000000000000000000000`, `1.5e-7` → `0.00000015`: the shortest digits, no exponent. */
function expandExponent(s: string): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const [, sign, lead, frac = '', exp] = m as unknown as [string, string, string, string | undefined, string];
  const digits = lead + frac;
  const point = 1 + Number(exp);
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** xs:boolean */
export const bool: Scalar<boolean> = scalar(
  'boolean',
  true,
  (s) => (s === 'true' || s === '1' ? true : s === 'false' || s === '0' ? false : INVALID),
  (v) => (typeof v === 'boolean' ? String(v) : INVALID),
);

/**
 * A date-time in our model: always UTC, `YYYY-MM-DDTHH:MM:SS.sssZ` (R1). The schema's
 * xcal:DateTimeType admits a `Z` or no zone at all; a zoneless time is read as UTC.
 */
export type DateTime = string;

const DATETIME = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z)?$/;
export function normalizeDateTime(s: string): DateTime | Invalid {
  const m = DATETIME.exec(s);
  if (m === null) return INVALID;
  const [, y, mo, d, h, mi, sec, frac] = m as unknown as [string, string, string, string, string, string, string, string | undefined];
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 59) return INVALID;
  if (hour === 24 && (minute !== 0 || second !== 0 || (frac !== undefined && /[1-9]/.test(frac)))) return INVALID;
  const ms = frac === undefined ? 0 : Math.floor(Number(`0${frac}`) * 1000);
  const t = Date.UTC(Number(y), month - 1, day, hour, minute, second, ms);
  if (!Number.isFinite(t)) return INVALID;
  const date = new Date(t);
  // Reject 31 April and friends (Date.UTC rolls them over), except the allowed 24:00:00.
  if (hour !== 24 && date.getUTCDate() !== day) return INVALID;
  return date.toISOString();
}

export const dateTime: Scalar<DateTime> = scalar('dateTime', true, normalizeDateTime, (v) => {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? INVALID : v.toISOString();
  return typeof v === 'string' ? normalizeDateTime(v) : INVALID;
});

/** An ISO 8601 duration as the schema's xcal:DurationValueType admits it, e.g. `PT15M` (see duration.ts). */
export type Duration = string;
// Messages repeat a handful of durations (PT15M in every interval): remember the last few hundred.
const durationMemo = new Map<string, string | Invalid>();
function memoDuration(s: string): string | Invalid {
  let v = durationMemo.get(s);
  if (v === undefined) {
    v = canonicalDuration(s) ?? INVALID;
    if (durationMemo.size >= 512) durationMemo.clear();
    durationMemo.set(s, v);
  }
  return v;
}
export const duration: Scalar<Duration> = scalar('duration', true, memoDuration, (v) => (typeof v === 'string' ? memoDuration(v) : INVALID));

/** A value the schema fixes (`fixed="RealPower"`): exactly that string. */
export function fixedValue<const T extends string>(value: T): Scalar<T> {
  return scalar(`fixed '${value}'`, false, (s) => (s === value ? value : INVALID), (v) => (v === value ? value : INVALID));
}

const NCNAME = /^[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]*$/;
/** xs:ID: an NCName (uniqueness within the document is not checked). */
export const id: Scalar<string> = scalar('ID (NCName)', true, (s) => (NCNAME.test(s) ? s : INVALID), (v) => (typeof v === 'string' && NCNAME.test(v) ? v : INVALID));

/** An enumerated token; with `extensible`, any `x-` token is accepted too (Annex B). */
export function enumeration<const T extends string>(name: string, values: readonly T[], extensible: boolean): Scalar<T> {
  const set = new Set<string>(values);
  const ok = (s: string): boolean => set.has(s) || (extensible && /^x-\S/.test(s));
  return scalar(
    name,
    true,
    (s) => (ok(s) ? (s as T) : INVALID),
    (v) => (typeof v === 'string' && ok(collapseWs(v)) ? collapseWs(v) : INVALID),
  );
}

/** ei:ResponseCodeType: three digits, as a number in our model (200, 452, …). */
export const responseCode: Scalar<number> = scalar(
  'responseCode',
  false,
  (s) => (/^\d{3}$/.test(s) ? Number(s) : INVALID),
  (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 999 ? String(v).padStart(3, '0') : INVALID),
);

/** gml:doubleList: whitespace-separated doubles. */
export const doubleList: Scalar<number[]> = scalar(
  'list of doubles',
  true,
  (s) => {
    if (s === '') return [];
    const out: number[] = [];
    for (const part of s.split(' ')) {
      const n = float.parse(part);
      if (n === INVALID) return INVALID;
      out.push(n);
    }
    return out;
  },
  (v) => {
    if (!Array.isArray(v)) return INVALID;
    const parts: string[] = [];
    for (const n of v) {
      const s = float.format(n);
      if (s === INVALID) return INVALID;
      parts.push(s);
    }
    return parts.join(' ');
  },
);

export function collapseWs(s: string): string {
  // Fast path: nothing to collapse.
  if (!/[\t\n\r ]/.test(s)) return s;
  return s.replace(/[\t\n\r ]+/g, ' ').trim();
}
