/**
 * The committed world state of one chaincode namespace, in memory: current values with their versions
 * and key metadata (the state-based endorsement policy lives there), the key history of every committed
 * write (what a peer's history database answers), and MVCC / phantom-read validation of a read set
 * against the current state (what a committing peer checks before it applies a write set).
 *
 * Range scans walk the keys in UTF-8 byte order. Each key has one record (its value, history and
 * key), found through one map. The records are kept in a large sorted array plus a small
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
} from '../../fabric/rwset.ts';

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

export type ReadValidationCode = 'VALID' | 'MVCC_READ_CONFLICT' | 'PHANTOM_READ_CONFLICT' | 'DUPLICATE_TXID';

/**
 * A key's place in the world state: the same object for the key as long as the world state lives
 * (deletes included), whose `entry` is always the key's current value. A simulator that keeps the
 * slots of its reads (`attachReadSlots`) lets `validate` check them without looking the keys up again.
 */
export interface StateSlot {
  readonly key: string;
  readonly entry: StateEntry | undefined;
}

export interface WorldState {
  get(key: string): StateEntry | undefined;
  /** One metadata entry of a key (e.g. VALIDATION_PARAMETER) without its value (optional: `get` does it too). */
  keyMetadata?(key: string, name: string): Buffer | undefined;
  /** The key's slot, or undefined for a key never written (optional: other stores may lack it). */
  slot?(key: string): StateSlot | undefined;
  /**
   * Remembers, for `readSet` (weakly), the slot of each of its reads (same order; undefined = none).
   * `validate` of that very object then compares versions through them: the same verdict, fewer lookups.
   */
  attachReadSlots?(readSet: ReadSet, slots: readonly (StateSlot | undefined)[]): void;
  /** Entries with startKey ≤ key < endKey in UTF-8 byte order; endKey '' = no upper bound. */
  range(startKey: string, endKey: string, endInclusive?: boolean): IterableIterator<[string, StateEntry]>;
  /** Oldest first. */
  history(key: string): readonly HistoryEntry[];
  hasTransaction(txId: string): boolean;
  /** Validates the read set of `txId` against the current state, as a committing peer does. */
  validate(txId: string, readSet: ReadSet): ReadValidationCode;
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

/**
 * Everything kept for one key in ONE map entry: its live value (undefined once deleted) and its
 * history. A commit then costs one lookup per written key, not one per map (values, histories).
 */
interface KeyRecord {
  readonly key: string;
  entry: MutableEntry | undefined;
  /**
   * Oldest first. A key written once (most of them: bulk state) keeps its one entry without an array
   * around it: two objects less per key for every major GC to mark.
   */
  history: HistoryEntry | HistoryEntry[] | undefined;
}

const compareRecords = (a: KeyRecord, b: KeyRecord): number => compareKeys(a.key, b.key);

export function createWorldState(): WorldState {
  const records = new Map<string, KeyRecord>();
  let liveKeys = 0;
  const readSlots = new WeakMap<ReadSet, readonly (StateSlot | undefined)[]>();
  const txIds = new Set<string>();
  // Keys in two sorted runs: `sorted`, replaced only by a full merge, and `recent`, the few keys
  // added since, kept sorted by binary insertion. Inserting into one big array moves O(keys) pointers
  // per transaction (slow in a large heap), so a stream of small transactions cost O(keys) each;
  // the full merge now runs once per RECENT_MAX new keys. Keys added since the last scan wait in
  // `pending`; a delete forces a full merge (which drops dead keys). The runs hold the keys' records,
  // so a scan reads each value from the run itself, without a map lookup per key.
  let sorted: KeyRecord[] = [];
  let recent: KeyRecord[] = [];
  let pending: KeyRecord[] = [];
  let removed = false;
  /** Range scans started and not finished: they keep the runs they started on. */
  let scans = 0;
  const RECENT_MAX = 4096;

  function sortedRuns(): [KeyRecord[], KeyRecord[]] {
    if (pending.length === 0 && !removed) return [sorted, recent];
    pending.sort(compareRecords);
    if (!removed && recent.length + pending.length <= RECENT_MAX) {
      if (scans > 0) recent = recent.slice(); // small: a scan in progress keeps its copy
      for (const record of pending) recent.splice(lowerBound(recent, record.key), 0, record);
      pending = [];
      return [sorted, recent];
    }
    sorted = mergeLive(sorted, mergeLive(recent, pending));
    recent = [];
    pending = [];
    removed = false;
    return [sorted, recent];
  }

  /** Merges two sorted record lists, keeping each live key once. */
  function mergeLive(x: readonly KeyRecord[], y: readonly KeyRecord[]): KeyRecord[] {
    const merged: KeyRecord[] = [];
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      const a = x[i];
      const b = y[j];
      let next: KeyRecord;
      if (b === undefined || (a !== undefined && compareKeys(a.key, b.key) <= 0)) {
        next = a as KeyRecord;
        i++;
      } else {
        next = b;
        j++;
      }
      // Keys deleted (and perhaps re-added) since the last merge: keep each live key once.
      if (next.entry !== undefined && merged[merged.length - 1] !== next) merged.push(next);
    }
    return merged;
  }

