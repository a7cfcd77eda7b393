/**
 * The contract's math at utility scale, without the ledger (the contract helper's
 * `chaincode-contract.bench.ts` measures the transactions around it):
 *
 *   baseline    10,000 customers × 35 days × 96 slots        target ≤ 1 s   (thesis table 5.1: evaluateBaseline 12 s per customer on Fabric)
 *   allocation  one 48-slot event across 100,000 customers   target ≤ 2 s   (thesis table 5.1: notifyDRevent 2.3 s, for 2 customers)
 *   settlement  reward + availability, 100,000 × 48 slots                   (thesis table 5.1: getDRToken 2.3 s, for 2 customers)
 *
 *     node bench/chaincode-math.bench.ts [--scale 0.1] [--phase baseline|allocation|settlement]
 *
 * Each phase runs in its own Node process, so its peak memory is its own. Inputs are drawn from
 * a seeded generator (plain JS arrays of integers, as the contract gets them from JSON state)
 * before the clock starts; the timed part is only the math. Every figure is wall time with the
 * main thread's CPU time beside it (the CPU time is the steadier one when other processes share
 * the cores). Peak memory: the RSS high-water sampled around the timed part and the process's
 * maxRSS — both include the generated inputs, which dominate.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ALLOCATION_DEFAULTS,
  AVAILABILITY_DEFAULTS,
  AVAILABILITY_ONE,
  BASELINE_DEFAULTS,
  REWARD_DEFAULTS,
  allocateEvent,
  computeBaseline,
  computeReward,
  previousDays,
  updateAvailability,
} from '../chaincode/math/index.ts';
import type { DayProfile, EventCustomer } from '../chaincode/math/index.ts';
import { createSeededRandom } from '../test/support/seeded-random.ts';
import { reportFigures } from './support/report.ts';
import { THESIS } from './support/seeds.ts';

const PHASES = ['baseline', 'allocation', 'settlement'] as const;
type Phase = (typeof PHASES)[number];

const { values: args } = parseArgs({ options: { scale: { type: 'string', default: '1' }, phase: { type: 'string' } } });
const scale = Number(args.scale);
if (!(scale > 0 && scale <= 1)) throw new RangeError('--scale must be a number in (0, 1]');

const S = 96;
const DAYS = 35;
const TARGET_DAY = '2024-06-12'; // a Wednesday: HighXofY
const WINDOW = Array.from({ length: 48 }, (_, i) => 28 + i); // 07:00–19:00
const BASELINE_CUSTOMERS = Math.round(10_000 * scale);
const EVENT_CUSTOMERS = Math.round(100_000 * scale);

let peakRss = process.memoryUsage().rss;
const sampleRss = (): number => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  return peakRss;
};
const mb = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MB`;
const memory = (): string => `peak RSS ${mb(sampleRss())} (maxRSS ${mb(process.resourceUsage().maxRSS * 1024)})`;
const seconds = (ms: number): string => (ms / 1000).toFixed(2);
interface Timed<T> { readonly result: T; readonly ms: number; readonly cpuMs: number }
const time = <T>(run: () => T): Timed<T> => {
  sampleRss();
  const cpu = process.threadCpuUsage();
  const start = performance.now();
  const result = run();
  const ms = performance.now() - start;
  const used = process.threadCpuUsage(cpu);
  sampleRss();
  return { result, ms, cpuMs: (used.user + used.system) / 1000 };
};
const figure = (t: { ms: number; cpuMs: number }): string => `${seconds(t.ms)} s (CPU ${seconds(t.cpuMs)} s)`;

const random = createSeededRandom(20240612);

/** A household-like day: a base load, a morning and an evening peak, noise; W per 15-min slot. */
function householdDay(level: number): number[] {
  const values = new Array<number>(S);
  for (let h = 0; h < S; h++) {
    const hour = h / 4;
    const peak = hour >= 7 && hour < 9 ? 600 : hour >= 18 && hour < 22 ? 1200 : hour >= 9 && hour < 18 ? 300 : 0;
    values[h] = Math.round(level * (150 + peak) + random.int(400));
  }
  return values;
}

