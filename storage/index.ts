/**
 * The storage part: what every store of ours on node:sqlite shares (the VTN's store, the ledger's
 * block store, the mapping's store, the VEN's outbox). It depends on nothing of ours, so every part
 * may use it.
 */
export { createTransaction, preparedStatements, quickCheck, type Transaction, type TransactionOptions } from './sqlite.ts';
export { createPgTransaction, createSyncPg, PG_LATENCY_BUCKETS_MS, PgSyncError, type PgLatency, type PgRow, type PgStatement, type PgTransaction, type SyncPg, type SyncPgOptions } from './pg-sync.ts';
export { applyPgMigrations, openMigratedPg, type PgMigrations } from './pg-migrate.ts';
