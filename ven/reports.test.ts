/** The VEN report producer (rules digest 6). */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { decodeOadr, encodeOadr, type ReportRequest } from '../oadr/index.ts';
import { validateXsdMany } from '../conformance/index.ts';
import {
  cancelReports,
  createReports,
  dueReports,
  EMPTY_REPORT_STATE,
  metadataPayload,
  recordSample,
  STATUS_RID,
  STATUS_SPECIFIER_ID,
  updateReportPayload,
  USAGE_RID,
  USAGE_SPECIFIER_ID,
  type ReportState,
} from './reports.ts';

const MIN = 60_000;
const T0 = Date.parse('2025-06-12T08:00:00.000Z');
const OPTIONS = { resourceId: 'battery-01', minPeriodMs: MIN };

const request = (id: string, specifier: string, granularity: string, back: string, rIds: string[], interval?: { dtstart: string; duration: string }): ReportRequest => ({
  reportRequestId: id,
  specifier: {
    reportSpecifierId: specifier,
    granularity,
    reportBackDuration: back,
    ...(interval === undefined ? {} : { reportInterval: interval }),
    specifierPayloads: rIds.map((rId) => ({ rId, readingType: 'x-notApplicable' })),
  },
});

/** Samples every minute from `from` (exclusive) to `to` (inclusive), power = minute index. */
function fill(state: ReportState, from: number, to: number, power = (t: number) => (t - T0) / MIN): ReportState {
  let s = state;
  for (let t = from + MIN; t <= to; t += MIN) s = recordSample(s, { at: t, powerW: power(t), online: true, manualOverride: false }, OPTIONS);
  return s;
}

test('R301+R510+R312+R333+R331 VEN: metadata offers TELEMETRY_USAGE and TELEMETRY_STATUS with sampling rates; XSD-valid', async (t: TestContext) => {
  const m = metadataPayload(OPTIONS, 'ven-1', T0, 'rr-1');
  const names = (m.reports ?? []).map((r) => r.reportName);
  t.assert.deepStrictEqual(names, ['METADATA_TELEMETRY_USAGE', 'METADATA_TELEMETRY_STATUS']);
  for (const r of m.reports ?? []) {
    t.assert.equal(r.reportRequestId, '0', 'R311');
    t.assert.ok(r.duration !== undefined, 'R312');
    for (const d of r.descriptions ?? []) t.assert.deepStrictEqual(d.samplingRate, { minPeriod: 'PT1M', maxPeriod: 'PT1H', onChange: false }, 'R333');
  }
  t.assert.equal(m.reportRequestId, undefined, 'R311: no top-level reportRequestID unless answering a request');
  t.assert.equal(metadataPayload(OPTIONS, 'ven-1', T0, 'rr-2', 'rq-meta').reportRequestId, 'rq-meta');
  const [res] = await validateXsdMany([encodeOadr(m)]);
  t.assert.equal(res?.valid, true, res?.errors.join('; '));
});

test('R324 VEN: TELEMETRY_USAGE request with reportBackDuration PT0S -> one update, one interval per rID', (t: TestContext) => {
  const s = fill(EMPTY_REPORT_STATE, T0, T0 + 10 * MIN);
  const c = createReports(s, [request('q1', USAGE_SPECIFIER_ID, 'PT1M', 'PT0S', [USAGE_RID])], T0 + 10 * MIN, OPTIONS);
  t.assert.equal(c.code, 200);
  const d = dueReports(c.state, T0 + 10 * MIN, OPTIONS);
  t.assert.equal(d.reports.length, 1);
  const intervals = d.reports[0]?.report.intervals ?? [];
  t.assert.equal(intervals.length, 1);
  t.assert.deepStrictEqual(intervals[0]?.payloads.map((p) => [p.rId, p.value]), [[USAGE_RID, { type: 'float', value: 10 }]]);
  t.assert.deepStrictEqual(d.state.requests, {}, 'a one-shot request is done once sent');
  t.assert.equal(dueReports(d.state, T0 + 20 * MIN, OPTIONS).reports.length, 0);
});

test('R317+R314 VEN: granularity PT1M with reportBackDuration PT5M -> an update every 5 min with 5 intervals (uid, duration and dtstart on each)', (t: TestContext) => {
  let s = createReports(EMPTY_REPORT_STATE, [request('q2', USAGE_SPECIFIER_ID, 'PT1M', 'PT5M', [USAGE_RID], { dtstart: new Date(T0).toISOString(), duration: 'PT1H' })], T0, OPTIONS).state;
  t.assert.equal(dueReports(s, T0 + 4 * MIN, OPTIONS).reports.length, 0, 'not due before 5 min');
  s = fill(s, T0, T0 + 5 * MIN);
  const d = dueReports(s, T0 + 5 * MIN, OPTIONS);
  const rep = d.reports[0]?.report;
  assert.ok(rep !== undefined);
  t.assert.equal(rep.dtstart, new Date(T0).toISOString(), 'R314: report dtstart = first interval start');
  t.assert.equal(rep.reportName, 'TELEMETRY_USAGE', 'R313');
  t.assert.deepStrictEqual(rep.intervals?.map((i) => [i.uid, i.duration, i.dtstart, i.payloads[0]?.value]), [0, 1, 2, 3, 4].map((k) => [String(k), 'PT1M', new Date(T0 + k * MIN).toISOString(), { type: 'float', value: k + 1 }]));
  t.assert.equal(d.reports[0]?.key, `q2@${T0}`);
  const s2 = fill(d.state, T0 + 5 * MIN, T0 + 10 * MIN);
  const d2 = dueReports(s2, T0 + 10 * MIN, OPTIONS);
  t.assert.equal(d2.reports[0]?.key, `q2@${T0 + 5 * MIN}`, 'the next report starts where the last ended: no gap, no overlap');
});