function benchBaseline(): void {
  const days = previousDays(TARGET_DAY, DAYS);
  const customers: { history: DayProfile[]; excluded: Set<string> }[] = [];
  for (let c = 0; c < BASELINE_CUSTOMERS; c++) {
    const level = 0.5 + random.next();
    customers.push({
      history: days.map((day) => ({ day, values: householdDay(level) })),
      // Every fifth customer had a DR event a week ago: that day leaves the pool.
      excluded: new Set(c % 5 === 0 ? [days[6] as string] : []),
    });
  }
  const timing = time(() => {
    let ok = 0;
    for (const customer of customers) {
      const result = computeBaseline({
        history: customer.history,
        targetDay: TARGET_DAY,
        excludedDays: customer.excluded,
        Y: BASELINE_DEFAULTS.Y,
        X: BASELINE_DEFAULTS.highX,
        mode: 'high',
        slotsPerDay: S,
      });
      if (result.ok) ok++;
    }
    return ok;
  });
  if (timing.result !== BASELINE_CUSTOMERS) throw new Error(`baseline failed for ${BASELINE_CUSTOMERS - timing.result} customers`);
  console.log(
    `baseline ${BASELINE_CUSTOMERS} customers x ${DAYS} days x ${S} slots: ${figure(timing)}, ${((timing.ms * 1000) / BASELINE_CUSTOMERS).toFixed(1)} µs per customer ` +
      `(target ≤ 1 s; seed: 12 s per customer on Fabric), ${memory()}`,
  );
  reportFigures([
    {
      id: 'math.baseline-per-customer',
      label: `baseline, pure math, 35 days × 96 slots, per customer (${BASELINE_CUSTOMERS.toLocaleString('en-US')} customers)`,
      value: timing.ms / BASELINE_CUSTOMERS,
      unit: 'ms',
      better: 'lower',
      detail: `${seconds(timing.ms)} s for all, ${memory()}`,
      target: 1000 / 10_000, // 10,000 customers in 1 s
      seeds: [{ source: 'thesis table 5.1: evaluateBaseline per customer on Fabric', value: THESIS.evaluateBaselineS * 1000 }],
    },
  ]);
}

/** Customers as the contract passes them: ids sorted (state keys come back sorted), S-slot vectors. */
function eventCustomers(): { customers: EventCustomer[]; clusterBaseline: number[] } {
  const customers: EventCustomer[] = [];
  for (let c = 0; c < EVENT_CUSTOMERS; c++) {
    const baseline = householdDay(0.5 + random.next());
    // A third never took part (0.5 everywhere), the others spread over [0, 1].
    const availability = c % 3 === 0 ? new Array<number>(S).fill(500_000) : Array.from({ length: S }, () => random.int(AVAILABILITY_ONE + 1));
    customers.push({ id: `smartmeter:${String(20_000_000 + c).padStart(8, '0')}`, baseline, availability });
  }
  const clusterBaseline = WINDOW.map((h) => customers.reduce((sum, c) => sum + (c.baseline[h] as number), 0));
  return { customers, clusterBaseline };
}

function benchAllocation(): void {
  const { customers, clusterBaseline } = eventCustomers();
  const shuffled = random.shuffle(customers.slice());
  const runs = [
    ['30% of the cluster baseline', 0.3, customers],
    ['95% (most customers capped)', 0.95, customers],
    ['30%, customers in random order (id sort included)', 0.3, shuffled],
  ] as const;
  const times: number[] = [];
  for (const [label, fraction, input] of runs) {
    const requestW = clusterBaseline.map((b) => Math.round(b * fraction));
    const timing = time(() => allocateEvent({ customers: input, window: WINDOW, requestW, ...ALLOCATION_DEFAULTS }));
    times.push(timing.ms / 1000);
    const steps = timing.result.slots.map((s) => s.steps);
    const unallocated = timing.result.slots.reduce((sum, s) => sum + s.unallocatedW, 0);
    console.log(
      `allocation ${WINDOW.length} slots x ${EVENT_CUSTOMERS} customers, request ${label}: ${figure(timing)} ` +
        `(target ≤ 2 s; seed: notifyDRevent 2.3 s for 2 customers), steps per slot ${Math.min(...steps)}–${Math.max(...steps)}, ` +
        `unallocated ${unallocated} W over the event, ${memory()}`,
    );
  }
  reportFigures([
    {
      id: 'math.allocation',
      label: `allocation, pure math, ${WINDOW.length} slots × ${EVENT_CUSTOMERS.toLocaleString('en-US')} customers (slowest of 3 requests)`,
      value: Math.max(...times),
      unit: 's',
      better: 'lower',
      detail: `${times.map((t) => t.toFixed(2)).join(', ')} s; ${memory()}`,
      target: 2,
      seeds: [{ source: 'thesis table 5.1: notifyDRevent on Fabric, 2 customers', value: THESIS.notifyDReventS }],
    },
  ]);
}

