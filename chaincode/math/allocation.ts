/**
 * Load-reduction allocation (dr-contract.md §4; thesis eq. 4.7–4.9): splits the reduction φ
 * requested for one slot among the customers of a cluster, weighted by baseline and availability.
 *
 *   CL_0 = { c : B_c > 0 },  φ_1 = φ
 *   step j:  Ψ_c = φ_j · (1 + A_c)/2 · B_c / Σ_{k ∈ CL_j} B_k        for c ∈ CL_j   (A in ppm: (1e6 + A)/2e6)
 *            ΔP_c = min(B_c, ΔP_c + Ψ_c)
 *            CL_j+1 = { c ∈ CL_j : ΔP_c < B_c }
 *            φ_j+1 = φ − Σ_all ΔP_c
 *   stop when φ_j+1 < ε, or CL_j+1 = ∅, or after maxSteps steps.
 *
 * The iteration runs in float64 using only +, −, ×, ÷ and min (correctly rounded IEEE-754
 * operations, identical on every platform), over the customers sorted by id (UTF-16 code units),
 * so the result depends neither on the input order nor on the machine. It is then turned into
 * integer watts by largest remainder: the total T = round_half_up(Σ ΔP_c) (never above φ nor
 * above Σ B), every customer gets floor(ΔP_c), and the T − Σ floor(ΔP_c) remaining watts go one
 * each to the largest fractional parts (compared in units of 2^-20 W, so float noise cannot
 * decide a tie), ties to the customer earlier in id order. Only customers
 * with a non-zero fractional part receive one, so 0 ≤ share_c ≤ ceil(ΔP_c) ≤ B_c.
 *
 * Bound (what the property test checks): allocatedW = Σ shares, allocatedW + unallocatedW = φ and
 * - if the iteration ended on CL = ∅: every customer is at its baseline, allocatedW = Σ B;
 * - if it ended on φ_j+1 < ε: Σ ΔP ∈ (φ − ε, φ], so 0 ≤ unallocatedW < ε + 0.5 (for ε = 1 W:
 *   unallocatedW ∈ {0, 1}); in both cases unallocatedW ≥ max(0, φ − Σ B);
 * - after maxSteps steps nothing more is promised than 0 ≤ allocatedW ≤ min(φ, Σ B).
 * With every A = 1e6 and φ ≤ Σ B, step 1 hands out φ · B_c / Σ B exactly (in real arithmetic), so
 * |share_c − φ · B_c / Σ B| < 1 W.
 */
import { AVAILABILITY_ONE } from './availability.ts';
import { MathArgumentError, requireInteger } from './errors.ts';

/** The program defaults of dr-contract.md §4: ε = 1 W, at most 100 steps. */
export const ALLOCATION_DEFAULTS = {
  epsilonW: 1,
  maxSteps: 100,
} as const;

/** Largest baseline or request accepted (W); sums over 1e6 customers stay below 2^53. */
export const MAX_ALLOCATION_W = 9_000_000_000;

export interface AllocationCustomer {
  readonly id: string;
  /** Baseline of the slot, W. */
  readonly baseline: number;
  /** Availability of the slot, ppm. */
  readonly availability: number;
}

export interface AllocationInput {
  readonly customers: readonly AllocationCustomer[];
  /** φ, the total reduction requested for the slot, W (≥ 0). */
  readonly requestW: number;
  /** ε, W (> 0). */
  readonly epsilonW: number;
  readonly maxSteps: number;
}

export interface SlotOutcome {
  readonly requestW: number;
  /** Σ of the integer shares. */
  readonly allocatedW: number;
  /** requestW − allocatedW. */
  readonly unallocatedW: number;
  /** Iteration steps run. */
  readonly steps: number;
}

export interface SlotAllocation extends SlotOutcome {
  /** Integer W per customer (every customer, 0 included), iterated in id order. */
  readonly shares: ReadonlyMap<string, number>;
}

export interface EventCustomer {
  readonly id: string;
  /** Baseline, W per slot of the day (S values). */
  readonly baseline: readonly number[];
  /** Availability, ppm per slot of the day (S values). */
  readonly availability: readonly number[];
}

export interface EventAllocationInput {
  readonly customers: readonly EventCustomer[];
  /** Slots of the event, strictly increasing. */
  readonly window: readonly number[];
  /** φ per window slot (same order as `window`), or one value for every slot. */
  readonly requestW: number | readonly number[];
  readonly epsilonW: number;
  readonly maxSteps: number;
}

export interface EventSlotOutcome extends SlotOutcome {
  readonly slot: number;
}

