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
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from './support/free-port.ts';
import { reportFigures, type Figure } from './support/report.ts';

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
const CLI = join(ROOT, 'cli', 'oadr-ledger.js');
const DURATION_S = args.quick === true ? 3 : 15;
const CONNECTIONS = (args.connections ?? '1,16,64').split(',').map(Number);
const FANOUT_VENS = Number(args['fanout-vens'] ?? (args.quick === true ? 2_000 : 10_000));
const POLL_INTERVAL_MS = 10_000;
/** The issue pins the VTN to core 0 and wrk to core 1; swap them when a neighbour occupies core 0. */
const VTN_CORE = Number(args['vtn-core'] ?? 0);
const WRK_CORE = Number(args['wrk-core'] ?? (VTN_CORE === 0 ? 1 : 0));
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const SERVICE_PATH = '/OpenADR2/Simple/2.0b';
/** OpenLEADR 0.5.34's VTN, measured with the same method (issue 5). */
const OPENLEADR = { saturation: 3_400, p50OneMs: 0.32 };
const TARGET = { pollsPerS: 17_000, p99Ms: 10 };

/** What this run reports for docs/benchmarks.md (our VTN only, not `--url`). */
const figures: Figure[] = [];

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// ---- HTTP with one keep-alive agent -------------------------------------------------------

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