  function lowerBound(run: readonly KeyRecord[], key: string): number {
    let lo = 0;
    let hi = run.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys((run[mid] as KeyRecord).key, key) < 0) lo = mid + 1;
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
        if (endInclusive && small[jEnd]?.key === endKey) jEnd++;
      }
      for (;;) {
        let record: KeyRecord;
        if (j < jEnd) {
          const b = small[j] as KeyRecord;
          const a = big[i];
          const c = a === undefined ? 1 : compareKeys(a.key, b.key);
          if (c < 0) {
            record = a as KeyRecord;
            i++;
          } else {
            record = b;
            j++;
            if (c === 0) i++;
          }
        } else if (i < big.length) {
          record = big[i++] as KeyRecord;
        } else {
          return;
        }
        const key = record.key;
        if (endKey !== '') {
          const c = compareKeys(key, endKey);
          if (c > 0 || (c === 0 && !endInclusive)) return;
        }
        const entry = record.entry;
        if (entry) yield [key, entry];
      }
    } finally {
      scans--;
    }
  }

  function readMatches(read: KVRead): boolean {
    return compareVersions(records.get(read.key)?.entry?.version ?? null, read.version);
  }

  return {
    get: (key) => records.get(key)?.entry,
    keyMetadata: (key, name) => records.get(key)?.entry?.metadata.get(name),
    slot: (key) => records.get(key),
    attachReadSlots(readSet, slots) {
      if (slots.length === readSet.reads.length) readSlots.set(readSet, slots);
    },
    range,
    history(key) {
      const history = records.get(key)?.history;
      if (history === undefined) return [];
      return Array.isArray(history) ? history : [history];
    },
    hasTransaction: (txId) => txIds.has(txId),
    get size() {
      return liveKeys;
    },

    validate(txId, readSet) {
      if (txIds.has(txId)) return 'DUPLICATE_TXID';
      const slots = readSlots.get(readSet);
      const reads = readSet.reads;
      for (let i = 0; i < reads.length; i++) {
        const read = reads[i] as KVRead;
        const slot = slots?.[i];
        // A slot is used only for the key it belongs to (the read list could have been edited since).
        const ok = slot !== undefined && slot.key === read.key ? compareVersions(slot.entry?.version ?? null, read.version) : readMatches(read);
        if (!ok) return 'MVCC_READ_CONFLICT';
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
        let record = records.get(write.key);
        if (!record) records.set(write.key, (record = { key: write.key, entry: undefined, history: undefined }));
        const isDelete = write.isDelete || write.value === null;
        const previous = record.entry;
        // A live value is ONE object, both the key's state entry and its history entry (one object
        // per written key less for every major GC to mark); a delete has a history entry only.
        // A value-only write keeps the key's metadata (Fabric carries it over).
        let live: (HistoryEntry & MutableEntry) | undefined;
        let change: HistoryEntry;
        if (isDelete) {
          change = { txId: tx.txId, timestamp: tx.timestamp, isDelete: write.isDelete, value: Buffer.alloc(0), blockNum: version.blockNum, txNum: version.txNum };
        } else {
          live = {
            txId: tx.txId, timestamp: tx.timestamp, isDelete: false, value: write.value as Buffer, blockNum: version.blockNum, txNum: version.txNum,
            version, metadata: previous?.metadata ?? NO_METADATA,
          };
          change = live;
        }
        const history = record.history;
        if (history === undefined) record.history = change;
        else if (Array.isArray(history)) history.push(change);
        else record.history = [history, change];
        if (!live) {
          if (previous) {
            record.entry = undefined;
            liveKeys--;
            removed = true;
          }
          continue;
        }
        if (!previous) {
          pending.push(record);
          liveKeys++;
        }
        record.entry = live;
      }
      for (const metadataWrite of tx.writeSet.metadataWrites) {
        const entry = records.get(metadataWrite.key)?.entry;
        if (!entry) continue; // metadata of a key that does not exist is dropped
        entry.metadata = new Map(metadataWrite.entries.map((e) => [e.name, e.value]));
        entry.version = version;
      }
    },
  };
}
