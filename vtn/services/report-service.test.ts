import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import type { ItemBase, Payload, Report, ReportInterval } from '../../oadr/index.ts';
import type { LedgerPort, TelemetryPoint } from '../ledger/port.ts';
import type { TelemetryPointRecord } from '../store/store.ts';
import { call, drain, post, registerVen, startTestVtn, ven } from '../testing/fake-ven.ts';
import { ledgerReadingOf } from './report-service.ts';

const V = '2.0b' as const;
const KW: ItemBase = { type: 'powerReal', description: 'RealPower', units: 'W', siScaleCode: 'k', powerAttributes: { hertz: 50, voltage: 230, ac: true } };
const WH: ItemBase = { type: 'energyReal', description: 'RealEnergy', units: 'Wh', siScaleCode: 'none' };

function metadata(venId: string, o: { minPeriod?: string; usageItem?: ItemBase; status?: boolean } = {}): Payload {
  const samplingRate = { minPeriod: o.minPeriod ?? 'PT10S', maxPeriod: 'PT1H', onChange: false };
  const reports: Report[] = [
    {
      duration: 'PT24H',
      descriptions: [
        { rId: 'power', reportType: 'usage', readingType: 'Direct Read', itemBase: o.usageItem ?? KW, samplingRate },
        { rId: 'energy', reportType: 'usage', readingType: 'Direct Read', itemBase: WH, samplingRate },
      ],
      reportRequestId: '0',
      reportSpecifierId: 'usage-spec',
      reportName: 'METADATA_TELEMETRY_USAGE',
      createdDateTime: '2030-01-15T12:00:00.000Z',
    },
  ];
  if (o.status !== false) {
    reports.push({
      duration: 'PT24H',
      descriptions: [{ rId: 'status', reportType: 'x-resourceStatus', readingType: 'x-notApplicable', samplingRate }],
      reportRequestId: '0',
      reportSpecifierId: 'status-spec',
      reportName: 'METADATA_TELEMETRY_STATUS',
      createdDateTime: '2030-01-15T12:00:00.000Z',
    });
  }
  return { type: 'RegisterReport', schemaVersion: V, requestId: 'rq-meta', venId, reports };
}

