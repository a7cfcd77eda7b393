/**
 * The VEN against VTNs it did not grow up with: the report form every VTN reads, and a VTN that
 * refuses, garbles or drops the oadrUpdateReport. Real HTTP on loopback (the scripted VTN), one
 * fake clock for the VEN: attempts are counted against that clock, never against wall time.
 */
import { test, type TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPayloadRules, decodeOadr, encodeOadr, reportIntervalSpans, type Report, type ReportRequest, type UpdateReport } from '../oadr/index.ts';
import { validateXsdMany, xmllintAvailable } from '../conformance/index.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { createMemoryDevice } from './testing/memory-device.ts';
import { createScriptedVtn, type Fault, type ScriptedVtn } from './testing/scripted-vtn.ts';
import { createVen, type Ven } from './ven.ts';
import type { VenLogger } from './session.ts';

const MIN = 60_000;
const T0 = Date.parse('2025-06-12T08:00:00.000Z');

interface LogEntry {
  readonly level: 'info' | 'warn' | 'debug';
  readonly fields: Record<string, unknown>;
  readonly msg: string;
}

interface Rig {
  readonly vtn: ScriptedVtn;
  readonly ven: Ven;
  readonly logs: LogEntry[];
  setNow(ms: number): void;
}

/** A VEN with a usage request every `backDuration` at PT1M granularity from T0, its clock at T0. */
async function rig(t: TestContext, backDuration: string, backoff: BackoffOptions = {}): Promise<Rig> {
  const req: ReportRequest = {
    reportRequestId: 'rq-usage',
    specifier: { reportSpecifierId: 'TELEMETRY_USAGE', granularity: 'PT1M', reportBackDuration: backDuration, reportInterval: { dtstart: new Date(T0).toISOString(), duration: 'PT0S' }, specifierPayloads: [{ rId: 'power', readingType: 'x-notApplicable' }] },
  };
  const vtn = await createScriptedVtn({ pollFreq: 'PT60S', reportRequests: [req] });
  const dir = mkdtempSync(join(tmpdir(), 'ven-interop-'));
  const logs: LogEntry[] = [];
  const entry = (level: LogEntry['level']) => (fields: object, msg = '') => void logs.push({ level, fields: fields as Record<string, unknown>, msg });
  const log: VenLogger = { info: entry('info'), warn: entry('warn'), debug: entry('debug') };
  let now = T0;
  const ven = await createVen({ vtnUrl: vtn.url, venName: 'interop-ven', device: createMemoryDevice(undefined, 1200), dataDir: dir, tickMs: 3_600_000, clock: () => now, random: () => 0.5, backoff, log });
  t.after(async () => {
    await ven.stop();
    await vtn.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await ven.start();
  await ven.session.whenOperational();
  await vtn.waitFor(() => vtn.of('CreatedReport').length >= 1);
  return { vtn, ven, logs, setNow: (ms) => void (now = ms) };
}

/** Interval starts (ms) the VTN received, in arrival order, read with the shared reader. */
const receivedStarts = (vtn: ScriptedVtn): number[] => vtn.of('UpdateReport').flatMap((u) => (u.reports ?? []).flatMap((r) => reportIntervalSpans(r).map((s) => s.startMs)));

test('interop 8: every interval of the oadrUpdateReport bytes the VEN sends carries xcal:dtstart and xcal:duration, XSD-valid; the one-dtstart form reads to the same intervals (R314, R315, R316)', async (t: TestContext) => {
  const { vtn, ven, setNow } = await rig(t, 'PT2M');
  for (let m = 1; m <= 4; m++) {
    setNow(T0 + m * MIN);
    await ven.tick();
  }
  await ven.flush();
  await vtn.waitFor(() => vtn.of('UpdateReport').length >= 2);
  const sent = vtn.received.filter((r) => r.payload.type === 'UpdateReport');
  const starts: number[] = [];
  for (const { raw } of sent) {
    // The bytes: every <ei:interval> opens with its own dtstart, then its duration.
    const intervals = raw.match(/<ei:interval>.*?<\/ei:interval>/g) ?? [];
    t.assert.ok(intervals.length > 0);
    for (const iv of intervals) {
      const m = /^<ei:interval><xcal:dtstart><xcal:date-time>([^<]+)<\/xcal:date-time><\/xcal:dtstart><xcal:duration><xcal:duration>PT1M<\/xcal:duration><\/xcal:duration>/.exec(iv);
      t.assert.ok(m !== null, `R314/R315: interval without its own dtstart + duration: ${iv}`);
      starts.push(Date.parse(m?.[1] ?? ''));
    }
    t.assert.deepStrictEqual(checkPayloadRules(decodeOadr(raw)), [], 'no rule finding (R313–R316, R342)');
  }
  t.assert.deepStrictEqual(starts, [T0, T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN], 'consecutive minutes, each once');
  if (xmllintAvailable()) {
    const results = await validateXsdMany(sent.map((r) => r.raw));
    for (const r of results) t.assert.equal(r.valid, true, r.errors.join('; '));
  } else t.diagnostic('xmllint is not installed: XSD check skipped');

  // The other valid form (R314: one dtstart for the report, uid 0..n-1, R316): the same intervals.
  for (const { payload } of sent) {
    const full = payload as UpdateReport;
    const oneStart: UpdateReport = { ...full, reports: (full.reports ?? []).map((r): Report => ({ ...r, intervals: (r.intervals ?? []).map(({ dtstart: _d, ...iv }) => iv) })) };
    const xml = encodeOadr(oneStart);
    t.assert.doesNotMatch(xml, /<ei:interval><xcal:dtstart>/);
    const message = decodeOadr(xml);
    const back = message.payload as UpdateReport;
    t.assert.deepStrictEqual(checkPayloadRules(message), []);
    t.assert.deepStrictEqual(
      (back.reports ?? []).map((r) => reportIntervalSpans(r)),
      (full.reports ?? []).map((r) => reportIntervalSpans(r)),
    );
    if (xmllintAvailable()) t.assert.equal((await validateXsdMany([xml]))[0]?.valid, true);
  }
});

interface FaultCase {
  readonly name: string;
  readonly fault: Fault;
  readonly kind: 'unreachable' | 'refused' | 'protocol';
  readonly code: string;
  readonly httpStatus?: number;
  readonly bodyLine?: string;
  readonly responseCode?: number;
}

const FAULTS: readonly FaultCase[] = [
  {
    name: 'HTTP 500',
    fault: { kind: 'status', status: 500, body: '\nInternal Server Error: could not parse the report\n  at handler (app.py:12)\n' },
    kind: 'refused',
    code: 'VTN_REJECTED',
    httpStatus: 500,
    bodyLine: 'Internal Server Error: could not parse the report',
  },
  { name: 'HTTP 400', fault: { kind: 'status', status: 400, body: 'Bad Request' }, kind: 'refused', code: 'VTN_REJECTED', httpStatus: 400, bodyLine: 'Bad Request' },
  { name: 'a 200 that is not OpenADR', fault: { kind: 'garbage', body: '<html><body>maintenance</body></html>' }, kind: 'protocol', code: 'VTN_BAD_ANSWER' },
  { name: 'an oadrUpdatedReport with an error code', fault: { kind: 'errorCode', code: 452, description: 'unknown reportRequestID' }, kind: 'protocol', code: 'VTN_BAD_ANSWER', responseCode: 452 },
  { name: 'a dropped connection', fault: { kind: 'close' }, kind: 'unreachable', code: 'VTN_UNREACHABLE' },
];

const BACKOFF = { initialMs: 1000, capMs: 16_000 } as const;

for (const c of FAULTS) {
  test(`interop 9: ${c.name} is logged as ${c.kind}, deliveries back off exponentially to the cap, the outbox keeps every interval and delivers them all once the VTN recovers`, async (t: TestContext) => {
    const { vtn, ven, logs, setNow } = await rig(t, 'PT1M', BACKOFF);
    vtn.misbehave('EiReport', c.fault);
    // Four minutes in one-second steps of the VEN's clock, a tick and a flush at each: 240 chances to send.
    const attemptsAt: number[] = [];
    const STEPS = 240;
    for (let s = 1; s <= STEPS; s++) {
      setNow(T0 + s * 1000);
      const before = vtn.faultHits();
      await ven.tick();
      await ven.flush();
      if (vtn.faultHits() > before) attemptsAt.push(T0 + s * 1000);
    }
    // What the back-off allows: the first interval is due at T0 + 1 min; after the n-th failure the
    // next try waits backoffDelay(n) (random 0.5: no jitter), doubling from 1 s and capped at 16 s.
    const expected: number[] = [];
    let retryAt = T0 + MIN;
    for (let s = 1; s <= STEPS; s++) {
      const at = T0 + s * 1000;
      if (at < retryAt) continue;
      expected.push(at);
      retryAt = at + backoffDelay(expected.length, () => 0.5, BACKOFF);
    }
    t.assert.deepStrictEqual(attemptsAt, expected, 'one attempt when the back-off allows it, never one per tick');
    const gaps = attemptsAt.slice(1).map((a, i) => a - (attemptsAt[i] ?? 0));
    t.assert.deepStrictEqual(gaps.slice(0, 5), [1000, 2000, 4000, 8000, 16_000], 'exponential');
    t.assert.ok(gaps.slice(4).every((g) => g === 16_000), `capped at 16 s: ${gaps.join(', ')}`);

    // The log names the kind (and the status with the body's first line, or the OpenADR code).
    const failures = logs.filter((l) => l.level === 'warn' && l.fields['kind'] !== undefined && String(l.msg).includes('oadrUpdateReport'));
    t.assert.equal(failures.length, attemptsAt.length, 'one warning per failed delivery');
    for (const f of failures) {
      t.assert.deepStrictEqual([f.fields['kind'], f.fields['code'], f.fields['httpStatus'], f.fields['bodyLine'], f.fields['responseCode']], [c.kind, c.code, c.httpStatus, c.bodyLine, c.responseCode]);
    }
    if (c.bodyLine !== undefined) t.assert.ok(failures[0]?.msg.includes(`HTTP ${c.httpStatus}: ${c.bodyLine}`), failures[0]?.msg);

    // The status shows it; the outbox kept the four complete minutes.
    const st = ven.status();
    t.assert.deepStrictEqual([st.vtn.state, st.vtn.lastFailure?.kind, st.vtn.lastFailure?.httpStatus, st.delivery.failures], [c.kind, c.kind, c.httpStatus, attemptsAt.length]);
    t.assert.equal(st.delivery.retryAt, (attemptsAt.at(-1) ?? 0) + BACKOFF.capMs);
    t.assert.equal(st.outboxPending, 4);
    t.assert.deepStrictEqual(receivedStarts(vtn), [], 'nothing reached the VTN');

    // The VTN recovers: the next try after the back-off delivers every interval, once each.
    vtn.misbehave('EiReport', undefined);
    setNow((st.delivery.retryAt ?? 0) + 1000);
    await ven.tick();
    await ven.flush();
    t.assert.equal(ven.status().outboxPending, 0);
    t.assert.deepStrictEqual(receivedStarts(vtn), [T0, T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]);
    t.assert.deepStrictEqual([ven.status().vtn.state, ven.status().delivery], ['ok', { failures: 0, retryAt: undefined }]);
  });
}