function post(url: string, body: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const NS = 'xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110" xmlns:pyld="http://docs.oasis-open.org/ns/energyinterop/201110/payloads"';
const pollXml = (venId: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><oadr:oadrPayload ${NS}><oadr:oadrSignedObject><oadr:oadrPoll ei:schemaVersion="2.0b"><ei:venID>${venId}</ei:venID></oadr:oadrPoll></oadr:oadrSignedObject></oadr:oadrPayload>`;
const registerXml = (venName: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><oadr:oadrPayload ${NS}><oadr:oadrSignedObject><oadr:oadrCreatePartyRegistration ei:schemaVersion="2.0b">` +
  `<pyld:requestID>reg-${venName}</pyld:requestID><oadr:oadrProfileName>2.0b</oadr:oadrProfileName><oadr:oadrTransportName>simpleHttp</oadr:oadrTransportName>` +
  `<oadr:oadrReportOnly>false</oadr:oadrReportOnly><oadr:oadrXmlSignature>false</oadr:oadrXmlSignature><oadr:oadrVenName>${venName}</oadr:oadrVenName>` +
  '<oadr:oadrHttpPullModel>true</oadr:oadrHttpPullModel></oadr:oadrCreatePartyRegistration></oadr:oadrSignedObject></oadr:oadrPayload>';

/** The text of the first element with this local name, whatever its prefix. */
function elementText(xml: string, local: string): string | undefined {
  const m = new RegExp(`<(?:[\\w.-]+:)?${local}(?:\\s[^>]*)?>([^<]*)</`).exec(xml);
  return m?.[1];
}
const isPayload = (xml: string, local: string): boolean => new RegExp(`<(?:[\\w.-]+:)?${local}[\\s>]`).test(xml);

/** Registers `n` pull VENs by oadrCreatePartyRegistration, `concurrency` at a time; returns their venIDs in order. */
async function registerVens(base: string, n: number, namePrefix: string, concurrency = 16): Promise<string[]> {
  const ids = new Array<string>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const r = await post(`${base}${SERVICE_PATH}/EiRegisterParty`, registerXml(`${namePrefix}${i + 1}`));
      const venId = elementText(r.body, 'venID');
      const code = elementText(r.body, 'responseCode');
      if (r.status !== 200 || code !== '200' || venId === undefined) {
        throw new Error(`registration of ${namePrefix}${i + 1} failed: HTTP ${r.status}, responseCode ${code ?? '?'}; is the VTN's registration policy open?`);
      }
      ids[i] = venId;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return ids;
}

/**
 * Polls each venID until its queue is empty (a fresh registration queues the VTN's
 * oadrRegisterReport, R301), then once more: each must get oadrResponse 200, so wrk measures the
 * empty-queue path that most polls take.
 */
async function drainAndCheck(base: string, venIds: readonly string[], concurrency = 8): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < venIds.length) {
      const id = venIds[next++] as string;
      for (let i = 0; ; i++) {
        const r = await post(`${base}${SERVICE_PATH}/OadrPoll`, pollXml(id));
        if (r.status === 200 && isPayload(r.body, 'oadrResponse') && elementText(r.body, 'responseCode') === '200') break;
        if (r.status !== 200 || isPayload(r.body, 'oadrResponse') || i > 20) {
          throw new Error(`an oadrPoll of ${id} did not end in oadrResponse 200 (HTTP ${r.status}): ${r.body.slice(0, 300)}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, venIds.length) }, worker));
}

// ---- our VTN in a child process ------------------------------------------------------------

interface VtnChild {
  readonly proc: ChildProcess;
  readonly base: string;
  stop(): Promise<void>;
}


async function startVtn(work: string, name: string, pinCore: number | undefined): Promise<VtnChild> {
  const port = await freePort();
  const dataDir = join(work, name);
  const config = join(work, `${name}.json`);
  writeFileSync(config, JSON.stringify({ registrationPolicy: 'open', pollFrequencyMs: POLL_INTERVAL_MS }));
  const nodeArgs: string[] = [];
  if (args['cpu-prof'] !== undefined) {
    mkdirSync(args['cpu-prof'], { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', args['cpu-prof'], '--cpu-prof-name', `vtn-${name}.cpuprofile`);
  }
  const cmd = [process.execPath, ...nodeArgs, CLI, 'vtn', '--insecure-http', '--no-ledger', '--config', config, '--data-dir', dataDir, '--port', String(port)];
  const [file, ...rest] = pinCore === undefined ? cmd : ['taskset', '-c', String(pinCore), ...cmd];
  const proc = spawn(file as string, rest, { env: { ...process.env, OADR_ADMIN_TOKEN: ADMIN_TOKEN }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < 20_000) stderr += c.toString('utf8');
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000; // a start on a machine loaded by other jobs takes long
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the VTN exited with ${proc.exitCode}:\n${stderr}`);
    try {
      const ok = await new Promise<boolean>((resolve) => {
        const req = request(`${base}/healthz`, { agent }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        });
        req.on('error', () => resolve(false));
        req.end();
      });
      if (ok) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) throw new Error(`the VTN did not answer /healthz within 120 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proc,
    base,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** Resident set size of a process (kB → bytes), from /proc. */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) * 1024;
}

/** The lowest RSS over `ms` (sampled every 100 ms): less noise from garbage not yet collected. */
async function settledRss(pid: number, ms = 2_000): Promise<number> {
  let min = rssOf(pid);
  for (let t = 0; t < ms; t += 100) {
    await new Promise((r) => setTimeout(r, 100));
    min = Math.min(min, rssOf(pid));
  }
  return min;
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

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

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

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
  const vtn = await startVtn(work, 'fanout', VTN_CORE);
  try {
    const pid = vtn.proc.pid as number;
    // Warm the VTN (code paths compiled, pools allocated) with 50 VENs first, so "RSS with 0" is a running VTN.
    const warm = await registerVens(vtn.base, 50, 'warm-');
    for (let i = 0; i < 20; i++) await drainAndCheck(vtn.base, warm);
    const rss0 = await settledRss(pid);
    const t0 = performance.now();
    const ids = await registerVens(vtn.base, FANOUT_VENS, 'fan-', 16);
    const regS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await drainAndCheck(vtn.base, ids, 16);
    const drainS = (performance.now() - t1) / 1000;
    console.log(
      `  registered ${fmt(ids.length)} VENs over HTTP (oadrCreatePartyRegistration, 16 in flight) in ${fmt(regS, 1)} s (${fmt(ids.length / regS)}/s); ` +
        `their queues (the VTN's oadrRegisterReport) drained by polls in ${fmt(drainS, 1)} s`,
    );

    // Pollers: VEN i polls at phase i/N of every interval, as VENs started at random times would.
    const received = new Map<string, number>();
    let eventAt = Number.POSITIVE_INFINITY;
    let polls = 0;
    let pollErrors = 0;
    let stopped = false;
    const roundStart = performance.now();
    const inFlight = new Set<Promise<void>>();
    // A VEN polls again only once its previous poll is answered: a VTN starved of CPU gets fewer
    // polls instead of an unbounded pile of open requests in this process.
    const waiting = new Set<string>();
    let skipped = 0;
    const pollOne = async (venId: string): Promise<void> => {
      try {
        const r = await post(`${vtn.base}${SERVICE_PATH}/OadrPoll`, pollXml(venId));
        polls++;
        if (r.status !== 200) pollErrors++;
        else if (isPayload(r.body, 'oadrDistributeEvent') && !received.has(venId)) received.set(venId, performance.now() - eventAt);
      } catch {
        pollErrors++;
      }
    };
    const scheduler = (async () => {
      let k = 0;
      while (!stopped) {
        const due = roundStart + (k * POLL_INTERVAL_MS) / ids.length;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        const venId = ids[k % ids.length] as string;
        if (waiting.has(venId)) skipped++;
        else {
          waiting.add(venId);
          const p = pollOne(venId).finally(() => waiting.delete(venId));
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
        }
        k++;
      }
    })();
    // One full round without an event, then the event at a random phase of the next round.
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS + Math.random() * POLL_INTERVAL_MS * 0.5));
    const perVen: Record<string, number> = {};
    for (const id of ids) perVen[id] = 1_000;
    const body = JSON.stringify({ programId: 'default', start: new Date(Date.now() + 3_600_000).toISOString(), slots: 4, perVenReductionW: perVen });
    eventAt = performance.now();
    const created = await new Promise<HttpAnswer>((resolve, reject) => {
      const req = request(`${vtn.base}/api/v1/events`, { method: 'POST', agent, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });
    const createMs = performance.now() - eventAt;
    if (created.status !== 201) throw new Error(`creating the event failed: HTTP ${created.status} ${created.body.slice(0, 300)}`);
    const limit = performance.now() + 3 * POLL_INTERVAL_MS;
    while (received.size < ids.length && performance.now() < limit) await new Promise((r) => setTimeout(r, 50));
    stopped = true;
    await scheduler;
    await Promise.all(inFlight);
    const pollRate = polls / ((performance.now() - roundStart) / 1000);
    const rss1 = await settledRss(pid);
    const times = [...received.values()].sort((a, b) => a - b);
    const all = received.size === ids.length;
    const last = times[times.length - 1] ?? Number.NaN;
    // A VEN that polled just before the event was stored waits one whole interval: count from the 201.
    const lastAfterStored = last - createMs;
    console.log(`  event for all ${fmt(ids.length)} VENs created through POST /api/v1/events in ${fmt(createMs)} ms; pollers kept ${fmt(pollRate)} polls/s, ${pollErrors} errors${skipped > 0 ? `, ${fmt(skipped)} polls skipped (the VEN's previous poll still unanswered)` : ''}`);
    console.log(
      `  every VEN had its oadrDistributeEvent: ${all ? 'yes' : `NO (${fmt(received.size)} of ${fmt(ids.length)})`}; from the create request: p50 ${fmt((times[Math.floor(times.length / 2)] ?? 0) / 1000, 2)} s, ` +
        `last ${fmt(last / 1000, 2)} s; from the stored event (201): last ${fmt(lastAfterStored / 1000, 2)} s ` +
        `(poll interval ${POLL_INTERVAL_MS / 1000} s: ${all && lastAfterStored <= POLL_INTERVAL_MS ? 'within one interval' : 'NOT within one interval'})`,
    );
    figures.push({
      id: 'vtn-poll.fanout-last',
      label: `${fmt(ids.length)} polling VENs, one event: the last VEN has it, after the event was stored`,
      value: lastAfterStored / 1000,
      unit: 's',
      better: 'lower',
      detail: all ? `every VEN; poll interval ${POLL_INTERVAL_MS / 1000} s` : `only ${fmt(received.size)} of ${fmt(ids.length)} VENs`,
      target: POLL_INTERVAL_MS / 1000,
    });
    figures.push({ id: 'vtn-poll.rss-per-ven', label: `VTN memory per registered VEN (RSS growth over ${fmt(ids.length)} VENs)`, value: (rss1 - rss0) / ids.length / 1024, unit: 'KiB', better: 'lower' });
    console.log(
      `  RSS (lowest over 2 s, idle): ${fmt(rss0 / 2 ** 20, 1)} MiB with 50 warm-up VENs, ${fmt(rss1 / 2 ** 20, 1)} MiB with ${fmt(ids.length + 50)} VENs and the event → ${fmt((rss1 - rss0) / ids.length / 1024, 2)} KiB per registered VEN`,
    );
  } finally {
    await vtn.stop();
  }
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
      const vtn = await startVtn(work, `poll-${mode}`, pinned ? VTN_CORE : undefined);
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
