/**
 * XMPP push fan-out: one Prosody (the test harness's, xmpp/testing/prosody.ts), our VTN (the real
 * `oadr-ledger vtn --xmpp-url …` command, a child process) and `--vens` (default 5,000)
 * XMPP-connected lightweight VENs in `--procs` (default 4) child processes
 * (bench/support/xmpp-ven-swarm.ts: SCRAM accounts, one client connection each). One event for all
 * of them through the admin API: the time from the event request to the last oadrCreatedEvent the
 * VTN acknowledged, the VTN's CPU and its memory per connected VEN (after forced GCs), and where the CPU went
 * (the VTN, Prosody and the VENs' processes, from /proc). Beside it, the in-run reference: HTTP pull
 * with as many VENs at a 10 s poll interval (bench/support/pull-fanout.ts), time until the last VEN
 * has its event; the ratio is printed. Targets: every VEN has its event within 2 s; < 1 KiB of VTN
 * memory per connected VEN.
 *
 *   node bench/xmpp-fanout.bench.ts [--vens N] [--procs K] [--server prosody|ejabberd] [--no-pull] [--vtn-log FILE] [--cpu-prof DIR]
 *
 * `--server ejabberd`: the tests' ejabberd (xmpp/testing/ejabberd.ts, multi-core Erlang VM) instead
 * of Prosody, for the server's CPU per VEN beside Prosody's. Prints SKIP when the server is missing.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEjabberd } from '../xmpp/testing/ejabberd.ts';
import { createXmppTestPki, startProsody, type XmppTestPki } from '../xmpp/testing/prosody.ts';
import { reportFigures, type Figure } from './support/report.ts';
import { pullFanout } from './support/pull-fanout.ts';
import { agent, cpuSecondsOf, createEvent, fmt, rssOf, startVtn, type VtnChild, type VtnMemory } from './support/vtn-child.ts';
import type { SwarmMessage, SwarmStart } from './support/xmpp-ven-swarm.ts';

const { values: args } = parseArgs({ options: { vens: { type: 'string' }, procs: { type: 'string' }, server: { type: 'string', default: 'prosody' }, 'no-pull': { type: 'boolean' }, 'vtn-log': { type: 'string' }, 'cpu-prof': { type: 'string' } } });
const VENS = Number(args.vens ?? 5_000);
const PROCS = Number(args.procs ?? 4);
const WARM = 50;
const PASSWORD = 'bench-xmpp-secret';
const TARGET = { lastMs: 2_000, memoryPerVenBytes: 1024 };
const SWARM = fileURLToPath(new URL('./support/xmpp-ven-swarm.ts', import.meta.url));
const now = (): number => performance.timeOrigin + performance.now();

interface Swarm {
  readonly proc: ChildProcess;
  readonly registered: Promise<readonly string[]>;
}

/** Forks one swarm; `onCreated` hears of each acknowledged oadrCreatedEvent. */
function startSwarm(start: SwarmStart, onCreated: (m: Extract<SwarmMessage, { kind: 'created' }>) => void, errors: string[]): Swarm {
  const proc = fork(SWARM, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const registered = new Promise<readonly string[]>((resolve, reject) => {
    proc.on('message', (m: SwarmMessage) => {
      if (m.kind === 'registered') resolve(m.venIds);
      else if (m.kind === 'created') onCreated(m);
      else if (errors.length < 200) errors.push(m.message);
    });
    proc.once('exit', (code) => reject(new Error(`a VEN swarm exited with ${code}: ${errors.join('; ')}`)));
  });
  proc.send(start);
  return { proc, registered };
}

const SAMPLES = 5;

/** SAMPLES readings of the VTN's memory after forced full GCs, 1 s apart. */
async function sampleMemory(vtn: VtnChild): Promise<VtnMemory[]> {
  const out: VtnMemory[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 1000));
    out.push(await vtn.memory());
  }
  return out;
}

interface PerVen {
  readonly median: number;
  readonly low: number;
  readonly high: number;
}

/** Bytes per VEN from the first stage (no VENs) to each later one: medians' difference, and the lowest and highest any pair of samples gives. */
function memoryPerVen(mem: readonly { vens: number; samples: readonly VtnMemory[] }[]): { vens: number; heap: PerVen; data: PerVen; rss: PerVen }[] {
  const median = (xs: readonly number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
  };
  const per = (zero: readonly number[], at: readonly number[], vens: number): PerVen => ({
    median: (median(at) - median(zero)) / vens,
    low: (Math.min(...at) - Math.max(...zero)) / vens,
    high: (Math.max(...at) - Math.min(...zero)) / vens,
  });
  const [zero, ...rest] = mem;
  if (zero === undefined) return [];
  return rest.map((m) => ({
    vens: m.vens,
    heap: per(zero.samples.map((x) => x.heapUsed), m.samples.map((x) => x.heapUsed), m.vens),
    data: per(zero.samples.map((x) => x.dataUsed), m.samples.map((x) => x.dataUsed), m.vens),
    rss: per(zero.samples.map((x) => x.rss), m.samples.map((x) => x.rss), m.vens),
  }));
}

