/**
 * The household EMS solver (ven/ems) on random households of 5, 10 and 20 flexible appliances over a
 * day of 96 quarter-hours, with a DR event asking 30–80 % of the flexible load in its slots, ε = 0:
 *
 *   node bench/ems.bench.ts [--cases 20] [--max-nodes 2000000]
 *
 * For each size: how many cases were proved optimal / stopped by the node budget with a schedule /
 * proved infeasible, the median and worst time, nodes visited, and for the stopped ones the largest gap
 * between the schedule found and the separable lower bound. The thesis reports no timing for its EMS
 * (section 5.6 solves one 2-appliance case), so there is no seed figure to set beside these; the
 * thesis case itself is timed first.
 */
import { parseArgs } from 'node:util';
import { solveSchedule } from '../ven/ems/index.ts';
import type { EmsProblem } from '../ven/ems/index.ts';
import { randomHousehold } from '../ven/ems/testing/random-household.ts';
import { createSeededRandom } from '../test/support/seeded-random.ts';
import { thesisCase } from '../ven/ems/testing/thesis-case.ts';
import { reportFigures, type Figure } from './support/report.ts';

const { values: args } = parseArgs({ options: { cases: { type: 'string', default: '20' }, 'max-nodes': { type: 'string', default: '2000000' } } });
const cases = Number(args.cases);
const maxNodes = Number(args['max-nodes']);
if (!(cases >= 1 && maxNodes >= 1)) throw new RangeError('--cases and --max-nodes must be positive numbers');

const ms = (x: number): string => `${x.toFixed(1)} ms`;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};

function time(problem: EmsProblem): { ms: number; s: ReturnType<typeof solveSchedule> } {
  const t0 = performance.now();
  const s = solveSchedule(problem, { maxNodes });
  return { ms: performance.now() - t0, s };
}

// Warm up the JIT so that the first size does not pay for it.
for (let i = 0; i < 20; i++) solveSchedule(thesisCase());
const thesisRuns = Array.from({ length: 200 }, () => time(thesisCase()));
const thesis = thesisRuns[0]!;
console.log(`thesis case (2 appliances): ${thesis.s.status}, ${thesis.s.nodes} nodes, median ${(1000 * median(thesisRuns.map((r) => r.ms))).toFixed(0)} µs over 200 runs   (thesis: no timing given)`);

const thesisUs = 1000 * median(thesisRuns.map((r) => r.ms));
const figures: Figure[] = [{ id: 'ems.thesis-case', label: `household EMS: the thesis's case (2 appliances), ${thesis.s.status}`, value: thesisUs, unit: 'µs', better: 'lower', seeds: [{ source: 'thesis section 5.6: no timing given' }] }];
console.log(`${cases} seeded cases per size, node budget ${maxNodes.toLocaleString('en')}`);
console.log('appliances  contract  optimal  stopped  infeasible  median      worst       max nodes   worst gap of stopped');
for (const [appliances, contractPowerW] of [
  [5, 3300],
  [10, 4500],
  [20, 6000],
] as const) {
  const times: number[] = [];
  let optimal = 0;
  let stopped = 0;
  let infeasible = 0;
  let worstNodes = 0;
  let worstGap = 0;
  for (let c = 0; c < cases; c++) {
    const problem = randomHousehold(createSeededRandom(1000 * appliances + c), { appliances, event: true, contractPowerW });
    const { ms: elapsed, s } = time(problem);
    times.push(elapsed);
    worstNodes = Math.max(worstNodes, s.nodes);
    if (s.status === 'optimal') optimal++;
    else if (s.status === 'infeasible') infeasible++;
    else {
      stopped++;
      if (s.status === 'feasible') worstGap = Math.max(worstGap, (s.flexCost - s.lowerBoundFlexCost) / s.lowerBoundFlexCost);
    }
  }
  console.log(
    `${String(appliances).padStart(10)}  ${String(contractPowerW).padStart(8)}  ${String(optimal).padStart(7)}  ${String(stopped).padStart(7)}  ${String(infeasible).padStart(10)}  ` +
      `${ms(median(times)).padEnd(10)}  ${ms(Math.max(...times)).padEnd(10)}  ${worstNodes.toLocaleString('en').padStart(10)}  ${stopped === 0 ? '—' : `${(100 * worstGap).toFixed(2)} % above the lower bound`}`,
  );
  figures.push({
    id: `ems.random-${appliances}`,
    label: `household EMS: ${cases} random households of ${appliances} appliances, 96 slots, median`,
    value: median(times),
    unit: 'ms',
    better: 'lower',
    detail: `worst ${ms(Math.max(...times))}; ${optimal} optimal, ${stopped} stopped by the node budget, ${infeasible} infeasible`,
  });
}
reportFigures(figures);
