/**
 * How a benchmark hands its figures to `npm run bench` (bench/run.ts), which writes them into
 * `docs/benchmarks.md`: besides its human output, a benchmark prints lines
 *
 *     BENCH {"figures":[…],"curves":[…]}
 *
 * on stdout (any number, anywhere in its output; `reportFigures` writes one). The protocol is
 * described in bench/README.md.
 */

/** A figure a seed or reference measured, in the unit of the figure it is set beside. */
export interface SeedFigure {
  /** Where it comes from and what it is: "thesis table 5.1: notifyDRevent, 2 customers". */
  readonly source: string;
  /** In the figure's unit; without it the seed is shown as text only and no ratio is computed. */
  readonly value?: number;
}

export interface Figure {
  /** Stable key, unique across benchmarks: `<benchmark>.<figure>`, e.g. `ledger.saturation-tps`. */
  readonly id: string;
  /** What was measured, as a reader of the report needs it. */
  readonly label: string;
  readonly value: number;
  /** Unit of `value`, of `target` and of every seed's value: `tx/s`, `ms`, `s`, `µs`, `msg/s`, `MB/s`, `KiB`. */
  readonly unit: string;
  /** Which way is better: it decides whether the target is met and which way the ratio reads. */
  readonly better: 'higher' | 'lower';
  /** Shown after the value (other percentiles, CPU time, memory). */
  readonly detail?: string;
  /** The target, met when `value` is on the `better` side of it or equal. */
  readonly target?: number;
  readonly seeds?: readonly SeedFigure[];
}

/** Latency against offered load (one point per rate), for the chart beside the seed's curve. */
export interface LatencyCurve {
  readonly id: string;
  readonly label: string;
  readonly points: readonly LatencyPoint[];
}

export interface LatencyPoint {
  readonly offeredPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failedPct: number;
}

export interface BenchRecord {
  readonly figures: readonly Figure[];
  readonly curves: readonly LatencyCurve[];
}

export const BENCH_PREFIX = 'BENCH ';

/** Prints one `BENCH {…}` line: the figures (and curves) of this benchmark for the report. */
export function reportFigures(figures: readonly Figure[], curves: readonly LatencyCurve[] = []): void {
  console.log(`${BENCH_PREFIX}${JSON.stringify({ figures, curves })}`);
}

export class BenchLineError extends Error {
  override readonly name = 'BenchLineError';
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isText = (x: unknown): x is string => typeof x === 'string' && x.length > 0;

function checkFigure(f: unknown, where: string): Figure {
  const o = f as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) throw new BenchLineError(`${where}: a figure must be an object`);
  const bad = (field: string, want: string) => new BenchLineError(`${where}: figure ${JSON.stringify(o.id ?? '?')} needs ${field} (${want})`);
  if (!isText(o.id)) throw bad('id', 'a non-empty string');
  if (!isText(o.label)) throw bad('label', 'a non-empty string');
  if (!isNum(o.value)) throw bad('value', 'a finite number');
  if (!isText(o.unit)) throw bad('unit', 'a non-empty string');
  if (o.better !== 'higher' && o.better !== 'lower') throw bad('better', '"higher" or "lower"');
  if (o.target !== undefined && !isNum(o.target)) throw bad('target', 'a finite number or absent');
  if (o.detail !== undefined && typeof o.detail !== 'string') throw bad('detail', 'a string or absent');
  if (o.seeds !== undefined) {
    if (!Array.isArray(o.seeds)) throw bad('seeds', 'an array or absent');
    for (const s of o.seeds as unknown[]) {
      const seed = s as Record<string, unknown> | null;
      if (typeof seed !== 'object' || seed === null || !isText(seed.source) || (seed.value !== undefined && !(isNum(seed.value) && seed.value > 0))) {
        throw bad('seeds', 'each { source: string, value?: positive number }');
      }
    }
  }
  return o as unknown as Figure;
}

function checkCurve(c: unknown, where: string): LatencyCurve {
  const o = c as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || !isText(o.id) || !isText(o.label) || !Array.isArray(o.points)) {
    throw new BenchLineError(`${where}: a curve needs id, label and points`);
  }
  for (const p of o.points as unknown[]) {
    const q = p as Record<string, unknown> | null;
    if (typeof q !== 'object' || q === null || !isNum(q.offeredPerS) || !(q.offeredPerS > 0) || !isNum(q.p50Ms) || !isNum(q.p99Ms) || !isNum(q.failedPct)) {
      throw new BenchLineError(`${where}: curve ${JSON.stringify(o.id)} has a point without positive offeredPerS and numeric p50Ms, p99Ms, failedPct`);
    }
  }
  return o as unknown as LatencyCurve;
}

/**
 * The record of a `BENCH {…}` line, `undefined` for any other line; a BENCH line that is not
 * the protocol's JSON throws `BenchLineError` saying what is wrong (`where` names the benchmark).
 */
export function parseBenchLine(line: string, where: string): BenchRecord | undefined {
  if (!line.startsWith(BENCH_PREFIX)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(line.slice(BENCH_PREFIX.length));
  } catch (err) {
    throw new BenchLineError(`${where}: a BENCH line must be followed by JSON (${(err as Error).message})`, { cause: err });
  }
  const o = raw as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || (o.figures !== undefined && !Array.isArray(o.figures)) || (o.curves !== undefined && !Array.isArray(o.curves))) {
    throw new BenchLineError(`${where}: a BENCH line holds { "figures": [...], "curves": [...] }`);
  }
  return {
    figures: ((o.figures as unknown[] | undefined) ?? []).map((f) => checkFigure(f, where)),
    curves: ((o.curves as unknown[] | undefined) ?? []).map((c) => checkCurve(c, where)),
  };
}
