/**
 * The committed world state of one chaincode namespace, in memory: current values with their versions
 * and key metadata (the state-based endorsement policy lives there), the key history of every committed
 * write (what a peer's history database answers), and MVCC / phantom-read validation of a read set
 * against the current state (what a committing peer checks before it applies a write set).
 *
 * Range scans walk the keys in UTF-8 byte order. Keys are kept in a large sorted array plus a small
 * sorted run of recently added keys (merged into the large one every few thousand new keys); keys
 * added since the last scan wait in a pending list that is sorted and placed on the next scan, so
 * loading 100,000 keys stays O(n log n) and a stream of small transactions stays cheap.
 */

import {
  compareKeys,
  compareVersions,
  type KVRead,
  type ReadSet,
  type TimestampObject,
  type Version,
  type WriteSet,
} from './rwset.ts';

export interface StateEntry {
  readonly value: Buffer;
  readonly version: Version;
  /** Key-level metadata, e.g. `VALIDATION_PARAMETER` (a state-based endorsement policy). */
  readonly metadata: ReadonlyMap<string, Buffer>;
}

export interface HistoryEntry {
  readonly txId: string;
  readonly timestamp: TimestampObject;
  readonly isDelete: boolean;
  /** Empty for a delete. */
  readonly value: Buffer;
  readonly blockNum: number;
  readonly txNum: number;
}

export interface CommittedTransaction {
  readonly txId: string;
  readonly timestamp: TimestampObject;
  readonly writeSet: WriteSet;
}

export type ValidationCode = 'VALID' | 'MVCC_READ_CONFLICT' | 'PHANTOM_READ_CONFLICT' | 'DUPLICATE_TXID';

export interface WorldState {
  get(key: string): StateEntry | undefined;
  /** Entries with startKey ≤ key < endKey in UTF-8 byte order; endKey '' = no upper bound. */
  range(startKey: string, endKey: string, endInclusive?: boolean): IterableIterator<[string, StateEntry]>;
  /** Oldest first. */
  history(key: string): readonly HistoryEntry[];
  hasTransaction(txId: string): boolean;
  /** Validates the read set of `txId` against the current state, as a committing peer does. */
  validate(txId: string, readSet: ReadSet): ValidationCode;
  /** Applies a validated transaction's writes at `version`. */
  apply(tx: CommittedTransaction, version: Version): void;
  /** Number of keys. */
  readonly size: number;
}

/** Shared by every key without metadata (never mutated: a metadata write replaces the map). */
const NO_METADATA: Map<string, Buffer> = new Map();

interface MutableEntry {
  value: Buffer;
  version: Version;
  metadata: Map<string, Buffer>;
}

