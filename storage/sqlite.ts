/**
 * The one way this project writes to SQLite atomically: `BEGIN IMMEDIATE … COMMIT`, a nested call
 * joining the outer transaction, and a failure rolled back only while a transaction is still open —
 * a `COMMIT` that fails (a full disk, an I/O error) may already have rolled back, and a second
 * `ROLLBACK` would then replace the real cause with "no transaction is active". The caller's error
 * (or the failed `COMMIT`'s) is what is thrown; `onRollback` lets a store drop what it cached.
 */
import { existsSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

export interface TransactionOptions {
  /** Called after a failed transaction was rolled back (a store reloads its in-memory caches here). */
  readonly onRollback?: () => void;
}

export type Transaction = <T>(fn: () => T) => T;

/**
 * The nesting rule every transaction wrapper of ours follows: the outermost call runs `outer`
 * (BEGIN … COMMIT), a call inside it joins that transaction and just runs its function.
 */
export function joiningNested(outer: <T>(fn: () => T) => T): Transaction & { active(): boolean } {
  let depth = 0;
  const tx = <T>(fn: () => T): T => {
    depth++;
    try {
      return depth > 1 ? fn() : outer(fn);
    } finally {
      depth--;
    }
  };
  return Object.assign(tx, { active: () => depth > 0 });
}

export function createTransaction(db: DatabaseSync, options: Readonly<TransactionOptions> = {}): Transaction {
  return joiningNested(<T>(fn: () => T): T => {
    db.exec('BEGIN IMMEDIATE');
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
    }
  });
}

/**
 * SQLite's `PRAGMA quick_check` of a database file (its WAL included) before a store opens it:
 * the problems found, none for a sound file or a file that does not exist yet. O(pages), no index
 * cross-checks: seconds for a gigabyte.
 */
export function quickCheck(path: string): string[] {
  if (!existsSync(path)) return [];
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    const rows = db.prepare('PRAGMA quick_check').all() as Array<Record<string, unknown>>;
    const found = rows.map((r) => String(Object.values(r)[0]));
    return found.length === 1 && found[0] === 'ok' ? [] : found;
  } catch (err) {
    return [(err as Error).message];
  } finally {
    db?.close();
  }
}

/** Each statement of `db` prepared once, at its first use: the function returns the prepared statement of an SQL text. */
export function preparedStatements(db: DatabaseSync): (sql: string) => StatementSync {
  const cache = new Map<string, StatementSync>();
  return (sql) => {
    let s = cache.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
}
