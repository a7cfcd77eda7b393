/**
 * Point telemetry on its way to the slot accumulator: many VENs report instantaneous power (an
 * interval with no duration, often every 10 s) or a cumulative energy register (Wh at an instant).
 * A slot's share of such a series is the time integral between consecutive points that lie at most
 * `maxGapMs` apart, clipped to the slot; pure functions, no clock, no store.
 *
 *   power   linear between two points (the trapezoid rule): a segment from (t₁, P₁) to (t₂, P₂)
 *           holds P₁ + (P₂ − P₁)·(t − t₁)/(t₂ − t₁); a point exactly on a slot boundary closes the
 *           segment before it and opens the one after it.
 *   energy  a register E (Wh) at each point: the segment's power is (E₂ − E₁)·3 600 000 / (t₂ − t₁)
 *           W, constant over it; a register that went down (reset, replaced meter) covers nothing.
 *
 * Nothing is covered before a series' first point, after its last, or across a gap longer than
 * `maxGapMs`: the slot's average is taken over the time its points cover, and the accumulator
 * decides whether that coverage is enough (store.ts).
 */

/** What a point measures: instantaneous real power (W) or a cumulative real-energy register (Wh). */
export type PointKind = 'power' | 'energy';

export interface SeriesPoint {
  readonly t: number;
  /** W for `power`, Wh for `energy`, SI scale applied. */
  readonly value: number;
}

export interface Coverage {
  /** Σ W·ms over the covered time. */
  readonly energyWms: number;
  readonly coveredMs: number;
}

/** Default longest gap between two points that still covers the time between them: 5 minutes. */
export const DEFAULT_POINT_GAP_MS = 300_000;

/** The energy and covered time of `points` (sorted by `t`, no two at one instant) within [fromMs, toMs). */
export function integratePoints(points: readonly SeriesPoint[], kind: PointKind, fromMs: number, toMs: number, maxGapMs: number): Coverage {
  let energyWms = 0;
  let coveredMs = 0;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as SeriesPoint;
    const b = points[i] as SeriesPoint;
    const gap = b.t - a.t;
    if (gap <= 0 || gap > maxGapMs) continue;
    const lo = Math.max(a.t, fromMs);
    const hi = Math.min(b.t, toMs);
    if (hi <= lo) continue;
    if (kind === 'power') {
      const at = (x: number): number => a.value + ((b.value - a.value) * (x - a.t)) / gap;
      energyWms += ((at(lo) + at(hi)) / 2) * (hi - lo);
    } else {
      const wh = b.value - a.value;
      if (wh < 0) continue;
      energyWms += ((wh * 3_600_000) / gap) * (hi - lo);
    }
    coveredMs += hi - lo;
  }
  return { energyWms, coveredMs };
}

/**
 * The time a new or changed point at `t` can change: from its predecessor to its successor, each
 * only when within `maxGapMs` (a segment longer than that covered nothing before and covers nothing
 * now). Empty (`from === to`) when the point stands alone.
 */
export function affectedSpan(t: number, prevT: number | undefined, nextT: number | undefined, maxGapMs: number): { readonly fromMs: number; readonly toMs: number } {
  return {
    fromMs: prevT !== undefined && t - prevT <= maxGapMs ? prevT : t,
    toMs: nextT !== undefined && nextT - t <= maxGapMs ? nextT : t,
  };
}