export interface EventAllocation {
  /** Customer ids in id order (the row order of `sharesW`). */
  readonly customerIds: readonly string[];
  readonly window: readonly number[];
  /** Integer W, row-major: customer `i`, window position `k` at `i * window.length + k`. */
  readonly sharesW: Float64Array;
  /** One entry per window slot, in window order. */
  readonly slots: readonly EventSlotOutcome[];
  /** The shares of one customer per window position (a copy), or undefined for an unknown id. */
  sharesOf(id: string): number[] | undefined;
}

/** Allocation of one slot. */
export function allocate(input: Readonly<AllocationInput>): SlotAllocation {
  const { epsilonW, maxSteps } = requireIterationLimits(input.epsilonW, input.maxSteps);
  const requestW = requireInteger('requestW', input.requestW, 0, MAX_ALLOCATION_W);
  const customers = sortedById(input.customers, (c) => c.id);
  const n = customers.length;
  const baselines = new Float64Array(n);
  const weights = new Float64Array(n);
  customers.forEach((customer, i) => {
    const baseline = requireInteger(`baseline of customer ${customer.id}`, customer.baseline, 0, MAX_ALLOCATION_W);
    const availability = requireInteger(`availability of customer ${customer.id}`, customer.availability, 0, AVAILABILITY_ONE);
    baselines[i] = baseline;
    weights[i] = (AVAILABILITY_ONE + availability) * baseline;
  });
  requireClusterSum(baselines);
  const out = new Float64Array(n);
  const outcome = allocateSlot(baselines, weights, requestW, epsilonW, maxSteps, createScratch(n), out);
  const shares = new Map<string, number>();
  customers.forEach((customer, i) => shares.set(customer.id, out[i] as number));
  return { ...outcome, shares };
}

/** Allocation of every slot of an event window (typed arrays, no allocation per step). */
export function allocateEvent(input: Readonly<EventAllocationInput>): EventAllocation {
  const { epsilonW, maxSteps } = requireIterationLimits(input.epsilonW, input.maxSteps);
  const window = input.window;
  const width = window.length;
  for (let k = 0; k < width; k++) {
    requireInteger('window slot', window[k], 0, 86_399);
    if (k > 0 && (window[k] as number) <= (window[k - 1] as number)) throw new MathArgumentError('window must list slots in strictly increasing order');
  }
  const requests = new Array<number>(width);
  if (typeof input.requestW === 'number') {
    requests.fill(requireInteger('requestW', input.requestW, 0, MAX_ALLOCATION_W));
  } else {
    if (input.requestW.length !== width) throw new MathArgumentError(`requestW has ${input.requestW.length} values for ${width} window slots; pass one per slot or a single number`);
    input.requestW.forEach((value, k) => { requests[k] = requireInteger(`requestW[${k}]`, value, 0, MAX_ALLOCATION_W); });
  }
  const customers = sortedById(input.customers, (c) => c.id);
  const n = customers.length;
  const lastSlot = width === 0 ? -1 : (window[width - 1] as number);
  // Gather baselines and weights window-slot-major, so each slot reads one contiguous run; in
  // blocks of customers, so the writes stay in cache.
  const baselines = new Float64Array(n * width);
  const weights = new Float64Array(n * width);
  const BLOCK = 256;
  for (let first = 0; first < n; first += BLOCK) {
    const last = Math.min(n, first + BLOCK);
    for (let i = first; i < last; i++) {
      const customer = customers[i] as EventCustomer;
      if (customer.baseline.length <= lastSlot || customer.availability.length <= lastSlot) {
        throw new MathArgumentError(`customer ${customer.id} has ${customer.baseline.length} baseline and ${customer.availability.length} availability values; the window reaches slot ${lastSlot}`);
      }
    }
    for (let k = 0; k < width; k++) {
      const h = window[k] as number;
      const row = k * n;
      for (let i = first; i < last; i++) {
        const customer = customers[i] as EventCustomer;
        const b = customer.baseline[h] as number;
        const a = customer.availability[h] as number;
        // Fast form of requireInteger (false for NaN, undefined, null, strings, booleans, fractions).
        // Stryker disable next-line all: fast form of requireInteger, which runs whenever this says no and checks again
        if (!(b >= 0 && b <= MAX_ALLOCATION_W && Math.floor(b) === b)) requireInteger(`baseline[${h}] of customer ${customer.id}`, b, 0, MAX_ALLOCATION_W);
        // Stryker disable next-line all: fast form of requireInteger, which runs whenever this says no and checks again
        if (!(a >= 0 && a <= AVAILABILITY_ONE && Math.floor(a) === a)) requireInteger(`availability[${h}] of customer ${customer.id}`, a, 0, AVAILABILITY_ONE);
        baselines[row + i] = b;
        weights[row + i] = (AVAILABILITY_ONE + a) * b;
      }
    }
  }
  const scratch = createScratch(n);
  const sharesW = new Float64Array(n * width);
  const slotShares = new Float64Array(n);
  const slots: EventSlotOutcome[] = [];
  for (let k = 0; k < width; k++) {
    const slotBaselines = baselines.subarray(k * n, (k + 1) * n);
    requireClusterSum(slotBaselines);
    const outcome = allocateSlot(slotBaselines, weights.subarray(k * n, (k + 1) * n), requests[k] as number, epsilonW, maxSteps, scratch, slotShares);
    for (let i = 0; i < n; i++) sharesW[i * width + k] = slotShares[i] as number;
    slots.push({ slot: window[k] as number, ...outcome });
  }
  const customerIds = customers.map((c) => c.id);
  let index: Map<string, number> | undefined; // built on the first sharesOf call
  return {
    customerIds,
    window: window.slice(),
    sharesW,
    slots,
    sharesOf(id: string): number[] | undefined {
      if (index === undefined) {
        index = new Map();
        for (let c = 0; c < n; c++) index.set(customerIds[c] as string, c);
      }
      const i = index.get(id);
      return i === undefined ? undefined : Array.from(sharesW.subarray(i * width, (i + 1) * width));
    },
  };
}

