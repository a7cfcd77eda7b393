import { test, type TestContext } from 'node:test';
import { BenchLineError, parseBenchLine, type Figure } from './report.ts';
import { formatNumber, mergeRuns, ratio, renderLatencySvg, renderSection, replaceSection, ReportDocError, SECTION_BEGIN, SECTION_END, type BenchRun } from './report-writer.ts';

const saturation: Figure = {
  id: 'ledger.saturation-tps',
  label: 'embedded ledger, committed recordEnergy at saturation',
  value: 5285,
  unit: 'tx/s',
  better: 'higher',
  detail: '0.353 ms CPU per tx',
  target: 5000,
  seeds: [{ source: 'thesis table 5.1, batch limit', value: 25 }, { source: 'JRC paper, 3 nodes, < 20 % failed', value: 54 }],
};
const notify: Figure = {
  id: 'contract.notify-s',
  label: 'notifyDRevent, 48 slots × 100,000 customers',
  value: 2.5,
  unit: 's',
  better: 'lower',
  target: 2,
  seeds: [{ source: 'thesis table 5.1, 2 customers', value: 2.3 }],
};
const p99: Figure = { id: 'ledger.p99-1000', label: 'p99 at 1,000/s', value: 44, unit: 'ms', better: 'lower', target: 250, seeds: [{ source: 'JRC: < 1 s only below 32 tx/s' }] };

const run = (bench: string, figures: Figure[], at: string, extra: Partial<BenchRun> = {}): BenchRun => ({
  bench,
  startedAt: `2026-12-07T${at}:00.000Z`,
  endedAt: `2026-12-07T${at}:48.000Z`,
  loadBefore: [1.5, 1, 1],
  loadAfter: [2.25, 1, 1],
  othersCores: 0.4,
  exit: 0,
  machine: '2 × AMD EPYC, 24 GiB, Node v24.21.0, linux/x64',
  figures,
  curves: [],
  ...extra,
});

test('the table: ours, the target and its verdict, every seed with the ratio read the better way', (t: TestContext) => {
  const section = renderSection({ runs: { 'ledger.bench.ts': run('ledger.bench.ts', [saturation, p99], '14:10'), 'chaincode-contract.bench.ts': run('chaincode-contract.bench.ts', [notify], '14:00') } }, { chartFile: 'chart.svg' });
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| figure') && !l.startsWith('| benchmark') && !l.startsWith('| ---'));
  t.assert.deepStrictEqual(rows.slice(0, 3), [
    // Benchmarks in file-name order: the contract's row first.
    '| notifyDRevent, 48 slots × 100,000 customers | **2.5 s** | ≤ 2 s: **missed** | thesis table 5.1, 2 customers: 2.3 s | 0.92× |',
    '| embedded ledger, committed recordEnergy at saturation | **5,285 tx/s** (0.353 ms CPU per tx) | ≥ 5,000 tx/s: met | thesis table 5.1, batch limit: 25 tx/s; JRC paper, 3 nodes, < 20 % failed: 54 tx/s | 211×; 98× |',
    '| p99 at 1,000/s | **44 ms** | ≤ 250 ms: met | JRC: < 1 s only below 32 tx/s | — |',
  ]);
  t.assert.match(section, /!\[[^\]]+\]\(chart\.svg\)/);
  t.assert.match(section, /Runs from 2026-12-07 14:00 to 2026-12-07 14:10 UTC; 1-minute load average 1\.5 at the start, 2\.3 at the end; other processes kept 0.4 cores busy/);
  t.assert.ok(section.includes('| `ledger.bench.ts` | 2026-12-07 14:10 | 48 s | 1.5 → 2.3 | 0.4 | 2 figures |'), section);
  t.assert.ok(section.startsWith(SECTION_BEGIN) && section.endsWith(SECTION_END));
});

test('ratio: a rate is better when higher, a time when lower', (t: TestContext) => {
  t.assert.strictEqual(ratio({ value: 100, better: 'higher' }, 25), 4);
  t.assert.strictEqual(ratio({ value: 0.5, better: 'lower' }, 2), 4);
  t.assert.strictEqual(ratio({ value: 4, better: 'lower' }, 2), 0.5);
  t.assert.deepStrictEqual([5285, 20.44, 2.5, 0.353, 0.0441, 0].map(formatNumber), ['5,285', '20.4', '2.5', '0.353', '0.0441', '0']);
});