/** The XMPP server under the fan-out: what the bench needs of either. */
interface Server {
  /** What the report calls it, with the settings that matter. */
  readonly label: string;
  readonly name: string;
  readonly url: string;
  readonly domain: string;
  pid(): number | undefined;
  registerMany(locals: readonly string[], password: string): Promise<void>;
  stop(): Promise<void>;
}

async function startServer(kind: string, pki: XmppTestPki): Promise<Server> {
  if (kind === 'ejabberd') {
    const e = await startEjabberd({ pki });
    return {
      label: `ejabberd (Debian's, the configuration docs/xmpp.md shows: the VTN unshaped, SCRAM accounts) on 127.0.0.1:${e.port}`,
      name: 'ejabberd',
      url: e.url,
      domain: e.domain,
      pid: () => e.pid(),
      async registerMany(locals, password) {
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < locals.length) await e.register(locals[next++] as string, password);
        };
        await Promise.all(Array.from({ length: 8 }, worker));
      },
      stop: () => e.stop(),
    };
  }
  if (kind !== 'prosody') throw new Error(`--server ${kind}: prosody or ejabberd`);
  // The production settings docs/xmpp.md recommends: log level warn, epoll, mod_limits with the VTN
  // unlimited, a 1 MiB stanza limit; STARTTLS kept. SCRAM accounts with 128 PBKDF2 iterations instead
  // of 10,000: the swarm's JavaScript PBKDF2 made 1,000 logins take 8 minutes at load 19; the login
  // is set-up, not measured, and production logs in with certificates (SASL EXTERNAL), not SCRAM.
  process.env['PROSODY_LOG'] = 'warn';
  const p = await startProsody({ auth: 'password', pki, startTimeoutMs: 30_000, limits: { unlimitedJids: ['vtn@localhost'] }, scramIterations: 128 });
  return {
    label: `Prosody 0.12 on 127.0.0.1:${p.port} (docs/xmpp.md production settings; SCRAM accounts, 128 iterations)`,
    name: 'Prosody',
    url: p.url,
    domain: p.domain,
    pid: () => p.pid(),
    registerMany: (locals, password) => p.registerMany(locals, password),
    stop: () => p.stop(),
  };
}

/** What this run reports for docs/benchmarks.md. */
const figures: Figure[] = [];

