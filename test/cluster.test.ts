/**
 * A VTN cluster: three VTN processes (vtn/testing/cluster-vtn.ts) on one PostgreSQL started for
 * this file, behind a round-robin HTTP proxy of ours, without a ledger. Real VENs (ours) register,
 * poll and answer through the proxy, so consecutive requests of one VEN reach different processes;
 * an event created on one process reaches them at their next polls; the admin API of every process
 * shows the same fleet. A report sent to two processes at once is recorded once; a process
 * SIGKILLed mid-request (its intervals committed, its answer not sent) costs the VEN one retry,
 * answered by another process, with the intervals recorded once; a process whose database
 * connections are cut serves again at the next request.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Payload } from '../oadr/index.ts';
import { startTestPostgres } from '../storage/testing/postgres.ts';
import { createMemoryDevice } from '../ven/testing/memory-device.ts';
import { createVen, type Ven } from '../ven/ven.ts';
import { createPostgresStore } from '../vtn/store/postgres-store.ts';
import { call, post, registerVen, ven } from '../vtn/testing/fake-ven.ts';
import { enrolUsageReporter, usageReport } from '../vtn/testing/usage-report.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '../vtn/testing/round-robin-proxy.ts';
import { until } from './support/until.ts';
import { startVtnChild, type VtnChild } from './support/vtn-child.ts';

const CHILD = fileURLToPath(new URL('../vtn/testing/cluster-vtn.ts', import.meta.url));
const TOKEN = 'cluster-test-operator-token-0123456789';

const pg = await startTestPostgres();
after(() => pg.stop());

type Process = VtnChild;

const startProcess = (store: string, mark: string | undefined): Promise<Process> => startVtnChild(CHILD, [store, ...(mark === undefined ? [] : [mark])], { ...process.env, OADR_ADMIN_TOKEN: TOKEN });

interface Cluster {
  readonly store: string;
  readonly processes: readonly Process[];
  readonly proxy: RoundRobinProxy;
  readonly dir: string;
}

async function startCluster(t: TestContext, n: number, o: { readonly crashOnce?: boolean; readonly proxied?: readonly number[] } = {}): Promise<Cluster> {
  const store = pg.createDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'oadr-cluster-'));
  const mark = o.crashOnce === true ? join(dir, 'crashed') : undefined;
  // The first process applies the migrations; the others start on the same schema at once.
  const first = await startProcess(store, mark);
  const processes = [first, ...(await Promise.all(Array.from({ length: n - 1 }, () => startProcess(store, mark))))];
  const behind = o.proxied ?? processes.map((_, i) => i);
  const proxy = await startRoundRobinProxy(behind.map((i) => processes[i]!.url), { keepBodies: true });
  t.after(async () => {
    await proxy.close();
    for (const p of processes) {
      if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGTERM');
      await p.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, processes, proxy, dir };
}

async function admin(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

test('cluster: three processes serve one fleet: registrations, events, opt state and the admin API agree; an event created on a process no VEN talks to reaches the VENs polling the others through the proxy', { timeout: 240_000 }, async (t) => {
  // The VENs reach processes 1 and 2 in turn; process 0 serves only the admin API.
  const c = await startCluster(t, 3, { proxied: [1, 2] });
  const dir = mkdtempSync(join(tmpdir(), 'oadr-cluster-vens-'));
  const vens: Ven[] = [];
  t.after(async () => {
    for (const v of vens) await v.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  for (const name of ['house-1', 'house-2']) {
    const v = await createVen({ vtnUrl: c.proxy.url, venName: name, device: createMemoryDevice(), dataDir: join(dir, name), tickMs: 3_600_000, backoff: { initialMs: 20, capMs: 200 }, random: () => 0.5 });
    vens.push(v);
    await v.start();
    await v.session.whenOperational();
  }
  const venIds = vens.map((v) => v.status().registration?.venId ?? '');
  for (const p of c.processes) {
    const listed = (await admin(p.url, 'GET', '/vens')).json as Array<{ venId: string }>;
    assert.deepEqual(listed.map((x) => x.venId).sort(), [...venIds].sort(), `${p.url} lists the fleet`);
  }
  // Created on process 0, which no VEN talks to.
  const start = new Date(Date.now() + 3_600_000).toISOString();
  const created = await admin(c.processes[0]!.url, 'POST', '/events', { eventId: 'cluster-1', programId: 'lab', start, slots: 1, perVenReductionW: { [venIds[0]!]: 500, [venIds[1]!]: 700 } });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  await until('both VENs to have the event', () => vens.every((v) => v.status().events.events['cluster-1'] !== undefined), 60_000);
  // Their oadrCreatedEvent (opt state) went through the proxy too: every process shows it.
  await until('the opt answers to be stored', async () => {
    const view = (await admin(c.processes[2]!.url, 'GET', '/events/cluster-1')).json as { vens: Array<{ venId: string; optType?: string }> };
    return view.vens.length === 2 && view.vens.every((x) => x.optType !== undefined);
  }, 60_000);
  const views = await Promise.all(c.processes.map(async (p) => JSON.stringify(((await admin(p.url, 'GET', '/events/cluster-1')).json as { vens: unknown }).vens)));
  assert.equal(new Set(views).size, 1, 'every process shows the same per-VEN state');
  const polled = new Set(c.proxy.requests().filter((r) => r.path.endsWith('/OadrPoll')).map((r) => r.backend));
  assert.deepEqual([...polled].sort(), [0, 1], 'the polls reached both proxied processes');
});

const SLOT = 900_000;
const SLOT_START = Math.floor(Date.now() / SLOT) * SLOT - SLOT;
const VALUES = Array.from({ length: 90 }, (_, i) => 1000 + (i % 3) * 100);

const updateReport = (venId: string, reportRequestId: string): Payload => usageReport(venId, reportRequestId, SLOT_START, VALUES);
const enrol = (url: string) => enrolUsageReporter(url);

/** What the cluster stored of the VEN's telemetry, read through a store of the test's own. */
function storedTelemetry(t: TestContext, store: string, venId: string): { points: number; reports: number } {
  const s = createPostgresStore({ url: store });
  t.after(() => s.close());
  return { points: s.listTelemetryPoints(venId).length, reports: s.listTelemetry(venId).length };
}