// ---- the iteration ---------------------------------------------------------------------------

interface Scratch {
  readonly delta: Float64Array;
  readonly active: Int32Array;
  readonly activeCap: Float64Array;
  readonly activeWeight: Float64Array;
  readonly activeDelta: Float64Array;
  readonly remainders: Float64Array;
}

function createScratch(n: number): Scratch {
  return {
    delta: new Float64Array(n),
    active: new Int32Array(n),
    activeCap: new Float64Array(n),
    activeWeight: new Float64Array(n),
    activeDelta: new Float64Array(n),
    remainders: new Float64Array(n),
  };
}

/**
 * One slot: `baselines` and `weights` ((1e6 + A) · B) for the n customers in id order; writes the
 * integer shares to `out[i]`.
 */
function allocateSlot(
  baselines: Float64Array,
  weights: Float64Array,
  requestW: number,
  epsilonW: number,
  maxSteps: number,
  scratch: Scratch,
  out: Float64Array,
): SlotOutcome {
  const n = baselines.length;
  const { delta, active, activeCap, activeWeight, activeDelta, remainders } = scratch;
  delta.fill(0, 0, n);
  // The active cluster CL_j, kept dense (id order preserved) so the step loop reads contiguous
  // memory: index, cap (B), weight ((1e6 + A) · B) and ΔP so far.
  let activeCount = 0;
  let clusterBaseline = 0; // Σ_{CL_j} B: a sum of integers, exact
  for (let i = 0; i < n; i++) {
    const b = baselines[i] as number;
    if (b > 0) {
      active[activeCount] = i;
      activeCap[activeCount] = b;
      activeWeight[activeCount] = weights[i] as number;
      activeDelta[activeCount] = 0;
      activeCount++;
      clusterBaseline += b;
    }
  }
  let capped = 0; // Σ ΔP of the customers that reached their baseline: integers, exact
  let steps = 0;
  let residual = requestW;
  if (requestW > 0) {
    while (activeCount > 0 && steps < maxSteps) {
      const factor = residual / (2 * AVAILABILITY_ONE * clusterBaseline);
      let kept = 0;
      let activeSum = 0;
      for (let j = 0; j < activeCount; j++) {
        const cap = activeCap[j] as number;
        const next = (activeDelta[j] as number) + factor * (activeWeight[j] as number);
        if (next >= cap) {
          delta[active[j] as number] = cap;
          capped += cap;
          clusterBaseline -= cap;
        } else {
          activeSum += next;
          active[kept] = active[j] as number;
          activeCap[kept] = cap;
          activeWeight[kept] = activeWeight[j] as number;
          activeDelta[kept] = next;
          kept++;
        }
      }
      activeCount = kept;
      steps++;
      // φ_j+1 = φ − Σ_all ΔP, with Σ_all ΔP = capped + Σ_{CL_j+1} ΔP.
      residual = requestW - (capped + activeSum);
      if (residual < epsilonW) break;
    }
  }
  for (let j = 0; j < activeCount; j++) delta[active[j] as number] = activeDelta[j] as number;

  // Integer watts by largest remainder.
  let total = 0;
  let floors = 0;
  let sumBaselines = 0;
  let fractional = 0;
  for (let i = 0; i < n; i++) {
    const d = delta[i] as number;
    const f = Math.floor(d);
    total += d;
    floors += f;
    sumBaselines += baselines[i] as number;
    out[i] = f;
    if (d > f) remainders[fractional++] = remainderKey(d, f);
  }
  let allocatedW = Math.min(Math.floor(total + 0.5), requestW, sumBaselines);
  let extra = Math.min(Math.max(allocatedW - floors, 0), fractional);
  allocatedW = floors + extra;
  if (extra > 0) {
    // The extra-th largest remainder is the threshold: all above it get one watt, then those equal
    // to it in id order until the count is reached.
    const threshold = selectAscending(remainders.subarray(0, fractional), fractional - extra);
    let above = 0;
    for (let i = 0; i < n; i++) {
      const d = delta[i] as number;
      const f = Math.floor(d);
      if (d > f && remainderKey(d, f) > threshold) above++;
    }
    let atThreshold = extra - above;
    for (let i = 0; i < n && extra > 0; i++) {
      const d = delta[i] as number;
      const f = Math.floor(d);
      if (d === f) continue;
      const r = remainderKey(d, f);
      if (r > threshold || (r === threshold && atThreshold > 0)) {
        if (r === threshold) atThreshold--;
        out[i] = (out[i] as number) + 1;
        extra--;
      }
    }
  }
  return { requestW, allocatedW, unallocatedW: requestW - allocatedW, steps };
}

