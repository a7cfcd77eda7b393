/**
 * Truncated binary exponential back-off with jitter (§9.1.7): ≈1 s ±10 % after the first failure,
 * doubling after each further one, capped. Pure: the random source is an argument.
 */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** ±fraction of the wait, e.g. 0.1. */
  readonly jitter: number;
}

/** Wait before retry number `failures` (1 = after the first failure); `random` returns [0, 1). */
export function backoffDelay(failures: number, o: BackoffOptions, random: () => number): number {
  const exp = Math.min(o.maxMs, o.initialMs * 2 ** Math.max(0, Math.min(failures - 1, 52)));
  const factor = 1 + o.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(exp * factor));
}