const T0 = Date.UTC(2030, 0, 15, 12, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();

function usageUpdate(venId: string, reportRequestId: string, startMs: number, values: Array<[number, number]>, o: { specifier?: string; rId?: string; duration?: string } = {}): Payload {
  const intervals: ReportInterval[] = values.map(([kw, wh], i) => ({
    duration: o.duration ?? 'PT1M',
    uid: String(i),
    payloads: [
      { rId: o.rId ?? 'power', value: { type: 'float', value: kw } },
      { rId: 'energy', value: { type: 'float', value: wh } },
    ],
  }));
  return {
    type: 'UpdateReport',
    schemaVersion: V,
    requestId: 'rq-up',
    venId,
    reports: [{ dtstart: iso(startMs), intervals, reportRequestId, reportSpecifierId: o.specifier ?? 'usage-spec', reportName: 'TELEMETRY_USAGE', createdDateTime: iso(startMs + 300_000) }],
  };
}

function recordingLedger(): LedgerPort & { telemetry: TelemetryPoint[][] } {
  const telemetry: TelemetryPoint[][] = [];
  return {
    telemetry,
    notifyEvent: async () => new Map(),
    recordOpt: async () => {},
    // The outbox's drain also calls with no readings (to record what the ledger side still owes).
    recordTelemetry: async (points) => void (points.length > 0 && telemetry.push([...points])),
  };
}

const PROGRAM = { id: 'lab', reportGranularityMs: 60_000, reportBackDurationMs: 300_000 };

async function setup(t: Parameters<typeof startTestVtn>[0], ledger?: LedgerPort, logger?: pino.Logger) {
  const s = await startTestVtn(t, { programs: [PROGRAM] }, { ...(ledger === undefined ? {} : { ledger }), ...(logger === undefined ? {} : { logger: logger as never }) });
  const v = await registerVen(s.url, 'house-1');
  const registered = await call(s.url, 'EiReport', metadata(v.venId), 'RegisteredReport');
  return { ...s, ...v, registered };
}

test('R344+R338+R321+R322 VTN: oadrRegisteredReport piggy-backs requests for TELEMETRY_USAGE and TELEMETRY_STATUS with the program granularity', async (t) => {
  const { registered, vtn, venId } = await setup(t);
  t.assert.equal(registered.response.code, 200);
  const reqs = registered.reportRequests ?? [];
  t.assert.deepEqual(reqs.map((r) => r.specifier.reportSpecifierId), ['usage-spec', 'status-spec']);
  const usage = reqs[0];
  assert.ok(usage !== undefined);
  t.assert.equal(usage.specifier.granularity, 'PT1M');
  t.assert.equal(usage.specifier.reportBackDuration, 'PT5M');
  t.assert.deepEqual(usage.specifier.specifierPayloads, [{ rId: 'power', readingType: 'x-notApplicable' }, { rId: 'energy', readingType: 'x-notApplicable' }]);
  t.assert.equal(usage.specifier.reportInterval?.duration, 'PT0S');
  t.assert.equal(usage.specifier.reportInterval?.rampUp, undefined);
  t.assert.notEqual(reqs[0]?.reportRequestId, reqs[1]?.reportRequestId);
  t.assert.deepEqual(vtn.reports.requests(venId).map((r) => r.state), ['requested', 'requested']);
});

test('R317 VTN: a program granularity below the offered oadrMinPeriod is raised to it', async (t) => {
  const { url } = await startTestVtn(t, { programs: [{ id: 'fast', reportGranularityMs: 5000, reportBackDurationMs: 10_000 }] });
  const { venId } = await registerVen(url, 'house-1');
  const r = await call(url, 'EiReport', metadata(venId, { minPeriod: 'PT1M', status: false }), 'RegisteredReport');
  t.assert.equal(r.reportRequests?.[0]?.specifier.granularity, 'PT1M');
  t.assert.equal(r.reportRequests?.[0]?.specifier.reportBackDuration, 'PT1M');
});

test('R306 VTN: new metadata replaces the old and implicitly cancels the earlier requests; new ones are sent', async (t) => {
  const { url, vtn, venId, registered } = await setup(t);
  const first = (registered.reportRequests ?? []).map((r) => r.reportRequestId);
  const again = await call(url, 'EiReport', metadata(venId, { status: false }), 'RegisteredReport');
  const second = (again.reportRequests ?? []).map((r) => r.reportRequestId);
  t.assert.equal(second.length, 1);
  assert.ok(!first.includes(second[0] ?? ''));
  const states = Object.fromEntries(vtn.reports.requests(venId).map((r) => [r.reportRequestId, r.state]));
  t.assert.deepEqual(first.map((id) => states[id]), ['cancelled', 'cancelled']);
  // Data for an implicitly cancelled request is refused.
  const late = await call(url, 'EiReport', usageUpdate(venId, first[0] ?? '', T0, [[1, 10]]), 'UpdatedReport');
  t.assert.equal(late.response.code, 452);
});

test('R304 VTN: an unknown reportRequestID, a wrong reportSpecifierID or an unrequested rID get 452 and nothing is stored', async (t) => {
  const { url, vtn, venId, registered } = await setup(t);
  const rr = registered.reportRequests?.[0]?.reportRequestId ?? '';
  t.assert.equal((await call(url, 'EiReport', usageUpdate(venId, 'never-asked', T0, [[1, 10]]), 'UpdatedReport')).response.code, 452);
  t.assert.equal((await call(url, 'EiReport', usageUpdate(venId, rr, T0, [[1, 10]], { specifier: 'status-spec' }), 'UpdatedReport')).response.code, 452);
  t.assert.equal((await call(url, 'EiReport', usageUpdate(venId, rr, T0, [[1, 10]], { rId: 'voltage' }), 'UpdatedReport')).response.code, 452);
  t.assert.equal(vtn.reports.telemetry(venId).length, 0);
});

test('R346+R314 VTN: usage intervals are stored with the SI scale applied, sent to the ledger once, and duplicates are dropped', async (t) => {
  const ledger = recordingLedger();
  const { url, vtn, venId, registered } = await setup(t, ledger);
  const rr = registered.reportRequests?.[0]?.reportRequestId ?? '';
  const up = usageUpdate(venId, rr, T0, [[1.5, 25], [2, 33]]);
  const a = await call(url, 'EiReport', up, 'UpdatedReport');
  t.assert.equal(a.response.code, 200);
  t.assert.equal(a.response.requestId, 'rq-up');
  const b = await call(url, 'EiReport', up, 'UpdatedReport'); // the VEN's outbox resends
  t.assert.equal(b.response.code, 200);
  const points = vtn.reports.telemetry(venId);
  t.assert.deepEqual(
    points.map((p) => [p.rId, p.startMs - T0, p.durationMs, p.value, p.unit]),
    [['energy', 0, 60_000, 25, 'Wh'], ['power', 0, 60_000, 1500, 'W'], ['energy', 60_000, 60_000, 33, 'Wh'], ['power', 60_000, 60_000, 2000, 'W']],
  );
  await vtn.ledgerOutbox?.drain();
  t.assert.equal(ledger.telemetry.length, 1, 'the duplicate does not reach the ledger');
  const sent = ledger.telemetry[0] ?? [];
  t.assert.equal(sent.length, 4);
  t.assert.deepEqual(sent[1], { venId, customerId: 'house-1', startMs: T0, durationMs: 60_000, rId: 'energy', value: 25, unit: 'Wh' });
  t.assert.equal(vtn.reports.requests(venId)[0]?.state, 'active');
});

test('R346 VTN: without a ledger, usage intervals are stored and nothing is queued for a ledger (the outbox stays empty)', async (t) => {
  const { url, vtn, venId, registered } = await setup(t);
  const rr = registered.reportRequests?.[0]?.reportRequestId ?? '';
  const a = await call(url, 'EiReport', usageUpdate(venId, rr, T0, [[1.5, 25], [2, 33]]), 'UpdatedReport');
  t.assert.equal(a.response.code, 200);
  t.assert.equal(vtn.reports.telemetry(venId).length, 4);
  t.assert.equal(vtn.store.ledgerWorkDepth(), 0);
});

test('R346 VTN: an extra update with other values for the same intervals corrects them (stored and sent to the ledger again); another duration does not', async (t) => {
  const ledger = recordingLedger();
  const { url, vtn, venId, registered } = await setup(t, ledger);
  const rr = registered.reportRequests?.[0]?.reportRequestId ?? '';
  t.assert.equal((await call(url, 'EiReport', usageUpdate(venId, rr, T0, [[1.5, 25], [2, 33]]), 'UpdatedReport')).response.code, 200);
  await vtn.ledgerOutbox?.drain();
  t.assert.equal((await call(url, 'EiReport', usageUpdate(venId, rr, T0, [[1.5, 25], [2.5, 41]]), 'UpdatedReport')).response.code, 200);
  const values = () => vtn.reports.telemetry(venId).map((p) => [p.rId, p.startMs - T0, p.value]);
  t.assert.deepEqual(values(), [['energy', 0, 25], ['power', 0, 1500], ['energy', 60_000, 41], ['power', 60_000, 2500]]);
  await vtn.ledgerOutbox?.drain();
  t.assert.equal(ledger.telemetry.length, 2);
  t.assert.deepEqual(ledger.telemetry[1]?.map((p) => [p.rId, p.startMs - T0, p.value]), [['power', 60_000, 2500], ['energy', 60_000, 41]], 'only the corrected interval goes again');
  // The same start with another duration is not the same interval: the first stays.
  t.assert.equal((await call(url, 'EiReport', usageUpdate(venId, rr, T0, [[9, 99]], { duration: 'PT30S' }), 'UpdatedReport')).response.code, 200);
  t.assert.deepEqual(values()[1], ['power', 0, 1500]);
});

test('R346 VTN: an update holding only duplicates or other-duration intervals stores no report; the log counts what was dropped, corrected and kept', async (t) => {
  const lines: Array<{ msg: string; level: number; duplicates?: number; stored?: number; corrected?: number; conflicts?: number }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l));
      done();
    },
  });
  const { url, vtn, venId, registered } = await setup(t, recordingLedger(), pino({ level: 'debug' }, sink));
  const rr = registered.reportRequests?.[0]?.reportRequestId ?? '';
  const counted = () => lines.filter((l) => /\(R346\)|the first ones stay/.test(l.msg)).map(({ msg, level, duplicates, stored, corrected, conflicts }) => ({ msg: msg.split(':')[0], level, duplicates, stored, corrected, conflicts }));
  const update = async (values: Array<[number, number]>, duration?: string) => {
    t.assert.equal((await call(url, 'EiReport', usageUpdate(venId, rr, T0, values, duration === undefined ? {} : { duration }), 'UpdatedReport')).response.code, 200);
  };
  await update([[1.5, 25], [2, 33]]);
  t.assert.equal(vtn.store.listTelemetry(venId).length, 1);
  t.assert.deepEqual(counted(), []);
  await update([[1.5, 25], [2, 33]]); // resent: 4 duplicate points
  t.assert.equal(vtn.store.listTelemetry(venId).length, 1, 'nothing new: the report is not stored again');
  t.assert.deepEqual(counted(), [{ msg: 'duplicate report intervals dropped (R346)', level: 20, duplicates: 4, stored: 0, corrected: undefined, conflicts: undefined }]);
  lines.length = 0;
  await update([[1.5, 25], [2.5, 41]]); // the second interval corrected
  t.assert.equal(vtn.store.listTelemetry(venId).length, 2);
  t.assert.deepEqual(counted(), [
    { msg: 'duplicate report intervals dropped (R346)', level: 20, duplicates: 2, stored: 2, corrected: undefined, conflicts: undefined },
    { msg: 'report intervals corrected by the VEN', level: 30, duplicates: undefined, stored: undefined, corrected: 2, conflicts: undefined },
  ]);
  lines.length = 0;
  await update([[9, 99]], 'PT30S'); // same start, another duration: the first ones stay
  t.assert.equal(vtn.store.listTelemetry(venId).length, 2, 'nothing stored: not stored again');
  t.assert.deepEqual(counted(), [{ msg: 'report intervals sent again with another duration', level: 40, duplicates: undefined, stored: undefined, corrected: undefined, conflicts: 2 }]);
});

