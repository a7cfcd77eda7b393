/**
 * The VTN cluster benchmark: oadrPoll throughput and CPU per poll of 1, 2 and 3 VTN processes on
 * one PostgreSQL, beside one process on SQLite in the same run, measured like bench/vtn-poll: `wrk`
 * with bench/poll.lua POSTing unsigned oadrPolls over keep-alive HTTP to 50 registered VENs with
 * empty queues.
 *
 *   node bench/vtn-cluster.bench.ts            10 s per run (≈ 2 min with the starts)
 *   node bench/vtn-cluster.bench.ts --quick    3 s per run
 *
 * Cores (2 on the reference machine): the VTN processes share core 0 (`taskset -c 0`), PostgreSQL
 * (the test rig's server, fsync off: the empty-queue poll writes nothing) and wrk run on core 1;
 * the SQLite VTN runs alone on core 0 with wrk on core 1. Each VTN process gets its share of the
 * 64 connections from its own `wrk -t1` (the client spreads the load as a load balancer would,
 * without a proxy's CPU on the cores). CPU per poll: user + system time from /proc of the VTN
 * processes, and of every PostgreSQL process (postmaster and backends), over the run, divided by
 * the polls answered. Prints SKIP when wrk, taskset or PostgreSQL is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startTestPostgres, postgresBinDir, type TestPostgres } from '../storage/testing/postgres.ts';
import { reportFigures, type Figure } from './support/report.ts';
import { agent, cpuSecondsOf, drainAndCheck, fmt, registerVens, SERVICE_PATH, startVtn, type VtnChild } from './support/vtn-child.ts';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean' } } });
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LUA = join(ROOT, 'bench', 'poll.lua');
const DURATION_S = args.quick === true ? 3 : 10;
const CONNECTIONS = 64;
const VTN_CORE = 0;
const OTHER_CORE = 1;
/** The issue's target: a poll on PostgreSQL costs the VTN at most 1.3× the CPU of a poll on SQLite. */
const CPU_RATIO_TARGET = 1.3;

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** PostgreSQL's processes: the postmaster and its children (backends, writer, WAL writer…). */
function postgresPids(postmaster: number): number[] {
  const pids = [postmaster];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const cpuOf = (pids: readonly number[]): number =>
  pids.reduce((sum, pid) => {
    try {
      return sum + cpuSecondsOf(pid);
    } catch {
      return sum;
    }
  }, 0);

interface Run {
  readonly label: string;
  readonly processes: number;
  readonly pollsPerS: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** CPU seconds per poll. */
  readonly vtnCpuPerPoll: number;
  readonly pgCpuPerPoll: number | undefined;
  /** Cores busy. */
  readonly vtnCores: number;
  readonly pgCores: number | undefined;
}

/** One `wrk -t1` per VTN process, together, on OTHER_CORE; the polls summed. */
async function load(vtns: readonly VtnChild[], venFile: string, postmaster: number | undefined): Promise<Omit<Run, 'label' | 'processes'>> {
  const pids = vtns.map((v) => v.proc.pid as number);
  const pgPids = postmaster === undefined ? [] : postgresPids(postmaster);
  const vtn0 = cpuOf(pids);
  const pg0 = cpuOf(pgPids);
  const started = performance.now();
  const outs = await Promise.all(
    vtns.map(
      (v, i) =>
        new Promise<string>((resolve, reject) => {
          const c = Math.floor(CONNECTIONS / vtns.length) + (i < CONNECTIONS % vtns.length ? 1 : 0);
          const p = spawn('taskset', ['-c', String(OTHER_CORE), 'wrk', '-t1', `-c${c}`, `-d${DURATION_S}s`, '--timeout', '10s', '-s', LUA, v.base, '--', venFile, `${SERVICE_PATH}/OadrPoll`]);
          let out = '';
          p.stdout.on('data', (d: Buffer) => (out += d.toString()));
          p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk failed (${code}): ${out}`))));
        }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const vtnCpu = cpuOf(pids) - vtn0;
  const pgCpu = cpuOf(pgPids) - pg0;
  let requests = 0;
  let p99 = 0;
  let errors = 0;
  for (const out of outs) {
    const line = out.split('\n').find((l) => l.startsWith('POLL_RESULT '));
    if (line === undefined) throw new Error(`no POLL_RESULT from wrk:\n${out}`);
    const kv = Object.fromEntries(line.slice(12).trim().split(' ').map((x) => x.split('=') as [string, string]));
    requests += Number(kv.requests);
    p99 = Math.max(p99, Number(kv.p99_us) / 1000);
    errors += Number(kv.errors_connect) + Number(kv.errors_read) + Number(kv.errors_write) + Number(kv.errors_timeout) + Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  }
  return {
    pollsPerS: requests / seconds,
    p99Ms: p99,
    errors,
    vtnCpuPerPoll: vtnCpu / requests,
    pgCpuPerPoll: postmaster === undefined ? undefined : pgCpu / requests,
    vtnCores: vtnCpu / seconds,
    pgCores: postmaster === undefined ? undefined : pgCpu / seconds,
  };
}

function print(r: Run): void {
  const pg = r.pgCpuPerPoll === undefined ? '' : `; PostgreSQL ${fmt((r.pgCores ?? 0) * 100)} % of a core, ${fmt(r.pgCpuPerPoll * 1e6, 1)} µs CPU per poll`;
  console.log(`  ${r.label.padEnd(26)} ${fmt(r.pollsPerS).padStart(7)} polls/s  p99 ${fmt(r.p99Ms, 1)} ms  VTN ${fmt(r.vtnCores * 100)} % of a core, ${fmt(r.vtnCpuPerPoll * 1e6, 1)} µs CPU per poll${pg}${r.errors > 0 ? `  (${r.errors} errors)` : ''}`);
}

async function measure(label: string, processes: number, work: string, store: string | undefined, postmaster: number | undefined): Promise<Run> {
  const vtns: VtnChild[] = [];
  try {
    for (let i = 0; i < processes; i++) {
      vtns.push(await startVtn({ work, name: `${label.replace(/\W+/g, '-')}-${i}`, pinCore: VTN_CORE, args: store === undefined ? [] : ['--store', store] }));
    }
    const ids = await registerVens(vtns[0]!.base, 50, `bench-${processes}-${Date.now()}-`);
    const venFile = join(work, `venids-${label.replace(/\W+/g, '-')}.txt`);
    writeFileSync(venFile, `${ids.join('\n')}\n`);
    for (const v of vtns) await drainAndCheck(v.base, ids);
    // Warm-up: the first seconds measure compilation.
    for (const v of vtns) spawnSync('wrk', ['-t1', '-c8', '-d1s', '-s', LUA, v.base, '--', venFile], { encoding: 'utf8' });
    const r: Run = { label, processes, ...(await load(vtns, venFile, postmaster)) };
    print(r);
    return r;
  } finally {
    for (const v of vtns) await v.stop();
  }
}

async function main(): Promise<void> {
  console.log(`# VTN cluster benchmark — ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (!has('wrk') || !has('taskset') || cpus().length < 2) {
    console.log('SKIP vtn-cluster: needs `wrk`, `taskset` and 2 cores (Debian: apt-get install -y wrk); see bench/README.md');
    return;
  }
  try {
    postgresBinDir();
  } catch (err) {
    console.log(`SKIP vtn-cluster: ${(err as Error).message}`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'vtn-cluster-bench-'));
  let pg: TestPostgres | undefined;
  try {
    console.log(`\n### ${DURATION_S} s runs, ${CONNECTIONS} connections, 50 registered VENs, empty queues; VTN processes on core ${VTN_CORE}, PostgreSQL and wrk on core ${OTHER_CORE}`);
    const sqlite = await measure('SQLite, 1 process', 1, work, undefined, undefined);
    pg = await startTestPostgres({ cpus: String(OTHER_CORE) });
    const postmaster = pg.pid() as number;
    const runs: Run[] = [];
    for (const n of [1, 2, 3]) runs.push(await measure(`PostgreSQL, ${n} process${n === 1 ? '' : 'es'}`, n, work, pg.createDatabase(), postmaster));
    const one = runs[0]!;
    const ratio = one.vtnCpuPerPoll / sqlite.vtnCpuPerPoll;
    console.log(`  VTN CPU per poll on PostgreSQL / on SQLite: ${fmt(ratio, 2)}× (target ≤ ${CPU_RATIO_TARGET}×: ${ratio <= CPU_RATIO_TARGET ? 'met' : 'MISSED'})`);
    const figures: Figure[] = [
      { id: 'vtn-cluster.sqlite-1', label: 'VTN oadrPoll, SQLite, 1 process on one core, wrk on the other, 64 connections', value: sqlite.pollsPerS, unit: 'polls/s', better: 'higher', detail: `${fmt(sqlite.vtnCpuPerPoll * 1e6, 1)} µs VTN CPU per poll` },
      ...runs.map((r): Figure => ({
        id: `vtn-cluster.postgres-${r.processes}`,
        label: `VTN oadrPoll, PostgreSQL, ${r.processes} process${r.processes === 1 ? '' : 'es'} sharing one core, PostgreSQL and wrk on the other, 64 connections`,
        value: r.pollsPerS,
        unit: 'polls/s',
        better: 'higher',
        detail: `${fmt(r.vtnCpuPerPoll * 1e6, 1)} µs VTN CPU + ${fmt((r.pgCpuPerPoll ?? 0) * 1e6, 1)} µs PostgreSQL CPU per poll; p99 ${fmt(r.p99Ms, 1)} ms`,
      })),
      { id: 'vtn-cluster.cpu-ratio', label: 'VTN CPU per poll on PostgreSQL (1 process) / on SQLite', value: ratio, unit: '×', better: 'lower', target: CPU_RATIO_TARGET },
    ];
    console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    reportFigures(figures);
  } finally {
    agent.destroy();
    await pg?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
