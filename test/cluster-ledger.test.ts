/**
 * A VTN cluster with the ledger: three `oadr-ledger vtn --store postgres://… --ledger fabric`
 * processes (vtn/testing/cluster-ledger-vtn.ts) on one PostgreSQL started for this file, sharing a
 * Fabric network — `oadr-ledger ledger serve` in a child process, a real Fabric Gateway over gRPC
 * and TLS — behind a round-robin HTTP proxy of ours, every process on one clock the test moves.
 *
 * A real VEN (ours) polls and reports through the proxy, so its requests reach every process in
 * turn: an event created on one process (its allocation from the ledger) reaches the VEN with its
 * customer's OPR, the VEN opts in and sheds, its minute reports — acknowledged by whichever process
 * got them — reach the ledger once, through the ledger outbox that only the lease holder drains.
 * The lease holder is SIGKILLed just after the ledger took a batch of its work (the outbox rows
 * still there): the lease moves to another process, which sends that work again and everything
 * after it. The slots recorded, the opt answer, the settlement and the tokens are those of a
 * single-process run of the same scenario on the embedded ledger.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { addDaysUtc, EVENT_DAY, profile } from '../chaincode/testing/reference-scenario.ts';
import { issueClientIdentity } from '../ledger-bridge/index.ts';
import { startLedgerServeChild } from '../ledger-bridge/testing/ledger-serve-child.ts';
import { startTestPostgres } from '../storage/testing/postgres.ts';
import { createMemoryDevice } from '../ven/testing/memory-device.ts';
import { createVen } from '../ven/ven.ts';
import { connectionProfile, writeFabricVtnFiles } from '../vtn/testing/fabric-vtn.ts';
import { tickMinutes } from '../vtn/testing/ledger-vtn.ts';
import { startRoundRobinProxy } from '../vtn/testing/round-robin-proxy.ts';
import { until } from './support/until.ts';
import { startVtnChild, type VtnChild } from './support/vtn-child.ts';

const CHILD = fileURLToPath(new URL('../vtn/testing/cluster-ledger-vtn.ts', import.meta.url));
const TOKEN = 'cluster-ledger-test-operator-token-0123456789';
const MIN = 60_000;
const A = 'smartmeter:A';
const EVENT = 'ev-cluster';
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`); // 17:00 in Rome: slots 68–71

const pg = await startTestPostgres();
after(() => pg.stop());

function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The clock every process of a run reads (a file) and the VEN's. Each time is written to a file
 * beside it and renamed over it: a process reading while the test moves the clock gets the old
 * time or the new one, never the empty file a write in place leaves between its truncation and its
 * write (read as 0: a process at 1970 for a moment — a ledger transaction of that day refused).
 */
function fileClock(dir: string, start: number) {
  const file = join(dir, 'clock');
  let ms = start;
  const write = (): void => {
    writeFileSync(`${file}.next`, String(ms));
    renameSync(`${file}.next`, file);
  };
  write();
  return {
    file,
    now: () => ms,
    set(to: number) {
      ms = to;
      write();
    },
    advance(by: number) {
      this.set(ms + by);
    },
  };
}

