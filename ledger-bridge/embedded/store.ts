/**
 * The durable store of the embedded ledger: one SQLite database (`node:sqlite`) in the data directory
 * holding the block log, the transaction index, the world state (values, versions, key metadata) and the
 * key history. A block, its index entries and the state changes of its valid transactions are written in
 * ONE SQLite transaction (WAL, synchronous=FULL), so after a crash at any moment the store holds every
 * block whose commit returned, and no part of any other.
 *
 * Keys are stored as UTF-8 BLOBs: SQLite compares BLOBs with memcmp, which is the byte order a peer's
 * LevelDB uses, so range scans return keys in Fabric's order (composite keys with U+0000 included).
 *
 * `worldState` implements the peer's `WorldState` over the database, so the peer emulation
 * (`createTxSimulator`) reads committed state from disk, and the committer validates and applies write
 * sets with the same calls the in-memory test ledger uses. Endorsement workers open a second,
 * read-only connection (`reader: true`); the one-ledger-per-directory lock lives in `ledger.lock`.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { createTransaction } from '../../storage/index.ts';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { compareVersions, type KVRead, type ReadSet, type Version } from '../fabric/rwset.ts';
import type { HistoryEntry, ReadValidationCode, StateEntry, WorldState } from './peer/world-state.ts';
import type { BuiltBlock } from './block.ts';
import { LedgerError } from '../errors.ts';

export const STORE_FILE = 'ledger.sqlite';
/** Held (SQLite exclusive lock) by the ledger that has the directory open: one ledger per directory. */
export const LOCK_FILE = 'ledger.lock';
const RANGE_BATCH = 128;

export interface StoredBlock {
  readonly number: number;
  readonly hash: Buffer;
  readonly commitHash: Buffer;
  readonly bytes: Uint8Array;
}

export interface TxLocation {
  readonly blockNumber: number;
  readonly txIndex: number;
  readonly validationCode: number;
}

export interface StoreOptions {
  /**
   * Open an existing store for inspection only (verify, list): no schema, no writes, no exclusive lock.
   * While a ledger runs on the directory, a read-only snapshot of what it had committed.
   */
  readonly readOnly?: boolean;
  /**
   * A second, read-only connection to the store of a RUNNING ledger (endorsement workers): reads see
   * every block committed before they start; no lock is taken or checked; writes fail.
   */
  readonly reader?: boolean;
}

/**
 * Takes the directory's lock (`ledger.lock`, an SQLite file whose exclusive lock this connection keeps
 * until it closes; the OS drops it when the process dies). Throws when another ledger holds it.
 */
function takeLock(dataDir: string): DatabaseSync {
  const lock = new DatabaseSync(join(dataDir, LOCK_FILE));
  try {
    lock.exec('PRAGMA locking_mode=EXCLUSIVE; BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS held(pid INTEGER); COMMIT;');
    return lock;
  } catch (err) {
    lock.close();
    throw err;
  }
}

/** SQLITE_BUSY: the lock file's exclusive lock is held. */
const SQLITE_BUSY = 5;

/** True when a running ledger (this process or another) holds the directory's lock. */
function isLocked(dataDir: string): boolean {
  const file = join(dataDir, LOCK_FILE);
  if (!existsSync(file)) return false;
  const lock = new DatabaseSync(file, { readOnly: true });
  try {
    lock.prepare('SELECT count(*) FROM sqlite_master').get();
    return false;
  } catch (err) {
    if ((err as { errcode?: number }).errcode === SQLITE_BUSY) return true;
    throw err;
  } finally {
    lock.close();
  }
}

