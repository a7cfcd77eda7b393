import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBatchCutter } from './batch-cutter.ts';

const msg = (n: number, size = 10) => Buffer.alloc(size, n);

test('MaxMessageCount cuts at once; BatchTimeout runs from the first message of a batch', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const batches: number[][] = [];
  const cutter = createBatchCutter({ timeoutMs: 100, maxMessageCount: 3, preferredMaxBytes: 1000 }, (b) => batches.push(b.map((m) => m[0] as number)));
  for (let i = 1; i <= 4; i++) cutter.enqueue(msg(i));
  assert.deepEqual(batches, [[1, 2, 3]]);
  t.mock.timers.tick(60);
  cutter.enqueue(msg(5));
  t.mock.timers.tick(39);
  assert.deepEqual(batches, [[1, 2, 3]], 'not before BatchTimeout');
  t.mock.timers.tick(1);
  assert.deepEqual(batches, [[1, 2, 3], [4, 5]]);
  t.mock.timers.tick(1000);
  assert.equal(batches.length, 2, 'no empty blocks');
  cutter.close();
});

test('PreferredMaxBytes: a batch never grows past it; an oversized message goes alone', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const batches: number[][] = [];
  const cutter = createBatchCutter({ timeoutMs: 100, maxMessageCount: 100, preferredMaxBytes: 25 }, (b) => batches.push(b.map((m) => m[0] as number)));
  cutter.enqueue(msg(1));
  cutter.enqueue(msg(2));
  cutter.enqueue(msg(3)); // 30 > 25: [1,2] is cut first
  assert.deepEqual(batches, [[1, 2]]);
  cutter.enqueue(msg(4, 40)); // oversized: [3] cut, then [4] alone
  assert.deepEqual(batches, [[1, 2], [3], [4]]);
  cutter.enqueue(msg(5));
  cutter.flush();
  assert.deepEqual(batches.at(-1), [5]);
  cutter.close();
});
