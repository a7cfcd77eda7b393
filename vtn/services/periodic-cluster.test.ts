/**
 * A duty on a timer runs once in a cluster: of two VTN processes on one PostgreSQL store (two
 * stores here, each its own connection as each process has), only the lease holder's pass runs,
 * and the other's once the holder's connection is gone.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestPostgres } from '../../storage/testing/postgres.ts';
import { silentLogger } from '../operations/logger.ts';
import { createPostgresStore } from '../store/postgres-store.ts';
import type { VtnContext } from './context.ts';
import { startPeriodic } from './periodic.ts';

const pg = await startTestPostgres();
after(() => pg.stop());

test('cluster: a periodic pass runs in the process holding its lease only, and moves when that process goes', (t) => {
  const url = pg.createDatabase();
  const a = createPostgresStore({ url });
  const b = createPostgresStore({ url });
  t.after(() => b.close());
  const runs = { a: 0, b: 0 };
  // What startPeriodic reads of the context: the store, the clock, the logger.
  const ctx = (store: typeof a) => ({ store, now: Date.now, log: silentLogger }) as unknown as VtnContext;
  const pa = startPeriodic(ctx(a), { intervalMs: 3_600_000, what: 'cancellation re-send', pass: () => ++runs.a });
  const pb = startPeriodic(ctx(b), { intervalMs: 3_600_000, what: 'cancellation re-send', pass: () => ++runs.b });
  t.after(() => (pa.stop(), pb.stop()));
  for (let i = 0; i < 3; i++) {
    pa.tick();
    pb.tick();
  }
  assert.deepEqual(runs, { a: 3, b: 0 });
  pa.stop();
  a.close();
  for (let i = 0; i < 100 && runs.b === 0; i++) pb.tick();
  assert.equal(runs.b > 0, true, 'the lease moved to the other process');
});
