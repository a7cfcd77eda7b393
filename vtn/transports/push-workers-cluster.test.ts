/**
 * Push deliveries in a cluster: two processes' push workers (each with its own connection to one
 * PostgreSQL store) both woken for one VEN deliver each queued payload once, in queue order.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { startTestPostgres } from '../../storage/testing/postgres.ts';
import { resolveVtnConfig } from '../cli/config.ts';
import { silentLogger } from '../operations/logger.ts';
import { createPostgresStore } from '../store/postgres-store.ts';
import { registration } from '../testing/store-contract.ts';
import { until } from '../../test/support/until.ts';
import { createPushWorkers, type PushWorkers } from './push-workers.ts';

const pg = await startTestPostgres();
after(() => pg.stop());

test('cluster: two processes woken for one push VEN deliver each queued payload once, in order', async (t) => {
  const url = pg.createDatabase();
  const stores = [createPostgresStore({ url }), createPostgresStore({ url })];
  t.after(() => stores.forEach((s) => s.close()));
  stores[0]!.putRegistration(registration('v1', 'c1', { httpPullModel: false, transportAddress: 'http://127.0.0.1:1/push' }));
  const seqs = Array.from({ length: 6 }, (_, i) => stores[0]!.enqueue('v1', 'RequestReregistration', { type: 'RequestReregistration', schemaVersion: '2.0b', venId: 'v1' }, i));
  const delivered: Array<{ seq: number; by: number }> = [];
  const workers: PushWorkers[] = stores.map((store, by) =>
    createPushWorkers({
      store,
      config: resolveVtnConfig({}).push,
      log: silentLogger,
      materialize: (item) => item.payload!,
      addressOf: (reg) => reg?.transportAddress,
      // A push takes a while: both processes are awake for the VEN at once.
      attempt: async (a) => {
        await sleep(20);
        delivered.push({ seq: a.item.seq, by });
        return { kind: 'delivered' };
      },
    }),
  );
  t.after(() => workers.forEach((w) => w.close()));
  workers[0]!.wake('v1');
  workers[1]!.wake('v1');
  await until('the queue to empty', () => stores[1]!.queueDepth('v1') === 0 && workers.every((w) => w.idle('v1')), 30_000);
  assert.deepEqual(delivered.map((d) => d.seq), seqs, `each once, in order (${JSON.stringify(delivered)})`);
});
