/**
 * The VEN outbox: unit behaviour (dedupe by key, ack, meta in the same transaction), then a crash
 * test: a real VEN process reporting 1-minute intervals to a real HTTP receiver is killed with
 * SIGKILL several times; no interval is lost, and resends are bounded by what was in flight.
 */
import { test, type TestContext } from 'node:test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReportRequest } from '../oadr/index.ts';
import { OPEN_FILES_SKIP, openFiles } from '../test/support/open-files.ts';
import { createSeededRandom } from '../test/support/seeded-random.ts';
import { VenError, VenErrorCode } from './errors.ts';
import { openOutbox, OUTBOX_FILE } from './outbox.ts';
import { createScriptedVtn, type ScriptedVtn } from './testing/scripted-vtn.ts';

const tmp = (t: TestContext): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ven-outbox-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test('outbox VEN: a key is queued once, even after delivery; meta commits with the entries; survives reopening', (t: TestContext) => {
  const dir = tmp(t);
  const a = openOutbox({ dataDir: dir });
  t.assert.equal(a.enqueue([{ key: 'r@1', body: '1' }, { key: 'r@2', body: '2' }], { cursor: '2' }), 2);
  t.assert.equal(a.enqueue([{ key: 'r@2', body: 'again' }, { key: 'r@3', body: '3' }]), 1);
  t.assert.deepStrictEqual(a.pending().map((e) => e.body), ['1', '2', '3']);
  a.ack(['r@1']);
  t.assert.equal(a.enqueue([{ key: 'r@1', body: 'resent?' }]), 0, 'a delivered key is never queued again');
  a.close();
  const b = openOutbox({ dataDir: dir });
  t.assert.deepStrictEqual(b.pending().map((e) => e.key), ['r@2', 'r@3']);
  t.assert.equal(b.getMeta('cursor'), '2');
  t.assert.equal(b.pendingCount(), 2);
  b.close();
});

const CHILD = fileURLToPath(new URL('./testing/outbox-child.ts', import.meta.url));
const MIN = 60_000;

/** Interval starts the receiver got, one entry per arrival (duplicates kept). */
function arrivals(vtn: ScriptedVtn): number[] {
  return vtn.of('UpdateReport').flatMap((u) => (u.reports ?? []).flatMap((r) => (r.intervals ?? []).map((_, i) => Date.parse(r.dtstart ?? '') + i * MIN)));
}

