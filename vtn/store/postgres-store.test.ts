/**
 * What only the PostgreSQL store has: migrations and the refusal of a newer schema, a database that
 * goes away and comes back, readiness and metrics of a VTN on it, the cluster's advisory leases.
 * (Its behaviour as a `VtnStore` is the contract suite's, store-contract.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestPostgres } from '../../storage/testing/postgres.ts';
import { VtnError } from '../errors.ts';
import { METRIC } from '../operations/metrics.ts';
import { startTestVtn } from '../testing/fake-ven.ts';
import { registration } from '../testing/store-contract.ts';
import { createPostgresStore } from './postgres-store.ts';
import { PG_SCHEMA_VERSION } from './postgres-schema.ts';

const pg = await startTestPostgres();
after(() => pg.stop());

test('postgres store: migrations run on start and once; a database with a newer schema is refused with a clear error', (t) => {
  const url = pg.createDatabase();
  const a = createPostgresStore({ url });
  a.putRegistration(registration('v1', 'c1'));
  a.close();
  const b = createPostgresStore({ url });
  t.after(() => b.close());
  assert.equal(b.getRegistration('v1')?.venId, 'v1', 'a second start keeps the data');
  assert.equal(pg.sql('SELECT string_agg(version::text, \',\') FROM schema_version', url.split('/').pop()).trim(), Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1).join(','));
  pg.sql(`INSERT INTO schema_version (version) VALUES (${PG_SCHEMA_VERSION + 1})`, url.split('/').pop());
  assert.throws(
    () => createPostgresStore({ url }),
    (err: unknown) => err instanceof VtnError && err.code === 'STORE' && err.message.includes(`schema version ${PG_SCHEMA_VERSION + 1}, this VTN reads ${PG_SCHEMA_VERSION}`),
  );
});

test('postgres store: an empty-queue poll is one statement: a peek right after reading the registration answers from it, any other statement in between ends that', (t) => {
  const url = pg.createDatabase();
  const a = createPostgresStore({ url });
  const b = createPostgresStore({ url });
  t.after(() => (a.close(), b.close()));
  a.putRegistration(registration('v1', 'c1'));
  const before = b.latency().count;
  assert.equal(b.getRegistration('v1')?.venId, 'v1');
  assert.equal(b.peek('v1'), undefined);
  assert.equal(b.latency().count - before, 1, 'one round trip for the registration and the empty queue');
  b.getRegistration('v1');
  a.enqueue('v1', 'DistributeEvent', undefined, 1);
  b.queueDepth('v2');
  assert.equal(b.peek('v1')?.kind, 'DistributeEvent', 'another statement ran: the peek reads the queue');
  b.getRegistration('v1');
  assert.equal(b.peek('v2'), undefined);
  assert.equal(b.peek('v1')?.kind, 'DistributeEvent', 'a queue that was not empty is read');
});

test('postgres store: a registration read again in the same synchronous run is that read; after an await it is read anew', async (t) => {
  const url = pg.createDatabase();
  const a = createPostgresStore({ url });
  const b = createPostgresStore({ url });
  t.after(() => (a.close(), b.close()));
  a.putRegistration(registration('v1', 'c1'));
  const before = b.latency().count;
  b.getRegistration('v1');
  assert.equal(b.getRegistration('v1')?.state, 'registered');
  assert.equal(b.latency().count - before, 1, 'the second read is the first');
  a.putRegistration(registration('v1', 'c1', { state: 'cancelling' }));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(b.getRegistration('v1')?.state, 'cancelling', 'the next request reads the store');
  assert.equal(b.peek('v1'), undefined);
  a.enqueue('v1', 'DistributeEvent', undefined, 1);
  await new Promise((resolve) => setImmediate(resolve));
  b.getRegistration('v1');
  assert.equal(b.peek('v1')?.kind, 'DistributeEvent', 'the queue is read anew too');
});

test('postgres store: a lost connection is opened again: the call that finds it broken fails with a typed error, the next ones work', async (t) => {
  const url = pg.createDatabase();
  const s = createPostgresStore({ url, statementTimeoutMs: 2000 });
  t.after(() => s.close());
  s.putRegistration(registration('v1', 'c1'));
  // Every connection of the database is cut, as a restart or failover of the server does.
  pg.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${url.split('/').pop()}'`);
  let failures = 0;
  for (let i = 0; i < 3; i++) {
    try {
      assert.equal(s.getRegistration('v1')?.venId, 'v1');
      break;
    } catch (err) {
      assert.equal((err as Error).name, 'PgSyncError', String(err));
      failures++;
    }
  }
  assert.ok(failures <= 1, `at most the first call fails (${failures})`);
  assert.equal(s.getRegistration('v1')?.venId, 'v1');
});

test('postgres store: a duty lease is held by one store at a time and moves when its holder\'s connection goes; a VEN\'s pushes and an event\'s creation are claimed by one at a time', (t) => {
  const url = pg.createDatabase();
  const a = createPostgresStore({ url });
  const b = createPostgresStore({ url });
  t.after(() => b.close());
  assert.equal(a.cluster.lease('cancel-resend'), true);
  assert.equal(a.cluster.lease('cancel-resend'), true, 'kept');
  assert.equal(b.cluster.lease('cancel-resend'), false);
  assert.equal(b.cluster.lease('report-resend'), true, 'another duty is another lease');
  assert.equal(b.cluster.claimVen('v1'), true);
  assert.equal(a.cluster.claimVen('v1'), false, 'one process pushes to a VEN');
  b.cluster.releaseVen('v1');
  assert.equal(a.cluster.claimVen('v1'), true);
  assert.equal(a.cluster.claimEvent('ev-1'), true);
  assert.equal(b.cluster.claimEvent('ev-1'), false, 'one process runs an event\'s creation');
  a.cluster.releaseEvent('ev-1');
  assert.equal(b.cluster.claimEvent('ev-1'), true);
  b.cluster.releaseEvent('ev-1');
  a.close();
  // The holder's connection is gone: the server releases its locks when the session ends.
  let moved = false;
  for (let i = 0; i < 100 && !moved; i++) moved = b.cluster.lease('cancel-resend');
  assert.equal(moved, true);
});

test('postgres store: /readyz fails while the database is unreachable; /metrics shows the store round trips', async (t) => {
  const own = await startTestPostgres();
  let stopped = false;
  t.after(() => (stopped ? undefined : own.stop()));
  const { url } = await startTestVtn(t, { store: own.createDatabase(), storeStatementTimeoutMs: 1000 });
  const ready = await fetch(`${url}/readyz`);
  assert.equal(ready.status, 200);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const count = Number(new RegExp(`^${METRIC.storeRoundTripSeconds}_count (\\d+)$`, 'm').exec(metrics)?.[1]);
  assert.ok(count > 0, metrics);
  await own.stop();
  stopped = true;
  const down = await fetch(`${url}/readyz`);
  assert.equal(down.status, 503);
  const body = (await down.json()) as { checks: { store: string }; errors: string[] };
  assert.equal(body.checks.store, 'failed');
  assert.ok(body.errors.some((e) => e.startsWith('store: ')), body.errors.join('; '));
});
