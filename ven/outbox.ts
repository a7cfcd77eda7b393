/**
 * The VEN's outbox on disk (`node:sqlite` in the data directory): every outgoing report interval
 * is stored, keyed by its identity (report request + interval start), before it is sent, and marked
 * done when the VTN acknowledges it. A key is stored once: enqueuing it again (after a restart, or
 * a re-request) is a no-op, so no interval is lost and none is queued twice. The VEN's small state
 * (registration, events, report requests) lives in the same database, so an interval and the
 * scheduler progress that produced it are committed in one transaction.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { createTransaction } from '../storage/index.ts';
import { VenError, VenErrorCode } from './errors.ts';

export const OUTBOX_FILE = 'ven-outbox.sqlite';

export interface OutboxEntry {
  readonly key: string;
  /** JSON text. */
  readonly body: string;
}

export interface Outbox {
  /** Stores entries whose key was never stored, and `meta` values, in one transaction; returns how many were new. */
  enqueue(entries: readonly OutboxEntry[], meta?: Readonly<Record<string, string>>): number;
  /** The oldest unacknowledged entries, in enqueue order. */
  pending(limit?: number): OutboxEntry[];
  /** Marks entries as delivered (their keys stay known, so they are never queued again). */
  ack(keys: readonly string[]): void;
  pendingCount(): number;
  getMeta(key: string): string | undefined;
  setMeta(values: Readonly<Record<string, string | undefined>>): void;
  close(): void;
}

export interface OutboxOptions {
  /** Data directory; the database is `ven-outbox.sqlite` in it. */
  readonly dataDir: string;
  /** Delivered keys remembered for dedupe (default 100,000). */
  readonly keepDelivered?: number;
}

export function openOutbox(options: Readonly<OutboxOptions>): Outbox {
  let db: DatabaseSync;
  try {
    mkdirSync(options.dataDir, { recursive: true });
    db = new DatabaseSync(join(options.dataDir, OUTBOX_FILE));
    db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, body TEXT, delivered INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (delivered, seq);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
  } catch (err) {
    throw new VenError(VenErrorCode.OUTBOX_FAILED, `cannot open the VEN outbox in ${options.dataDir}: ${(err as Error).message}; check the --data-dir permissions`, {}, { cause: err });
  }
  const keep = options.keepDelivered ?? 100_000;
  const insert: StatementSync = db.prepare('INSERT OR IGNORE INTO outbox (key, body) VALUES (?, ?)');
  const selectPending: StatementSync = db.prepare('SELECT key, body FROM outbox WHERE delivered = 0 ORDER BY seq LIMIT ?');
  const markDelivered: StatementSync = db.prepare('UPDATE outbox SET delivered = 1, body = NULL WHERE key = ?');
  const countPending: StatementSync = db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE delivered = 0');
  const prune: StatementSync = db.prepare('DELETE FROM outbox WHERE delivered = 1 AND seq <= (SELECT seq FROM outbox WHERE delivered = 1 ORDER BY seq DESC LIMIT 1 OFFSET ?)');
  const getMeta: StatementSync = db.prepare('SELECT value FROM meta WHERE key = ?');
  const putMeta: StatementSync = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  const delMeta: StatementSync = db.prepare('DELETE FROM meta WHERE key = ?');

  const transaction = createTransaction(db);
  const tx = <T>(fn: () => T): T => {
    try {
      return transaction(fn);
    } catch (err) {
      throw new VenError(VenErrorCode.OUTBOX_FAILED, `VEN outbox write failed: ${(err as Error).message}`, {}, { cause: err });
    }
  };
  const writeMeta = (values: Readonly<Record<string, string | undefined>>): void => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delMeta.run(k);
      else putMeta.run(k, v);
    }
  };

  return {
    enqueue(entries, meta = {}) {
      return tx(() => {
        let n = 0;
        for (const e of entries) n += Number(insert.run(e.key, e.body).changes);
        writeMeta(meta);
        return n;
      });
    },
    pending(limit = 100) {
      return selectPending.all(limit).map((r) => ({ key: String(r['key']), body: String(r['body']) }));
    },
    ack(keys) {
      tx(() => {
        for (const k of keys) markDelivered.run(k);
        prune.run(keep);
      });
    },
    pendingCount: () => Number(countPending.get()?.['n'] ?? 0),
    getMeta(key) {
      const row = getMeta.get(key);
      return row === undefined ? undefined : String(row['value']);
    },
    setMeta(values) {
      tx(() => writeMeta(values));
    },
    close() {
      if (db.isOpen) db.close();
    },
  };
}