/**
 * The fractional part of `d` in whole units of 2^-20 W (≈ 1 µW), the key of the largest-remainder
 * rule: remainders equal in exact arithmetic but apart by float noise (1/3 computed as 0.333…31
 * and 0.333…26) compare equal, and the id order decides, not the noise.
 */
function remainderKey(d: number, f: number): number {
  return Math.round((d - f) * 1_048_576);
}

/**
 * The value that would sit at index `target` if `values` were sorted ascending (reorders
 * `values`). Quickselect with a median-of-three pivot and a three-way partition, falling back to
 * a full sort when the partitions stop shrinking; the answer is the same whichever path runs.
 */
function selectAscending(values: Float64Array, target: number): number {
  let low = 0;
  let high = values.length - 1;
  // Stryker disable next-line all: the budget only decides when to fall back to a full sort, which gives the same answer
  let budget = 2 * (32 - Math.clz32(values.length)) + 8;
  while (high > low) {
    // Stryker disable next-line all: falling back to a full sort earlier, later or never gives the same answer
    if (budget-- === 0) {
      values.subarray(low, high + 1).sort();
      break;
    }
    const a = values[low] as number;
    const b = values[low + ((high - low) >> 1)] as number;
    const c = values[high] as number;
    // Stryker disable next-line all: any of the three values is a valid pivot; the median only keeps partitions balanced
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let lt = low;
    let gt = high;
    let i = low;
    while (i <= gt) {
      const v = values[i] as number;
      if (v < pivot) {
        values[i++] = values[lt] as number;
        values[lt++] = v;
      } else if (v > pivot) {
        values[i] = values[gt] as number;
        values[gt--] = v;
      } else {
        i++;
      }
    }
    if (target < lt) high = lt - 1;
    else if (target > gt) low = gt + 1;
    else return pivot;
  }
  return values[target] as number;
}

// ---- validation ------------------------------------------------------------------------------

function requireIterationLimits(epsilonW: number, maxSteps: number): { epsilonW: number; maxSteps: number } {
  if (typeof epsilonW !== 'number' || !Number.isFinite(epsilonW) || epsilonW <= 0) {
    throw new MathArgumentError(`epsilonW must be a positive number of watts, got ${String(epsilonW)}`);
  }
  return { epsilonW, maxSteps: requireInteger('maxSteps', maxSteps, 1, 10_000) };
}

function requireClusterSum(baselines: Float64Array): void {
  let sum = 0;
  for (let i = 0; i < baselines.length; i++) sum += baselines[i] as number;
  if (!Number.isSafeInteger(sum)) throw new MathArgumentError('cluster baseline above 2^53 W');
}

function sortedById<T>(items: readonly T[], idOf: (item: T) => string): T[] {
  // Ids read from a range of state keys arrive sorted already: check in O(n) before sorting.
  let ordered = true;
  for (let i = 1; i < items.length && ordered; i++) ordered = idOf(items[i - 1] as T) < idOf(items[i] as T);
  const sorted = ordered
    ? items.slice()
    : items.slice().sort((a, b) => {
        const x = idOf(a);
        const y = idOf(b);
        return x < y ? -1 : x > y ? 1 : 0;
      });
  for (let i = 0; i < sorted.length; i++) {
    const id = idOf(sorted[i] as T);
    if (typeof id !== 'string' || id.length === 0) throw new MathArgumentError(`customer id must be a non-empty string, got ${JSON.stringify(id)}`);
    if (i > 0 && idOf(sorted[i - 1] as T) === id) throw new MathArgumentError(`customer ${id} appears twice; pass each customer once`);
  }
  return sorted;
}