test('R317 VEN: granularity below oadrMinPeriod -> 454; rID or specifier not offered -> 452 (R304+R300)', (t: TestContext) => {
  t.assert.equal(createReports(EMPTY_REPORT_STATE, [request('a', USAGE_SPECIFIER_ID, 'PT10S', 'PT5M', [USAGE_RID])], T0, OPTIONS).code, 454);
  t.assert.equal(createReports(EMPTY_REPORT_STATE, [request('b', 'RS-NOPE', 'PT1M', 'PT5M', [USAGE_RID])], T0, OPTIONS).code, 452);
  const c = createReports(EMPTY_REPORT_STATE, [request('ok', USAGE_SPECIFIER_ID, 'PT1M', 'PT5M', [USAGE_RID]), request('c', USAGE_SPECIFIER_ID, 'PT1M', 'PT5M', ['voltage'])], T0, OPTIONS);
  t.assert.equal(c.code, 452);
  t.assert.deepStrictEqual(c.state.requests, {}, 'all or nothing');
});

test('R340 VEN: a request reaching back beyond the metadata duration -> 454', (t: TestContext) => {
  const far = new Date(T0 - 3 * 24 * 60 * MIN).toISOString();
  t.assert.equal(createReports(EMPTY_REPORT_STATE, [request('h', USAGE_SPECIFIER_ID, 'PT1M', 'PT5M', [USAGE_RID], { dtstart: far, duration: 'PT0S' })], T0, OPTIONS).code, 454);
});

test('R510 VEN: the last 100 data points can be asked for again', (t: TestContext) => {
  const now = T0 + 300 * MIN;
  const s = fill(EMPTY_REPORT_STATE, T0, now);
  t.assert.ok(s.samples.length >= 100);
  const back = new Date(now - 100 * MIN).toISOString();
  const c = createReports(s, [request('h', USAGE_SPECIFIER_ID, 'PT1M', 'PT100M', [USAGE_RID], { dtstart: back, duration: 'PT100M' })], now, OPTIONS);
  t.assert.equal(c.code, 200);
  const d = dueReports(c.state, now, OPTIONS);
  const intervals = d.reports[0]?.report.intervals ?? [];
  t.assert.equal(intervals.length, 100);
  t.assert.ok(intervals.every((i) => i.payloads[0]?.dataQuality === undefined), 'every point has real data');
  t.assert.equal(recordSample({ samples: [], requests: {} }, { at: 0, powerW: 0, online: true, manualOverride: false }, { ...OPTIONS, bufferPoints: 5 }).samples.length, 1);
});

test('R318 VEN: an interval without a valid reading gets a placeholder and a Quality Bad flag', (t: TestContext) => {
  let s = createReports(EMPTY_REPORT_STATE, [request('q', USAGE_SPECIFIER_ID, 'PT1M', 'PT2M', [USAGE_RID])], T0, OPTIONS).state;
  s = recordSample(s, { at: T0 + MIN, powerW: undefined, online: false, manualOverride: false }, OPTIONS);
  const d = dueReports(s, T0 + 2 * MIN, OPTIONS);
  const p = d.reports[0]?.report.intervals?.map((i) => i.payloads[0]?.dataQuality);
  t.assert.deepStrictEqual(p, ['Quality Bad - Comm Failure', 'Quality Bad - Non Specific']);
});

test('R510+R334 VEN: TELEMETRY_STATUS carries oadrOnline and oadrManualOverride in every interval', (t: TestContext) => {
  let s = createReports(EMPTY_REPORT_STATE, [request('st', STATUS_SPECIFIER_ID, 'PT1M', 'PT2M', [STATUS_RID])], T0, OPTIONS).state;
  s = recordSample(s, { at: T0 + MIN, powerW: 5, online: true, manualOverride: false }, OPTIONS);
  s = recordSample(s, { at: T0 + 2 * MIN, powerW: 5, online: true, manualOverride: true }, OPTIONS);
  const d = dueReports(s, T0 + 2 * MIN, OPTIONS);
  t.assert.deepStrictEqual(d.reports[0]?.report.intervals?.map((i) => i.payloads[0]?.value), [
    { type: 'resourceStatus', online: true, manualOverride: false },
    { type: 'resourceStatus', online: true, manualOverride: true },
  ]);
  t.assert.equal(d.reports[0]?.report.reportName, 'TELEMETRY_STATUS');
});

