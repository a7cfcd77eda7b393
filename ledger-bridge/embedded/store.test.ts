import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore, type LedgerStore } from './store.ts';

/** Commits block `number` setting `key` to `value` the way the committer does: state and block in one SQLite transaction. */
function commit(store: LedgerStore, number: number, key: string, value: string): void {
  store.atomically(() => {
    store.worldState.apply(
      { txId: `tx-${number}`, timestamp: { seconds: number, nanos: 0 }, writeSet: { writes: [{ key, isDelete: false, value: Buffer.from(value) }], metadataWrites: [] } },
      { blockNum: number, txNum: 0 },
    );
    const hash = Buffer.alloc(32, number);
    store.appendBlock({ number, bytes: new Uint8Array([number]), hash, dataHash: hash, commitHash: hash });
  });
}

test('reader snapshots: a key read twice in one snapshot comes from the cache; a snapshot after a new block sees the new value, never a stale one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oadr-store-'));
  const writer = openStore(dir);
  const reader = openStore(dir, { reader: true });
  try {
    commit(writer, 0, 'k', 'v0');
    const read = () => reader.worldState.get('k')?.value.toString();
    assert.equal(reader.beginSnapshot(), true);
    assert.equal(read(), 'v0');
    const first = reader.worldState.get('k');
    assert.equal(reader.worldState.get('k'), first, 'the same entry object: a cache hit');
    assert.equal(reader.worldState.get('absent'), undefined);
    reader.endSnapshot();

    // A block commits between two snapshots: the next snapshot sees it.
    commit(writer, 1, 'k', 'v1');
    assert.equal(reader.beginSnapshot(), true);
    assert.equal(read(), 'v1');
    assert.deepEqual(reader.worldState.get('k')?.version, { blockNum: 1, txNum: 0 });
    reader.endSnapshot();

    // A block committing while a snapshot is open stays invisible to it (SQLite's snapshot), and the
    // cache does not carry the old value into the next snapshot.
    assert.equal(reader.beginSnapshot(), true);
    assert.equal(read(), 'v1');
    commit(writer, 2, 'k', 'v2');
    commit(writer, 3, 'new', 'n');
    assert.equal(read(), 'v1');
    assert.equal(reader.worldState.get('new'), undefined);
    reader.endSnapshot();
    assert.equal(reader.beginSnapshot(), true);
    assert.equal(read(), 'v2');
    assert.equal(reader.worldState.get('new')?.value.toString(), 'n');
    reader.endSnapshot();
    // Outside a snapshot, reads go to SQLite.
    commit(writer, 4, 'k', 'v4');
    assert.equal(read(), 'v4');
  } finally {
    reader.close();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