async function main(): Promise<void> {
  console.log(`# XMPP push fan-out — ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const SERVER = args.server ?? 'prosody';
  const command = SERVER === 'ejabberd' ? 'erl' : 'prosody';
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) {
    console.log(`SKIP xmpp-fanout: \`${command}\` is not installed (Debian: apt-get install -y ${SERVER})`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'xmpp-fanout-bench-'));
  const pki = await createXmppTestPki();
  const server = await startServer(SERVER, pki);
  const swarms: Swarm[] = [];
  let vtn: Awaited<ReturnType<typeof startVtn>> | undefined;
  try {
    const caFile = join(work, 'xmpp-ca.pem');
    writeFileSync(caFile, pki.caPem);
    const t0 = performance.now();
    const names = Array.from({ length: VENS }, (_, i) => `ven${i + 1}`);
    await server.registerMany(['vtn', ...names, ...Array.from({ length: WARM }, (_, i) => `warm${i + 1}`)], PASSWORD);
    console.log(`  ${server.label}: ${fmt(VENS + WARM + 1)} accounts in ${fmt((performance.now() - t0) / 1000, 1)} s`);

    vtn = await startVtn({
      work,
      name: 'xmpp',
      config: { registrationPolicy: 'open', pollFrequencyMs: 10_000, xmpp: { url: server.url, jid: `vtn@${server.domain}`, ca: caFile } },
      env: { OADR_XMPP_PASSWORD: PASSWORD },
      logFile: args['vtn-log'],
      cpuProfDir: args['cpu-prof'],
      heap: true,
    });
    const vtnPid = vtn.proc.pid as number;
    const serverPid = server.pid() as number;
    const errors: string[] = [];
    const created = new Map<string, { eventAt: number; ackAt: number }>();
    const onCreated = (m: Extract<SwarmMessage, { kind: 'created' }>): void => void created.set(m.venId, { eventAt: m.eventAt, ackAt: m.ackAt });
    const base = { url: server.url, domain: server.domain, caFile, password: PASSWORD, vtnJid: `vtn@${server.domain}/vtn` };

    // Warm-up: 50 VENs, so that "RSS before" is a running VTN with its XMPP code paths compiled.
    const warm = startSwarm({ ...base, prefix: 'warm', first: 1, count: WARM, concurrency: 10 }, () => {}, errors);
    swarms.push(warm);
    await warm.registered;
    await new Promise((r) => setTimeout(r, 2000));

    // Connected and idle, in stages (1,000, then all): the VTN's memory after forced full GCs,
    // SAMPLES times at each stage, against the warm-up VENs' (the "0 VENs" stage).
    const stages = [...new Set([Math.min(1_000, VENS), VENS])];
    const mem: { vens: number; samples: VtnMemory[] }[] = [{ vens: 0, samples: await sampleMemory(vtn) }];
    const ids: string[] = [];
    const t1 = performance.now();
    let connected = 0;
    for (const upTo of stages) {
      const stage = upTo - connected;
      const per = Math.ceil(stage / PROCS);
      const started: Swarm[] = [];
      for (let k = 0; k < PROCS; k++) {
        const first = connected + k * per + 1;
        const count = Math.min(per, stage - k * per);
        if (count > 0) started.push(startSwarm({ ...base, prefix: 'ven', first, count, concurrency: 25 }, onCreated, errors));
      }
      swarms.push(...started);
      ids.push(...(await Promise.all(started.map((s) => s.registered))).flat());
      connected = upTo;
      // The VTN's oadrRegisterReport pushes answered: the VTN idle again.
      await new Promise((r) => setTimeout(r, 5000));
      mem.push({ vens: ids.length, samples: await sampleMemory(vtn) });
    }
    const connectS = (performance.now() - t1) / 1000;
    console.log(`  ${fmt(ids.length)} of ${fmt(VENS)} VENs connected (STARTTLS, SCRAM-SHA-1) and registered over XMPP in ${fmt(connectS, 1)} s by ${PROCS} processes per stage${errors.length > 0 ? `; errors: ${errors.slice(0, 3).join(' | ')}` : ''}`);
    const perVenHeap = memoryPerVen(mem);

    const cpu0 = { vtn: cpuSecondsOf(vtnPid), server: cpuSecondsOf(serverPid), vens: swarms.reduce((s, w) => s + cpuSecondsOf(w.proc.pid as number), 0) };
    const perVen: Record<string, number> = {};
    for (const id of ids) perVen[id] = 1_000;
    const eventAt = now();
    const answer = await createEvent(vtn.base, perVen);
    const createMs = now() - eventAt;
    if (answer.status !== 201) throw new Error(`creating the event failed: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
    const before = errors.length;
    const deadline = performance.now() + 120_000;
    while (created.size < ids.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const cpu1 = { vtn: cpuSecondsOf(vtnPid), server: cpuSecondsOf(serverPid), vens: swarms.reduce((s, w) => s + cpuSecondsOf(w.proc.pid as number), 0) };

    const acks = [...created.values()].map((c) => c.ackAt - eventAt).sort((a, b) => a - b);
    const events = [...created.values()].map((c) => c.eventAt - eventAt).sort((a, b) => a - b);
    const all = created.size === ids.length && ids.length === VENS;
    const last = acks[acks.length - 1] ?? Number.NaN;
    const wall = last / 1000;
    const used = { vtn: cpu1.vtn - cpu0.vtn, server: cpu1.server - cpu0.server, vens: cpu1.vens - cpu0.vens };
    const total = used.vtn + used.server + used.vens;
    const share = (x: number): string => `${fmt(x, 2)} s (${fmt((100 * x) / total)} %)`;
    if (errors.length > before) console.log(`  errors the VENs reported during the fan-out (first ones): ${errors.slice(before, before + 3).join(' | ')}`);
    console.log(`  event for ${fmt(ids.length)} VENs created through POST /api/v1/events in ${fmt(createMs)} ms (stored, queued for each VEN)`);
    console.log(
      `  every VEN had its event and the VTN acknowledged its oadrCreatedEvent: ${all ? 'yes' : `NO (${fmt(created.size)} of ${fmt(VENS)})`}; from the event request: ` +
        `oadrDistributeEvent p50 ${fmt((events[Math.floor(events.length / 2)] ?? 0) / 1000, 2)} s, last ${fmt((events[events.length - 1] ?? 0) / 1000, 2)} s; ` +
        `oadrCreatedEvent acknowledged p50 ${fmt((acks[Math.floor(acks.length / 2)] ?? 0) / 1000, 2)} s, last ${fmt(wall, 2)} s`,
    );
    console.log(`  CPU during the fan-out (${fmt(wall, 2)} s wall, /proc): VTN ${share(used.vtn)}, ${server.name} ${share(used.server)}, the ${PROCS + 1} VEN processes ${share(used.vens)}; load average now ${loadavg()[0]?.toFixed(1)}`);
    for (const m of mem) {
      const mib = (k: keyof VtnMemory, d: number): string => m.samples.map((x) => fmt(x[k] / 2 ** 20, d)).join(', ');
      console.log(`  VTN memory after forced full GCs, ${fmt(m.vens)} VENs connected (besides the ${WARM} warm-up ones), ${SAMPLES} samples: heap data ${mib('dataUsed', 2)} MiB; heap used ${mib('heapUsed', 2)} MiB; RSS ${mib('rss', 1)} MiB`);
    }
    for (const p of perVenHeap) {
      console.log(
        `  per connected and registered VEN, 0 → ${fmt(p.vens)}: heap data ${fmt(p.data.median / 1024, 2)} KiB (${fmt(p.data.low / 1024, 2)} to ${fmt(p.data.high / 1024, 2)}), heap used with code ${fmt(p.heap.median / 1024, 2)} KiB (${fmt(p.heap.low / 1024, 2)} to ${fmt(p.heap.high / 1024, 2)} over the samples), ` +
          `RSS ${fmt(p.rss.median / 1024, 2)} KiB (${fmt(p.rss.low / 1024, 2)} to ${fmt(p.rss.high / 1024, 2)}); ${fmt(rssOf(vtnPid) / 2 ** 20, 1)} MiB RSS right after the fan-out`,
      );
    }
    const heapPerVen = perVenHeap[perVenHeap.length - 1];
    console.log(`  targets: every VEN within ${TARGET.lastMs / 1000} s: ${all && last <= TARGET.lastMs ? 'met' : 'MISSED'} (${fmt(wall, 2)} s); < 1 KiB VTN memory per connected VEN: ${heapPerVen !== undefined && heapPerVen.data.high <= TARGET.memoryPerVenBytes ? 'met' : 'MISSED'} for its heap data (${fmt((heapPerVen?.data.median ?? Number.NaN) / 1024, 2)} KiB, registration included; RSS beside it ${fmt((heapPerVen?.rss.median ?? Number.NaN) / 1024, 2)} KiB, which the allocator and SQLite's page cache move by more)`);
    figures.push({
      id: SERVER === 'prosody' ? 'xmpp-fanout.last' : `xmpp-fanout.last-${SERVER}`,
      label: `${fmt(VENS)} XMPP VENs (${server.name}), one event: the VTN has acknowledged the last oadrCreatedEvent, from the event request`,
      value: wall,
      unit: 's',
      better: 'lower',
      detail: all ? `every VEN; CPU VTN ${fmt(used.vtn, 2)} s, ${server.name} ${fmt(used.server, 2)} s` : `only ${fmt(created.size)} of ${fmt(VENS)} VENs`,
      target: TARGET.lastMs / 1000,
    });

    if (heapPerVen !== undefined) {
      figures.push({
        id: 'xmpp-fanout.heap-per-ven',
        label: `VTN heap data after forced GCs per XMPP VEN connected and registered (${fmt(heapPerVen.vens)} VENs, idle)`,
        value: heapPerVen.data.median / 1024,
        unit: 'KiB',
        better: 'lower',
        detail: `${fmt(heapPerVen.data.low / 1024, 2)} to ${fmt(heapPerVen.data.high / 1024, 2)} over ${SAMPLES} samples; with code ${fmt(heapPerVen.heap.median / 1024, 2)} KiB; RSS ${fmt(heapPerVen.rss.median / 1024, 2)} KiB (${fmt(heapPerVen.rss.low / 1024, 2)} to ${fmt(heapPerVen.rss.high / 1024, 2)})`,
        target: TARGET.memoryPerVenBytes / 1024,
      });
    }

    for (const s of swarms) s.proc.kill('SIGKILL');
    await vtn.stop();
    vtn = undefined;

    if (args['no-pull'] !== true) {
      console.log(`\n### reference in this run: HTTP pull, ${fmt(VENS)} VENs, poll interval 10 s (bench/support/pull-fanout.ts)`);
      const pull = await pullFanout({ work, vens: VENS });
      console.log(`  XMPP push / HTTP pull, time until the last VEN has its event: ${fmt(last / pull.lastMs, 3)} (${fmt(wall, 2)} s / ${fmt(pull.lastMs / 1000, 2)} s)`);
    }
  } finally {
    for (const s of swarms) s.proc.kill('SIGKILL');
    await vtn?.stop();
    await server.stop();
    agent.destroy();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  reportFigures(figures);
}

await main();