test('R318 VTN: bad-quality and status data are stored but not sent to the ledger', async (t) => {
  const ledger = recordingLedger();
  const { url, vtn, venId, registered } = await setup(t, ledger);
  const [usage, status] = registered.reportRequests ?? [];
  const up: Payload = {
    type: 'UpdateReport',
    schemaVersion: V,
    requestId: 'rq',
    venId,
    reports: [
      {
        dtstart: iso(T0),
        intervals: [{ duration: 'PT1M', uid: '0', payloads: [{ rId: 'power', value: { type: 'float', value: 0 }, dataQuality: 'Quality Bad - Comm Failure' }] }],
        reportRequestId: usage?.reportRequestId ?? '',
        reportSpecifierId: 'usage-spec',
        reportName: 'TELEMETRY_USAGE',
        createdDateTime: iso(T0),
      },
      {
        dtstart: iso(T0),
        intervals: [{ uid: '0', payloads: [{ rId: 'status', value: { type: 'resourceStatus', online: true, manualOverride: false } }] }],
        reportRequestId: status?.reportRequestId ?? '',
        reportSpecifierId: 'status-spec',
        reportName: 'TELEMETRY_STATUS',
        createdDateTime: iso(T0),
      },
    ],
  };
  t.assert.equal((await call(url, 'EiReport', up, 'UpdatedReport')).response.code, 200);
  const points = vtn.reports.telemetry(venId);
  t.assert.equal(points.length, 2);
  t.assert.deepEqual(points.find((p) => p.rId === 'status')?.status, { online: true, manualOverride: false });
  t.assert.equal(points.find((p) => p.rId === 'status')?.unit, undefined, 'a status has no value, so no unit');
  t.assert.equal(points.find((p) => p.rId === 'power')?.quality, 'Quality Bad - Comm Failure');
  await vtn.ledgerOutbox?.drain();
  t.assert.equal(ledger.telemetry.length, 0);
});