export interface LedgerStore {
  /** Number of blocks stored. */
  height(): number;
  block(number: number): StoredBlock | undefined;
  /** Blocks from `from` (inclusive), at most `limit`. */
  blocks(from: number, limit: number): StoredBlock[];
  transaction(txId: string): TxLocation | undefined;
  readonly worldState: WorldState;
  /** `worldState.validate` without the transaction-id check (for a caller that made it already). */
  validateReads(readSet: ReadSet): ReadValidationCode;
  /** One metadata entry of a key (e.g. VALIDATION_PARAMETER), without reading its value. */
  keyMetadata(key: string, name: string): Buffer | undefined;
  /** Records a transaction in the index (every one but a duplicate: the first keeps the id, as in Fabric). */
  indexTransaction(txId: string, location: TxLocation): void;
  appendBlock(block: BuiltBlock): void;
  /**
   * Runs `fn` inside one SQLite transaction (made durable on return, rolled back on throw): validation
   * reads inside it see the writes applied before them, so a block's transactions validate in order.
   */
  atomically<T>(fn: () => T): T;
  /** Every state row, in key order: for verification. */
  stateRows(): IterableIterator<{ key: string; value: Buffer; version: Version; metadata: ReadonlyMap<string, Buffer> }>;
  historyRows(): IterableIterator<{ key: string; entry: HistoryEntry }>;
  txRows(): IterableIterator<{ txId: string } & TxLocation>;
  readonly db: DatabaseSync;
  /**
   * A read snapshot with a point-read cache (endorsement workers): opens a read transaction and
   * returns true, or false when it cannot (reads then go to SQLite one by one, uncached). Inside it
   * `worldState.get` answers from a cache that holds values of the same committed height: the height
   * is read inside the snapshot, and every state change commits together with its block, so a cached
   * entry of that height is exactly what SQLite would return. A new height empties the cache.
   */
  beginSnapshot(): boolean;
  endSnapshot(): void;
  /**
   * Throws when the store cannot commit a write now (full disk, read-only file system): a page's
   * worth written to a table outside the ledger's own (no block, state or history changes), committed,
   * then removed.
   */
  probeWrite(): void;
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS blocks(num INTEGER PRIMARY KEY, hash BLOB NOT NULL, commit_hash BLOB NOT NULL, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS txs(txid TEXT PRIMARY KEY, num INTEGER NOT NULL, idx INTEGER NOT NULL, code INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state(key BLOB PRIMARY KEY, value BLOB NOT NULL, block INTEGER NOT NULL, tx INTEGER NOT NULL, metadata BLOB) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history(key BLOB NOT NULL, block INTEGER NOT NULL, tx INTEGER NOT NULL, txid TEXT NOT NULL,
  seconds INTEGER NOT NULL, nanos INTEGER NOT NULL, is_delete INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY(key, block, tx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probe(bytes BLOB NOT NULL);
`;

type Row = Record<string, unknown>;

const keyBytes = (key: string) => Buffer.from(key, 'utf8');
const keyString = (bytes: unknown) => Buffer.from(bytes as Uint8Array).toString('utf8');

/** Key metadata as stored: name → value, in a small length-prefixed binary form (sorted by name). */
export function encodeMetadata(metadata: ReadonlyMap<string, Buffer>): Buffer | null {
  if (metadata.size === 0) return null;
  const parts: Buffer[] = [];
  for (const name of [...metadata.keys()].sort()) {
    const n = Buffer.from(name, 'utf8');
    const v = metadata.get(name) as Buffer;
    const head = Buffer.alloc(8);
    head.writeUInt32BE(n.length, 0);
    head.writeUInt32BE(v.length, 4);
    parts.push(head, n, v);
  }
  return Buffer.concat(parts);
}

export function decodeMetadata(bytes: unknown): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (bytes === null || bytes === undefined) return out;
  const b = Buffer.from(bytes as Uint8Array);
  let pos = 0;
  while (pos + 8 <= b.length) {
    const nl = b.readUInt32BE(pos);
    const vl = b.readUInt32BE(pos + 4);
    pos += 8;
    out.set(b.subarray(pos, pos + nl).toString('utf8'), Buffer.from(b.subarray(pos + nl, pos + nl + vl)));
    pos += nl + vl;
  }
  if (pos !== b.length) throw new Error('malformed key metadata');
  return out;
}

function entryOf(row: Row): StateEntry {
  return {
    value: Buffer.from(row.value as Uint8Array),
    version: { blockNum: row.block as number, txNum: row.tx as number },
    metadata: decodeMetadata(row.metadata),
  };
}

function historyOf(row: Row): HistoryEntry {
  return {
    txId: row.txid as string,
    timestamp: { seconds: row.seconds as number, nanos: row.nanos as number },
    isDelete: row.is_delete === 1,
    value: Buffer.from(row.value as Uint8Array),
    blockNum: row.block as number,
    txNum: row.tx as number,
  };
}

export function openStore(dataDir: string, options: Readonly<StoreOptions> = {}): LedgerStore {
  let db: DatabaseSync | undefined;
  let lock: DatabaseSync | undefined;
  try {
    const file = join(dataDir, STORE_FILE);
    if (options.reader) {
      db = new DatabaseSync(file, { readOnly: true });
    } else if (options.readOnly) {
      if (!existsSync(file)) throw new Error(`no ledger store (${STORE_FILE}) there`);
      if (isLocked(dataDir)) {
        // A running ledger holds the directory: read what it committed as a WAL reader, inside one
        // read transaction, so every read sees the same height (blocks committed meanwhile are not seen).
        db = new DatabaseSync(file, { readOnly: true });
        db.exec('BEGIN');
      } else {
        // Read-write at the file level so SQLite can recover a WAL left by a crash; no statement writes.
        db = new DatabaseSync(file);
        db.exec('PRAGMA query_only=1;');
      }
      db.prepare('SELECT count(*) FROM blocks').get();
    } else {
      mkdirSync(dataDir, { recursive: true });
      lock = takeLock(dataDir); // one ledger per data directory
      db = new DatabaseSync(file);
      // Normal (not exclusive) locking so endorsement workers can read committed state (WAL readers).
      db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;');
      db.exec(SCHEMA);
    }
  } catch (err) {
    db?.close();
    lock?.close();
    throw new LedgerError(
      'UNAVAILABLE',
      `cannot open the ledger store in ${dataDir}: ${(err as Error).message}; check the path and that no other ledger process uses it`,
      { cause: err },
    );
  }

  const stmt = (() => {
    const cache = new Map<string, StatementSync>();
    return (sql: string): StatementSync => {
      let s = cache.get(sql);
      if (!s) cache.set(sql, (s = db.prepare(sql)));
      return s;
    };
  })();

  const getState = stmt('SELECT value, block, tx, metadata FROM state WHERE key = ?');

  const sqlite: DatabaseSync = db;
  const SNAPSHOT_CACHE_LIMIT = 20_000;
  const snapshotCache = new Map<string, StateEntry | null>();
  let cacheHeight = -1;
  let snapshotOpen = false;
  const maxBlock = stmt('SELECT max(num) AS n FROM blocks');

  function get(key: string): StateEntry | undefined {
    if (snapshotOpen) {
      const hit = snapshotCache.get(key);
      if (hit !== undefined) return hit ?? undefined;
    }
    const row = getState.get(keyBytes(key)) as Row | undefined;
    const entry = row ? entryOf(row) : undefined;
    if (snapshotOpen) {
      if (snapshotCache.size >= SNAPSHOT_CACHE_LIMIT) snapshotCache.clear();
      snapshotCache.set(key, entry ?? null);
    }
    return entry;
  }

  function beginSnapshot(): boolean {
    if (!sqlite.isOpen || sqlite.isTransaction) return false;
    try {
      sqlite.exec('BEGIN');
      // The first read fixes the snapshot; its height says which cached entries are still current.
      const n = (maxBlock.get() as Row).n;
      const height = n === null ? 0 : (n as number) + 1;
      if (height !== cacheHeight) {
        snapshotCache.clear();
        cacheHeight = height;
      }
      snapshotOpen = true;
      return true;
    } catch {
      if (sqlite.isOpen && sqlite.isTransaction) sqlite.exec('ROLLBACK');
      return false;
    }
  }

  function endSnapshot(): void {
    snapshotOpen = false;
    try {
      if (sqlite.isOpen && sqlite.isTransaction) sqlite.exec('COMMIT');
    } catch {
      // A read-only transaction has nothing to lose; the next snapshot opens a new one.
    }
  }

  /** Batched scan: no SQLite cursor stays open across the contract's awaits. */
  function* range(startKey: string, endKey: string, endInclusive = false): IterableIterator<[string, StateEntry]> {
    let from = keyBytes(startKey);
    let inclusiveFrom = true;
    const end = endKey === '' ? null : keyBytes(endKey);
    for (;;) {
      const lower = inclusiveFrom ? 'key >= ?' : 'key > ?';
      const upper = end === null ? '' : endInclusive ? ' AND key <= ?' : ' AND key < ?';
      const sql = `SELECT key, value, block, tx, metadata FROM state WHERE ${lower}${upper} ORDER BY key LIMIT ${RANGE_BATCH}`;
      const rows = (end === null ? stmt(sql).all(from) : stmt(sql).all(from, end)) as Row[];
      for (const row of rows) yield [keyString(row.key), entryOf(row)];
      if (rows.length < RANGE_BATCH) return;
      from = Buffer.from((rows[rows.length - 1] as Row).key as Uint8Array);
      inclusiveFrom = false;
    }
  }

  // MVCC needs the version only: no copy of the value, no metadata decode (measured on the commit path).
  const getVersion = stmt('SELECT block, tx FROM state WHERE key = ?');
  const getMetadata = stmt('SELECT metadata FROM state WHERE key = ?');

  function readMatches(read: KVRead): boolean {
    const row = getVersion.get(keyBytes(read.key)) as Row | undefined;
    return compareVersions(row ? { blockNum: row.block as number, txNum: row.tx as number } : null, read.version);
  }

  function validateReads(readSet: ReadSet): ReadValidationCode {
    for (const read of readSet.reads) if (!readMatches(read)) return 'MVCC_READ_CONFLICT';
    // Fabric's RangeQueryValidator: the same keys with the same versions must come back; the end key
    // is inclusive when the iterator was not exhausted.
    for (const rq of readSet.rangeQueries) {
      const it = range(rq.startKey, rq.endKey, !rq.itrExhausted);
      for (const read of rq.reads) {
        const next = it.next();
        if (next.done) return 'PHANTOM_READ_CONFLICT';
        const [key, entry] = next.value;
        if (key !== read.key || !compareVersions(entry.version, read.version)) return 'PHANTOM_READ_CONFLICT';
      }
      if (rq.itrExhausted && !it.next().done) return 'PHANTOM_READ_CONFLICT';
    }
    return 'VALID';
  }

  const hasTx = stmt('SELECT 1 AS x FROM txs WHERE txid = ?');
  // A value-only write keeps the key's metadata (Fabric carries it over); a new key has none.
  const upsert = stmt(
    'INSERT INTO state(key, value, block, tx, metadata) VALUES(?, ?, ?, ?, NULL) ON CONFLICT(key) DO UPDATE SET value = excluded.value, block = excluded.block, tx = excluded.tx',
  );
  const del = stmt('DELETE FROM state WHERE key = ?');
  const setMeta = stmt('UPDATE state SET metadata = ?, block = ?, tx = ? WHERE key = ?');
  const addHistory = stmt('INSERT INTO history(key, block, tx, txid, seconds, nanos, is_delete, value) VALUES(?, ?, ?, ?, ?, ?, ?, ?)');
  const addTx = stmt('INSERT OR IGNORE INTO txs(txid, num, idx, code) VALUES(?, ?, ?, ?)');
  const addBlock = stmt('INSERT INTO blocks(num, hash, commit_hash, bytes) VALUES(?, ?, ?, ?)');

  function keyMetadata(key: string, name: string): Buffer | undefined {
    if (snapshotOpen) {
      const hit = snapshotCache.get(key);
      if (hit !== undefined) return hit?.metadata.get(name);
    }
    const row = getMetadata.get(keyBytes(key)) as Row | undefined;
    return row && row.metadata !== null ? decodeMetadata(row.metadata).get(name) : undefined;
  }

  const worldState: WorldState = {
    get,
    keyMetadata,
    range,
    history: (key) => (stmt('SELECT * FROM history WHERE key = ? ORDER BY block, tx').all(keyBytes(key)) as Row[]).map(historyOf),
    hasTransaction: (txId) => hasTx.get(txId) !== undefined,
    get size() {
      return (stmt('SELECT count(*) AS n FROM state').get() as Row).n as number;
    },
    validate(txId, readSet: ReadSet): ReadValidationCode {
      if (hasTx.get(txId) !== undefined) return 'DUPLICATE_TXID';
      return validateReads(readSet);
    },
    apply(tx, version) {
      for (const write of tx.writeSet.writes) {
        const k = keyBytes(write.key);
        const value = write.isDelete || write.value === null ? Buffer.alloc(0) : write.value;
        addHistory.run(k, version.blockNum, version.txNum, tx.txId, tx.timestamp.seconds, tx.timestamp.nanos, value.length === 0 ? 1 : 0, value);
        if (value.length === 0) {
          del.run(k);
          continue;
        }
        upsert.run(k, value, version.blockNum, version.txNum);
      }
      for (const mw of tx.writeSet.metadataWrites) {
        const k = keyBytes(mw.key);
        if (getState.get(k) === undefined) continue; // metadata of a key that does not exist is dropped
        setMeta.run(encodeMetadata(new Map(mw.entries.map((e) => [e.name, e.value]))), version.blockNum, version.txNum, k);
      }
    },
  };

  function storedBlock(row: Row | undefined): StoredBlock | undefined {
    if (!row) return undefined;
    return {
      number: row.num as number,
      hash: Buffer.from(row.hash as Uint8Array),
      commitHash: Buffer.from(row.commit_hash as Uint8Array),
      bytes: row.bytes as Uint8Array,
    };
  }


  return {
    db,
    worldState,
    validateReads,
    beginSnapshot,
    endSnapshot,
    keyMetadata,
    height: () => {
      const row = stmt('SELECT max(num) AS n FROM blocks').get() as Row;
      return row.n === null ? 0 : (row.n as number) + 1;
    },
    block: (number) => storedBlock(stmt('SELECT * FROM blocks WHERE num = ?').get(number) as Row | undefined),
    blocks: (from, limit) => (stmt('SELECT * FROM blocks WHERE num >= ? ORDER BY num LIMIT ?').all(from, limit) as Row[]).map((r) => storedBlock(r) as StoredBlock),
    transaction(txId) {
      const row = stmt('SELECT num, idx, code FROM txs WHERE txid = ?').get(txId) as Row | undefined;
      return row ? { blockNumber: row.num as number, txIndex: row.idx as number, validationCode: row.code as number } : undefined;
    },
    atomically: createTransaction(db),
    probeWrite() {
      sqlite.exec('BEGIN IMMEDIATE');
      try {
        stmt('INSERT INTO probe(bytes) VALUES (zeroblob(4096))').run();
        sqlite.exec('COMMIT');
      } finally {
        if (sqlite.isTransaction) sqlite.exec('ROLLBACK');
      }
      stmt('DELETE FROM probe').run();
    },
    indexTransaction(txId, location) {
      addTx.run(txId, location.blockNumber, location.txIndex, location.validationCode);
    },
    appendBlock(block) {
      addBlock.run(block.number, block.hash, block.commitHash, block.bytes);
    },
    *stateRows() {
      for (const row of stmt('SELECT * FROM state ORDER BY key').iterate() as IterableIterator<Row>) {
        const e = entryOf(row);
        yield { key: keyString(row.key), value: e.value, version: e.version, metadata: e.metadata };
      }
    },
    *historyRows() {
      for (const row of stmt('SELECT * FROM history ORDER BY key, block, tx').iterate() as IterableIterator<Row>) {
        yield { key: keyString(row.key), entry: historyOf(row) };
      }
    },
    *txRows() {
      for (const row of stmt('SELECT * FROM txs ORDER BY num, idx').iterate() as IterableIterator<Row>) {
        yield { txId: row.txid as string, blockNumber: row.num as number, txIndex: row.idx as number, validationCode: row.code as number };
      }
    },
    close: () => {
      if (db.isOpen) db.close();
      if (lock?.isOpen) lock.close();
    },
  };
}
