import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { createSqliteStore } from './sqlite-store.ts';
import type { VenRegistration } from './store.ts';

const reg = (venId: string, customerId: string): VenRegistration => ({
  venId, registrationId: `reg-${venId}`, customerId, venName: customerId, fingerprint: undefined, profileName: '2.0b', transportName: 'simpleHttp',
  transportAddress: undefined, httpPullModel: true, reportOnly: false, xmlSignature: false, registeredAt: 1, state: 'registered', reregistrationRequested: false,
});

test('store: a reopened store has the registrations, the FIFO queue and the opt schedules', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s1 = createSqliteStore({ dataDir: dir });
  s1.putCustomer({ customerId: 'c1', venName: 'n1', venId: undefined, fingerprint: undefined, enrolledAt: 1 });
  s1.putRegistration(reg('v1', 'c1'));
  s1.enqueue('v1', 'RequestReregistration', { type: 'RequestReregistration', schemaVersion: '2.0b', venId: 'v1' }, 5);
  s1.enqueue('v1', 'DistributeEvent', undefined, 6);
  s1.putOpt('v1', 'o1', { a: 1 }, 7);
  s1.close();
  const s2 = createSqliteStore({ dataDir: dir });
  t.after(() => s2.close());
  assert.equal(s2.findCustomerByVenName('n1')?.customerId, 'c1');
  assert.equal(s2.getRegistration('v1')?.registrationId, 'reg-v1');
  assert.equal(s2.findRegistrationIgnoringCase('V1')?.venId, 'v1');
  assert.deepEqual(s2.vensWithQueuedItems(), ['v1']);
  assert.equal(s2.shift('v1')?.kind, 'RequestReregistration');
  assert.equal(s2.shift('v1')?.payload, undefined);
  assert.equal(s2.shift('v1'), undefined);
  assert.equal(s2.listOpts('v1')[0]?.optId, 'o1');
});

test('R406+R407 store: erasing a VEN keeps or drops its registration; queue, opts and metadata go', () => {
  const s = createSqliteStore({ dataDir: ':memory:' });
  s.putRegistration(reg('v1', 'c1'));
  s.enqueue('v1', 'DistributeEvent', undefined, 1);
  s.putOpt('v1', 'o1', {}, 1);
  s.putReportMetadata('v1', [], 1);
  s.eraseVen('v1', { keepRegistration: true });
  assert.equal(s.queueDepth('v1'), 0);
  assert.equal(s.listOpts('v1').length, 0);
  assert.equal(s.getReportMetadata('v1'), undefined);
  assert.ok(s.getRegistration('v1') !== undefined);
  s.eraseVen('v1', { keepRegistration: false });
  assert.equal(s.getRegistration('v1'), undefined);
  s.close();
});

test('store: a failing transaction leaves nothing behind', () => {
  const s = createSqliteStore({ dataDir: ':memory:' });
  assert.throws(() =>
    s.transaction(() => {
      s.enqueue('v1', 'DistributeEvent', undefined, 1);
      throw new Error('boom');
    }),
  );
  assert.equal(s.queueDepth('v1'), 0);
  s.close();
});

test('reliability 5: a version-1 store is migrated: telemetry stored twice under two report requests is kept once, keyed by (VEN, rID, start)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The version-1 table, as a VTN before this one wrote it: the request id in the key.
  const old = new DatabaseSync(join(dir, 'vtn.sqlite'));
  old.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schemaVersion', '1');
CREATE TABLE telemetry_points (ven_id TEXT NOT NULL, report_request_id TEXT NOT NULL, r_id TEXT NOT NULL, start_ms INTEGER NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (ven_id, report_request_id, r_id, start_ms));`);
  const point = (rr: string, value: number) => ({ venId: 'v1', reportRequestId: rr, reportName: 'TELEMETRY_USAGE', rId: 'usage', startMs: 1000, durationMs: 60_000, value, unit: 'W', quality: undefined, status: undefined, receivedAt: 1 });
  const insert = old.prepare('INSERT INTO telemetry_points VALUES (?, ?, ?, ?, ?)');
  for (const [rr, v] of [['rr-1', 500], ['rr-2', 500]] as const) insert.run('v1', rr, 'usage', 1000, JSON.stringify(point(rr, v)));
  old.close();
  const s = createSqliteStore({ dataDir: dir });
  t.after(() => s.close());
  t.assert.deepEqual(s.listTelemetryPoints('v1').map((p) => [p.reportRequestId, p.value]), [['rr-1', 500]]);
  t.assert.equal(s.insertTelemetryPoint(point('rr-3', 500)), 'duplicate', 'a third request id is the same interval too');
});
