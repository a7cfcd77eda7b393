/**
 * XMPP push fan-out: one Prosody (the test harness's, xmpp/testing/prosody.ts), our VTN (the real
 * `oadr-ledger vtn --xmpp-url …` command, a child process) and `--vens` (default 5,000)
 * XMPP-connected lightweight VENs in `--procs` (default 4) child processes
 * (bench/support/xmpp-ven-swarm.ts: SCRAM accounts, one client connection each). One event for all
 * of them through the admin API: the time from the event request to the last oadrCreatedEvent the
 * VTN acknowledged, the VTN's CPU and RSS (extra RSS per connected VEN), and where the CPU went
 * (the VTN, Prosody and the VENs' processes, from /proc). Beside it, the in-run reference: HTTP pull
 * with as many VENs at a 10 s poll interval (bench/support/pull-fanout.ts), time until the last VEN
 * has its event; the ratio is printed. Targets: every VEN has its event within 2 s; < 1 KiB of extra
 * VTN RSS per connected VEN.
 *
 *   node bench/xmpp-fanout.bench.ts [--vens N] [--procs K] [--no-pull] [--vtn-log FILE] [--cpu-prof DIR]
 *
 * Prints SKIP when `prosody` is missing.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createXmppTestPki, startProsody } from '../xmpp/testing/prosody.ts';
import { reportFigures, type Figure } from './support/report.ts';
import { pullFanout } from './support/pull-fanout.ts';
import { agent, cpuSecondsOf, createEvent, fmt, rssOf, settledRss, startVtn } from './support/vtn-child.ts';
import type { SwarmMessage, SwarmStart } from './support/xmpp-ven-swarm.ts';

const { values: args } = parseArgs({ options: { vens: { type: 'string' }, procs: { type: 'string' }, 'no-pull': { type: 'boolean' }, 'vtn-log': { type: 'string' }, 'cpu-prof': { type: 'string' } } });
const VENS = Number(args.vens ?? 5_000);
const PROCS = Number(args.procs ?? 4);
const WARM = 50;
const PASSWORD = 'bench-xmpp-secret';
const TARGET = { lastMs: 2_000, rssPerVenBytes: 1024 };
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

/** What this run reports for docs/benchmarks.md. */
const figures: Figure[] = [];