async function admin(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

interface Run {
  readonly processes: readonly VtnChild[];
  readonly clock: ReturnType<typeof fileClock>;
  readonly dir: string;
}

/** Starts `args.length` VTN processes (one argument list each) on one clock, behind the proxy. */
async function startRun(t: TestContext, dir: string, args: ReadonlyArray<readonly string[]>, crash?: { readonly mark: string; readonly after: number }): Promise<Run> {
  const clock = fileClock(dir, START - 10 * MIN);
  const start = (a: readonly string[]) => startVtnChild(CHILD, [clock.file, crash?.mark ?? '-', String(crash?.after ?? 0), '--', ...a], { ...process.env, OADR_ADMIN_TOKEN: TOKEN });
  // The first process applies the migrations; the others start on the same schema at once.
  const first = await start(args[0]!);
  const processes = [first, ...(await Promise.all(args.slice(1).map(start)))];
  t.after(async () => {
    for (const p of processes) {
      if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGTERM');
      await p.exited;
    }
  });
  return { processes, clock, dir };
}

const alive = (p: VtnChild): boolean => p.proc.exitCode === null && p.proc.signalCode === null;

/**
 * The event day of customer A through the processes of `run`: history imported, the real VEN
 * registered through the proxy, an event of 300/300/400/400 W from 17:00 created on the last
 * process, opted into, shed (the device at 250 W), reported minute by minute; settled the next
 * morning (after `beforeSettle`). What ended on the ledger.
 */
async function eventDay(t: TestContext, run: Run, beforeSettle?: () => Promise<void>) {
  const { processes, clock, dir } = run;
  const proxy = await startRoundRobinProxy(processes.map((p) => p.url));
  t.after(() => proxy.close());
  // The admin API of the first process still running. The SIGKILLed one refuses connections (or
  // drops one it had) before this process has seen its exit, or as it sees it: once the exit is
  // seen, the request goes to the next. A connection failure of a process that does not exit
  // fails the test.
  const live = async (method: string, path: string, body?: unknown): ReturnType<typeof admin> => {
    for (;;) {
      const p = processes.find(alive);
      if (p === undefined) throw new Error('no process of the run is running');
      try {
        return await admin(p.url, method, path, body);
      } catch (err) {
        if (!(err instanceof TypeError)) throw err;
        await Promise.race([p.exited, new Promise((_, reject) => setTimeout(() => reject(err), 10_000))]);
      }
    }
  };
  // Under load a ledger submission may miss its deadline: 503 with Retry-After, sent again as a
  // client would (the history import and settlement write the same values again).
  const resent = async (send: () => ReturnType<typeof admin>): ReturnType<typeof admin> => {
    let answer = await send();
    for (const end = Date.now() + 240_000; answer.status === 503 && Date.now() < end; answer = await send()) await new Promise((r) => setTimeout(r, 1000));
    return answer;
  };
  const first = processes[0]!.url;
  assert.equal((await admin(first, 'POST', '/customers', { customerId: A, venName: 'house-a' })).status, 201);
  const days = Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(EVENT_DAY, -(i + 1)), valuesWh: profile(1, i + 1).map((w) => w / 4) }));
  const imported = await resent(() => admin(first, 'POST', `/customers/${A}/energy`, { days }));
  assert.equal(imported.status, 200, JSON.stringify(imported.json));

  const ven = await createVen({ vtnUrl: proxy.url, venName: 'house-a', device: createMemoryDevice(undefined, 250), dataDir: join(dir, 'ven'), clock: clock.now, tickMs: 3_600_000, reports: { minPeriodMs: MIN }, backoff: { initialMs: 20, capMs: 200 }, random: () => 0.5 });
  t.after(() => ven.stop());
  await ven.start();
  await ven.session.whenOperational();
  const venId = ven.status().registration?.venId ?? '';
  await until('the usage report request', async () => ((await live('GET', `/vens/${venId}/reports`)).json?.requests ?? []).some((r: any) => r.reportName === 'TELEMETRY_USAGE' && r.state === 'active'), 60_000);

  const created = await admin(processes.at(-1)!.url, 'POST', '/events', { eventId: EVENT, start: new Date(START).toISOString(), slots: 4, reductionW: [300, 300, 400, 400], targets: { customerIds: [A] } });
  // 201; under load notifyDRevent may miss its deadline: 202, pending, created by the lease holder's catch-up.
  assert.ok(created.status === 201 || created.status === 202, JSON.stringify(created.json));
  let opr = created.json.vens?.[0]?.oprW as number[] | undefined;
  await until('the event created', async () => (opr ??= (await live('GET', `/events/${EVENT}`)).json?.vens?.[0]?.oprW) !== undefined, 120_000);
  ven.session.pollNow();
  await until('the VEN opts in', async () => (await live('GET', `/events/${EVENT}`).catch(() => undefined))?.json?.vens?.[0]?.optType === 'optIn', 60_000);

  await tickMinutes(ven, clock, START, -5, 76);
  const slotsOf = async () => ((await live('GET', `/customers/${A}/energy?date=${EVENT_DAY}`)).json?.slots ?? []).slice(68, 72) as Array<{ watts: number; source: string }>;
  // The VEN's reports that met the killed process are sent again. Four slots, each measured: a
  // failed read (no slots) is not "every slot measured".
  await until('slots 68–71 measured on the ledger', async () => {
    await ven.flush();
    const read = await slotsOf();
    return read.length === 4 && read.every((s) => s.source === 'measured');
  }, 120_000);
  const slots = (await slotsOf()).map((s) => s.watts);

  clock.set(Date.parse(`${addDaysUtc(EVENT_DAY, 1)}T06:00:00Z`));
  await beforeSettle?.();
  const settled = await resent(() => live('POST', `/events/${EVENT}/settle`));
  assert.equal(settled.status, 200, JSON.stringify(settled.json));
  assert.equal(settled.json.status, 'settled', JSON.stringify(settled.json));
  const part = (await live('GET', `/customers/${A}/events/${EVENT}`)).json;
  const balance = (await live('GET', `/customers/${A}/tokens`)).json?.balance;
  return { opr: opr ?? [], slots, optType: (await live('GET', `/events/${EVENT}`)).json.vens[0].optType, tokensMilli: part.tokensMilli, totalTokensMilli: part.totalTokensMilli, balance };
}

