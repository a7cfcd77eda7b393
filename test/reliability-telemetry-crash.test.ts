/**
 * Nothing the VTN acknowledges is lost on its way to the ledger, and nothing is counted twice: the
 * VTN (store + embedded ledger, as `oadr-ledger vtn` runs it) is a child process killed with SIGKILL
 * at the named points of report ingestion (`CRASH_POINTS`), and as soon as its 200 arrives; after a
 * restart the VEN sends the report again (its outbox is at-least-once), and every acknowledged
 * interval is then on the ledger exactly once: the mapping holds each sample once, the slot they
 * fill is recorded once (one record on the ledger) with its exact average.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Payload } from '../oadr/index.ts';
import { tempDataDir } from '../ledger-bridge/testing/embedded.ts';
import { MAPPING_STORE_FILE } from '../ledger-bridge/index.ts';
import { CRASH_POINTS, type CrashPointName } from '../vtn/services/context.ts';
import { openVtnLedger } from '../vtn/ledger/embedded.ts';
import { call, post } from '../vtn/testing/fake-ven.ts';
import { enrolUsageReporter, usageReport } from '../vtn/testing/usage-report.ts';
import { countRows as count } from './support/count-rows.ts';
import { until } from './support/until.ts';
import { startVtnChild, type VtnChild } from './support/vtn-child.ts';

const CHILD = fileURLToPath(new URL('../vtn/testing/crash-vtn.ts', import.meta.url));
const SLOT = 900_000;
/** The last complete 15-minute slot (UTC quarter hours are the contract's in Europe/Rome too). */
const SLOT_START = Math.floor(Date.now() / SLOT) * SLOT - SLOT;
/** 90 intervals of 10 s fill the slot: 1000, 1100, 1200 W in turn → 1100 W. */
const VALUES = Array.from({ length: 90 }, (_, i) => 1000 + (i % 3) * 100);

type Child = VtnChild;

const start = (dataDir: string, crashAt: CrashPointName | 'none'): Promise<Child> => startVtnChild(CHILD, [dataDir, crashAt]);

async function stop(c: Child): Promise<void> {
  c.proc.kill('SIGTERM');
  await c.exited;
}

const updateReport = (venId: string, reportRequestId: string): Payload => usageReport(venId, reportRequestId, SLOT_START, VALUES);
const enrol = (c: Child) => enrolUsageReporter(c.url);

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
      assert.equal(stopped, 'SIGKILL', `the VTN stopped at '${point}' (killed by its own signal)`);
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