test('R334 VTN: TELEMETRY_STATUS carries resource statuses with the same oadrLoadControlState children in every interval; usage carries floats; else 454, nothing stored', async (t) => {
  const { url, vtn, venId, registered } = await setup(t);
  const [usage, status] = registered.reportRequests ?? [];
  const statusReport = (intervals: ReportInterval[]): Payload => ({
    type: 'UpdateReport',
    schemaVersion: V,
    requestId: 'rq-s',
    venId,
    reports: [{ dtstart: iso(T0), intervals, reportRequestId: status?.reportRequestId ?? '', reportSpecifierId: 'status-spec', reportName: 'TELEMETRY_STATUS', createdDateTime: iso(T0) }],
  });
  const level = { current: 1 };
  const st = (uid: string, loadControlState?: Record<string, { current: number }>): ReportInterval => ({
    duration: 'PT1M',
    uid,
    payloads: [{ rId: 'status', value: { type: 'resourceStatus', online: true, manualOverride: false, ...(loadControlState === undefined ? {} : { loadControlState }) } }],
  });
  const mixed = await call(url, 'EiReport', statusReport([st('0', { levelOffset: level }), st('1', { levelOffset: level, capacity: level })]), 'UpdatedReport');
  t.assert.equal(mixed.response.code, 454);
  assert.match(mixed.response.description ?? '', /interval 1: rID 'status' has oadrLoadControlState children \[capacity, levelOffset\], other intervals \[levelOffset\].*\(R334\)/);
  const float = await call(url, 'EiReport', statusReport([{ duration: 'PT1M', uid: '0', payloads: [{ rId: 'status', value: { type: 'float', value: 1 } }] }]), 'UpdatedReport');
  t.assert.equal(float.response.code, 454);
  assert.match(float.response.description ?? '', /TELEMETRY_STATUS data points are oadrPayloadResourceStatus/);
  const wrongUsage = usageUpdate(venId, usage?.reportRequestId ?? '', T0, [[1, 1]]);
  const firstInterval = wrongUsage.type === 'UpdateReport' ? wrongUsage.reports?.[0]?.intervals?.[0] : undefined;
  assert.ok(firstInterval !== undefined);
  (firstInterval.payloads as unknown[])[0] = { rId: 'power', value: { type: 'resourceStatus', online: true, manualOverride: false } };
  t.assert.equal((await call(url, 'EiReport', wrongUsage, 'UpdatedReport')).response.code, 454);
  t.assert.equal(vtn.reports.telemetry(venId).length, 0, 'nothing stored');
  const same = await call(url, 'EiReport', statusReport([st('0', { levelOffset: level }), st('1', { levelOffset: { current: 2 } })]), 'UpdatedReport');
  t.assert.equal(same.response.code, 200, 'the same set with other values is right');
  t.assert.equal(vtn.reports.telemetry(venId).length, 2);
});

