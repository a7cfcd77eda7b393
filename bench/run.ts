/**
 * `npm run bench`: runs every `bench/*.bench.ts` in its own Node process, one after the other
 * (so each one's memory figures are its own), prints what each prints, and writes the report:
 * the figures every benchmark reported on its `BENCH {…}` lines (bench/support/report.ts) go into
 * `docs/benchmarks.json` and the generated section of `docs/benchmarks.md`, the latency curve into
 * `docs/benchmarks-latency.svg`.
 *
 *   npm run bench                          all benchmarks
 *   npm run bench -- codec xml             only those whose file name contains one of the words;
 *                                          the report keeps the other benchmarks' rows
 *   npm run bench -- --note "TEXT"         a note for the report's machine line (who else ran)
 *   npm run bench -- --no-write            print only, leave docs/ as it is
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_PREFIX, parseBenchLine, type Figure, type LatencyCurve } from './support/report.ts';
import { mergeRuns, renderLatencySvg, renderSection, replaceSection, type BenchRun, type ReportState } from './support/report-writer.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const DOCS = fileURLToPath(new URL('../docs/', import.meta.url));
const REPORT = join(DOCS, 'benchmarks.md');
const STATE = join(DOCS, 'benchmarks.json');
const CHART = 'benchmarks-latency.svg';

const { values: opts, positionals: filters } = parseArgs({
  allowPositionals: true,
  options: { note: { type: 'string' }, 'no-write': { type: 'boolean', default: false } },
});
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
console.log(`# oadr-ledger benchmarks — ${new Date().toISOString()}`);
console.log(`# machine: ${machine}`);
if (files.length === 0) {
  console.log(`no benchmark file name contains ${filters.map((f) => JSON.stringify(f)).join(' or ')}; the files: ${readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).join(', ')}`);
  process.exit(2);
}

/**
 * Busy CPU of the whole machine and of this process with its waited-for children, in seconds
 * (Linux: /proc/self/stat's cutime and cstime count the benchmarks and whatever they waited for).
 */
const ticksPerS = platform() === 'linux' ? Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100 : 100;
function cpuNow(): { machineS: number; oursS: number } | undefined {
  if (platform() !== 'linux') return undefined;
  const machineMs = cpus().reduce((s, c) => s + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14–17 of proc(5) (utime stime cutime cstime) are 11–14 after the command name.
  const ticks = [11, 12, 13, 14].reduce((s, i) => s + Number(fields[i]), 0);
  return { machineS: machineMs / 1000, oursS: ticks / ticksPerS };
}

/** Runs one benchmark, forwarding its output but the BENCH lines, which it collects. */
async function runOne(file: string): Promise<BenchRun> {
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const figures: Figure[] = [];
  const curves: LatencyCurve[] = [];
  const child = spawn(process.execPath, [join(dir, file)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  let protocolError: string | undefined;
  for await (const line of lines) {
    if (!line.startsWith(BENCH_PREFIX)) {
      console.log(line);
      continue;
    }
    try {
      const record = parseBenchLine(line, file);
      if (record) {
        figures.push(...record.figures);
        curves.push(...record.curves);
      }
    } catch (err) {
      protocolError = (err as Error).message;
      console.log(`!! ${protocolError}`);
    }
  }
  const exit = await new Promise<number | string>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode ?? 'unknown');
    else child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const elapsedS = (performance.now() - t0) / 1000;
  const cpu1 = cpuNow();
  const othersCores = cpu0 && cpu1 && elapsedS > 0 ? Math.max(0, (cpu1.machineS - cpu0.machineS - (cpu1.oursS - cpu0.oursS)) / elapsedS) : undefined;
  return {
    bench: file,
    startedAt,
    endedAt: new Date().toISOString(),
    loadBefore,
    loadAfter: loadavg(),
    ...(othersCores === undefined ? {} : { othersCores: Math.round(othersCores * 100) / 100 }),
    exit: protocolError !== undefined && exit === 0 ? 'bad BENCH line' : exit,
    machine,
    ...(opts.note ? { note: opts.note } : {}),
    // A failed benchmark's figures are not the report's: its earlier ones stay.
    figures: exit === 0 && protocolError === undefined ? figures : [],
    curves: exit === 0 && protocolError === undefined ? curves : [],
  };
}

const fmtS = (s: number): string => (s >= 60 ? `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s` : `${Math.round(s)} s`);
const started = performance.now();
const fresh: BenchRun[] = [];
for (const [i, f] of files.entries()) {
  console.log(`\n## [${i + 1}/${files.length}, ${fmtS((performance.now() - started) / 1000)} so far] ${f} — load average ${loadavg()[0]?.toFixed(1)}`);
  const r = await runOne(f);
  fresh.push(r);
  const others = r.othersCores === undefined ? '' : `, other processes ${r.othersCores.toFixed(2)} cores`;
  console.log(`## [${i + 1}/${files.length}] ${f}: ${r.exit === 0 ? `${r.figures.length} figures` : `!! exited with ${r.exit}`} in ${fmtS((Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000)}${others}`);
}

const failed = fresh.filter((r) => r.exit !== 0).length;
if (!opts['no-write']) {
  const previous: ReportState = existsSync(STATE) ? (JSON.parse(readFileSync(STATE, 'utf8')) as ReportState) : { runs: {} };
  const { state, kept } = mergeRuns(previous, fresh);
  writeFileSync(STATE, `${JSON.stringify(state, null, 1)}\n`);
  writeFileSync(REPORT, replaceSection(readFileSync(REPORT, 'utf8'), renderSection(state, { chartFile: CHART })));
  const curves = Object.values(state.runs).sort((a, b) => a.bench.localeCompare(b.bench)).flatMap((r) => r.curves);
  writeFileSync(join(DOCS, CHART), renderLatencySvg(curves));
  console.log(`\nreport written: docs/benchmarks.md (${Object.values(state.runs).reduce((n, r) => n + r.figures.length, 0)} figures), docs/${CHART}, docs/benchmarks.json${kept.length > 0 ? `; earlier figures kept for ${kept.join(', ')} (reported none this time)` : ''}`);
}
process.exitCode = failed === 0 ? 0 : 1;
