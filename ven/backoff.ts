/**
 * Truncated binary exponential back-off with jitter (§9.1.7): the first wait is about 1 s
 * (±10 %), each further failure doubles it (again ±10 %), and it stops growing at a cap.
 */
export interface BackoffOptions {
  /** First wait, ms (default 1,000). */
  readonly initialMs?: number;
  /** Largest wait before jitter, ms (default 300,000; a polling VEN ties it to its poll interval). */
  readonly capMs?: number;
  /** Jitter as a share of the wait (default 0.1 = ±10 %). */
  readonly jitter?: number;
}

/** Wait before retry number `failures` (1 = after the first failure). `random` is uniform in [0, 1). */
export function backoffDelay(failures: number, random: () => number, options: Readonly<BackoffOptions> = {}): number {
  const initial = options.initialMs ?? 1000;
  const cap = options.capMs ?? 300_000;
  const jitter = options.jitter ?? 0.1;
  const n = Math.max(1, Math.floor(failures));
  const base = Math.min(cap, initial * 2 ** Math.min(n - 1, 40));
  return Math.round(base * (1 - jitter + 2 * jitter * random()));
}