test('pulseCount VTN: a usage data point in pulses is requested and read as Wh with its pulse factor (kWh per count)', async (t) => {
  const ledger = recordingLedger();
  const s = await startTestVtn(t, { programs: [PROGRAM] }, { ledger });
  const { venId } = await registerVen(s.url, 'house-1');
  const pulses: ItemBase = { type: 'pulseCount', description: 'pulse count', units: 'count', pulseFactor: 0.002 };
  const registered = await call(s.url, 'EiReport', metadata(venId, { usageItem: pulses, status: false }), 'RegisteredReport');
  const rr = registered.reportRequests?.[0];
  t.assert.deepEqual(rr?.specifier.specifierPayloads.map((p) => p.rId), ['power', 'energy'], 'the pulse point is requested');
  t.assert.equal((await call(s.url, 'EiReport', usageUpdate(venId, rr?.reportRequestId ?? '', T0, [[250, 5]]), 'UpdatedReport')).response.code, 200);
  const byRid = new Map(s.vtn.reports.telemetry(venId).map((p) => [p.rId, [p.value, p.unit]]));
  t.assert.deepEqual(byRid.get('power'), [500, 'Wh'], '250 pulses × 0.002 kWh = 500 Wh');
  await s.vtn.ledgerOutbox?.drain();
  t.assert.deepEqual(ledger.telemetry.flat().find((p) => p.rId === 'power')?.value, 500);
  // Implausible: 10 MW over a minute is 166,667 Wh; 100,000 pulses are 200,000 Wh.
  t.assert.equal((await call(s.url, 'EiReport', usageUpdate(venId, rr?.reportRequestId ?? '', T0 + 60_000, [[100_000, 5]]), 'UpdatedReport')).response.code, 454);
});

test('report requests the VEN never answers are sent again by oadrCreateReport (same ids) reportRequestRetries times, then unanswered; answered ones are not', async (t) => {
  const RETRY = 600_000;
  const s = await startTestVtn(t, { programs: [PROGRAM], reportRequestRetryMs: RETRY, reportRequestRetries: 2 });
  const { venId } = await registerVen(s.url, 'house-1');
  const registered = await call(s.url, 'EiReport', metadata(venId), 'RegisteredReport');
  const [usage, status] = registered.reportRequests ?? [];
  await drain(s.url, venId);
  // The VEN confirms the status request only.
  await call(s.url, 'EiReport', { type: 'CreatedReport', schemaVersion: V, response: { code: 200, requestId: 'rq-c' }, pendingReports: [status?.reportRequestId ?? ''], venId }, 'Response');
  s.clock.advance(RETRY - 1);
  t.assert.equal(s.vtn.resendReportRequests(), 0, 'not yet');
  const resent: string[][] = [];
  for (let i = 0; i < 2; i++) {
    s.clock.advance(RETRY);
    t.assert.equal(s.vtn.resendReportRequests(), 1);
    const queued = await drain(s.url, venId);
    resent.push(queued.flatMap((p) => (p.type === 'CreateReport' ? p.reportRequests.map((r) => r.reportRequestId) : [])));
  }
  t.assert.deepEqual(resent, [[usage?.reportRequestId], [usage?.reportRequestId]], 'the unanswered usage request, under its own id');
  s.clock.advance(RETRY);
  t.assert.equal(s.vtn.resendReportRequests(), 0, 'reportRequestRetries used up');
  t.assert.deepEqual(s.vtn.reports.requests(venId).map((r) => [r.reportRequestId, r.state]), [[usage?.reportRequestId, 'unanswered'], [status?.reportRequestId, 'active']]);
  t.assert.deepEqual(await drain(s.url, venId), []);
  // Data for it still counts: the request becomes active.
  t.assert.equal((await call(s.url, 'EiReport', usageUpdate(venId, usage?.reportRequestId ?? '', T0, [[1, 1]]), 'UpdatedReport')).response.code, 200);
  t.assert.equal(s.vtn.reports.requests(venId)[0]?.state, 'active');
});