export function createWorldState(): WorldState {
  const entries = new Map<string, MutableEntry>();
  const histories = new Map<string, HistoryEntry[]>();
  const txIds = new Set<string>();
  // Keys in two sorted runs: `sorted`, replaced only by a full merge, and `recent`, the few keys
  // added since, kept sorted by binary insertion. Inserting into one big array moves O(keys) pointers
  // per transaction (slow in a large heap), so a stream of small transactions cost O(keys) each;
  // the full merge now runs once per RECENT_MAX new keys. Keys added since the last scan wait in
  // `pending`; a delete forces a full merge (which drops dead keys).
  let sorted: string[] = [];
  let recent: string[] = [];
  let pending: string[] = [];
  let removed = false;
  /** Range scans started and not finished: they keep the runs they started on. */
  let scans = 0;
  const RECENT_MAX = 4096;

  function sortedRuns(): [string[], string[]] {
    if (pending.length === 0 && !removed) return [sorted, recent];
    pending.sort(compareKeys);
    if (!removed && recent.length + pending.length <= RECENT_MAX) {
      if (scans > 0) recent = recent.slice(); // small: a scan in progress keeps its copy
      for (const key of pending) recent.splice(lowerBound(recent, key), 0, key);
      pending = [];
      return [sorted, recent];
    }
    sorted = mergeLive(sorted, mergeLive(recent, pending));
    recent = [];
    pending = [];
    removed = false;
    return [sorted, recent];
  }

  /** Merges two sorted key lists, keeping each live key once. */
  function mergeLive(x: readonly string[], y: readonly string[]): string[] {
    const merged: string[] = [];
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      const a = x[i];
      const b = y[j];
      let next: string;
      if (b === undefined || (a !== undefined && compareKeys(a, b) <= 0)) {
        next = a as string;
        i++;
      } else {
        next = b;
        j++;
      }
      // Keys deleted (and perhaps re-added) since the last merge: keep each live key once.
      if (entries.has(next) && merged[merged.length - 1] !== next) merged.push(next);
    }
    return merged;
  }

  function lowerBound(keys: readonly string[], key: string): number {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(keys[mid] as string, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function* range(startKey: string, endKey: string, endInclusive = false): IterableIterator<[string, StateEntry]> {
    const [big, small] = sortedRuns();
    scans++;
    try {
      let i = lowerBound(big, startKey);
      let j = lowerBound(small, startKey);
      // Only the recent keys inside the range take part in the two-way merge.
      let jEnd = small.length;
      if (endKey !== '') {
        jEnd = lowerBound(small, endKey);
        if (endInclusive && small[jEnd] === endKey) jEnd++;
      }
      for (;;) {
        let key: string;
        if (j < jEnd) {
          const b = small[j] as string;
          const a = big[i];
          const c = a === undefined ? 1 : compareKeys(a, b);
          if (c < 0) {
            key = a as string;
            i++;
          } else {
            key = b;
            j++;
            if (c === 0) i++;
          }
        } else if (i < big.length) {
          key = big[i++] as string;
        } else {
          return;
        }
        if (endKey !== '') {
          const c = compareKeys(key, endKey);
          if (c > 0 || (c === 0 && !endInclusive)) return;
        }
        const entry = entries.get(key);
        if (entry) yield [key, entry];
      }
    } finally {
      scans--;
    }
  }

  function readMatches(read: KVRead): boolean {
    return compareVersions(entries.get(read.key)?.version ?? null, read.version);
  }

  return {
    get: (key) => entries.get(key),
    range,
    history: (key) => histories.get(key) ?? [],
    hasTransaction: (txId) => txIds.has(txId),
    get size() {
      return entries.size;
    },

    validate(txId, readSet) {
      if (txIds.has(txId)) return 'DUPLICATE_TXID';
      for (const read of readSet.reads) {
        if (!readMatches(read)) return 'MVCC_READ_CONFLICT';
      }
      // Re-run each range query: the same keys with the same versions must come back (Fabric's
      // RangeQueryValidator; the end key is inclusive when the iterator was not exhausted).
      for (const rq of readSet.rangeQueries) {
        const now = [...range(rq.startKey, rq.endKey, !rq.itrExhausted)];
        if (!rq.itrExhausted && now.length > rq.reads.length) now.length = rq.reads.length;
        if (now.length !== rq.reads.length) return 'PHANTOM_READ_CONFLICT';
        for (let i = 0; i < now.length; i++) {
          const [key, entry] = now[i] as [string, StateEntry];
          const read = rq.reads[i] as KVRead;
          if (key !== read.key || !compareVersions(entry.version, read.version)) return 'PHANTOM_READ_CONFLICT';
        }
      }
      return 'VALID';
    },

    apply(tx, version) {
      txIds.add(tx.txId);
      for (const write of tx.writeSet.writes) {
        let history = histories.get(write.key);
        if (!history) histories.set(write.key, (history = []));
        history.push({
          txId: tx.txId,
          timestamp: tx.timestamp,
          isDelete: write.isDelete,
          value: write.isDelete || write.value === null ? Buffer.alloc(0) : write.value,
          blockNum: version.blockNum,
          txNum: version.txNum,
        });
        if (write.isDelete || write.value === null) {
          if (entries.delete(write.key)) removed = true;
          continue;
        }
        const previous = entries.get(write.key);
        if (!previous) pending.push(write.key);
        // A value-only write keeps the key's metadata (Fabric carries it over).
        entries.set(write.key, { value: write.value, version, metadata: previous?.metadata ?? NO_METADATA });
      }
      for (const metadataWrite of tx.writeSet.metadataWrites) {
        const entry = entries.get(metadataWrite.key);
        if (!entry) continue; // metadata of a key that does not exist is dropped
        entry.metadata = new Map(metadataWrite.entries.map((e) => [e.name, e.value]));
        entry.version = version;
      }
    },
  };
}
