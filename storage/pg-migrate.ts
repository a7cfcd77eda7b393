/**
 * Versioned schema migrations on PostgreSQL, for every store of ours there (the VTN's, the
 * ledger mapping's): numbered migrations applied in order on start, each in its own transaction,
 * the versions applied kept in `table`. Starting processes take an advisory lock around them, so
 * the processes of a cluster starting together apply each once. A database whose schema is newer
 * than the code is refused (`tooNew` builds the error): an older process must not write into a
 * layout it does not know.
 */
import { createSyncPg, type SyncPg, type SyncPgOptions } from './pg-sync.ts';

export interface PgMigrations {
  /** Where the versions applied are kept. */
  readonly table: string;
  /** The advisory lock (class, key) held while migrating. */
  readonly lock: readonly [number, number];
  readonly migrations: readonly string[];
  /** The error for a database at `current`, newer than the code's `known`. */
  tooNew(current: number, known: number): Error;
}

export function applyPgMigrations(db: SyncPg, m: Readonly<PgMigrations>): void {
  const known = m.migrations.length;
  db.query('SELECT pg_advisory_lock($1, $2)', [...m.lock]);
  try {
    db.run(`CREATE TABLE IF NOT EXISTS ${m.table} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const current = Number(db.query(`SELECT coalesce(max(version), 0) AS v FROM ${m.table}`)[0]?.v ?? 0);
    if (current > known) throw m.tooNew(current, known);
    for (let v = current + 1; v <= known; v++) {
      db.batch([{ sql: 'BEGIN' }, { sql: m.migrations[v - 1]! }, { sql: `INSERT INTO ${m.table} (version) VALUES ($1)`, params: [v] }, { sql: 'COMMIT' }]);
    }
  } catch (err) {
    try {
      db.run('ROLLBACK');
    } catch {
      // No transaction was open.
    }
    throw err;
  } finally {
    try {
      db.query('SELECT pg_advisory_unlock($1, $2)', [...m.lock]);
    } catch {
      // The connection is gone, and the lock with it.
    }
  }
}

/** A synchronous connection (`createSyncPg`) on a database brought to the code's schema; closed again when that fails. */
export function openMigratedPg(options: Readonly<SyncPgOptions>, m: Readonly<PgMigrations>): SyncPg {
  const db = createSyncPg(options);
  try {
    applyPgMigrations(db, m);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