test('outbox VEN: SIGKILL during reporting, 5 rounds: every interval arrives, gaps none, resends bounded', async (t: TestContext) => {
  const dir = tmp(t);
  const T_BASE = Date.parse('2025-06-12T00:00:00.000Z');
  const request: ReportRequest = {
    reportRequestId: 'rq-crash',
    specifier: { reportSpecifierId: 'TELEMETRY_USAGE', granularity: 'PT1M', reportBackDuration: 'PT1M', reportInterval: { dtstart: new Date(T_BASE).toISOString(), duration: 'PT0S' }, specifierPayloads: [{ rId: 'power', readingType: 'x-notApplicable' }] },
  };
  const vtn = await createScriptedVtn({ pollFreq: 'PT1H', reportRequests: [request] });
  t.after(() => vtn.close());
  const epoch = Date.now();
  const rng = createSeededRandom(9);
  const rounds = 5;
  for (let round = 0; round < rounds; round++) {
    const child = spawn(process.execPath, [CHILD, vtn.url, dir, String(T_BASE), String(epoch), '40'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const target = new Set(arrivals(vtn)).size + 3 + rng.between(0, 4);
    try {
      await vtn.waitFor(() => new Set(arrivals(vtn)).size >= target, 20_000);
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`round ${round}: ${(err as Error).message}; child stderr: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, rng.between(0, 30)));
    child.kill('SIGKILL');
    t.assert.equal(await exited, 'SIGKILL');
  }
  // What the receiver got, plus what is still in the outbox, covers every interval produced.
  const box = openOutbox({ dataDir: dir });
  const reportsMeta = JSON.parse(box.getMeta('reports') ?? '{}') as { requests?: Record<string, { coveredToMs: number }> };
  const coveredTo = reportsMeta.requests?.['rq-crash']?.coveredToMs ?? 0;
  const pending = box.pending(100_000).map((e) => JSON.parse(e.body) as { start: number }).map((q) => q.start);
  box.close();
  const got = arrivals(vtn);
  const distinct = new Set([...got, ...pending]);
  const expected = (coveredTo - T_BASE) / MIN;
  t.assert.ok(expected >= 15, `only ${expected} intervals produced`);
  for (let i = 0; i < expected; i++) t.assert.ok(distinct.has(T_BASE + i * MIN), `interval ${i} lost`);
  t.assert.equal(distinct.size, expected, 'nothing outside the produced range');
  const duplicates = got.length - new Set(got).size;
  // A kill can only repeat the batch that was in flight (≤ 4 intervals per update here).
  t.assert.ok(duplicates <= rounds * 4, `${duplicates} duplicate arrivals over ${rounds} kills`);
  t.diagnostic(`intervals produced ${expected}, arrived ${new Set(got).size}, still queued ${pending.length}, duplicate arrivals ${duplicates} over ${rounds} SIGKILLs`);
});

test('outbox VEN: pending comes oldest first, at most `limit`; ack takes entries out and forgets their bodies', (t: TestContext) => {
  const box = openOutbox({ dataDir: tmp(t) });
  t.after(() => box.close());
  box.enqueue([{ key: 'a', body: 'A' }, { key: 'b', body: 'B' }, { key: 'c', body: 'C' }]);
  box.enqueue([{ key: 'd', body: 'D' }]);
  t.assert.deepStrictEqual(box.pending(2), [{ key: 'a', body: 'A' }, { key: 'b', body: 'B' }]);
  t.assert.equal(box.pending().length, 4, 'the default limit is larger than four');
  box.ack(['b', 'd', 'never-queued']);
  t.assert.deepStrictEqual(box.pending(), [{ key: 'a', body: 'A' }, { key: 'c', body: 'C' }]);
  t.assert.equal(box.pendingCount(), 2);
  box.ack(['a', 'c']);
  t.assert.deepStrictEqual([box.pending(), box.pendingCount()], [[], 0]);
});

test('outbox VEN: only the last `keepDelivered` delivered keys are remembered; pending ones are never pruned', (t: TestContext) => {
  const box = openOutbox({ dataDir: tmp(t), keepDelivered: 2 });
  t.after(() => box.close());
  box.enqueue(['k1', 'k2', 'k3', 'k4', 'k5'].map((key) => ({ key, body: key })));
  box.ack(['k1', 'k2', 'k4', 'k5']);
  // k4 and k5 are the two latest deliveries: still known. k1 and k2 are forgotten: queued again.
  t.assert.equal(box.enqueue([{ key: 'k4', body: 'x' }, { key: 'k5', body: 'x' }]), 0);
  t.assert.equal(box.enqueue([{ key: 'k1', body: 'again' }, { key: 'k2', body: 'again' }]), 2);
  t.assert.deepStrictEqual(box.pending().map((e) => e.key), ['k3', 'k1', 'k2'], 'k3, older than every delivery, is still pending');
});

test('outbox VEN: setMeta writes, replaces and, with undefined, deletes', (t: TestContext) => {
  const box = openOutbox({ dataDir: tmp(t) });
  t.after(() => box.close());
  box.setMeta({ a: '1', b: '2' });
  box.setMeta({ a: '3', b: undefined });
  t.assert.deepStrictEqual([box.getMeta('a'), box.getMeta('b'), box.getMeta('never')], ['3', undefined, undefined]);
});

test('outbox VEN: a write that fails is OUTBOX_FAILED and leaves nothing half-written; an unusable directory is OUTBOX_FAILED', (t: TestContext) => {
  const dir = tmp(t);
  const box = openOutbox({ dataDir: dir });
  t.after(() => box.close());
  box.enqueue([{ key: 'kept', body: '1' }], { cursor: '1' });
  const bad = [{ key: 'new', body: '2' }, { key: 'bad', body: { not: 'text' } as unknown as string }]; // SQLite cannot bind an object
  t.assert.throws(() => box.enqueue(bad, { cursor: '3' }), (err: unknown) => err instanceof VenError && err.code === VenErrorCode.OUTBOX_FAILED && err.cause instanceof Error);
  t.assert.deepStrictEqual([box.pending().map((e) => e.key), box.getMeta('cursor')], [['kept'], '1'], 'neither the first entry nor the meta of the failed call');
  box.close();
  box.close(); // closing twice is harmless
  const file = join(dir, 'not-a-directory');
  writeFileSync(file, '');
  t.assert.throws(() => openOutbox({ dataDir: file }), (err: unknown) => err instanceof VenError && err.code === VenErrorCode.OUTBOX_FAILED && err.cause instanceof Error);
});

test('outbox VEN: close releases the database file', { skip: OPEN_FILES_SKIP }, (t: TestContext) => {
  const dir = tmp(t);
  const box = openOutbox({ dataDir: dir });
  box.enqueue([{ key: 'a', body: '1' }]);
  t.assert.ok(openFiles(join(dir, OUTBOX_FILE)) > 0);
  box.close();
  t.assert.equal(openFiles(join(dir, OUTBOX_FILE)), 0);
});
