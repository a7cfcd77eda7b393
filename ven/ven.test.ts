/**
 * The VEN over real HTTP on loopback against the scripted VTN (ven/testing/scripted-vtn.ts):
 * registration, sync order, polling and draining, retries, re-registration, cancellation, push,
 * events to device actions, and reports through the outbox.
 */
import { test, type TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReportRequest } from '../oadr/index.ts';
import { buildEvent, distribute } from './testing/event-builders.ts';
import { createMemoryDevice, type MemoryDevice } from './testing/memory-device.ts';
import { createScriptedVtn, type ScriptedVtn, type ScriptedVtnOptions } from './testing/scripted-vtn.ts';
import { runVenCommand } from './cli.ts';
import { createVen, type Ven, type VenOptions } from './ven.ts';

interface Rig {
  vtn: ScriptedVtn;
  ven: Ven;
  device: MemoryDevice;
  dir: string;
}

async function rig(t: TestContext, vtnOptions: ScriptedVtnOptions = {}, venOptions: Partial<VenOptions> = {}): Promise<Rig> {
  const vtn = await createScriptedVtn({ pollFreq: 'PT60S', ...vtnOptions });
  const dir = mkdtempSync(join(tmpdir(), 'ven-test-'));
  const device = createMemoryDevice();
  const ven = await createVen({
    vtnUrl: vtn.url,
    venName: 'test-ven',
    device,
    dataDir: dir,
    tickMs: 3_600_000,
    backoff: { initialMs: 20, capMs: 100 },
    random: () => 0.5,
    ...venOptions,
  });
  t.after(async () => {
    await ven.stop();
    await vtn.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { vtn, ven, device, dir };
}

const types = (vtn: ScriptedVtn): string[] => vtn.received.map((r) => r.payload.type);

test('R401+R402+R309+R405 VEN: registers without IDs, stores them, then sends metadata and oadrRequestEvent before polling', async (t: TestContext) => {
  const { vtn, ven } = await rig(t);
  await ven.start();
  await vtn.waitFor((r) => r.some((x) => x.payload.type === 'Poll'));
  const seq = types(vtn);
  t.assert.deepStrictEqual(seq.slice(0, 3), ['CreatePartyRegistration', 'RegisterReport', 'RequestEvent']);
  const create = vtn.of('CreatePartyRegistration')[0];
  t.assert.equal(create?.registrationId, undefined);
  t.assert.equal(create?.httpPullModel, true);
  t.assert.equal(create?.venName, 'test-ven');
  t.assert.deepStrictEqual(ven.status().registration, { venId: 'ven-1', registrationId: 'reg-1', vtnId: 'vtn-1', pollFreqMs: 60_000 });
  const meta = vtn.of('RegisterReport')[0];
  t.assert.deepStrictEqual(meta?.reports?.map((r) => r.reportName), ['METADATA_TELEMETRY_USAGE', 'METADATA_TELEMETRY_STATUS']);
  t.assert.equal(vtn.received.find((r) => r.payload.type === 'RegisterReport')?.service, 'EiReport');
  t.assert.equal(vtn.received.find((r) => r.payload.type === 'Poll')?.service, 'OadrPoll');
});

test('R500 VEN: a poll answered with a payload is followed at once by another poll until oadrResponse', async (t: TestContext) => {
  const { vtn, ven } = await rig(t);
  await ven.start();
  await vtn.waitFor((r) => r.some((x) => x.payload.type === 'Poll'));
  vtn.enqueue(distribute([buildEvent({ id: 'e1', dtstart: new Date(Date.now() + 3_600_000).toISOString() })], 'rq-a'));
  vtn.enqueue(distribute([buildEvent({ id: 'e1', dtstart: new Date(Date.now() + 3_600_000).toISOString() }), buildEvent({ id: 'e2', dtstart: new Date(Date.now() + 7_200_000).toISOString() })], 'rq-b'));
  const before = vtn.of('Poll').length;
  ven.session.pollNow();
  // Poll interval is 60 s: three polls in this window can only be the drain (item 1, item 2, empty).
  await vtn.waitFor(() => vtn.of('Poll').length >= before + 3 && vtn.of('CreatedEvent').length >= 2);
  const created = vtn.of('CreatedEvent');
  t.assert.deepStrictEqual(created.map((c) => c.eventResponses?.map((r) => [r.qualifiedEventId.eventId, r.requestId, r.code, r.optType])), [
    [['e1', 'rq-a', 200, 'optIn']],
    [['e1', 'rq-b', 200, 'optIn'], ['e2', 'rq-b', 200, 'optIn']],
  ]);
  t.assert.equal(vtn.received.find((r) => r.payload.type === 'CreatedEvent')?.service, 'EiEvent');
});

test('§9.1.7 VEN: the VTN answers 503 twice; the VEN backs off and registers', async (t: TestContext) => {
  const { vtn, ven } = await rig(t);
  vtn.failNext(2, 503);
  await ven.start();
  await ven.session.whenOperational();
  t.assert.equal(ven.status().registration?.venId, 'ven-1');
  t.assert.equal(vtn.of('CreatePartyRegistration').length, 1, 'the two failed attempts never reached the payload handler');
});

test('R401 VEN: oadrRequestReregistration by poll -> oadrCreatePartyRegistration with registrationID and venID', async (t: TestContext) => {
  const { vtn, ven } = await rig(t);
  await ven.start();
  await vtn.waitFor((r) => r.some((x) => x.payload.type === 'Poll'));
  vtn.enqueue({ type: 'RequestReregistration', schemaVersion: '2.0b', venId: 'ven-1' });
  ven.session.pollNow();
  await vtn.waitFor(() => vtn.of('CreatePartyRegistration').length >= 2);
  const again = vtn.of('CreatePartyRegistration')[1];
  t.assert.deepStrictEqual([again?.registrationId, again?.venId], ['reg-1', 'ven-1']);
  await vtn.waitFor(() => vtn.of('RegisterReport').length >= 2);
});

test('R407 VEN: oadrCancelPartyRegistration by poll -> oadrCanceledPartyRegistration 200, state cleared, registers anew', async (t: TestContext) => {
  const { vtn, ven } = await rig(t);
  await ven.start();
  await vtn.waitFor((r) => r.some((x) => x.payload.type === 'Poll'));
  vtn.enqueue({ type: 'CancelPartyRegistration', schemaVersion: '2.0b', requestId: 'c-1', registrationId: 'reg-1' });
  ven.session.pollNow();
  await vtn.waitFor(() => vtn.of('CanceledPartyRegistration').length >= 1 && vtn.of('CreatePartyRegistration').length >= 2);
  const canceled = vtn.of('CanceledPartyRegistration')[0];
  t.assert.deepStrictEqual([canceled?.response.code, canceled?.response.requestId, canceled?.registrationId], [200, 'c-1', 'reg-1']);
  t.assert.equal(vtn.of('CreatePartyRegistration')[1]?.registrationId, undefined, 'a fresh registration carries no IDs');
  t.assert.equal(vtn.received.find((r) => r.payload.type === 'CanceledPartyRegistration')?.service, 'EiRegisterParty');
});

test('§8.1+§9.1.5 VEN push: a pushed oadrDistributeEvent gets an empty 200, then oadrCreatedEvent as its own POST; GET -> 501, bad type -> 406', async (t: TestContext) => {
  const { vtn, ven } = await rig(t, {}, { push: { host: '127.0.0.1', port: 0 } });
  await ven.start();
  await ven.session.whenOperational();
  const base = ven.pushUrl();
  t.assert.ok(base !== undefined);
  t.assert.equal(vtn.of('CreatePartyRegistration')[0]?.transportAddress, base);
  t.assert.equal(vtn.of('CreatePartyRegistration')[0]?.httpPullModel, false);
  const pushed = await vtn.push(base, 'EiEvent', distribute([buildEvent({ id: 'p1', dtstart: new Date(Date.now() + 3_600_000).toISOString() })], 'rq-push'));
  t.assert.deepStrictEqual(pushed, { status: 200, body: '' });
  await vtn.waitFor(() => vtn.of('CreatedEvent').some((c) => c.eventResponses?.[0]?.requestId === 'rq-push'));
  t.assert.equal((await vtn.push(base, 'EiEvent', '', 'application/xml', 'GET')).status, 501);
  t.assert.equal((await vtn.push(base, 'EiEvent', distribute([]), 'text/plain')).status, 406);
  t.assert.equal((await vtn.push(base, 'Nope', distribute([]))).status, 404);
  const rereg = await vtn.push(base, 'EiRegisterParty', { type: 'RequestReregistration', schemaVersion: '2.0b', venId: 'ven-1' });
  t.assert.equal(rereg.status, 200);
  t.assert.match(rereg.body, /oadrResponse/);
  await vtn.waitFor(() => vtn.of('CreatePartyRegistration').length >= 2);
});

test('VEN: an active LOAD_DISPATCH delta drives the device, and it is restored when the event is cancelled', async (t: TestContext) => {
  const { vtn, ven, device } = await rig(t);
  const start = new Date(Date.now() - 60_000).toISOString();
  vtn.setEvents([buildEvent({ id: 'live', dtstart: start, duration: 'PT1H', deltas: [-3000, -3000, -3000, -3000] })]);
  await ven.start();
  await vtn.waitFor(() => vtn.of('CreatedEvent').length >= 1);
  t.assert.equal(vtn.of('CreatedEvent')[0]?.eventResponses?.[0]?.optType, 'optIn');
  t.assert.deepStrictEqual(device.commands, [-3000]);
  vtn.enqueue(distribute([buildEvent({ id: 'live', mod: 1, status: 'cancelled', dtstart: start, duration: 'PT1H', deltas: [-3000, -3000, -3000, -3000] })], 'rq-c'));
  ven.session.pollNow();
  await vtn.waitFor(() => vtn.of('CreatedEvent').length >= 2);
  t.assert.deepStrictEqual(device.commands, [-3000, 'normal']);
});

const T0 = Date.parse('2025-06-12T08:00:00.000Z');

/** A registered VEN whose VTN requested minute usage from T0; `clock.now` is the VEN's clock. */
async function usageReporting(t: TestContext) {
  const clock = { now: T0 };
  const req: ReportRequest = {
    reportRequestId: 'rq-usage',
    specifier: { reportSpecifierId: 'TELEMETRY_USAGE', granularity: 'PT1M', reportBackDuration: 'PT2M', reportInterval: { dtstart: new Date(T0).toISOString(), duration: 'PT0S' }, specifierPayloads: [{ rId: 'power', readingType: 'x-notApplicable' }] },
  };
  const { vtn, ven } = await rig(t, { reportRequests: [req] }, { clock: () => clock.now });
  await ven.start();
  await ven.session.whenOperational();
  await vtn.waitFor(() => vtn.of('CreatedReport').length >= 1);
  return { vtn, ven, clock };
}

test('R344+R317 VEN: report requests on oadrRegisteredReport -> oadrCreatedReport with pending IDs, then oadrUpdateReport through the outbox', async (t: TestContext) => {
  const { vtn, ven, clock } = await usageReporting(t);
  const created = vtn.of('CreatedReport')[0];
  t.assert.deepStrictEqual([created?.response.code, created?.pendingReports], [200, ['rq-usage']]);
  for (let m = 1; m <= 4; m++) {
    clock.now = T0 + m * 60_000;
    await ven.tick();
  }
  await ven.flush();
  await vtn.waitFor(() => vtn.of('UpdateReport').length >= 2);
  const intervals = vtn.of('UpdateReport').flatMap((u) => u.reports ?? []).flatMap((r) => (r.intervals ?? []).map((_, i) => Date.parse(r.dtstart ?? '') + i * 60_000));
  t.assert.deepStrictEqual(intervals, [T0, T0 + 60_000, T0 + 120_000, T0 + 180_000]);
  t.assert.equal(ven.status().outboxPending, 0, 'acknowledged intervals leave the outbox');
});

test('R317 VEN: intervals produced while the VTN refuses every request stay in the outbox, and all arrive once it answers again', async (t: TestContext) => {
  const { vtn, ven, clock } = await usageReporting(t);
  vtn.failNext(Number.MAX_SAFE_INTEGER, 503);
  for (let m = 1; m <= 4; m++) {
    clock.now = T0 + m * 60_000;
    await ven.tick();
    await ven.flush(); // every attempt is answered 503
  }
  t.assert.deepStrictEqual(vtn.of('UpdateReport'), [], 'nothing got through');
  t.assert.equal(ven.status().outboxPending, 4, 'every interval is kept');
  vtn.failNext(0);
  // The outbox backs off after each failure (on the VEN's clock): the next delivery is due at retryAt.
  const retryAt = ven.status().delivery.retryAt;
  t.assert.ok(retryAt !== undefined && retryAt > clock.now, 'backing off');
  clock.now = retryAt;
  await ven.flush();
  await vtn.waitFor(() => vtn.of('UpdateReport').flatMap((u) => u.reports ?? []).flatMap((r) => r.intervals ?? []).length >= 4);
  const intervals = vtn.of('UpdateReport').flatMap((u) => u.reports ?? []).flatMap((r) => (r.intervals ?? []).map((_, i) => Date.parse(r.dtstart ?? '') + i * 60_000));
  t.assert.deepStrictEqual(intervals, [T0, T0 + 60_000, T0 + 120_000, T0 + 180_000]);
  t.assert.equal(ven.status().outboxPending, 0);
});

/** A logger that keeps every record, as pino would receive it. */
function recording() {
  const records: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void records.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
  return { records, log: { info: at('info'), warn: at('warn'), debug: at('debug') } };
}

test('VEN: while an event runs, one status line per 15-minute slot with the power target, the measured power and the state of charge', async (t: TestContext) => {
  const rec = recording();
  const T = Date.parse('2025-06-13T06:00:00.000Z');
  const clock = { now: T - 60_000 };
  const { vtn, ven, device } = await rig(t, {}, { clock: () => clock.now, log: rec.log });
  vtn.setEvents([buildEvent({ id: 'live', dtstart: new Date(T).toISOString(), duration: 'PT30M', deltas: [-300, -500] })]);
  await ven.start();
  await vtn.waitFor(() => vtn.of('CreatedEvent').length >= 1);
  const lines = () => rec.records.filter((r) => r.level === 'info' && r.msg.startsWith('event live slot'));
  await ven.tick();
  t.assert.equal(lines().length, 0, 'nothing before the event');
  for (const m of [0, 1, 7, 14, 15, 16, 29]) {
    clock.now = T + m * 60_000;
    if (m === 16) device.set({ socPct: 57.25 });
    await ven.tick();
  }
  clock.now = T + 31 * 60_000;
  await ven.tick();
  const got = lines();
  t.assert.deepStrictEqual(got.map((r) => r.msg), [
    'event live slot 06:00 UTC: target -300 W, measured 0 W, state of charge 60.0 %',
    'event live slot 06:15 UTC: target -500 W, measured -300 W, state of charge 60.0 %',
  ]);
  t.assert.deepStrictEqual(got.map((r) => [r.obj.eventId, r.obj.interval, r.obj.targetW, r.obj.socPct]), [['live', 0, -300, 60], ['live', 1, -500, 60]]);
  t.assert.deepStrictEqual(device.commands, [-300, -500, 'normal']);
});

test('VEN: a retry after a failed exchange logs one line without a stack trace', async (t: TestContext) => {
  const rec = recording();
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const dir = mkdtempSync(join(tmpdir(), 'ven-test-'));
  const ven = await createVen({ vtnUrl: `http://127.0.0.1:${port}/`, venName: 'v', device: createMemoryDevice(), dataDir: dir, tickMs: 3_600_000, backoff: { initialMs: 5, capMs: 20 }, random: () => 0.5, log: rec.log });
  t.after(async () => {
    await ven.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await ven.start();
  const retries = () => rec.records.filter((r) => r.level === 'warn' && r.obj.kind === 'unreachable');
  while (retries().length < 3) await new Promise((r) => setTimeout(r, 20));
  for (const r of retries()) {
    t.assert.equal('err' in r.obj, false, `no error object (its stack) in: ${r.msg}`);
    t.assert.match(String(r.obj.detail), /cannot reach the VTN at http:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED/);
    t.assert.doesNotMatch(JSON.stringify(r.obj), /\n\s+at /);
    t.assert.match(r.msg, /^VTN unreachable: .* failed; (retrying after \d+ ms|registering again after a back-off)$/);
  }
});

test('VEN: a VTN answering HTTP 404 (no OpenADR service at the URL) is not retried: the VEN stops, the command exits 1 saying so (docs/ven.md)', async (t: TestContext) => {
  let requests = 0;
  const server = createHttpServer((req, res) => {
    requests++;
    req.resume();
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'ven-test-'));
  const ac = new AbortController();
  t.after(async () => {
    ac.abort();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });
  const rec = recording();
  let err = '';
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/wrong-prefix/`;
  const run = runVenCommand(['--vtn-url', url, '--ven-name', 'v', '--data-dir', dir, '--device', 'sim-site'], { signal: ac.signal, stdout: () => {}, stderr: (s) => (err += s), log: rec.log });
  // Bounded: without the rule the VEN would keep registering with its back-off until aborted here.
  const code = await Promise.race([run, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 20_000).unref())]);
  ac.abort();
  await run;
  t.assert.equal(code, 1);
  t.assert.equal(requests, 1, 'one request, no retry');
  t.assert.match(err, new RegExp(`^oadr-ledger ven: the VTN answered HTTP 404 at ${url.replace(/[./]/g, '\\$&')}: no OpenADR 2\\.0b service there; check --vtn-url`));
  t.assert.equal(rec.records.filter((r) => r.level === 'warn' && r.msg.startsWith('VTN answered HTTP 404')).length, 1);
});
