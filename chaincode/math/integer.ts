/**
 * Exact integer helpers shared by the math. Every stored figure goes through one of these, so
 * rounding is the same on every endorser: round half up on non-negative values, computed without
 * trusting a floating-point quotient.
 */
import { MathArgumentError } from './errors.ts';

/** floor(n / d) for safe integers n ≥ 0, d > 0, exact. */
export function divFloor(n: number, d: number): number {
  if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(d) || d <= 0) {
    throw new MathArgumentError(`integer division needs safe integers n ≥ 0, d > 0, got ${n} / ${d}`);
  }
  let q = Math.floor(n / d);
  // The float quotient can be off by one when n is near 2^53; correct it on the exact remainder.
  let r = n - q * d;
  // Stryker disable next-line all: floor(n / d) in float64 is exact for integers below 2^53, so the correction never runs
  while (r < 0) { q -= 1; r += d; }
  // Stryker disable next-line all: as above
  while (r >= d) { q += 1; r -= d; }
  return q;
}

/** round_half_up(n / d) for safe integers n ≥ 0, d > 0, exact. */
export function divRoundHalfUp(n: number, d: number): number {
  const q = divFloor(n, d);
  const r = n - q * d;
  return r >= d - r ? q + 1 : q;
}

/** round_half_up(n / d) for BigInt n ≥ 0, d > 0. */
export function bigDivRoundHalfUp(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n - q * d;
  return r >= d - r ? q + 1n : q;
}
