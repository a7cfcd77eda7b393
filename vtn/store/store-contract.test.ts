/**
 * The store contract suite (vtn/testing/store-contract.ts) on both stores: node:sqlite in a
 * temporary directory, PostgreSQL started for this file (storage/testing/postgres.ts), a new
 * database per test.
 */
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestPostgres } from '../../storage/testing/postgres.ts';
import { storeContractSuite } from '../testing/store-contract.ts';
import { createPostgresStore } from './postgres-store.ts';
import { createSqliteStore } from './sqlite-store.ts';

storeContractSuite('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-store-'));
  return { open: () => createSqliteStore({ dataDir: dir }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}, { shared: false });

const pg = await startTestPostgres();
after(() => pg.stop());
storeContractSuite('postgres', async () => {
  const url = pg.createDatabase();
  return { open: () => createPostgresStore({ url }), cleanup: async () => undefined };
}, { shared: true });
