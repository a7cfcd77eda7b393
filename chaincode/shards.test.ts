import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from './canonical-json.ts';
import {
  allocationShardJson, indexOfSorted, rewardShardJson, SHARD_SIZE, shardFirstIds, shardOf, type RewardShardRecord,
} from './shards.ts';

const ids = Array.from({ length: 2 * SHARD_SIZE + 5 }, (_, i) => `sm:${String(i).padStart(6, '0')}`);

test('shards are runs of SHARD_SIZE sorted ids; a meter is found by binary search on their first ids', () => {
  const first = shardFirstIds(ids);
  assert.deepEqual(first, [ids[0], ids[SHARD_SIZE], ids[2 * SHARD_SIZE]]);
  assert.equal(shardOf(first, ids[0]!), 0);
  assert.equal(shardOf(first, ids[SHARD_SIZE - 1]!), 0);
  assert.equal(shardOf(first, ids[SHARD_SIZE]!), 1);
  assert.equal(shardOf(first, ids[ids.length - 1]!), 2);
  assert.equal(shardOf(first, 'sm:'), -1, 'before the first id: no shard');
  assert.equal(shardOf([], ids[0]!), -1);
  const shard1 = ids.slice(SHARD_SIZE, 2 * SHARD_SIZE);
  assert.equal(indexOfSorted(shard1, ids[SHARD_SIZE + 7]!), 7);
  assert.equal(indexOfSorted(shard1, `${ids[SHARD_SIZE + 7]!}x`), -1, 'an id between two members is not in the shard');
});

test('the shard writers produce exactly the canonical JSON of the record', () => {
  const oprW = Float64Array.from([0, 120, 179.5, 3_000_000_000, -0]);
  const baselineW = Float64Array.from([10, 200, 300, 4_000_000_000, 5]);
  const text = allocationShardJson('ev-1', 2, 7, ['a', 'b'], oprW, baselineW);
  const record = { version: 2, shard: 7, oprW: [...oprW], meterIds: ['a', 'b'], eventId: 'ev-1', baselineW: [...baselineW] };
  assert.equal(text, canonicalJson(record));
  const reward: RewardShardRecord = {
    day: '2026-06-10', eventId: 'ev-1', meterIds: ['a', 'b'], perSlotMilli: [1, 2, 3, 4], shard: 0, slots: [28, 29], totalMilli: [3, 7], txIds: ['t1', 't2'], version: 0,
  };
  assert.equal(rewardShardJson(reward), canonicalJson({ ...reward }));
});
