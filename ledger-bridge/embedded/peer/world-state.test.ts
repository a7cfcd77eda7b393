import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareKeys, sortKeys } from '../../fabric/rwset.ts';
import { createWorldState } from './world-state.ts';

const put = (key: string, value: string) => ({ key, isDelete: false, value: Buffer.from(value) });
const del = (key: string) => ({ key, isDelete: true, value: null });
const ts = { seconds: 1, nanos: 0 };

describe('compareKeys', () => {
  it('orders like the UTF-8 bytes a LevelDB peer compares', () => {
    // Deterministic pseudo-random strings over ASCII, BMP (incl. U+E000–U+FFFF) and astral characters.
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['a', 'b', '\u0000', '\u0001', 'é', '\uE000', '\uFFFD', '😀', '\u{10FFFF}', '𝄞'];
    const keys = Array.from({ length: 400 }, () =>
      Array.from({ length: 1 + rand(4) }, () => alphabet[rand(alphabet.length)]).join(''),
    );
    for (let i = 0; i + 1 < keys.length; i++) {
      const a = keys[i] as string;
      const b = keys[i + 1] as string;
      assert.equal(Math.sign(compareKeys(a, b)), Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))), `${a} vs ${b}`);
    }
  });
});

describe('sortKeys', () => {
  it('sorts as compareKeys does, with and without surrogates among the keys', () => {
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const make = (alphabet: string[]) =>
      Array.from({ length: 500 }, () => Array.from({ length: 1 + rand(5) }, () => alphabet[rand(alphabet.length)]).join(''));
    const bmp = make(['a', 'b', '\u0000', 'é', '\uE000', '\uFFFD']);
    const astral = make(['a', '\u0000', '\uE000', '\uFFFD', '😀', '𝄞']);
    for (const keys of [bmp, astral, [...bmp, ...astral]]) {
      assert.deepEqual(sortKeys(keys.slice()), keys.slice().sort(compareKeys));
    }
    // The case the engine's code-unit order gets wrong: U+E000 sorts before an astral character in UTF-8.
    assert.deepEqual(sortKeys(['😀', '\uE000']), ['\uE000', '😀']);
  });
});