async function main(): Promise<void> {
  console.log(`# XMPP push fan-out — ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (spawnSync('sh', ['-c', 'command -v prosody']).status !== 0) {
    console.log('SKIP xmpp-fanout: `prosody` is not installed (Debian: apt-get install -y prosody)');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'xmpp-fanout-bench-'));
  // The production settings docs/xmpp.md recommends: log level warn, epoll, mod_limits with the VTN
  // unlimited, a 1 MiB stanza limit; STARTTLS kept. SCRAM accounts with 128 PBKDF2 iterations instead
  // of 10,000: the swarm's JavaScript PBKDF2 made 1,000 logins take 8 minutes at load 19; the login
  // is set-up, not measured, and production logs in with certificates (SASL EXTERNAL), not SCRAM.
  process.env['PROSODY_LOG'] = 'warn';
  const pki = await createXmppTestPki();
  const prosody = await startProsody({ auth: 'password', pki, startTimeoutMs: 30_000, limits: { unlimitedJids: ['vtn@localhost'] }, scramIterations: 128 });
  const swarms: Swarm[] = [];
  let vtn: Awaited<ReturnType<typeof startVtn>> | undefined;
  try {
    const caFile = join(work, 'xmpp-ca.pem');
    writeFileSync(caFile, pki.caPem);
    const t0 = performance.now();
    const names = Array.from({ length: VENS }, (_, i) => `ven${i + 1}`);
    await prosody.registerMany(['vtn', ...names, ...Array.from({ length: WARM }, (_, i) => `warm${i + 1}`)], PASSWORD);
    console.log(`  Prosody 0.12 on 127.0.0.1:${prosody.port} (docs/xmpp.md production settings): ${fmt(VENS + WARM + 1)} SCRAM accounts (128 iterations) in ${fmt((performance.now() - t0) / 1000, 1)} s`);

    vtn = await startVtn({
      work,
      name: 'xmpp',
      config: { registrationPolicy: 'open', pollFrequencyMs: 10_000, xmpp: { url: prosody.url, jid: `vtn@${prosody.domain}`, ca: caFile } },
      env: { OADR_XMPP_PASSWORD: PASSWORD },
      logFile: args['vtn-log'],
      cpuProfDir: args['cpu-prof'],
    });
    const vtnPid = vtn.proc.pid as number;
    const prosodyPid = prosody.pid() as number;
    const errors: string[] = [];
    const created = new Map<string, { eventAt: number; ackAt: number }>();
    const onCreated = (m: Extract<SwarmMessage, { kind: 'created' }>): void => void created.set(m.venId, { eventAt: m.eventAt, ackAt: m.ackAt });
    const base = { url: prosody.url, domain: prosody.domain, caFile, password: PASSWORD, vtnJid: `vtn@${prosody.domain}/vtn` };

    // Warm-up: 50 VENs, so that "RSS before" is a running VTN with its XMPP code paths compiled.
    const warm = startSwarm({ ...base, prefix: 'warm', first: 1, count: WARM, concurrency: 10 }, () => {}, errors);
    swarms.push(warm);
    await warm.registered;
    await new Promise((r) => setTimeout(r, 2000));
    const rss0 = await settledRss(vtnPid);

    const t1 = performance.now();
    const per = Math.ceil(VENS / PROCS);
    for (let k = 0; k < PROCS; k++) {
      const first = k * per + 1;
      const count = Math.min(per, VENS - k * per);
      if (count > 0) swarms.push(startSwarm({ ...base, prefix: 'ven', first, count, concurrency: 25 }, onCreated, errors));
    }
    const ids = (await Promise.all(swarms.slice(1).map((s) => s.registered))).flat();
    const connectS = (performance.now() - t1) / 1000;
    console.log(`  ${fmt(ids.length)} of ${fmt(VENS)} VENs connected (STARTTLS, SCRAM-SHA-1) and registered over XMPP in ${fmt(connectS, 1)} s by ${PROCS} processes${errors.length > 0 ? `; errors: ${errors.slice(0, 3).join(' | ')}` : ''}`);
    // The VTN's oadrRegisterReport pushes answered: the VTN idle again.
    await new Promise((r) => setTimeout(r, 5000));
    const rss1 = await settledRss(vtnPid);

    const cpu0 = { vtn: cpuSecondsOf(vtnPid), prosody: cpuSecondsOf(prosodyPid), vens: swarms.reduce((s, w) => s + cpuSecondsOf(w.proc.pid as number), 0) };
    const perVen: Record<string, number> = {};
    for (const id of ids) perVen[id] = 1_000;
    const eventAt = now();
    const answer = await createEvent(vtn.base, perVen);
    const createMs = now() - eventAt;
    if (answer.status !== 201) throw new Error(`creating the event failed: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
    const before = errors.length;
    const deadline = performance.now() + 120_000;
    while (created.size < ids.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const cpu1 = { vtn: cpuSecondsOf(vtnPid), prosody: cpuSecondsOf(prosodyPid), vens: swarms.reduce((s, w) => s + cpuSecondsOf(w.proc.pid as number), 0) };
    const rssAfter = rssOf(vtnPid);

    const acks = [...created.values()].map((c) => c.ackAt - eventAt).sort((a, b) => a - b);
    const events = [...created.values()].map((c) => c.eventAt - eventAt).sort((a, b) => a - b);
    const all = created.size === ids.length && ids.length === VENS;
    const last = acks[acks.length - 1] ?? Number.NaN;
    const wall = last / 1000;
    const used = { vtn: cpu1.vtn - cpu0.vtn, prosody: cpu1.prosody - cpu0.prosody, vens: cpu1.vens - cpu0.vens };
    const total = used.vtn + used.prosody + used.vens;
    const share = (x: number): string => `${fmt(x, 2)} s (${fmt((100 * x) / total)} %)`;
    if (errors.length > before) console.log(`  errors the VENs reported during the fan-out (first ones): ${errors.slice(before, before + 3).join(' | ')}`);
    console.log(`  event for ${fmt(ids.length)} VENs created through POST /api/v1/events in ${fmt(createMs)} ms (stored, queued for each VEN)`);
    console.log(
      `  every VEN had its event and the VTN acknowledged its oadrCreatedEvent: ${all ? 'yes' : `NO (${fmt(created.size)} of ${fmt(VENS)})`}; from the event request: ` +
        `oadrDistributeEvent p50 ${fmt((events[Math.floor(events.length / 2)] ?? 0) / 1000, 2)} s, last ${fmt((events[events.length - 1] ?? 0) / 1000, 2)} s; ` +
        `oadrCreatedEvent acknowledged p50 ${fmt((acks[Math.floor(acks.length / 2)] ?? 0) / 1000, 2)} s, last ${fmt(wall, 2)} s`,
    );
    console.log(`  CPU during the fan-out (${fmt(wall, 2)} s wall, /proc): VTN ${share(used.vtn)}, Prosody ${share(used.prosody)}, the ${PROCS + 1} VEN processes ${share(used.vens)}; load average now ${loadavg()[0]?.toFixed(1)}`);
    const perVenRss = (rss1 - rss0) / ids.length;
    console.log(
      `  VTN RSS (lowest over 2 s, idle): ${fmt(rss0 / 2 ** 20, 1)} MiB with ${WARM} warm-up VENs, ${fmt(rss1 / 2 ** 20, 1)} MiB with ${fmt(ids.length + WARM)} connected and registered → ` +
        `${fmt(perVenRss / 1024, 2)} KiB per VEN (registration included); ${fmt(rssAfter / 2 ** 20, 1)} MiB right after the fan-out`,
    );
    console.log(`  targets: every VEN within ${TARGET.lastMs / 1000} s: ${all && last <= TARGET.lastMs ? 'met' : 'MISSED'} (${fmt(wall, 2)} s); < 1 KiB VTN RSS per connected VEN: see the pull reference below for what registration alone costs`);
    figures.push({
      id: 'xmpp-fanout.last',
      label: `${fmt(VENS)} XMPP VENs, one event: the VTN has acknowledged the last oadrCreatedEvent, from the event request`,
      value: wall,
      unit: 's',
      better: 'lower',
      detail: all ? `every VEN; CPU VTN ${fmt(used.vtn, 2)} s, Prosody ${fmt(used.prosody, 2)} s` : `only ${fmt(created.size)} of ${fmt(VENS)} VENs`,
      target: TARGET.lastMs / 1000,
    });

    for (const s of swarms) s.proc.kill('SIGKILL');
    await vtn.stop();
    vtn = undefined;

    if (args['no-pull'] !== true) {
      console.log(`\n### reference in this run: HTTP pull, ${fmt(VENS)} VENs, poll interval 10 s (bench/support/pull-fanout.ts)`);
      const pull = await pullFanout({ work, vens: VENS });
      console.log(`  XMPP push / HTTP pull, time until the last VEN has its event: ${fmt(last / pull.lastMs, 3)} (${fmt(wall, 2)} s / ${fmt(pull.lastMs / 1000, 2)} s)`);
      console.log(`  VTN RSS per VEN, XMPP (connected) − HTTP pull (registered): ${fmt((perVenRss - pull.rssPerVenBytes) / 1024, 2)} KiB: what being connected over XMPP adds (target < 1 KiB)`);
      figures.push({ id: 'xmpp-fanout.rss-per-ven', label: 'VTN RSS per VEN connected over XMPP, beyond a registered pull VEN', value: (perVenRss - pull.rssPerVenBytes) / 1024, unit: 'KiB', better: 'lower', target: 1 });
    }
  } finally {
    for (const s of swarms) s.proc.kill('SIGKILL');
    await vtn?.stop();
    await prosody.stop();
    agent.destroy();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  reportFigures(figures);
}

await main();
