/**
 * The one way this project writes to SQLite atomically: `BEGIN IMMEDIATE … COMMIT`, a nested call
 * joining the outer transaction, and a failure rolled back only while a transaction is still open —
 * a `COMMIT` that fails (a full disk, an I/O error) may already have rolled back, and a second
 * `ROLLBACK` would then replace the real cause with "no transaction is active". The caller's error
 * (or the failed `COMMIT`'s) is what is thrown; `onRollback` lets a store drop what it cached.
 */
import type { DatabaseSync } from 'node:sqlite';

export interface TransactionOptions {
  /** Called after a failed transaction was rolled back (a store reloads its in-memory caches here). */
  readonly onRollback?: () => void;
}

export type Transaction = <T>(fn: () => T) => T;

export function createTransaction(db: DatabaseSync, options: Readonly<TransactionOptions> = {}): Transaction {
  let depth = 0;
  return <T>(fn: () => T): T => {
    if (depth > 0) {
      depth++;
      try {
        return fn();
      } finally {
        depth--;
      }
    }
    db.exec('BEGIN IMMEDIATE');
    depth = 1;
    try {
      const out = fn();
      db.exec('COMMIT');
      return out;
    } catch (err) {
      if (db.isTransaction) {
        try {
          db.exec('ROLLBACK');
        } catch {
          // The connection is broken past rolling back; the original error says why.
        }
      }
      options.onRollback?.();
      throw err;
    } finally {
      depth = 0;
    }
  };
}
