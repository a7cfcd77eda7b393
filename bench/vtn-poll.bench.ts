/**
 * The VTN poll benchmark of issue 5 ("Speed"), measured the way OpenLEADR 0.5.34's VTN was:
 * `wrk` (Debian) with `bench/poll.lua` POSTing unsigned oadrPolls over plain keep-alive HTTP,
 * rotating over 50 registered venIDs, 15 s per run.
 *
 *   node bench/vtn-poll.bench.ts                  the whole benchmark (≈ 2.5 min)
 *   node bench/vtn-poll.bench.ts --quick          3 s runs, 2,000-VEN fan-out
 *   node bench/vtn-poll.bench.ts --url http://127.0.0.1:8080 [--prefix /x]   another VTN: registers 50 VENs
 *                                                 there over HTTP (or --venids FILE) and runs the wrk part only
 *   --cpu-prof DIR   write a V8 CPU profile of our VTN (one per VTN process) into DIR
 *   --no-fanout      skip the 10,000-VEN fan-out;  --fanout-vens N  another count
 *   --vtn-core N     pin our VTN to core N (default 0) and wrk to another (--wrk-core M, default 1 or 0)
 *
 * Our VTN is the real command (`oadr-ledger vtn --insecure-http --no-ledger`, registration policy
 * `open`, pino at its default level `info`) in a child process: pinned with `taskset -c 0` while
 * `taskset -c 1 wrk` loads it, then unpinned with wrk sharing both cores. Every VEN registers with
 * a real oadrCreatePartyRegistration. Exits 0 (prints SKIP when `wrk` or `taskset` is missing).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pullFanout } from './support/pull-fanout.ts';
import { reportFigures, type Figure } from './support/report.ts';
import { agent, cpuSecondsOf, drainAndCheck, fmt, POLL_INTERVAL_MS, registerVens, SERVICE_PATH, startVtn } from './support/vtn-child.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    url: { type: 'string' },
    prefix: { type: 'string' },
    venids: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'no-fanout': { type: 'boolean' },
    'no-both': { type: 'boolean' },
    'fanout-vens': { type: 'string' },
    connections: { type: 'string' },
    'vtn-core': { type: 'string' },
    'wrk-core': { type: 'string' },
  },
});

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LUA = join(ROOT, 'bench', 'poll.lua');
const DURATION_S = args.quick === true ? 3 : 15;
const CONNECTIONS = (args.connections ?? '1,16,64').split(',').map(Number);
const FANOUT_VENS = Number(args['fanout-vens'] ?? (args.quick === true ? 2_000 : 10_000));
/** The issue pins the VTN to core 0 and wrk to core 1; swap them when a neighbour occupies core 0. */
const VTN_CORE = Number(args['vtn-core'] ?? 0);
const WRK_CORE = Number(args['wrk-core'] ?? (VTN_CORE === 0 ? 1 : 0));
/** OpenLEADR 0.5.34's VTN, measured with the same method (issue 5). */
const OPENLEADR = { saturation: 3_400, p50OneMs: 0.32 };
const TARGET = { pollsPerS: 17_000, p99Ms: 10 };

/** What this run reports for docs/benchmarks.md (our VTN only, not `--url`). */
const figures: Figure[] = [];

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;


// ---- wrk ----------------------------------------------------------------------------------

interface WrkResult {
  readonly connections: number;
  readonly pollsPerS: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly vtnCpu: number | undefined;
  /** CPU of wrk (cores), from the shell's `times`. */
  readonly wrkCpu: number | undefined;
}

