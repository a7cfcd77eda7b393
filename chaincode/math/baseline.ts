/**
 * Customer baseline, HighXofY / LowXofY (dr-contract.md §2; thesis eq. 4.1–4.3).
 *
 *   pool     = the Y most recent complete days before the target day that are not excluded
 *              (DR event days of the customer); older days are used when recent ones are excluded
 *   ranking  = daily energy Σ_h P_h (choice, dr-contract.md); ties: the more recent day ranks first
 *   'high'   = the X days of the pool with the highest daily energy (weekday target, X = 21)
 *   'low'    = the X days of the pool with the lowest daily energy (weekend target, X = 14)
 *   B_h      = round_half_up( Σ_{j ∈ chosen} P_h,j / X )     exact integer division, W
 *
 * A day is complete when it has exactly `slotsPerDay` values, each a non-negative safe integer;
 * other days (partial days, placeholders) are skipped, as are days on or after the target.
 * The same day twice in `history` is the caller's bug (corrections are resolved before): refused.
 * Result is independent of the order of `history`.
 */
import { isWeekend, isDay } from './calendar.ts';
import { MathArgumentError, requireInteger } from './errors.ts';
import { divRoundHalfUp } from './integer.ts';

export type BaselineMode = 'high' | 'low';

export interface DayProfile {
  readonly day: string;
  /** Average power per slot, W. */
  readonly values: readonly number[];
}

export interface BaselineInput {
  readonly history: readonly DayProfile[];
  readonly targetDay: string;
  /** Days not eligible for the pool (the customer's DR event days). */
  readonly excludedDays: ReadonlySet<string>;
  /** Pool size (Y = 35). */
  readonly Y: number;
  /** Days averaged (X = 21 HighXofY, 14 LowXofY). */
  readonly X: number;
  readonly mode: BaselineMode;
  readonly slotsPerDay: number;
}

export type BaselineResult =
  | { readonly ok: true; readonly values: number[]; /** the X days averaged, oldest first */ readonly daysUsed: string[] }
  | { readonly ok: false; /** complete eligible days in the pool */ readonly found: number; readonly needed: number };

/** The program defaults of dr-contract.md §2. */
export const BASELINE_DEFAULTS = {
  Y: 35,
  highX: 21,
  lowX: 14,
} as const;

/** HighXofY on weekdays, LowXofY on Saturdays and Sundays. */
export function baselineModeFor(targetDay: string): BaselineMode {
  return isWeekend(targetDay) ? 'low' : 'high';
}

interface Candidate {
  readonly day: string;
  readonly values: readonly number[];
  readonly energy: number;
}

export function computeBaseline(input: Readonly<BaselineInput>): BaselineResult {
  const { history, targetDay, excludedDays, Y, X, mode, slotsPerDay } = input;
  if (!isDay(targetDay)) throw new MathArgumentError(`targetDay must be a calendar date 'YYYY-MM-DD', got ${JSON.stringify(targetDay)}`);
  requireInteger('slotsPerDay', slotsPerDay, 1, 86_400);
  requireInteger('X', X, 1);
  requireInteger('Y', Y, X);
  if (mode !== 'high' && mode !== 'low') throw new MathArgumentError(`mode must be 'high' or 'low', got ${JSON.stringify(mode)}`);
  if (!Array.isArray(history)) throw new MathArgumentError('history must be an array of { day, values }');

  const seen = new Set<string>();
  const eligible: Candidate[] = [];
  for (const entry of history) {
    const day = entry.day;
    if (!isDay(day)) throw new MathArgumentError(`history day must be a calendar date 'YYYY-MM-DD', got ${JSON.stringify(day)}`);
    if (seen.has(day)) throw new MathArgumentError(`history holds day ${day} twice; pass one profile per day`);
    seen.add(day);
    if (day >= targetDay || excludedDays.has(day)) continue;
    const energy = completeDayEnergy(entry.values, slotsPerDay);
    if (energy >= 0) eligible.push({ day, values: entry.values, energy });
  }

  // The Y most recent eligible days ('YYYY-MM-DD' sorts chronologically as a string).
  // Stryker disable next-line EqualityOperator: the days are distinct (a repeated day is refused above), so < and <= order them alike
  eligible.sort((a, b) => (a.day < b.day ? 1 : -1));
  const pool = eligible.slice(0, Y);
  if (pool.length < X) return { ok: false, found: pool.length, needed: X };

  // Rank: by daily energy (descending for 'high', ascending for 'low'); pool is most-recent-first
  // and the sort is stable, so on equal energy the more recent day ranks first.
  const sign = mode === 'high' ? -1 : 1;
  const ranked = pool.slice().sort((a, b) => sign * (a.energy - b.energy));
  const chosen = ranked.slice(0, X);

  const sums = new Float64Array(slotsPerDay);
  for (const candidate of chosen) {
    const values = candidate.values;
    for (let h = 0; h < slotsPerDay; h++) sums[h] = (sums[h] as number) + (values[h] as number);
  }
  const values = new Array<number>(slotsPerDay);
  for (let h = 0; h < slotsPerDay; h++) values[h] = divRoundHalfUp(sums[h] as number, X);
  const daysUsed = chosen.map((c) => c.day).sort();
  return { ok: true, values, daysUsed };
}

/** Daily energy of a complete day (Σ of the slot powers), or −1 when the day is not complete. */
function completeDayEnergy(values: readonly number[], slotsPerDay: number): number {
  if (!Array.isArray(values) || values.length !== slotsPerDay) return -1;
  let sum = 0;
  for (let h = 0; h < slotsPerDay; h++) {
    const value = values[h];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return -1;
    sum += value;
  }
  if (!Number.isSafeInteger(sum)) throw new MathArgumentError(`daily energy above 2^53 W·slot; values are W per slot, not mW`);
  return sum;
}

/** Cluster baseline (eq. 4.4): the slot-by-slot sum of the customers' baselines. */
export function sumBaselines(baselines: readonly (readonly number[])[], slotsPerDay: number): number[] {
  requireInteger('slotsPerDay', slotsPerDay, 1, 86_400);
  const total = new Array<number>(slotsPerDay).fill(0);
  for (const baseline of baselines) {
    if (baseline.length !== slotsPerDay) throw new MathArgumentError(`baseline has ${baseline.length} values, expected ${slotsPerDay}`);
    for (let h = 0; h < slotsPerDay; h++) total[h] = (total[h] as number) + (baseline[h] as number);
  }
  for (const value of total) if (!Number.isSafeInteger(value)) throw new MathArgumentError('cluster baseline above 2^53 W');
  return total;
}