test('a filtered run replaces only its benchmarks; one that reported nothing keeps its rows', (t: TestContext) => {
  const before = { runs: { 'a.bench.ts': run('a.bench.ts', [saturation], '10:00'), 'b.bench.ts': run('b.bench.ts', [notify], '10:05') } };
  const newer = { ...saturation, value: 4000 };
  const { state, kept } = mergeRuns(before, [run('a.bench.ts', [newer], '11:00'), run('b.bench.ts', [], '11:01', { exit: 1 })]);
  t.assert.strictEqual(state.runs['a.bench.ts']?.figures[0]?.value, 4000);
  t.assert.strictEqual(state.runs['b.bench.ts']?.startedAt, '2026-12-07T10:05:00.000Z');
  t.assert.deepStrictEqual(kept, ['b.bench.ts']);
});

test('the section is replaced between its markers and the hand-written text around it stays', (t: TestContext) => {
  const doc = `# Benchmarks\n\nMethod, by hand.\n\n${SECTION_BEGIN}\nold figures\n${SECTION_END}\n\n## Soak\n\nBy hand too.\n`;
  t.assert.strictEqual(replaceSection(doc, `${SECTION_BEGIN}\nnew\n${SECTION_END}`), `# Benchmarks\n\nMethod, by hand.\n\n${SECTION_BEGIN}\nnew\n${SECTION_END}\n\n## Soak\n\nBy hand too.\n`);
  t.assert.throws(() => replaceSection('# Benchmarks\n', 'x'), ReportDocError);
  t.assert.throws(() => replaceSection(`${SECTION_END}\n${SECTION_BEGIN}\n`, 'x'), ReportDocError);
});

test('the chart: log-log axes, our p50 and p99 per offered rate, the JRC points and failure region', (t: TestContext) => {
  const svg = renderLatencySvg([
    {
      id: 'ledger.latency',
      label: 'embedded ledger',
      points: [
        { offeredPerS: 1000, p50Ms: 20, p99Ms: 40, failedPct: 0 },
        { offeredPerS: 100, p50Ms: 10, p99Ms: 20, failedPct: 0 },
      ],
    },
  ]);
  t.assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"') && svg.endsWith('</svg>\n'));
  // x: 10 … 10,000 tx/s over 78 … 736 px (219.3 px a decade); y: 1 ms … 100 s over 398 … 46 px (70.4 px a decade).
  const line = (cls: string) => new RegExp(`<polyline class="${cls}[^"]*" points="([^"]+)"`).exec(svg)?.[1];
  t.assert.strictEqual(line('ours-p50'), '297.3,327.6 516.7,306.4'); // sorted by rate: 100/s → 10 ms, 1,000/s → 20 ms
  t.assert.strictEqual(line('ours-p99'), '297.3,306.4 516.7,285.2');
  t.assert.strictEqual(line('jrc-3'), '188.8,186.8 233.2,165.6 238.6,116.4'); // 32/s 1 s, 51/s 2 s, 54/s 10 s
  t.assert.strictEqual(line('jrc-28'), '188.8,165.6 254.8,110.8'); // 32/s 2 s, 64/s 12 s
  for (const label of ['10', '100', '1,000', '10,000', '1 ms', '10 ms', '100 ms', '1 s', '10 s', '100 s']) t.assert.ok(svg.includes(`>${label}</text>`), label);
  t.assert.match(svg, /failed above 48–54 tx\/s/);
  // Hollow markers for the paper's upper bounds (32/s and 51/s on 3 nodes), filled ones elsewhere.
  t.assert.strictEqual((svg.match(/r="4" fill="#fff" stroke="#d62728"/g) ?? []).length, 3); // 2 points + the legend's
});

test('a BENCH line that is not the protocol is refused with what is wrong', (t: TestContext) => {
  t.assert.strictEqual(parseBenchLine('saturation: 5,285 tx/s', 'x.bench.ts'), undefined);
  t.assert.deepStrictEqual(parseBenchLine(`BENCH ${JSON.stringify({ figures: [p99] })}`, 'x.bench.ts'), { figures: [p99], curves: [] });
  t.assert.throws(() => parseBenchLine('BENCH {"figures":', 'x.bench.ts'), (e: unknown) => e instanceof BenchLineError && /x\.bench\.ts: a BENCH line must be followed by JSON/.test(e.message));
  t.assert.throws(() => parseBenchLine(`BENCH ${JSON.stringify({ figures: [{ ...p99, better: 'up' }] })}`, 'x.bench.ts'), /figure "ledger.p99-1000" needs better/);
  t.assert.throws(() => parseBenchLine(`BENCH ${JSON.stringify({ figures: [{ ...p99, seeds: [{ source: 's', value: 0 }] }] })}`, 'x.bench.ts'), /needs seeds/);
  t.assert.throws(() => parseBenchLine(`BENCH ${JSON.stringify({ curves: [{ id: 'c', label: 'c', points: [{ offeredPerS: 0, p50Ms: 1, p99Ms: 1, failedPct: 0 }] }] })}`, 'x.bench.ts'), /positive offeredPerS/);
});
