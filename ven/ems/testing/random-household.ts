/**
 * Random EMS problems for property tests and the bench: a fixed load with a morning and an evening
 * hump, appliances of 300–2,500 W running 1–12 slots in random windows, the Italian weekday bands,
 * and optionally an event that asks for a share of the flexible load the usual runs put in its slots.
 */
import type { EmsProblem, FlexibleAppliance, ToleranceModeValue } from '../problem.ts';
import { italianWeekdayPrices } from '../time-of-use.ts';
import type { SeededRandom } from '../../../test/support/seeded-random.ts';

export interface RandomHouseholdOptions {
  readonly appliances: number;
  /** Horizon in 15-minute slots; default 96. Prices repeat the weekday bands if shorter. */
  readonly slots?: number;
  readonly contractPowerW?: number;
  readonly event?: boolean;
  readonly toleranceW?: number;
  readonly toleranceMode?: ToleranceModeValue;
  /** Largest window, slots; default the whole horizon. */
  readonly maxWindowSlots?: number;
}

export function randomHousehold(rng: SeededRandom, options: Readonly<RandomHouseholdOptions>): EmsProblem {
  const T = options.slots ?? 96;
  const day = italianWeekdayPrices({ onPeak: 7.666, midPeak: 6.799, offPeak: 5.9 });
  const pricePerKWh = Array.from({ length: T }, (_, h) => day[Math.floor((h * 96) / T) % 96]!);
  const fixedLoadW = Array.from({ length: T }, (_, h) => {
    const x = (h * 24) / T;
    const hump = x >= 7 && x < 9 ? 400 : x >= 19 && x < 22 ? 700 : 0;
    return 150 + hump + rng.between(0, 200);
  });
  const appliances: FlexibleAppliance[] = [];
  for (let i = 0; i < options.appliances; i++) {
    const durationSlots = rng.between(1, Math.min(12, Math.max(1, Math.floor(T / 4))));
    const maxWindow = Math.min(T, options.maxWindowSlots ?? T);
    const window = rng.between(durationSlots, Math.max(durationSlots, maxWindow));
    const earliestStartSlot = rng.between(0, T - window);
    const latestEndSlot = earliestStartSlot + window;
    const baselineStartSlot = rng.between(earliestStartSlot, latestEndSlot - durationSlots);
    appliances.push({ id: `a${i}`, powerW: 100 * rng.between(3, 25), durationSlots, earliestStartSlot, latestEndSlot, baselineStartSlot });
  }
  const problem: EmsProblem = {
    pricePerKWh,
    fixedLoadW,
    appliances,
    contractPowerW: options.contractPowerW ?? 3300,
    toleranceW: options.toleranceW ?? 0,
    toleranceMode: options.toleranceMode ?? 'at-least',
  };
  if (options.event !== true) return problem;
  // The event asks, slot by slot, for a share (30–80 %) of the flexible load the usual runs put there,
  // as the contract's allocation does in proportion to availability; never more than exists.
  const durationSlots = rng.between(1, Math.max(1, Math.floor(T / 8)));
  const startSlot = rng.between(0, T - durationSlots);
  const share = rng.between(30, 80) / 100;
  const flexW = new Array<number>(T).fill(0);
  for (const a of appliances) for (let h = a.baselineStartSlot; h < a.baselineStartSlot + a.durationSlots; h++) flexW[h]! += a.powerW;
  const reductionW = Array.from({ length: durationSlots }, (_, i) => 10 * Math.floor((share * flexW[startSlot + i]!) / 10));
  return { ...problem, event: { startSlot, durationSlots, reductionW } };
}
