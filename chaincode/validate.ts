/**
 * Argument factories: every transaction argument arrives as a string (as on a peer) and goes through
 * one of these before the contract touches state. Each throws INVALID_ARGUMENT naming the argument.
 */
import { invalidArgument } from './errors.ts';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:@\-]{0,127}$/;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function parseId(name: string, value: unknown): string {
  if (typeof value !== 'string' || !ID_RE.test(value)) {
    throw invalidArgument(`${name} must be 1–128 characters of letters, digits and . _ : @ - (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** A calendar day 'YYYY-MM-DD' that exists (2025-02-30 is refused). */
export function parseDay(name: string, value: unknown): string {
  const m = typeof value === 'string' ? DAY_RE.exec(value) : null;
  if (!m) throw invalidArgument(`${name} must be a day YYYY-MM-DD, got ${JSON.stringify(value)}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    throw invalidArgument(`${name} ${value} is not a calendar day`);
  }
  return value as string;
}

export function parseJsonArg(name: string, value: unknown): unknown {
  if (typeof value !== 'string') throw invalidArgument(`${name} must be a JSON string`);
  try {
    return JSON.parse(value);
  } catch {
    throw invalidArgument(`${name} is not valid JSON`);
  }
}

export function parseInteger(name: string, value: unknown, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw invalidArgument(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * A load profile: exactly `slotsPerDay` entries, each a non-negative integer (W) or null for a slot
 * not reported yet (partial day, accumulated by later records).
 */
export function parseProfile(name: string, value: unknown, slotsPerDay: number): (number | null)[] {
  const v = typeof value === 'string' ? parseJsonArg(name, value) : value;
  if (!Array.isArray(v)) throw invalidArgument(`${name} must be a JSON array of ${slotsPerDay} values`);
  if (v.length !== slotsPerDay) {
    throw invalidArgument(`${name} must have exactly ${slotsPerDay} values (one per slot), got ${v.length}`);
  }
  const bad: string[] = [];
  for (let i = 0; i < v.length; i++) {
    const problem = slotPowerProblem(v[i]);
    if (problem !== undefined) bad.push(`${name}[${i}] (slot ${i}) ${problem}`);
  }
  if (bad.length > 0) throw invalidArgument(`${bad.length} of ${slotsPerDay} slot values refused, nothing recorded: ${bad.join('; ')}`);
  return v as (number | null)[];
}

/**
 * The most average power one meter may report for a slot: 1 GW, far above any one customer's
 * connection, and low enough that a day's sums and the settlement's products stay exact integers.
 */
export const MAX_SLOT_POWER_W = 1_000_000_000;

/**
 * Why `x` cannot be a slot's recorded power (whole W in [0, MAX_SLOT_POWER_W], or null for "not
 * reported"), or undefined when it can. The VTN edge uses the same rule, to refuse a reading before
 * it is batched with other slots.
 */
export function slotPowerProblem(x: unknown): string | undefined {
  if (x === null) return undefined;
  if (typeof x !== 'number' || !Number.isInteger(x)) return `must be an integer number of W, got ${typeof x === 'number' ? String(x) : JSON.stringify(x)}`;
  if (x < 0) return `must not be negative, got ${x}`;
  if (x > MAX_SLOT_POWER_W) return `${x} W is above ${MAX_SLOT_POWER_W} W, more than one meter can draw`;
  return undefined;
}

/**
 * An event window: a JSON array of distinct slot indexes, or a "HH:MM-HH:MM" wall-clock range of the
 * event day (end exclusive, on slot boundaries). Returned sorted.
 */
export function parseWindow(name: string, value: unknown, slotsPerDay: number): number[] {
  if (typeof value !== 'string') throw invalidArgument(`${name} must be a string`);
  const minutesPerSlot = 1440 / slotsPerDay;
  const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(value);
  let slots: number[];
  if (m) {
    const from = Number(m[1]) * 60 + Number(m[2]);
    const to = Number(m[3]) * 60 + Number(m[4]);
    if (from % minutesPerSlot !== 0 || to % minutesPerSlot !== 0 || from >= to || to > 1440) {
      throw invalidArgument(`${name} ${value} must be an increasing range on ${minutesPerSlot}-minute slot boundaries`);
    }
    slots = [];
    for (let s = from / minutesPerSlot; s < to / minutesPerSlot; s++) slots.push(s);
  } else {
    const v = parseJsonArg(name, value);
    if (!Array.isArray(v) || v.length === 0) throw invalidArgument(`${name} must be "HH:MM-HH:MM" or a non-empty JSON array of slot indexes`);
    slots = v.map((x, i) => parseInteger(`${name}[${i}]`, x, 0, slotsPerDay - 1));
    slots.sort((a, b) => a - b);
    for (let i = 1; i < slots.length; i++) {
      if (slots[i] === slots[i - 1]) throw invalidArgument(`${name} repeats slot ${slots[i]}`);
    }
  }
  return slots;
}

/** The requested reduction: one integer W for every window slot, or a JSON array with one per slot. */
export function parseRequest(name: string, value: unknown, windowLength: number): number[] {
  const v = parseJsonArg(name, value);
  if (typeof v === 'number') {
    const w = parseInteger(name, v, 0);
    return new Array<number>(windowLength).fill(w);
  }
  if (!Array.isArray(v) || v.length !== windowLength) {
    throw invalidArgument(`${name} must be an integer W or a JSON array of ${windowLength} integers (one per window slot)`);
  }
  return v.map((x, i) => parseInteger(`${name}[${i}]`, x, 0));
}

/** A JSON array of distinct ids, returned sorted (the order a transaction processes them in). */
export function parseIdList(name: string, value: unknown, maxLength = 1_000_000): string[] {
  const v = parseJsonArg(name, value);
  if (!Array.isArray(v) || v.length === 0 || v.length > maxLength) {
    throw invalidArgument(`${name} must be a JSON array of 1–${maxLength} ids`);
  }
  const ids = v.map((x, i) => parseId(`${name}[${i}]`, x));
  ids.sort();
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] === ids[i - 1]) throw invalidArgument(`${name} repeats ${ids[i]}`);
  }
  return ids;
}