function runWrk(base: string, venFile: string, connections: number, pinCore: number | undefined, vtnPid: number | undefined, prefix: string): WrkResult {
  const wrkArgs = ['-t1', `-c${connections}`, `-d${DURATION_S}s`, '--timeout', '10s', '-s', LUA, base, '--', venFile, `${prefix}${SERVICE_PATH}/OadrPoll`];
  const cmd = pinCore === undefined ? ['wrk', ...wrkArgs] : ['taskset', '-c', String(pinCore), 'wrk', ...wrkArgs];
  const cpu0 = vtnPid === undefined ? 0 : cpuSecondsOf(vtnPid);
  // `times` prints the CPU time of the shell's children (wrk): is the load generator the limit?
  const r = spawnSync('sh', ['-c', '"$@"; s=$?; times; exit $s', 'sh', ...cmd], { encoding: 'utf8' });
  const cpu1 = vtnPid === undefined ? 0 : cpuSecondsOf(vtnPid);
  const line = r.stdout.split('\n').find((l) => l.startsWith('POLL_RESULT '));
  if (r.status !== 0 || line === undefined) throw new Error(`wrk failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  const kv = Object.fromEntries(line.slice(12).trim().split(' ').map((p) => p.split('=') as [string, string]));
  const num = (k: string): number => Number(kv[k]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout);
  const seconds = num('duration_us') / 1e6;
  const t = /\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(r.stdout);
  const wrkCpu = t === null ? undefined : (Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4])) / seconds;
  return {
    connections,
    pollsPerS: num('requests') / seconds,
    p50Ms: num('p50_us') / 1000,
    p90Ms: num('p90_us') / 1000,
    p99Ms: num('p99_us') / 1000,
    maxMs: num('max_us') / 1000,
    errors: num('errors_connect') + num('errors_read') + num('errors_write') + num('errors_timeout'),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    vtnCpu: vtnPid === undefined ? undefined : (cpu1 - cpu0) / seconds,
    wrkCpu,
  };
}


function printWrk(r: WrkResult): void {
  const cpu = r.vtnCpu === undefined ? '' : `, VTN CPU ${fmt(r.vtnCpu * 100)} % = ${fmt((r.vtnCpu * 1e6) / r.pollsPerS)} µs/poll`;
  const wrk = r.wrkCpu === undefined ? '' : `, wrk CPU ${fmt(r.wrkCpu * 100)} %`;
  const bad = r.errors + r.non2xx > 0 ? `, ${r.errors} socket errors, ${r.non2xx} non-2xx` : '';
  console.log(
    `  ${String(r.connections).padStart(2)} conn: ${fmt(r.pollsPerS).padStart(7)} polls/s   p50 ${fmt(r.p50Ms, 2)} ms   p90 ${fmt(r.p90Ms, 2)} ms   p99 ${fmt(r.p99Ms, 2)} ms   max ${fmt(r.maxMs, 1)} ms${cpu}${wrk}${bad}`,
  );
}

function verdict(rs: readonly WrkResult[], who = 'ours'): void {
  const at64 = rs.find((r) => r.connections === 64);
  const one = rs.find((r) => r.connections === 1);
  const best = Math.max(...rs.map((r) => r.pollsPerS));
  console.log(`  OpenLEADR 0.5.34 (issue 5, same method): ≈ ${fmt(OPENLEADR.saturation)} polls/s at saturation, p50 ${OPENLEADR.p50OneMs} ms on one connection`);
  console.log(`  ${who}: best ${fmt(best)} polls/s = ${fmt(best / OPENLEADR.saturation, 1)}× OpenLEADR${one === undefined ? '' : `; p50 on one connection ${fmt(one.p50Ms, 2)} ms`}`);
  if (at64?.vtnCpu !== undefined) {
    // What one core would serve if the VTN had it alone (machines shared with other jobs give it less).
    console.log(`  at 64 connections the VTN used ${fmt(at64.vtnCpu * 100)} % of a core: ${fmt((at64.vtnCpu * 1e6) / at64.pollsPerS)} µs CPU per poll → ≈ ${fmt(at64.pollsPerS / at64.vtnCpu)} polls/s per fully available core (estimate)`);
  }
  if (at64 !== undefined) {
    const met = at64.pollsPerS >= TARGET.pollsPerS && at64.p99Ms <= TARGET.p99Ms;
    console.log(`  target ≥ ${fmt(TARGET.pollsPerS)} polls/s with p99 ≤ ${TARGET.p99Ms} ms at 64 connections: ${met ? 'met' : 'MISSED'} (${fmt(at64.pollsPerS)} polls/s, p99 ${fmt(at64.p99Ms, 2)} ms)`);
  }
}

// ---- the 10,000-VEN fan-out --------------------------------------------------------------------

async function fanout(work: string): Promise<void> {
  console.log(`\n### fan-out: ${fmt(FANOUT_VENS)} registered pull VENs, poll interval ${POLL_INTERVAL_MS / 1000} s, VTN pinned to core ${VTN_CORE} (pollers: this process, one keep-alive HTTP client)`);
  const r = await pullFanout({ work, vens: FANOUT_VENS, pinCore: VTN_CORE, cpuProfDir: args['cpu-prof'] });
  figures.push({
    id: 'vtn-poll.fanout-last',
    label: `${fmt(FANOUT_VENS)} polling VENs, one event: the last VEN has it, after the event was stored`,
    value: r.lastAfterStoredMs / 1000,
    unit: 's',
    better: 'lower',
    detail: r.all ? `every VEN; poll interval ${POLL_INTERVAL_MS / 1000} s` : `only ${fmt(r.received)} of ${fmt(FANOUT_VENS)} VENs`,
    target: POLL_INTERVAL_MS / 1000,
  });
  figures.push({ id: 'vtn-poll.rss-per-ven', label: `VTN memory per registered VEN (RSS growth over ${fmt(FANOUT_VENS)} VENs)`, value: r.rssPerVenBytes / 1024, unit: 'KiB', better: 'lower' });
}

// ---- main ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log(`# VTN oadrPoll benchmark — ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (!has('wrk')) {
    console.log('SKIP vtn-poll: `wrk` is not installed (Debian/Ubuntu: apt-get install -y wrk); see bench/README.md');
    return;
  }
  const external = args.url;
  if (external === undefined && (!has('taskset') || cpus().length < 2)) {
    console.log('SKIP vtn-poll: needs `taskset` (util-linux) and at least 2 cores to pin the VTN and wrk apart');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'vtn-poll-bench-'));
  const prefix = args.prefix ?? '';
  try {
    if (external !== undefined) {
      const base = external.replace(/\/$/, '');
      let venFile = args.venids;
      if (venFile === undefined) {
        const ids = await registerVens(`${base}${prefix}`, 50, `bench-${Date.now()}-`, 4);
        venFile = join(work, 'venids.txt');
        writeFileSync(venFile, `${ids.join('\n')}\n`);
      }
      await drainAndCheck(`${base}${prefix}`, readFileSync(venFile, 'utf8').split('\n').filter((l) => l.trim() !== ''));
      console.log(`\n### ${base}: wrk on all cores, ${DURATION_S} s runs, 50 venIDs`);
      const rs = CONNECTIONS.map((c) => runWrk(base, venFile as string, c, undefined, undefined, prefix));
      rs.forEach(printWrk);
      verdict(rs, base);
      return;
    }

    for (const mode of args['no-both'] === true ? ['one'] : ['one', 'both']) {
      const pinned = mode === 'one';
      const vtn = await startVtn({ work, name: `poll-${mode}`, pinCore: pinned ? VTN_CORE : undefined, cpuProfDir: args['cpu-prof'] });
      try {
        const ids = await registerVens(vtn.base, 50, `bench-${mode}-`);
        const venFile = join(work, `venids-${mode}.txt`);
        writeFileSync(venFile, `${ids.join('\n')}\n`);
        await drainAndCheck(vtn.base, ids);
        // A short warm-up so the first run does not measure compilation.
        spawnSync('wrk', ['-t1', '-c16', '-d2s', '-s', LUA, vtn.base, '--', venFile], { encoding: 'utf8' });
        console.log(
          pinned
            ? `\n### one core: VTN \`taskset -c ${VTN_CORE}\`, \`taskset -c ${WRK_CORE} wrk -t1\`, ${DURATION_S} s runs, 50 registered venIDs, empty queues (oadrResponse 200)`
            : `\n### both cores: VTN and \`wrk -t1\` unpinned, sharing the 2 cores, ${DURATION_S} s runs`,
        );
        const rs = CONNECTIONS.map((c) => {
          const r = runWrk(vtn.base, venFile, c, pinned ? WRK_CORE : undefined, vtn.proc.pid, '');
          printWrk(r);
          return r;
        });
        verdict(rs);
        const at64 = rs.find((r) => r.connections === 64);
        if (at64 !== undefined) {
          const cpu = at64.vtnCpu === undefined ? '' : `, VTN ${fmt(at64.vtnCpu * 100)} % of a core, ${fmt((at64.vtnCpu * 1e6) / at64.pollsPerS)} µs CPU per poll`;
          const where = pinned ? `VTN on one core, wrk on the other` : 'VTN and wrk sharing both cores';
          figures.push({
            id: `vtn-poll.${mode}-64`,
            label: `VTN oadrPoll, empty queue, ${where}, 64 connections`,
            value: at64.pollsPerS,
            unit: 'polls/s',
            better: 'higher',
            detail: `p50 ${fmt(at64.p50Ms, 2)} ms${cpu}`,
            ...(pinned ? { target: TARGET.pollsPerS } : {}),
            seeds: [{ source: 'OpenLEADR 0.5.34, same method', value: OPENLEADR.saturation }],
          });
          if (pinned) figures.push({ id: 'vtn-poll.one-64-p99', label: 'VTN oadrPoll, one core, 64 connections: p99 latency', value: at64.p99Ms, unit: 'ms', better: 'lower', target: TARGET.p99Ms });
        }
      } finally {
        await vtn.stop();
      }
    }
    if (args['no-fanout'] !== true) await fanout(work);
  } finally {
    agent.destroy();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  reportFigures(figures);
}

await main();
