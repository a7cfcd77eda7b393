/**
 * Availability profile update after a DR event (dr-contract.md §3; thesis eq. 4.5–4.6).
 *
 * All in integers: availability, β and α in parts per million (`AVAILABILITY_ONE` = 1_000_000 is
 * 1.0), powers and σ in W. For each slot h of the event window, with B = baseline, a = assigned
 * reduction (OPR), P = measured, A′ = previous availability:
 *
 *   P_t   = B − a                                       target load
 *   ΔP_B  = |B − P_t| (= a)        t1 = 0 if B = 0, else min(1e6, round(1e6 · ΔP_B / B))
 *   ΔP_DR = |P − P_t|              t2 = round(1e6 · σ / (σ + ΔP_DR))
 *   A*    = round((β · t1 + (1e6 − β) · t2) / 1e6)
 *   A     = round((α · A* + (1e6 − α) · A′) / 1e6)
 *
 * `round` is round half up on exact integers (every product stays below 2^53 for powers up to
 * `MAX_POWER_W`). Each rounding moves a value by at most 0.5 ppm, so A differs from the real-valued
 * formula by at most 1.5 ppm. Every term lies in [0, 1e6], so A does too. Slots outside the window
 * keep their previous value; a slot listed twice in the window is updated once.
 */
import { MathArgumentError, isIntegerIn, requireInteger } from './errors.ts';

/** Availability 1.0 in parts per million. */
export const AVAILABILITY_ONE = 1_000_000;
/** Availability of a slot that was never in a DR event: 0.5. */
export const AVAILABILITY_INITIAL = 500_000;
/** Largest power accepted (W): keeps 1e6 · P below 2^53. */
export const MAX_POWER_W = 9_000_000_000;

/** The program defaults of dr-contract.md §3: β = 0.2, σ = 30 W, α = 0.2. */
export const AVAILABILITY_DEFAULTS = {
  beta: 200_000,
  sigmaW: 30,
  alpha: 200_000,
} as const;

export interface AvailabilityInput {
  /** Availability before the event, ppm per slot (S values). */
  readonly previous: readonly number[];
  /** Baseline B, W per slot. */
  readonly baseline: readonly number[];
  /** Assigned reduction (OPR), W per slot. */
  readonly assigned: readonly number[];
  /** Measured average power P, W per slot. */
  readonly measured: readonly number[];
  /** Slot indexes of the event window. */
  readonly window: readonly number[];
  /** Weight of the difficulty term, ppm (β = 0.2 → 200_000). */
  readonly beta: number;
  /** Meter sensitivity σ, W (> 0). */
  readonly sigmaW: number;
  /** Learning rate, ppm (α = 0.2 → 200_000). */
  readonly alpha: number;
}

/** S slots at the initial availability 0.5. */
export function initialAvailability(slotsPerDay: number): number[] {
  requireInteger('slotsPerDay', slotsPerDay, 1, 86_400);
  return new Array<number>(slotsPerDay).fill(AVAILABILITY_INITIAL);
}

export function updateAvailability(input: Readonly<AvailabilityInput>): number[] {
  const { previous, baseline, assigned, measured, window } = input;
  const beta = requireInteger('beta', input.beta, 0, AVAILABILITY_ONE);
  const alpha = requireInteger('alpha', input.alpha, 0, AVAILABILITY_ONE);
  const sigma = requireInteger('sigmaW', input.sigmaW, 1, MAX_POWER_W);
  const slots = previous.length;
  if (baseline.length !== slots) throw lengthMismatch('baseline', baseline.length, slots);
  if (assigned.length !== slots) throw lengthMismatch('assigned', assigned.length, slots);
  if (measured.length !== slots) throw lengthMismatch('measured', measured.length, slots);
  for (let i = 0; i < window.length; i++) {
    const h = window[i] as number;
    // Stryker disable next-line all: fast form of requireInteger, which runs whenever this says no and checks again
    if (!isIntegerIn(h, 0, slots - 1)) requireInteger('window slot', h, 0, slots - 1);
  }

  const next = previous.slice();
  for (let i = 0; i < window.length; i++) {
    const h = window[i] as number;
    const previousA = previous[h] as number;
    const b = baseline[h] as number;
    const a = assigned[h] as number;
    const p = measured[h] as number;
    // Stryker disable next-line all: fast form of requireInteger, which runs whenever this says no and checks again
    if (!isIntegerIn(previousA, 0, AVAILABILITY_ONE)) requireInteger(`previous[${h}]`, previousA, 0, AVAILABILITY_ONE);
    // Stryker disable next-line all: fast form of requireInteger, which runs whenever this says no and checks again
    if (!isIntegerIn(b, 0, MAX_POWER_W)) requireInteger(`baseline[${h}]`, b, 0, MAX_POWER_W);
    // Stryker disable next-line all: fast form of requireInteger, which runs whenever this says no and checks again
    if (!isIntegerIn(a, 0, MAX_POWER_W)) requireInteger(`assigned[${h}]`, a, 0, MAX_POWER_W);
    // Stryker disable next-line all: fast form of requireInteger, which runs whenever this says no and checks again
    if (!isIntegerIn(p, 0, MAX_POWER_W)) requireInteger(`measured[${h}]`, p, 0, MAX_POWER_W);
    const target = b - a;
    const difficulty = Math.abs(b - target);
    const term1 = b === 0 ? 0 : Math.min(AVAILABILITY_ONE, roundHalfUp(AVAILABILITY_ONE * difficulty, b));
    const deviation = Math.abs(p - target);
    const term2 = roundHalfUp(AVAILABILITY_ONE * sigma, sigma + deviation);
    const star = roundHalfUp(beta * term1 + (AVAILABILITY_ONE - beta) * term2, AVAILABILITY_ONE);
    next[h] = roundHalfUp(alpha * star + (AVAILABILITY_ONE - alpha) * previousA, AVAILABILITY_ONE);
  }
  return next;
}

function lengthMismatch(name: string, length: number, slots: number): MathArgumentError {
  return new MathArgumentError(`${name} has ${length} values, previous has ${slots}; pass one value per slot of the day`);
}

/**
 * round_half_up(n / d), exact, as `divRoundHalfUp` computes it, without its argument checks: every
 * call above has 0 ≤ n < 2^53 and d ≥ 1 by the validation of the inputs (powers ≤ MAX_POWER_W,
 * ppm ≤ 1e6), so the checks could never fail here. The quotient is corrected on the exact remainder.
 */
function roundHalfUp(n: number, d: number): number {
  let q = Math.floor(n / d);
  let r = n - q * d;
  // Stryker disable next-line all: floor(n / d) in float64 is exact for integers below 2^53, so the correction never runs
  while (r < 0) { q -= 1; r += d; }
  // Stryker disable next-line all: as above
  while (r >= d) { q += 1; r -= d; }
  return r >= d - r ? q + 1 : q;
}
