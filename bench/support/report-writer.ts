/**
 * Writes the benchmark report: the generated section of `docs/benchmarks.md` (one table of every
 * figure with its target, the seed's figure and the ratio; the runs with machine and load) and the
 * latency chart (hand-written SVG: the ledger's latency against offered load beside the JRC
 * paper's). Pure functions over the collected results, so a unit test can check them on fixed input.
 */
import type { Figure, LatencyCurve, SeedFigure } from './report.ts';
import { JRC, type SeedLatencyPoint } from './seeds.ts';

/** One benchmark file's latest run, as `docs/benchmarks.json` keeps it. */
export interface BenchRun {
  readonly bench: string;
  readonly startedAt: string;
  readonly endedAt: string;
  /** 1-, 5- and 15-minute load averages when it started and when it ended. */
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  /** Cores other processes kept busy on average while it ran (Linux), if known. */
  readonly othersCores?: number;
  readonly exit: number | string;
  readonly machine: string;
  readonly note?: string;
  readonly figures: readonly Figure[];
  readonly curves: readonly LatencyCurve[];
}

export interface ReportState {
  readonly runs: Readonly<Record<string, BenchRun>>;
}

export const SECTION_BEGIN = '<!-- bench-report:begin (written by `npm run bench`; edit bench/support/report-writer.ts, not this section) -->';
export const SECTION_END = '<!-- bench-report:end -->';

export class ReportDocError extends Error {
  override readonly name = 'ReportDocError';
}

/**
 * The state after a run: each benchmark that ran and reported figures replaces its own entry;
 * the others keep theirs (a filtered run updates only its rows). A benchmark that reported nothing
 * (skipped, or failed) keeps its earlier figures; its entry is returned in `kept`.
 */
export function mergeRuns(previous: ReportState, fresh: readonly BenchRun[]): { state: ReportState; kept: string[] } {
  const runs: Record<string, BenchRun> = { ...previous.runs };
  const kept: string[] = [];
  for (const r of fresh) {
    if (r.figures.length > 0 || r.curves.length > 0) runs[r.bench] = r;
    else if (runs[r.bench] !== undefined) kept.push(r.bench);
  }
  return { state: { runs }, kept };
}

// ---- numbers ------------------------------------------------------------------------------------

/** 5,285 · 20.4 · 0.353 · 3.21: thousands separated, about three significant digits below 100. */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  const digits = a >= 100 || a === 0 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : Math.min(6, 2 - Math.floor(Math.log10(a)));
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** How many times better than the seed ours is (below 1: worse), whichever way is better. */
export function ratio(f: Pick<Figure, 'value' | 'better'>, seedValue: number): number {
  return f.better === 'higher' ? f.value / seedValue : seedValue / f.value;
}

function formatRatio(r: number): string {
  const digits = r >= 10 ? 0 : r >= 1 ? 1 : 2;
  return `${r.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })}×`;
}

export function targetMet(f: Figure): boolean | undefined {
  if (f.target === undefined) return undefined;
  return f.better === 'higher' ? f.value >= f.target : f.value <= f.target;
}

const withUnit = (v: number, unit: string): string => `${formatNumber(v)} ${unit}`;
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function seedText(s: SeedFigure, unit: string): string {
  return s.value === undefined ? s.source : `${s.source}: ${withUnit(s.value, unit)}`;
}

// ---- the section --------------------------------------------------------------------------------