function benchSettlement(): void {
  const { customers, clusterBaseline } = eventCustomers();
  // The OPR of a 30% event; on the day some customers shed all of it, some half, some nothing.
  const event = allocateEvent({ customers, window: WINDOW, requestW: clusterBaseline.map((b) => Math.round(b * 0.3)), ...ALLOCATION_DEFAULTS });
  const width = WINDOW.length;
  const settlement = customers.map((customer, c) => {
    const assigned = new Array<number>(S).fill(0);
    WINDOW.forEach((h, k) => { assigned[h] = event.sharesW[c * width + k] as number; });
    const follow = random.int(3) / 2;
    const measured = customer.baseline.map((b, h) => Math.max(0, Math.round(b - follow * (assigned[h] as number)) + random.int(60) - 30));
    return { customer, assigned, measured };
  });
  const reward = time(() => {
    let minted = 0;
    for (const { customer, measured } of settlement) {
      minted += computeReward({ baseline: customer.baseline, measured, window: WINDOW, tokenRateMilli: REWARD_DEFAULTS.tokenRateMilli }).total;
    }
    return minted;
  });
  console.log(
    `reward ${EVENT_CUSTOMERS} customers x ${width} slots: ${figure(reward)}, ${(reward.result / 1000).toFixed(0)} tokens minted ` +
      `(seed: getDRToken 2.3 s for 2 customers on Fabric), ${memory()}`,
  );
  const availability = time(() => {
    for (const { customer, assigned, measured } of settlement) {
      updateAvailability({ previous: customer.availability, baseline: customer.baseline, assigned, measured, window: WINDOW, ...AVAILABILITY_DEFAULTS });
    }
  });
  console.log(
    `availability update ${EVENT_CUSTOMERS} customers x ${width} slots: ${figure(availability)}; ` +
      `settlement math (reward + availability) ${seconds(reward.ms + availability.ms)} s, ${memory()}`,
  );
  reportFigures([
    {
      id: 'math.settlement',
      label: `settlement, pure math (reward + availability), ${width} slots × ${EVENT_CUSTOMERS.toLocaleString('en-US')} customers`,
      value: (reward.ms + availability.ms) / 1000,
      unit: 's',
      better: 'lower',
      detail: `reward ${seconds(reward.ms)} s, availability ${seconds(availability.ms)} s`,
      seeds: [{ source: 'thesis table 5.1: getDRToken on Fabric, 2 customers', value: THESIS.getDRTokenS }],
    },
  ]);
}

const run: Record<Phase, () => void> = { baseline: benchBaseline, allocation: benchAllocation, settlement: benchSettlement };
if (args.phase !== undefined) {
  if (!(PHASES as readonly string[]).includes(args.phase)) throw new RangeError(`--phase must be one of ${PHASES.join(', ')}`);
  run[args.phase as Phase]();
} else {
  // One child process per phase: separate heaps, separate peak-memory figures.
  let failed = 0;
  for (const phase of PHASES) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--phase', phase, '--scale', String(scale)], { stdio: 'inherit' });
    if (child.status !== 0) {
      failed++;
      console.log(`!! phase ${phase} exited with ${child.status ?? child.signal}`);
    }
  }
  process.exitCode = failed === 0 ? 0 : 1;
}
