/**
 * The soak of the VTN → ledger path: a fleet of simulated VENs (default 1,000, in this process)
 * sends usage telemetry over real HTTP to the real command (`oadr-ledger vtn --insecure-http`, its
 * store and the embedded ledger in a temporary directory, registration policy `open`), while the
 * VTN is SIGKILLed at random moments and started again. At the end it prints what the VTN
 * acknowledged against what is on the ledger: every acknowledged interval must be there once —
 * zero lost, zero doubled. Not part of `npm run bench` (it runs for half an hour) nor of CI.
 *
 *   node bench/soak.ts [--minutes 30] [--vens 1000] [--report-every-s 20] [--kill-every-s 45] [--poll-every-s 60]
 *
 * Each VEN reports one contract slot (15 minutes) per oadrUpdateReport: 15 intervals of 1 minute,
 * values base, base + 100, base + 200 in turn, so the slot's average is base + 100 W exactly; its
 * slots walk forward from some hours in the past, one per report. A report that gets no 200 (the
 * VTN was killed before or after storing it) is sent again, unchanged, until it does — the VEN's
 * outbox is at-least-once — after 1 s, doubling to 30 s (jittered), as the VEN's outbox backs off. Kills come every `--kill-every-s` on average (uniformly 1/3 to 5/3 of
 * it); the VTN is restarted at once, on the same port, through its start-up checks.
 *
 * After the last minute no new report is started; pending ones are sent until acknowledged, the
 * outbox of ledger work drains, and the VTN stops cleanly. Then, with the stores closed: intervals
 * acknowledged, held in the VTN store, held by the mapping's accumulator; slots acknowledged and
 * slots on the ledger (queryEnergyValue) with exactly the expected average. Lost = acknowledged
 * slots the ledger lacks or holds with another value; doubled = intervals held more than once,
 * or a slot whose average moved. Exits 1 unless both are 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Payload, ReportInterval } from '../oadr/index.ts';
import { MAPPING_STORE_FILE } from '../ledger-bridge/index.ts';
import { openVtnLedger } from '../vtn/ledger/embedded.ts';
import { call, post, registerVen, ven } from '../vtn/testing/fake-ven.ts';
import { countRows as count } from '../test/support/count-rows.ts';
import { freePort } from './support/free-port.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string' },
    vens: { type: 'string' },
    'report-every-s': { type: 'string' },
    'kill-every-s': { type: 'string' },
    'poll-every-s': { type: 'string' },
    keep: { type: 'boolean' },
  },
});
const MINUTES = Number(args.minutes ?? 30);
const VENS = Number(args.vens ?? 1000);
const REPORT_EVERY_MS = Number(args['report-every-s'] ?? 20) * 1000;
const KILL_EVERY_MS = Number(args['kill-every-s'] ?? 45) * 1000;
const POLL_EVERY_MS = Number(args['poll-every-s'] ?? 60) * 1000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'cli', 'oadr-ledger.js');
const SLOT = 900_000;
const STEP = 60_000;
const PER_SLOT = SLOT / STEP;
/** Enough past slots for every report of the run, plus a margin; they stay within the last 48 h. */
const SLOTS_BACK = Math.min(180, Math.ceil((MINUTES * 60_000) / REPORT_EVERY_MS) + 8);
const FIRST_SLOT = Math.floor(Date.now() / SLOT) * SLOT - SLOTS_BACK * SLOT;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (s: string): void => console.log(`${new Date().toISOString().slice(11, 19)} ${s}`);

// ---- the VTN: the real command in a child process ------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'oadr-soak-'));
const dataDir = join(work, 'data');
const configFile = join(work, 'vtn.json');
writeFileSync(configFile, JSON.stringify({ registrationPolicy: 'open', programs: [{ id: 'soak', reportGranularityMs: STEP, reportBackDurationMs: SLOT }] }));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;

let vtn: { proc: ChildProcess; exited: Promise<void> } | undefined;

/** /healthz on a connection of its own (not queued behind the fleet's requests). */
function healthy(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/healthz`, { agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
let starts = 0;
let startMs = 0;

async function startVtn(): Promise<void> {
  const t0 = Date.now();
  const proc = spawn(process.execPath, [CLI, 'vtn', '--insecure-http', '--config', configFile, '--data-dir', dataDir, '--port', String(port)], {
    env: { ...process.env, OADR_ADMIN_TOKEN: 'soak-admin-token-0123456789abcdef' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < 20_000) stderr += c.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  vtn = { proc, exited };
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the VTN exited with ${proc.exitCode} at start ${starts + 1}:\n${stderr}`);
    if (await healthy()) break;
    if (Date.now() - t0 > 900_000) throw new Error(`the VTN did not answer /healthz within 15 minutes:\n${stderr}`);
    await sleep(100);
  }
  starts++;
  startMs += Date.now() - t0;
}