test('R324+R325+R340 VTN: HISTORY_USAGE is requested on demand over a past span (granularity and back-duration 0), stored, never sent to the ledger', async (t) => {
  const ledger = recordingLedger();
  const s = await startTestVtn(t, { programs: [PROGRAM] }, { ledger });
  const { venId } = await registerVen(s.url, 'house-1');
  const now = s.clock.now();
  await assert.rejects(async () => s.vtn.reports.requestHistory(venId, { fromMs: now - 3_600_000, toMs: now - 60_000 }), (e: unknown) => (e as { code?: string }).code === 'NOT_ALLOWED', 'no metadata, no history');
  const meta = metadata(venId, { status: false });
  assert.ok(meta.type === 'RegisterReport');
  const history: Report = { ...(meta.reports?.[0] as Report), duration: 'P7D', reportSpecifierId: 'history-spec', reportName: 'METADATA_HISTORY_USAGE' };
  const registered = await call(s.url, 'EiReport', { ...meta, reports: [...(meta.reports ?? []), history] }, 'RegisteredReport');
  t.assert.deepEqual(registered.reportRequests?.map((r) => r.specifier.reportSpecifierId), ['usage-spec'], 'history is not requested on registration');
  await drain(s.url, venId);
  await assert.rejects(async () => s.vtn.reports.requestHistory(venId, { fromMs: now - 8 * 86_400_000, toMs: now - 60_000 }), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT' && /keeps P7D \(R340\)/.test((e as Error).message));
  await assert.rejects(async () => s.vtn.reports.requestHistory(venId, { fromMs: now - 60_000, toMs: now + 60_000 }), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT');
  const from = now - 2 * 3_600_000;
  const r = s.vtn.reports.requestHistory(venId, { fromMs: from, toMs: now - 3_600_000 });
  const queued = await drain(s.url, venId);
  const sent = queued[0]?.type === 'CreateReport' ? queued[0].reportRequests[0] : undefined;
  t.assert.deepEqual(
    [sent?.reportRequestId, sent?.specifier.reportSpecifierId, sent?.specifier.granularity, sent?.specifier.reportBackDuration, sent?.specifier.reportInterval?.dtstart, sent?.specifier.reportInterval?.duration],
    [r.reportRequestId, 'history-spec', 'PT0S', 'PT0S', iso(from), 'PT1H'],
  );
  const up = usageUpdate(venId, r.reportRequestId, from, [[1.5, 25], [2, 33]], { specifier: 'history-spec' });
  assert.ok(up.type === 'UpdateReport');
  const report = up.reports?.[0] as Report;
  t.assert.equal((await call(s.url, 'EiReport', { ...up, reports: [{ ...report, reportName: 'HISTORY_USAGE' }] }, 'UpdatedReport')).response.code, 200);
  const points = s.vtn.reports.telemetry(venId).filter((p) => p.reportName === 'HISTORY_USAGE');
  t.assert.deepEqual(points.map((p) => [p.rId, p.startMs - from, p.value]), [['energy', 0, 25], ['power', 0, 1500], ['energy', 60_000, 33], ['power', 60_000, 2000]]);
  await s.vtn.ledgerOutbox?.drain();
  t.assert.equal(ledger.telemetry.length, 0, 'history stays in the VTN');
});

test('R329 VTN: oadrCreatedReport with oadrPendingReports makes the requests active; an error refuses them', async (t) => {
  const { url, vtn, venId, registered } = await setup(t);
  const [usage, status] = registered.reportRequests ?? [];
  const created: Payload = { type: 'CreatedReport', schemaVersion: V, response: { code: 200, requestId: 'rq-c' }, pendingReports: [usage?.reportRequestId ?? ''], venId };
  const ack = await call(url, 'EiReport', created, 'Response');
  t.assert.equal(ack.response.code, 200);
  t.assert.equal(ack.response.requestId, 'rq-c');
  t.assert.deepEqual(vtn.reports.requests(venId).map((r) => r.state), ['active', 'requested']);
  await call(url, 'EiReport', { ...created, response: { code: 454, requestId: '' }, pendingReports: [] } as Payload, 'Response');
  t.assert.deepEqual(vtn.reports.requests(venId).map((r) => [r.reportRequestId, r.state]), [[usage?.reportRequestId, 'active'], [status?.reportRequestId, 'refused']]);
});

test('R336+R345+R335 VTN: a stand-alone cancel with reportToFollow accepts exactly one more report, then refuses and cancels again', async (t) => {
  const { url, vtn, venId, registered } = await setup(t);
  const rr = registered.reportRequests?.[0]?.reportRequestId ?? '';
  vtn.reports.cancel(venId, rr, { reportToFollow: true });
  const [cancel] = await drain(url, venId);
  assert.ok(cancel?.type === 'CancelReport');
  t.assert.deepEqual(cancel.reportRequestIds, [rr]);
  t.assert.equal(cancel.reportToFollow, true);
  const canceled: Payload = { type: 'CanceledReport', schemaVersion: V, response: { code: 200, requestId: cancel.requestId }, pendingReports: [], venId };
  t.assert.equal((await call(url, 'EiReport', canceled, 'Response')).response.code, 200);
  t.assert.equal(vtn.reports.requests(venId)[0]?.state, 'final');
  t.assert.equal((await call(url, 'EiReport', usageUpdate(venId, rr, T0, [[1, 10]]), 'UpdatedReport')).response.code, 200);
  t.assert.equal(vtn.reports.requests(venId)[0]?.state, 'cancelled');
  t.assert.equal((await call(url, 'EiReport', usageUpdate(venId, rr, T0 + 60_000, [[1, 10]]), 'UpdatedReport')).response.code, 452);
  const again = await drain(url, venId);
  t.assert.deepEqual(again.map((p) => p.type), ['CancelReport']);
  t.assert.equal(vtn.reports.telemetry(venId).length, 2);
});

test('R328 VTN: a piggy-backed cancel rides on the next oadrUpdatedReport for that request', async (t) => {
  const { url, vtn, venId, registered } = await setup(t);
  const rr = registered.reportRequests?.[0]?.reportRequestId ?? '';
  vtn.reports.cancel(venId, rr, { piggyback: true });
  t.assert.equal((await post(url, 'OadrPoll', ven.poll(venId))).payload?.type, 'Response', 'nothing is queued');
  const answer = await call(url, 'EiReport', usageUpdate(venId, rr, T0, [[1, 10]]), 'UpdatedReport');
  t.assert.equal(answer.response.code, 200);
  t.assert.deepEqual(answer.cancelReport?.reportRequestIds, [rr]);
  t.assert.equal(answer.cancelReport?.reportToFollow, false);
  t.assert.equal(vtn.reports.requests(venId)[0]?.state, 'cancelled');
});

test('R321 VTN: requestTelemetry sends oadrCreateReport for what the metadata offers and no open request covers', async (t) => {
  const { url, vtn, venId, registered } = await setup(t);
  const [usage] = registered.reportRequests ?? [];
  vtn.reports.cancel(venId, usage?.reportRequestId ?? '');
  await drain(url, venId);
  const created = vtn.reports.requestTelemetry(venId);
  t.assert.deepEqual(created.map((r) => r.reportSpecifierId), ['usage-spec']);
  const [cr] = await drain(url, venId);
  assert.ok(cr?.type === 'CreateReport');
  t.assert.equal(cr.reportRequests[0]?.reportRequestId, created[0]?.reportRequestId);
  t.assert.equal(cr.reportRequests[0]?.specifier.specifierPayloads[0]?.readingType, 'x-notApplicable');
  t.assert.deepEqual(vtn.reports.requestTelemetry(venId), [], 'nothing more to ask for');
});

test('R406 VTN: a fresh registration erases the report requests', async (t) => {
  const { url, vtn, venId } = await setup(t);
  t.assert.equal(vtn.reports.requests(venId).length, 2);
  await call(url, 'EiRegisterParty', ven.create({ venName: 'house-1' }), 'CreatedPartyRegistration');
  t.assert.equal(vtn.reports.requests(venId).length, 0);
  t.assert.equal(vtn.reports.metadata(venId), undefined);
});

test('reliability 5: intervals re-sent under a new report request id (a VEN restarted mid-event) are duplicates: stored once, sent to the ledger once', async (t) => {
  const ledger = recordingLedger();
  const { url, vtn, venId, registered } = await setup(t, ledger);
  const first = registered.reportRequests?.[0]?.reportRequestId ?? '';
  t.assert.equal((await call(url, 'EiReport', usageUpdate(venId, first, T0, [[1.5, 25], [2, 33]]), 'UpdatedReport')).response.code, 200);
  await vtn.ledgerOutbox?.drain();
  // The VEN restarts: new metadata, new requests (R306), and its outbox sends the same intervals again.
  const again = await call(url, 'EiReport', metadata(venId), 'RegisteredReport');
  const second = again.reportRequests?.[0]?.reportRequestId ?? '';
  t.assert.notEqual(second, first);
  t.assert.equal((await call(url, 'EiReport', usageUpdate(venId, second, T0, [[1.5, 25], [2, 33]]), 'UpdatedReport')).response.code, 200);
  await vtn.ledgerOutbox?.drain();
  t.assert.equal(vtn.reports.telemetry(venId).length, 4);
  t.assert.deepEqual(ledger.telemetry.map((c) => c.length), [4]);
});

test('interop 1: point samples (intervals without duration) in W are stored as points and queued for the ledger', async (t) => {
  const ledger = recordingLedger();
  const { url, vtn, venId, registered } = await setup(t, ledger);
  const rr = registered.reportRequests?.[0]?.reportRequestId ?? '';
  const up = usageUpdate(venId, rr, T0, [[1.2, 0]], { duration: 'PT0S' });
  const report = up.type === 'UpdateReport' ? up.reports?.[0] : undefined;
  // Three samples 10 s apart, each interval a point (its own dtstart, duration PT0S), power only.
  if (report !== undefined) {
    report.intervals = [0, 10_000, 20_000].map((dt, i) => ({ dtstart: iso(T0 + dt), duration: 'PT0S', uid: String(i), payloads: [{ rId: 'power', value: { type: 'float', value: 1.2 + i / 10 } }] }));
  }
  t.assert.equal((await call(url, 'EiReport', up, 'UpdatedReport')).response.code, 200);
  await vtn.ledgerOutbox?.drain();
  t.assert.deepEqual(vtn.reports.telemetry(venId).map((p) => [p.startMs - T0, p.durationMs]), [[0, 0], [10_000, 0], [20_000, 0]]);
  t.assert.deepEqual(ledger.telemetry.flat().map((p) => [p.startMs - T0, p.durationMs, Math.round(p.value), p.unit]), [[0, 0, 1200, 'W'], [10_000, 0, 1300, 'W'], [20_000, 0, 1400, 'W']]);
  t.assert.equal(vtn.ledgerOutbox?.depth(), 0);
});

test('reliability 1: while the ledger fails, acknowledged telemetry waits in the outbox; it reaches the ledger once the ledger is back', async (t) => {
  const ledger = recordingLedger();
  let down = true;
  const flaky: LedgerPort = { ...ledger, recordTelemetry: async (points) => (down ? Promise.reject(new Error('ledger unreachable')) : ledger.recordTelemetry(points)) };
  const { url, vtn, venId, registered } = await setup(t, flaky);
  const rr = registered.reportRequests?.[0]?.reportRequestId ?? '';
  t.assert.equal((await call(url, 'EiReport', usageUpdate(venId, rr, T0, [[1.5, 25], [2, 33]]), 'UpdatedReport')).response.code, 200);
  await vtn.ledgerOutbox?.drain();
  t.assert.equal(vtn.ledgerOutbox?.depth(), 4, 'acknowledged, not taken: kept');
  down = false;
  await vtn.ledgerOutbox?.drain();
  t.assert.equal(vtn.ledgerOutbox?.depth(), 0);
  t.assert.deepEqual(ledger.telemetry.map((c) => c.length), [4]);
});

test('R318 VTN: only good-quality usage readings in W or Wh (interval or point sample) go to the ledger', () => {
  const point: TelemetryPointRecord = {
    venId: 'ven-1', reportRequestId: 'rr-1', reportName: 'TELEMETRY_USAGE', rId: 'power', startMs: T0, durationMs: 60_000,
    value: 1500, unit: 'W', quality: undefined, status: undefined, receivedAt: T0,
  };
  const reading = { venId: 'ven-1', customerId: 'c-1', startMs: T0, durationMs: 60_000, rId: 'power', value: 1500, unit: 'W' };
  assert.deepEqual(ledgerReadingOf(point, 'c-1'), reading);
  assert.deepEqual(ledgerReadingOf({ ...point, unit: 'Wh', durationMs: 0, quality: 'Quality Good - Non Specific' }, 'c-1'), { ...reading, unit: 'Wh', durationMs: 0 });
  for (const [why, p] of [
    ['status report', { ...point, reportName: 'TELEMETRY_STATUS' }],
    ['no value', { ...point, value: undefined }],
    ['negative duration', { ...point, durationMs: -1 }],
    ['bad quality', { ...point, quality: 'Quality Bad - Non Specific' }],
    ['no quality, no value', { ...point, quality: 'No Quality - No Value' }],
    ['another unit', { ...point, unit: 'V' }],
  ] as const) {
    assert.equal(ledgerReadingOf(p, 'c-1'), undefined, why);
  }
});