test('cluster: the same report sent to two processes at once (a retry after a time-out) is recorded once', { timeout: 240_000 }, async (t) => {
  const c = await startCluster(t, 3);
  const { venId, reportRequestId } = await enrol(c.proxy.url);
  const report = updateReport(venId, reportRequestId);
  const answers = await Promise.all([1, 2].map((i) => call(c.processes[i]!.url, 'EiReport', report, 'UpdatedReport')));
  assert.deepEqual(answers.map((a) => a.response.code), [200, 200], 'both acknowledged');
  assert.deepEqual(storedTelemetry(t, c.store, venId), { points: VALUES.length, reports: 1 });
});

test('cluster: a process SIGKILLed mid-request (intervals committed, no answer sent): the VEN\'s retry is answered by another process, the intervals are recorded once', { timeout: 240_000 }, async (t) => {
  const c = await startCluster(t, 3, { crashOnce: true });
  const { venId, reportRequestId } = await enrol(c.proxy.url);
  const report = updateReport(venId, reportRequestId);
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 6; attempt++) {
    const r = await post(c.proxy.url, 'EiReport', report).catch(() => undefined);
    statuses.push(r?.status ?? 0);
    if (r?.status === 200 && r.payload?.type === 'UpdatedReport') break;
  }
  assert.equal(statuses.at(-1), 200, `answered at last (${statuses.join(', ')})`);
  assert.ok(statuses.length >= 2, `the first attempt died with its process (${statuses.join(', ')})`);
  const killed = await Promise.all(c.processes.map((p) => Promise.race([p.exited, new Promise((r) => setTimeout(() => r('running'), 100))])));
  assert.deepEqual(killed.filter((k) => k === 'SIGKILL').length, 1, `one process died by SIGKILL (${killed.join(', ')})`);
  assert.deepEqual(storedTelemetry(t, c.store, venId), { points: VALUES.length, reports: 1 });
});

test('cluster: processes whose database connections are cut serve again at the next request', { timeout: 240_000 }, async (t) => {
  const c = await startCluster(t, 2);
  const { venId } = await registerVen(c.proxy.url, 'house-1');
  const name = c.store.split('/').pop() ?? '';
  pg.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`);
  for (const p of c.processes) {
    await until(`${p.url} to answer a poll again`, async () => (await post(p.url, 'OadrPoll', ven.poll(venId)).catch(() => undefined))?.payload?.type === 'Response', 30_000);
    assert.equal((await fetch(`${p.url}/readyz`)).status, 200);
  }
});