test('cluster with the ledger: three processes on PostgreSQL and a served Fabric ledger, the real VEN through the proxy; the lease holder SIGKILLed with ledger work in flight: the lease moves, every interval reaches the ledger once, the tokens of a single-process embedded run', {
  timeout: 600_000,
}, async (t) => {
  // The reference: one process, SQLite store, the embedded ledger.
  const single = tempDir(t, 'oadr-cluster-ledger-single-');
  const reference = await eventDay(t, await startRun(t, single, [['--data-dir', join(single, 'vtn')]]));
  t.diagnostic(`single process, embedded: OPR ${reference.opr.join('/')} W, slots ${reference.slots.join('/')} W, ${reference.totalTokensMilli} milli-tokens`);

  const dir = tempDir(t, 'oadr-cluster-ledger-');
  const served = join(dir, 'served');
  const ledger = await startLedgerServeChild(t, served);
  const [org1] = await ledger.orgs();
  assert.ok(org1 !== undefined);
  const files = await writeFabricVtnFiles(join(dir, 'fabric'), {
    profile: connectionProfile(ledger.address, { path: ledger.tlsCaPath }, 'mychannel', ledger.hostname),
    operator: await issueClientIdentity(org1, 'vtn-operator', { ID: 'operator:vtn' }),
    org1,
  });
  const store = pg.createDatabase();
  const mark = join(dir, 'crashed');
  const args = [0, 1, 2].map((i) => ['--data-dir', join(dir, `vtn-${i}`), '--store', store, '--ledger', 'fabric', '--fabric-profile', files.profile, '--fabric-identity', files.identity, '--fabric-retailers', files.retailers, '--fabric-wait-for-commit']);
  const run = await startRun(t, dir, args, { mark, after: START + 20 * MIN });
  const db = store.split('/').pop();
  // The measured slots the admin API shows are the VTN store's; settle once the new lease holder has drained them to the ledger.
  const cluster = await eventDay(t, run, () => until('the outbox drained by the lease holder', () => pg.sql('SELECT count(*) FROM ledger_outbox', db).trim() === '0', 120_000));
  t.diagnostic(`cluster on Fabric: OPR ${cluster.opr.join('/')} W, slots ${cluster.slots.join('/')} W, ${cluster.totalTokensMilli} milli-tokens`);

  assert.ok(existsSync(mark), 'the lease holder crashed with ledger work in flight');
  const ends = await Promise.all(run.processes.map((p) => Promise.race([p.exited, new Promise((r) => setTimeout(() => r('running'), 100))])));
  assert.deepEqual(ends.filter((e) => e === 'SIGKILL').length, 1, `one process died by SIGKILL (${ends.join(', ')})`);
  // One process at a time drained the outbox: the killed one, then one of the two others (/metrics counts each process's ledger calls).
  const drained = await Promise.all(run.processes.filter(alive).map(async (p) => Number(/^oadr_vtn_ledger_call_duration_seconds_count\{method="recordTelemetry"\} (\d+)$/m.exec(await (await fetch(`${p.url}/metrics`)).text())?.[1] ?? 0)));
  assert.equal(drained.filter((n) => n > 0).length, 1, `the surviving processes' recordTelemetry calls: ${drained.join(', ')}`);
  assert.equal(pg.sql('SELECT count(*) FROM ledger_outbox', db).trim(), '0', 'the outbox is empty');
  assert.deepEqual(cluster, reference);
});
