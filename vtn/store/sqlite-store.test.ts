import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { createSqliteStore } from './sqlite-store.ts';

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