async function killVtn(signal: NodeJS.Signals): Promise<void> {
  if (vtn === undefined) return;
  vtn.proc.kill(signal);
  await vtn.exited;
  vtn = undefined;
}

// ---- the fleet -----------------------------------------------------------------------------

interface SimVen {
  readonly index: number;
  readonly customerId: string;
  readonly venId: string;
  readonly reportRequestId: string;
  /** The next slot to report (index from FIRST_SLOT). */
  next: number;
  /** Slots acknowledged with 200. */
  readonly acked: number[];
}

const base = (v: SimVen, k: number): number => 300 + ((v.index * 31 + k * 17) % 97) * 10;

function updateReport(v: SimVen, k: number): Payload {
  const slotStart = FIRST_SLOT + k * SLOT;
  const b = base(v, k);
  const intervals: ReportInterval[] = Array.from({ length: PER_SLOT }, (_, i) => ({
    dtstart: new Date(slotStart + i * STEP).toISOString(),
    duration: 'PT1M',
    uid: String(i),
    payloads: [{ rId: 'usage', value: { type: 'float', value: b + (i % 3) * 100 } }],
  }));
  return {
    type: 'UpdateReport',
    schemaVersion: '2.0b',
    requestId: `up-${v.index}-${k}`,
    venId: v.venId,
    reports: [{ dtstart: new Date(slotStart).toISOString(), intervals, reportRequestId: v.reportRequestId, reportSpecifierId: 'rs-1', reportName: 'TELEMETRY_USAGE', createdDateTime: new Date().toISOString() }],
  };
}

async function enrolFleet(): Promise<SimVen[]> {
  const fleet = new Array<SimVen>(VENS);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < VENS) {
      const index = next++;
      const customerId = `soak-${String(index).padStart(4, '0')}`;
      const { venId } = await registerVen(url, customerId);
      const registered = await call(url, 'EiReport', ven.telemetryMetadata(venId, { minPeriod: 'PT1M' }), 'RegisteredReport');
      const reportRequestId = registered.reportRequests?.[0]?.reportRequestId;
      if (reportRequestId === undefined) throw new Error(`no TELEMETRY_USAGE request for ${customerId}`);
      fleet[index] = { index, customerId, venId, reportRequestId, next: 0, acked: [] };
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return fleet;
}

const counts = { sent: 0, acked: 0, failed: 0, polls: 0 };
let stopping = false;

