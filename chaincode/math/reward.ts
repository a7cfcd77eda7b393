/**
 * DR reward (dr-contract.md §5; thesis eq. 4.10), in exact integers.
 *
 *   r_h    = H(B_h − P_h) · ((B_h − P_h) / 1000)²      kW² per slot; H = 1 for a reduction, else 0
 *   total  = round_half_up(k · Σ_{h ∈ window} r_h)      milli-tokens, k = tokenRateMilli
 *          = round_half_up(k · Σ d_h² / 1e6)            with d_h = max(0, B_h − P_h) in W
 *
 * `perSlot` (length S, 0 outside the window) splits `total` over the slots by largest remainder of
 * k · d_h² / 1e6 (ties to the earlier slot), so Σ perSlot = total exactly and every slot gets the
 * floor or the ceiling of its own exact reward. Numbers are used while every product and sum stays
 * below 2^53, BigInt otherwise; both give the same integers.
 */
import { MathArgumentError, isIntegerIn, requireInteger } from './errors.ts';
import { bigDivRoundHalfUp } from './integer.ts';

/** The program default of dr-contract.md §5: 1000 milli-tokens (1 token) per kW² per slot. */
export const REWARD_DEFAULTS = {
  tokenRateMilli: 1000,
} as const;

/** Largest power accepted (W). */
export const MAX_REWARD_POWER_W = 9_000_000_000;

const W_PER_KW_SQUARED = 1_000_000;

export interface RewardInput {
  /** Baseline B, W per slot (S values). */
  readonly baseline: readonly number[];
  /** Measured average power P, W per slot (S values). */
  readonly measured: readonly number[];
  /** Slot indexes that earn (the event window, or every slot for the 'day' option). */
  readonly window: readonly number[];
  /** k, milli-tokens per kW² per slot. */
  readonly tokenRateMilli: number;
}

export interface Reward {
  /** Milli-tokens per slot of the day (0 outside the window); sums to `total`. */
  readonly perSlot: number[];
  /** Milli-tokens. */
  readonly total: number;
}

/** Every slot of the day, for the 'day' settlement option. */
export function fullDayWindow(slotsPerDay: number): number[] {
  requireInteger('slotsPerDay', slotsPerDay, 1, 86_400);
  return Array.from({ length: slotsPerDay }, (_, h) => h);
}

/**
 * Scratch space reused across calls (the math is synchronous, so one call uses it at a time):
 * settlement calls computeReward 100,000 times per event, and a fresh set of small arrays per call
 * was a measurable share of its time and garbage.
 */
let scratchWindow = new Uint8Array(96);
let scratchSlots = new Int32Array(96);
let scratchReductions = new Float64Array(96);
let scratchRemainders = new Float64Array(96);
let scratchKeys = new Float64Array(96);

function ensureScratch(slots: number): void {
  if (scratchWindow.length >= slots) return;
  scratchWindow = new Uint8Array(slots);
  scratchSlots = new Int32Array(slots);
  scratchReductions = new Float64Array(slots);
  scratchRemainders = new Float64Array(slots);
  scratchKeys = new Float64Array(slots);
}

export function computeReward(input: Readonly<RewardInput>): Reward {
  const { baseline, measured, window } = input;
  const rate = requireInteger('tokenRateMilli', input.tokenRateMilli, 0);
  const slots = baseline.length;
  if (measured.length !== slots) throw new MathArgumentError(`measured has ${measured.length} values, baseline has ${slots}; pass one value per slot of the day`);

  ensureScratch(slots);
  const earning = scratchSlots;
  const reductions = scratchReductions;
  let n = 0;
  let maxReduction = 0;
  const collect = (h: number): void => {
    const b = baseline[h] as number;
    const p = measured[h] as number;
    // Stryker disable next-line all: fast form of requireInteger, which runs whenever this says no and checks again
    if (!isIntegerIn(b, 0, MAX_REWARD_POWER_W)) requireInteger(`baseline[${h}]`, b, 0, MAX_REWARD_POWER_W);
    // Stryker disable next-line all: fast form of requireInteger, which runs whenever this says no and checks again
    if (!isIntegerIn(p, 0, MAX_REWARD_POWER_W)) requireInteger(`measured[${h}]`, p, 0, MAX_REWARD_POWER_W);
    const d = b > p ? b - p : 0; // Heaviside: increases earn nothing
    if (d === 0) return;
    earning[n] = h;
    reductions[n] = d;
    n++;
    if (d > maxReduction) maxReduction = d;
  };
  // The reductions d_h per distinct window slot, in slot order. A strictly ascending window (the
  // usual one) is that order already; any other is first marked slot by slot, so a slot listed
  // twice counts once (the marks are cleared again before returning or throwing).
  let ascending = true;
  for (let i = 0; i < window.length; i++) {
    const h = window[i] as number;
    // Stryker disable next-line all: fast form of requireInteger, which runs whenever this says no and checks again
    if (!isIntegerIn(h, 0, slots - 1)) requireInteger('window slot', h, 0, slots - 1);
    if (i > 0 && !(h > (window[i - 1] as number))) ascending = false;
  }
  if (ascending) {
    for (let i = 0; i < window.length; i++) collect(window[i] as number);
  } else {
    const inWindow = scratchWindow;
    try {
      for (let i = 0; i < window.length; i++) inWindow[window[i] as number] = 1;
      for (let h = 0; h < slots; h++) if (inWindow[h] !== 0) collect(h);
    } finally {
      for (let i = 0; i < window.length; i++) inWindow[window[i] as number] = 0;
    }
  }

  const perSlot = new Array<number>(slots).fill(0);
  if (rate === 0 || n === 0) return { perSlot, total: 0 };
  // Stryker disable next-line all: chooses between two exact computations (float64 below 2^53, BigInt above); both give the same result
  const fitsInNumber = rate * maxReduction * maxReduction * n < Number.MAX_SAFE_INTEGER / 2;
  const total = fitsInNumber
    ? apportionNumber(n, reductions, rate, earning, perSlot)
    : apportionBigInt(n, reductions, rate, earning, perSlot);
  return { perSlot, total };
}