test('R317 VEN: granularity 0 with an unchanged value is flagged No New Value - Previous Value Used', (t: TestContext) => {
  let s = createReports(EMPTY_REPORT_STATE, [request('oc', USAGE_SPECIFIER_ID, 'PT0S', 'PT2M', [USAGE_RID])], T0, OPTIONS).state;
  s = fill(s, T0, T0 + 4 * MIN, () => 42);
  const a = dueReports(s, T0 + 2 * MIN, OPTIONS);
  const b = dueReports(a.state, T0 + 4 * MIN, OPTIONS);
  t.assert.equal(a.reports[0]?.report.intervals?.[0]?.payloads[0]?.dataQuality, undefined);
  t.assert.equal(b.reports[0]?.report.intervals?.[0]?.payloads[0]?.dataQuality, 'No New Value - Previous Value Used');
});

test('R329 VEN: two periodic reports, cancel one: the answer lists only the other as pending; unknown ID -> 452 (R336)', (t: TestContext) => {
  const c = createReports(EMPTY_REPORT_STATE, [request('p1', USAGE_SPECIFIER_ID, 'PT1M', 'PT5M', [USAGE_RID]), request('p2', STATUS_SPECIFIER_ID, 'PT1M', 'PT5M', [STATUS_RID])], T0, OPTIONS);
  t.assert.deepStrictEqual(c.pendingReports, ['p1', 'p2']);
  const x = cancelReports(c.state, ['p1'], false);
  t.assert.deepStrictEqual([x.code, x.pendingReports], [200, ['p2']]);
  const y = cancelReports(x.state, ['p2', 'nope'], false);
  t.assert.deepStrictEqual([y.code, y.pendingReports], [452, []]);
});

test('R345+R328 VEN: cancel with reportToFollow=true -> exactly one more report, then none', (t: TestContext) => {
  let s = createReports(EMPTY_REPORT_STATE, [request('f', USAGE_SPECIFIER_ID, 'PT1M', 'PT2M', [USAGE_RID])], T0, OPTIONS).state;
  s = cancelReports(s, ['f'], true).state;
  s = fill(s, T0, T0 + 10 * MIN);
  const a = dueReports(s, T0 + 2 * MIN, OPTIONS);
  t.assert.equal(a.reports.length, 1);
  t.assert.equal(dueReports(a.state, T0 + 10 * MIN, OPTIONS).reports.length, 0);
  const b = dueReports(cancelReports(s, ['f'], false).state, T0 + 10 * MIN, OPTIONS);
  t.assert.equal(b.reports.length, 0, 'without reportToFollow nothing more');
});

test('R311 VEN: a METADATA request is answered by an oadrRegisterReport carrying its reportRequestID', (t: TestContext) => {
  const c = createReports(EMPTY_REPORT_STATE, [request('meta-1', 'METADATA', 'PT0S', 'PT0S', ['0'])], T0, OPTIONS);
  t.assert.deepStrictEqual([c.code, c.metadataRequests], [200, ['meta-1']]);
});

test('R313+R316+R342 VEN: an oadrUpdateReport round-trips through the codec and is XSD-valid', async (t: TestContext) => {
  let s = createReports(EMPTY_REPORT_STATE, [request('q', USAGE_SPECIFIER_ID, 'PT1M', 'PT3M', [USAGE_RID])], T0, OPTIONS).state;
  s = fill(s, T0, T0 + 3 * MIN);
  const d = dueReports(s, T0 + 3 * MIN, OPTIONS);
  const xml = encodeOadr(updateReportPayload(d.reports.map((r) => r.report), 'ven-1', 'ur-1'));
  t.assert.equal(decodeOadr(xml).payload.type, 'UpdateReport');
  const [res] = await validateXsdMany([xml]);
  t.assert.equal(res?.valid, true, res?.errors.join('; '));
});

test('R304+R301 VEN without a site meter: the metadata offers TELEMETRY_STATUS only, and a TELEMETRY_USAGE request is answered 452', (t: TestContext) => {
  const noMeter = { ...OPTIONS, siteUsage: false };
  t.assert.deepStrictEqual(metadataPayload(noMeter, 'ven-1', T0, 'rq').reports?.map((r) => r.reportName), ['METADATA_TELEMETRY_STATUS']);
  t.assert.equal(createReports(EMPTY_REPORT_STATE, [request('u', USAGE_SPECIFIER_ID, 'PT1M', 'PT5M', [USAGE_RID])], T0, noMeter).code, 452);
  t.assert.equal(createReports(EMPTY_REPORT_STATE, [request('s', STATUS_SPECIFIER_ID, 'PT1M', 'PT5M', [STATUS_RID])], T0, noMeter).code, 200);
});