/** One VEN: a report per REPORT_EVERY_MS (jittered), each sent until acknowledged; a poll now and then. */
async function runVen(v: SimVen): Promise<void> {
  await sleep(Math.random() * REPORT_EVERY_MS);
  let lastPoll = Date.now() - Math.random() * POLL_EVERY_MS;
  while (!stopping) {
    const k = v.next;
    if (FIRST_SLOT + (k + 1) * SLOT > Date.now()) break; // reached the present
    const payload = updateReport(v, k);
    for (let attempt = 0; ; attempt++) {
      counts.sent++;
      const r = await post(url, 'EiReport', payload).catch(() => undefined);
      if (r?.status === 200 && r.payload?.type === 'UpdatedReport' && r.payload.response.code === 200) break;
      if (r?.status === 200 && r.payload !== undefined) throw new Error(`${v.customerId}: the VTN refused a report: ${JSON.stringify(r.payload).slice(0, 300)}`);
      counts.failed++;
      // As the VEN's outbox: 1 s doubling to a 30 s cap, jittered.
      await sleep(Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
    }
    v.acked.push(k);
    v.next++;
    counts.acked++;
    if (POLL_EVERY_MS > 0 && Date.now() - lastPoll >= POLL_EVERY_MS) {
      lastPoll = Date.now();
      counts.polls++;
      await post(url, 'OadrPoll', ven.poll(v.venId)).catch(() => undefined);
    }
    await sleep(REPORT_EVERY_MS * (0.5 + Math.random()));
  }
}

// ---- the run -------------------------------------------------------------------------------

log(`soak: ${VENS} VENs, ${MINUTES} min, a report per VEN every ${REPORT_EVERY_MS / 1000} s, a SIGKILL every ~${KILL_EVERY_MS / 1000} s; data in ${dataDir}`);
log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
// A failure of the run itself (the VTN does not come back) ends it: the VTN and the fleet's retries with it.
process.on('uncaughtException', (err) => {
  console.error(`soak: ${err.stack ?? String(err)}`);
  vtn?.proc.kill('SIGKILL');
  process.exit(2);
});
await startVtn();
const fleet = await enrolFleet();
log(`${fleet.length} VENs registered with their usage reports`);

const runEnd = Date.now() + MINUTES * 60_000;
const vens = Promise.all(fleet.map(runVen));
let kills = 0;
const loads: number[] = [];
while (Date.now() < runEnd) {
  const wait = KILL_EVERY_MS * (1 / 3 + (4 / 3) * Math.random());
  await sleep(Math.min(wait, Math.max(0, runEnd - Date.now())));
  loads.push(loadavg()[0] ?? 0);
  if (Date.now() >= runEnd) break;
  await killVtn('SIGKILL');
  kills++;
  await startVtn();
  log(`kill ${kills}: restarted; ${counts.acked} slots acknowledged, ${counts.failed} sends failed so far`);
}
stopping = true;
await vens;
log(`fleet stopped: ${counts.acked} slots acknowledged (${counts.sent} sends, ${counts.failed} failed, ${counts.polls} polls)`);

const vtnStore = join(dataDir, 'vtn.sqlite');
const mappingStore = join(dataDir, MAPPING_STORE_FILE);
const drainEnd = Date.now() + 600_000;
while (count(vtnStore, 'SELECT count(*) AS n FROM ledger_outbox') > 0 || count(mappingStore, 'SELECT count(*) AS n FROM slots WHERE dirty = 1 AND covered >= end_ms - start_ms') > 0) {
  if (Date.now() > drainEnd) throw new Error('the outbox of ledger work did not drain within 10 minutes');
  await sleep(500);
}
await killVtn('SIGTERM');

const ackedSlots = fleet.reduce((n, v) => n + v.acked.length, 0);
const ackedIntervals = ackedSlots * PER_SLOT;
const inVtnStore = count(vtnStore, "SELECT count(*) AS n FROM telemetry_points WHERE r_id = 'usage'");
const inMapping = count(mappingStore, 'SELECT count(*) AS n FROM samples');
const l = await openVtnLedger({ dataDir });
let onLedger = 0;
let lost = 0;
let moved = 0;
let extra = 0;
try {
  const slotOf = new Map<number, { day: string; slot: number }>();
  for (let k = 0; k < SLOTS_BACK; k++) slotOf.set(k, await l.mapping.slotOf(FIRST_SLOT + k * SLOT));
  const days = [...new Set([...slotOf.values()].map((s) => s.day))];
  for (const v of fleet) {
    const values = new Map<string, Array<number | null>>();
    for (const day of days) {
      const text = await l.ledger.evaluate(l.identities.operator, 'queryEnergyValue', [v.customerId, day]).catch(() => '{}');
      values.set(day, (JSON.parse(text) as { values?: Array<number | null> }).values ?? []);
    }
    const acked = new Set(v.acked);
    for (let k = 0; k < SLOTS_BACK; k++) {
      const at = slotOf.get(k) as { day: string; slot: number };
      const w = values.get(at.day)?.[at.slot] ?? null;
      if (!acked.has(k)) {
        if (w !== null) extra++;
        continue;
      }
      if (w === null) lost++;
      else if (w !== base(v, k) + 100) moved++;
      else onLedger++;
    }
  }
} finally {
  await l.close();
}
const doubled = Math.max(0, inVtnStore - ackedIntervals) + Math.max(0, inMapping - ackedIntervals) + moved;
const meanLoad = loads.length === 0 ? loadavg()[0] ?? 0 : loads.reduce((a, b) => a + b, 0) / loads.length;
console.log('');
console.log(`soak ${new Date().toISOString()}: ${MINUTES} min, ${VENS} VENs, ${kills} SIGKILLs of the VTN (${starts} starts, ${(startMs / starts / 1000).toFixed(1)} s to /healthz on average), mean 1-min load ${meanLoad.toFixed(2)}`);
console.log(`acknowledged: ${ackedSlots} slots = ${ackedIntervals} intervals (${counts.sent} sends, ${counts.failed} without a 200)`);
console.log(`VTN store: ${inVtnStore} intervals; mapping accumulator: ${inMapping} intervals`);
console.log(`ledger: ${onLedger} of ${ackedSlots} acknowledged slots with exactly their average; lost ${lost}, average moved ${moved}, recorded but never acknowledged ${extra}`);
console.log(`RESULT lost=${lost + Math.max(0, ackedIntervals - inMapping)} doubled=${doubled}`);
if (args.keep !== true) rmSync(work, { recursive: true, force: true });
else log(`kept ${work}`);
process.exitCode = lost === 0 && doubled === 0 && inMapping >= ackedIntervals ? 0 : 1;
