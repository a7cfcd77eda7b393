/**
 * Nothing the VTN acknowledges is lost on its way to the ledger, and nothing is counted twice: the
 * VTN (store + embedded ledger, as `oadr-ledger vtn` runs it) is a child process killed with SIGKILL
 * at the named points of report ingestion (`CRASH_POINTS`), and as soon as its 200 arrives; after a
 * restart the VEN sends the report again (its outbox is at-least-once), and every acknowledged
 * interval is then on the ledger exactly once: the mapping holds each sample once, the slot they
 * fill is recorded once (one record on the ledger) with its exact average.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Payload, ReportInterval } from '../oadr/index.ts';
import { tempDataDir } from '../ledger-bridge/testing/embedded.ts';
import { MAPPING_STORE_FILE } from '../ledger-bridge/index.ts';
import { CRASH_POINTS, type CrashPointName } from '../vtn/services/context.ts';
import { openVtnLedger } from '../vtn/ledger/embedded.ts';
import { call, post, registerVen, ven } from '../vtn/testing/fake-ven.ts';
import { countRows as count } from './support/count-rows.ts';
import { until } from './support/until.ts';

const CHILD = fileURLToPath(new URL('../vtn/testing/crash-vtn.ts', import.meta.url));
const SLOT = 900_000;
/** The last complete 15-minute slot (UTC quarter hours are the contract's in Europe/Rome too). */
const SLOT_START = Math.floor(Date.now() / SLOT) * SLOT - SLOT;
/** 90 intervals of 10 s fill the slot: 1000, 1100, 1200 W in turn → 1100 W. */
const VALUES = Array.from({ length: 90 }, (_, i) => 1000 + (i % 3) * 100);

interface Child {
  readonly url: string;
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
}

async function start(dataDir: string, crashAt: CrashPointName | 'none'): Promise<Child> {
  const proc = spawn(process.execPath, [CHILD, dataDir, crashAt], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /url (\S+)\n/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`the VTN exited (${code}) before listening: ${stderr}`)));
  });
  return { url, proc, exited };
}

async function stop(c: Child): Promise<void> {
  c.proc.kill('SIGTERM');
  await c.exited;
}

function updateReport(venId: string, reportRequestId: string): Payload {
  const intervals: ReportInterval[] = VALUES.map((w, i) => ({
    dtstart: new Date(SLOT_START + i * 10_000).toISOString(),
    duration: 'PT10S',
    uid: String(i),
    payloads: [{ rId: 'usage', value: { type: 'float', value: w } }],
  }));
  return {
    type: 'UpdateReport',
    schemaVersion: '2.0b',
    requestId: 'rq-up',
    venId,
    reports: [{ dtstart: new Date(SLOT_START).toISOString(), intervals, reportRequestId, reportSpecifierId: 'rs-1', reportName: 'TELEMETRY_USAGE', createdDateTime: new Date().toISOString() }],
  };
}

/** Registers a VEN and its usage report (nothing of it is ledger work: no crash point is reached); returns what the VEN keeps. */
async function enrol(c: Child): Promise<{ venId: string; reportRequestId: string }> {
  const { venId } = await registerVen(c.url, 'house-1');
  const registered = await call(c.url, 'EiReport', ven.telemetryMetadata(venId, { minPeriod: 'PT10S' }), 'RegisteredReport');
  const reportRequestId = registered.reportRequests?.[0]?.reportRequestId;
  assert.ok(reportRequestId !== undefined, 'the VTN requests TELEMETRY_USAGE');
  return { venId, reportRequestId };
}

/** After the last restart: the VEN re-sends, the outbox drains; then every interval is on the ledger once. */
async function resendAndCheck(dataDir: string, venId: string, reportRequestId: string): Promise<void> {
  const c = await start(dataDir, 'none');
  try {
    const again = await call(c.url, 'EiReport', updateReport(venId, reportRequestId), 'UpdatedReport');
    assert.equal(again.response.code, 200);
    const slotRecorded = () => count(join(dataDir, MAPPING_STORE_FILE), `SELECT count(*) AS n FROM slots WHERE start_ms = ${SLOT_START} AND recorded_w IS NOT NULL AND dirty = 0`) === 1;
    await until('the outbox to drain and the slot to be recorded', () => count(join(dataDir, 'vtn.sqlite'), 'SELECT count(*) AS n FROM ledger_outbox') === 0 && slotRecorded(), 60_000);
  } finally {
    await stop(c);
  }
  assert.equal(count(join(dataDir, 'vtn.sqlite'), 'SELECT count(*) AS n FROM telemetry_points'), VALUES.length, 'the VTN store holds each interval once');
  assert.equal(count(join(dataDir, MAPPING_STORE_FILE), 'SELECT count(*) AS n FROM samples'), VALUES.length, 'the mapping holds each interval once');
  const l = await openVtnLedger({ dataDir });
  try {
    const { day, slot } = await l.mapping.slotOf(SLOT_START);
    const customer = count(join(dataDir, 'vtn.sqlite'), "SELECT count(*) AS n FROM customers WHERE customer_id = 'house-1'");
    assert.equal(customer, 1);
    const e = JSON.parse(await l.ledger.evaluate(l.identities.operator, 'queryEnergyValue', ['house-1', day])) as { values: Array<number | null>; records: number };
    assert.equal(e.values[slot], 1100, 'the slot average of every acknowledged interval');
    assert.equal(e.records, 1, 'recorded once');
  } finally {
    await l.close();
  }
}

// Concurrent: each test runs its own VTN in its own directory (most of the time is process start-up).
describe('reliability 1: SIGKILL during report ingestion', { concurrency: true }, () => {
  for (const point of Object.values(CRASH_POINTS)) {
    test(`reliability 1: a VTN killed at '${point}' of report ingestion loses no acknowledged interval and doubles none`, { timeout: 240_000 }, async (t) => {
      const dataDir = tempDataDir('oadr-vtn-crash-');
      t.after(() => rmSync(dataDir, { recursive: true, force: true }));
      const c = await start(dataDir, point);
      const { venId, reportRequestId } = await enrol(c);
      // The answer may or may not come back before the kill: the VEN sends again after the restart either way.
      await post(c.url, 'EiReport', updateReport(venId, reportRequestId)).catch(() => undefined);
      const stopped = await Promise.race([c.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 60_000).unref())]);
      if (stopped === 'running') c.proc.kill('SIGKILL');
      assert.equal(stopped, null, `the VTN stopped at '${point}' (killed by its own signal)`);
      await resendAndCheck(dataDir, venId, reportRequestId);
    });
  }

  test('reliability 1: the reproduction — killed as soon as its 200 arrives, the VTN still brings every acknowledged interval to the ledger after a restart', { timeout: 240_000 }, async (t) => {
    const dataDir = tempDataDir('oadr-vtn-crash-');
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const c = await start(dataDir, 'none');
    const { venId, reportRequestId } = await enrol(c);
    const answer = await call(c.url, 'EiReport', updateReport(venId, reportRequestId), 'UpdatedReport');
    c.proc.kill('SIGKILL');
    await c.exited;
    assert.equal(answer.response.code, 200, 'acknowledged');
    await resendAndCheck(dataDir, venId, reportRequestId);
  });
});