/** k · d² for every slot fits in a safe integer, and so does their sum. */
function apportionNumber(n: number, reductions: Float64Array, rate: number, earning: Int32Array, perSlot: number[]): number {
  const remainders = scratchRemainders;
  let sum = 0;
  let floors = 0;
  for (let i = 0; i < n; i++) {
    const d = reductions[i] as number;
    const numerator = rate * d * d;
    sum += numerator;
    const floor = Math.floor(numerator / W_PER_KW_SQUARED); // exact: numerator < 2^53, divisor a power of ten ≤ 2^20
    remainders[i] = numerator - floor * W_PER_KW_SQUARED;
    perSlot[earning[i] as number] = floor;
    floors += floor;
  }
  const quotient = Math.floor(sum / W_PER_KW_SQUARED);
  const rest = sum - quotient * W_PER_KW_SQUARED;
  const total = rest >= W_PER_KW_SQUARED - rest ? quotient + 1 : quotient;
  distribute(total - floors, n, remainders, earning, perSlot);
  return total;
}

function apportionBigInt(n: number, reductions: Float64Array, rate: number, earning: Int32Array, perSlot: number[]): number {
  const k = BigInt(rate);
  const divisor = BigInt(W_PER_KW_SQUARED);
  const remainders = scratchRemainders;
  let sum = 0n;
  let floors = 0n;
  for (let i = 0; i < n; i++) {
    const d = BigInt(reductions[i] as number);
    const numerator = k * d * d;
    sum += numerator;
    const floor = numerator / divisor;
    remainders[i] = Number(numerator - floor * divisor);
    perSlot[earning[i] as number] = toSafeNumber(floor);
    floors += floor;
  }
  const total = bigDivRoundHalfUp(sum, divisor);
  distribute(Number(total - floors), n, remainders, earning, perSlot);
  return toSafeNumber(total);
}

/** Gives one milli-token to each of the `extra` largest remainders (ties: the earlier slot). */
function distribute(extra: number, n: number, remainders: Float64Array, earning: Int32Array, perSlot: number[]): void {
  if (extra <= 0) return;
  // One key per slot: remainder (< 1e6 < 2^20) above the reversed position (< 2^17), exact in a
  // double (< 2^37) and all distinct, so the winners are exactly the `extra` largest keys: the
  // keys at or above the one of ascending rank n − extra, found by selection (no full sort).
  const keys = scratchKeys;
  for (let i = 0; i < n; i++) keys[i] = keyOf(remainders, i);
  const threshold = select(keys, n, n - Math.min(extra, n));
  for (let i = 0; i < n; i++) {
    if (keyOf(remainders, i) >= threshold) {
      const h = earning[i] as number;
      perSlot[h] = (perSlot[h] as number) + 1;
    }
  }
}

const keyOf = (remainders: Float64Array, i: number): number => (remainders[i] as number) * 131_072 + (131_071 - i);

/** The value of ascending rank `rank` among keys[0..n) (Hoare's selection; reorders the keys). */
function select(keys: Float64Array, n: number, rank: number): number {
  let low = 0;
  let high = n - 1;
  while (low < high) {
    const pivot = keys[(low + high) >>> 1] as number;
    let i = low;
    let j = high;
    while (i <= j) {
      while ((keys[i] as number) < pivot) i++;
      while ((keys[j] as number) > pivot) j--;
      if (i <= j) {
        const t = keys[i] as number;
        keys[i] = keys[j] as number;
        keys[j] = t;
        i++;
        j--;
      }
    }
    if (rank <= j) high = j;
    else if (rank >= i) low = i;
    else return keys[rank] as number;
  }
  return keys[rank] as number;
}

function toSafeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new MathArgumentError('reward above 2^53 milli-tokens; lower the token rate');
  return Number(value);
}