describe('world state', () => {
  it('validates through read slots exactly as through key lookups', () => {
    const world = createWorldState();
    world.apply({ txId: 't1', timestamp: ts, writeSet: { writes: [put('a', '1'), put('b', '1')], metadataWrites: [] } }, { blockNum: 1, txNum: 0 });
    const v1 = { blockNum: 1, txNum: 0 };
    const readSetOf = (reads: { key: string; version: { blockNum: number; txNum: number } | null }[]) => {
      const readSet = { reads, rangeQueries: [] };
      world.attachReadSlots?.(readSet, reads.map((r) => world.slot?.(r.key)));
      return readSet;
    };
    const fresh = readSetOf([{ key: 'a', version: v1 }, { key: 'b', version: v1 }, { key: 'c', version: null }]);
    assert.equal(world.slot?.('a')?.key, 'a');
    assert.equal(world.validate('t2', fresh), 'VALID');
    // 'b' overwritten, then 'a' deleted: the slots see the current values.
    world.apply({ txId: 't3', timestamp: ts, writeSet: { writes: [put('b', '2')], metadataWrites: [] } }, { blockNum: 2, txNum: 0 });
    assert.equal(world.validate('t2', fresh), 'MVCC_READ_CONFLICT');
    const afterB = readSetOf([{ key: 'a', version: v1 }, { key: 'b', version: { blockNum: 2, txNum: 0 } }]);
    assert.equal(world.validate('t4', afterB), 'VALID');
    world.apply({ txId: 't5', timestamp: ts, writeSet: { writes: [del('a')], metadataWrites: [] } }, { blockNum: 3, txNum: 0 });
    assert.equal(world.validate('t4', afterB), 'MVCC_READ_CONFLICT');
    assert.equal(world.validate('t6', readSetOf([{ key: 'a', version: null }])), 'VALID');
    // A key absent when read and written since: no slot at read time, the lookup catches it.
    const absent = readSetOf([{ key: 'c', version: null }]);
    world.apply({ txId: 't7', timestamp: ts, writeSet: { writes: [put('c', '1')], metadataWrites: [] } }, { blockNum: 4, txNum: 0 });
    assert.equal(world.validate('t8', absent), 'MVCC_READ_CONFLICT');
    // A read list edited after the slots were attached: a slot of another key is not used.
    const edited = readSetOf([{ key: 'b', version: { blockNum: 2, txNum: 0 } }]);
    (edited.reads as { key: string; version: unknown }[])[0] = { key: 'c', version: { blockNum: 2, txNum: 0 } };
    assert.equal(world.validate('t9', edited), 'MVCC_READ_CONFLICT');
  });

  it('keeps range scans sorted across inserts, deletes and re-inserts', () => {
    const world = createWorldState();
    world.apply({ txId: 't1', timestamp: ts, writeSet: { writes: [put('c', '1'), put('a', '1')], metadataWrites: [] } }, { blockNum: 1, txNum: 0 });
    assert.deepEqual([...world.range('', '')].map(([k]) => k), ['a', 'c']);
    world.apply({ txId: 't2', timestamp: ts, writeSet: { writes: [put('b', '2'), del('c')], metadataWrites: [] } }, { blockNum: 2, txNum: 0 });
    world.apply({ txId: 't3', timestamp: ts, writeSet: { writes: [put('c', '3')], metadataWrites: [] } }, { blockNum: 3, txNum: 0 });
    assert.deepEqual([...world.range('', '')].map(([k, e]) => [k, e.value.toString(), e.version.blockNum]), [
      ['a', '1', 1],
      ['b', '2', 2],
      ['c', '3', 3],
    ]);
    assert.deepEqual([...world.range('b', 'c')].map(([k]) => k), ['b']);
    assert.deepEqual([...world.range('b', 'c', true)].map(([k]) => k), ['b', 'c']);
    assert.deepEqual(world.history('c').map((h) => [h.txId, h.isDelete]), [
      ['t1', false],
      ['t2', true],
      ['t3', false],
    ]);
  });

  it('validates read versions and re-runs range queries', () => {
    const world = createWorldState();
    world.apply({ txId: 't1', timestamp: ts, writeSet: { writes: [put('a', '1')], metadataWrites: [] } }, { blockNum: 1, txNum: 0 });
    const stale = { reads: [{ key: 'a', version: null }], rangeQueries: [] };
    assert.equal(world.validate('t2', stale), 'MVCC_READ_CONFLICT');
    assert.equal(world.validate('t2', { reads: [{ key: 'a', version: { blockNum: 1, txNum: 0 } }], rangeQueries: [] }), 'VALID');
    assert.equal(world.validate('t1', { reads: [], rangeQueries: [] }), 'DUPLICATE_TXID');
    const partial = { startKey: 'a', endKey: 'a', itrExhausted: false, reads: [{ key: 'a', version: { blockNum: 1, txNum: 0 } }] };
    world.apply({ txId: 't3', timestamp: ts, writeSet: { writes: [put('b', '1')], metadataWrites: [] } }, { blockNum: 2, txNum: 0 });
    // 'b' lies after the last key the iterator pulled: not a phantom for a non-exhausted scan.
    assert.equal(world.validate('t4', { reads: [], rangeQueries: [partial] }), 'VALID');
    assert.equal(world.validate('t4', { reads: [], rangeQueries: [{ ...partial, endKey: 'z', itrExhausted: true }] }), 'PHANTOM_READ_CONFLICT');
  });

  it('a scan in progress keeps the keys it started on while small commits insert keys in place', () => {
    const world = createWorldState();
    world.apply({ txId: 't1', timestamp: ts, writeSet: { writes: [put('a', '1'), put('c', '1'), put('e', '1')], metadataWrites: [] } }, { blockNum: 1, txNum: 0 });
    const scan = world.range('', '');
    assert.equal(scan.next().value?.[0], 'a');
    world.apply({ txId: 't2', timestamp: ts, writeSet: { writes: [put('b', '2'), put('d', '2')], metadataWrites: [] } }, { blockNum: 2, txNum: 0 });
    // A new scan sees the inserted keys (this merges them while the first scan is open)…
    assert.deepEqual([...world.range('', '')].map(([k]) => k), ['a', 'b', 'c', 'd', 'e']);
    // …and the open scan goes on over the keys it started with.
    assert.deepEqual([...scan].map(([k]) => k), ['c', 'e']);
    // With no scan open, further single-key commits go in place and stay sorted.
    for (const key of ['ba', 'f', '0']) {
      world.apply({ txId: `t-${key}`, timestamp: ts, writeSet: { writes: [put(key, '3')], metadataWrites: [] } }, { blockNum: 3, txNum: 0 });
      assert.ok([...world.range('', '')].some(([k]) => k === key));
    }
    assert.deepEqual([...world.range('', '')].map(([k]) => k), ['0', 'a', 'b', 'ba', 'c', 'd', 'e', 'f']);
  });

  it('ranges agree with a sorted model over thousands of random inserts, deletes and bounds', () => {
    const world = createWorldState();
    const live = new Set<string>();
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const keyOf = () => `k${String(rand(6000)).padStart(5, '0')}`;
    for (let tx = 1; tx <= 600; tx++) {
      // Mostly small transactions (the in-place path), now and then a large one (the full merge).
      const size = tx % 97 === 0 ? 3000 : 1 + rand(20);
      const writes = [];
      for (let w = 0; w < size; w++) {
        const key = keyOf();
        if (tx % 7 === 0 && rand(5) === 0) {
          writes.push(del(key));
          live.delete(key);
        } else {
          writes.push(put(key, String(tx)));
          live.add(key);
        }
      }
      world.apply({ txId: `t${tx}`, timestamp: ts, writeSet: { writes, metadataWrites: [] } }, { blockNum: tx, txNum: 0 });
      const a = keyOf();
      const b = keyOf();
      const [lo, hi] = a < b ? [a, b] : [b, a];
      const inclusive = rand(2) === 0;
      const expected = [...live].filter((k) => k >= lo && (inclusive ? k <= hi : k < hi)).sort();
      assert.deepEqual([...world.range(lo, hi, inclusive)].map(([k]) => k), expected, `tx ${tx}: [${lo}, ${hi}${inclusive ? ']' : ')'}`);
    }
    assert.deepEqual([...world.range('', '')].map(([k]) => k), [...live].sort());
  });
});

