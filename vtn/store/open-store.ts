/**
 * The store the configuration names: SQLite in `dataDir` (the default), or PostgreSQL at `store`
 * (a `postgres://` URL) with its statement time-out and the password passed apart from the URL.
 */
import type { VtnConfig } from '../cli/config.ts';
import { createPostgresStore } from './postgres-store.ts';
import { createSqliteStore } from './sqlite-store.ts';
import type { VtnStore } from './store.ts';

export function openVtnStore(config: VtnConfig, options: { readonly password?: string | undefined } = {}): VtnStore {
  if (config.store === undefined) return createSqliteStore({ dataDir: config.dataDir });
  return createPostgresStore({ url: config.store, password: options.password, statementTimeoutMs: config.storeStatementTimeoutMs, applicationName: `oadr-ledger ${config.vtnId}` });
}