function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function took(r: BenchRun): string {
  const s = Math.round((Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

function range(xs: readonly number[]): string {
  const lo = formatNumber(Math.min(...xs));
  const hi = formatNumber(Math.max(...xs));
  return lo === hi ? lo : `${lo}–${hi}`;
}

function load(l: readonly number[]): string {
  return (l[0] ?? Number.NaN).toFixed(1);
}

/** The figure table's rows, in benchmark (file name) order and then as each benchmark reported them. */
function figureRows(runs: readonly BenchRun[]): string[] {
  const rows: string[] = [];
  for (const r of runs) {
    for (const f of r.figures) {
      const ours = `**${withUnit(f.value, f.unit)}**${f.detail ? ` (${f.detail})` : ''}`;
      const met = targetMet(f);
      const target = f.target === undefined ? '—' : `${f.better === 'higher' ? '≥' : '≤'} ${withUnit(f.target, f.unit)}: ${met ? 'met' : '**missed**'}`;
      const seeds = f.seeds ?? [];
      const seedCell = seeds.length === 0 ? '—' : seeds.map((s) => seedText(s, f.unit)).join('; ');
      const valued = seeds.filter((s): s is SeedFigure & { value: number } => s.value !== undefined);
      const ratios = valued.length === 0 ? '—' : valued.map((s) => formatRatio(ratio(f, s.value))).join('; ');
      rows.push(`| ${cell(f.label)} | ${cell(ours)} | ${cell(target)} | ${cell(seedCell)} | ${ratios} |`);
    }
  }
  return rows;
}

export interface SectionOptions {
  /** File name of the chart, relative to the report. */
  readonly chartFile: string;
}

/** The generated part of docs/benchmarks.md, from SECTION_BEGIN to SECTION_END inclusive. */
export function renderSection(state: ReportState, o: SectionOptions): string {
  const runs = Object.values(state.runs).sort((a, b) => a.bench.localeCompare(b.bench));
  const latest = [...runs].sort((a, b) => b.endedAt.localeCompare(a.endedAt))[0];
  const machines = [...new Set(runs.map((r) => r.machine))];
  const notes = [...new Set(runs.map((r) => r.note).filter((n): n is string => n !== undefined && n !== ''))];
  const first = [...runs].sort((a, b) => a.startedAt.localeCompare(b.startedAt))[0];
  const lines = [SECTION_BEGIN, '', '## The latest figures (`npm run bench`)', ''];
  if (latest === undefined || first === undefined) {
    lines.push('No benchmark has reported yet: run `npm run bench`.', '', SECTION_END);
    return lines.join('\n');
  }
  const others = runs.map((r) => r.othersCores).filter((c): c is number => c !== undefined);
  lines.push(
    `Machine: ${machines.join('; ')}. Runs from ${utc(first.startedAt)} to ${utc(latest.endedAt)} UTC; ` +
      `1-minute load average ${load(first.loadBefore)} at the start, ${load(latest.loadAfter)} at the end` +
      (others.length > 0 ? `; other processes kept ${range(others)} cores busy beside the benchmarks` : '') +
      '.' +
      notes.map((n) => ` ${/[.!?]$/.test(n) ? n : `${n}.`}`).join('') +
      ' Each benchmark\'s own run (date, load before and after) is in the second table; on a shared machine compare ratios within a run.',
    '',
    '"Ours vs seed" is how many times better ours is than the seed\'s figure (shorter time or higher rate); the seeds ran other hardware, so read it as the size of the gap, not a like-for-like measurement.',
    '',
    '| figure | ours | target | seed / reference | ours vs seed |',
    '| --- | --- | --- | --- | --- |',
    ...figureRows(runs),
    '',
    `![The embedded ledger's commit latency against offered load, beside the JRC paper's Fabric latency](${o.chartFile})`,
    '',
    '| benchmark | ran (UTC) | took | load average before → after | other processes (cores) | result |',
    '| --- | --- | --- | --- | --- | --- |',
    ...runs.map(
      (r) =>
        `| \`${r.bench}\` | ${utc(r.startedAt)} | ${took(r)} | ${load(r.loadBefore)} → ${load(r.loadAfter)} | ${r.othersCores === undefined ? '—' : formatNumber(r.othersCores)} | ${r.exit === 0 ? `${r.figures.length} figures` : `exit ${r.exit}`} |`,
    ),
    '',
    SECTION_END,
  );
  return lines.join('\n');
}

/** `doc` with its generated section replaced by `section` (the markers must be there once each). */
export function replaceSection(doc: string, section: string): string {
  const begin = doc.indexOf(SECTION_BEGIN.slice(0, 24));
  const end = doc.indexOf(SECTION_END);
  if (begin < 0 || end < begin || doc.indexOf(SECTION_END, end + 1) >= 0) {
    throw new ReportDocError(`docs/benchmarks.md needs the generated section's markers once each, in order: a line starting "${SECTION_BEGIN.slice(0, 24)}" and a line "${SECTION_END}"; put them where the figures belong`);
  }
  return doc.slice(0, begin) + section + doc.slice(end + SECTION_END.length);
}

// ---- the chart ----------------------------------------------------------------------------------

const W = 760;
const H = 538;
/** The legend sits below the plot, under the axis title, so that no data can hide it. */
const M = { left: 78, right: 24, top: 46, bottom: 140 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const r1 = (x: number): string => (Math.round(x * 10) / 10).toString();

function msLabel(ms: number): string {
  return ms >= 1000 ? `${formatNumber(ms / 1000)} s` : `${formatNumber(ms)} ms`;
}

/**
 * The SVG chart: latency (log) against offered transactions per second (log) — each curve's p50
 * (solid) and p99 (dashed), the JRC paper's points for 3 and 28 nodes (hollow markers: the paper
 * gives only an upper bound there) and the rates above which more than 20 % of its transactions failed.
 */
export function renderLatencySvg(curves: readonly LatencyCurve[]): string {
  const ours = curves.flatMap((c) => c.points);
  const seeds: readonly SeedLatencyPoint[] = [...JRC.threeNodes, ...JRC.twentyEightNodes];
  const xs = [...ours.map((p) => p.offeredPerS), ...seeds.map((p) => p.offeredPerS)];
  const ys = [...ours.flatMap((p) => [p.p50Ms, p.p99Ms]), ...seeds.map((p) => p.latencyS * 1000)].filter((y) => y > 0);
  // 10 to 10,000 tx/s and 1 ms to 100 s, wider when a point lies outside.
  const x0 = Math.min(1, Math.floor(Math.log10(Math.min(...xs))));
  const x1 = Math.max(4, Math.ceil(Math.log10(Math.max(...xs))));
  const y0 = Math.min(0, Math.floor(Math.log10(Math.min(...ys))));
  const y1 = Math.max(5, Math.ceil(Math.log10(Math.max(...ys))));
  const px = (v: number): number => M.left + ((Math.log10(v) - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (ms: number): number => H - M.bottom - ((Math.log10(Math.max(ms, 10 ** y0)) - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">Commit latency against offered load: ours (embedded ledger) and the JRC paper's Fabric</text>`);
  // The failure region of the JRC network: more than 20 % failed above 48 (28 nodes) to 54 (3 nodes) tx/s.
  const fail = JRC.failuresAbovePerS;
  out.push(`<rect x="${r1(px(fail.nodes28))}" y="${M.top}" width="${r1(W - M.right - px(fail.nodes28))}" height="${H - M.top - M.bottom}" fill="#d62728" fill-opacity="0.07"/>`);
  out.push(`<text x="${r1(px(fail.nodes28) + 6)}" y="${H - M.bottom - 8}" fill="#a01818">JRC: &gt; 20 % of transactions failed above ${fail.nodes28}–${fail.nodes3} tx/s</text>`);
  // Grid and axes.
  for (let e = x0; e <= x1; e++) {
    const x = r1(px(10 ** e));
    out.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${H - M.bottom}" stroke="#ddd"/>`);
    out.push(`<text x="${x}" y="${H - M.bottom + 18}" text-anchor="middle">${formatNumber(10 ** e)}</text>`);
  }
  for (let e = y0; e <= y1; e++) {
    const y = r1(py(10 ** e));
    out.push(`<line x1="${M.left}" y1="${y}" x2="${W - M.right}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${msLabel(10 ** e)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - M.bottom + 40}" text-anchor="middle">offered load, transactions per second (log scale)</text>`);
  out.push(`<text transform="translate(18 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">latency, submit to committed (log scale)</text>`);
  // The series.
  const series = (points: readonly (readonly [number, number])[], colour: string, dash: string, cls: string): void => {
    const pts = [...points].sort((a, b) => a[0] - b[0]).map(([x, ms]) => `${r1(px(x))},${r1(py(ms))}`);
    out.push(`<polyline class="${cls}" points="${pts.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
  };
  const marker = (x: number, ms: number, colour: string, hollow: boolean): void => {
    out.push(`<circle cx="${r1(px(x))}" cy="${r1(py(ms))}" r="4" fill="${hollow ? '#fff' : colour}" stroke="${colour}" stroke-width="1.5"/>`);
  };
  const jrcColour = '#d62728';
  series(JRC.threeNodes.map((p) => [p.offeredPerS, p.latencyS * 1000] as const), jrcColour, '', 'jrc-3');
  series(JRC.twentyEightNodes.map((p) => [p.offeredPerS, p.latencyS * 1000] as const), jrcColour, '6 4', 'jrc-28');
  for (const p of seeds) marker(p.offeredPerS, p.latencyS * 1000, jrcColour, p.upperBound);
  const palette = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b'];
  curves.forEach((c, i) => {
    const colour = palette[i % palette.length] as string;
    series(c.points.map((p) => [p.offeredPerS, p.p50Ms] as const), colour, '', `ours-p50 ${esc(c.id)}`);
    series(c.points.map((p) => [p.offeredPerS, p.p99Ms] as const), colour, '6 4', `ours-p99 ${esc(c.id)}`);
    for (const p of c.points) marker(p.offeredPerS, p.p50Ms, colour, false);
  });
  // Legend.
  const legend: [string, string, string, boolean][] = [
    ...curves.flatMap((c, i): [string, string, string, boolean][] => {
      const colour = palette[i % palette.length] as string;
      return [
        [colour, '', `${c.label}: p50`, false],
        [colour, '6 4', `${c.label}: p99`, false],
      ];
    }),
    [jrcColour, '', 'JRC paper, Fabric, 3 nodes (hollow: "below", an upper bound)', true],
    [jrcColour, '6 4', 'JRC paper, Fabric, 28 nodes', false],
  ];
  legend.forEach(([colour, dash, text, hollow], i) => {
    const y = H - M.bottom + 64 + i * 17;
    out.push(`<line x1="${M.left + 10}" y1="${y}" x2="${M.left + 40}" y2="${y}" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    if (hollow) out.push(`<circle cx="${M.left + 25}" cy="${y}" r="4" fill="#fff" stroke="${colour}" stroke-width="1.5"/>`);
    out.push(`<text x="${M.left + 48}" y="${y}" dominant-baseline="middle">${esc(text)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
