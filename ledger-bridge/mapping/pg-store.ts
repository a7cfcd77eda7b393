/**
 * The mapping store on PostgreSQL, for a VTN cluster (`--store postgres://… --ledger fabric`): the
 * same logic as the SQLite store (store.ts, `mappingStoreOver`) on tables `mapping_*` beside the VTN
 * store's in the same database, reached through the synchronous face of storage/ (its own
 * connection, owned by a worker thread). Every process of the cluster maps event ids, allocations
 * and slots the same way because they read the same rows. Telemetry is added by the process that
 * drains the ledger outbox (one at a time, under a lease); a sample added twice (a drain repeated
 * after that process died) is a duplicate, as on SQLite. Events are written by whichever process
 * creates, modifies, cancels or settles them: each read asks for the row's revision (`xmin`) and
 * parses the JSON again only when another process changed it.
 *
 * Times are double precision (exact for whole milliseconds), so rows come back as numbers.
 */
import { createPgTransaction, openMigratedPg, type SyncPg } from '../../storage/index.ts';
import { MappingError } from './errors.ts';
import { mappingStoreOver, type MappingStore } from './store.ts';

export interface PgMappingStoreOptions {
  /** `postgres://user[:password]@host:port/database` (the VTN store's). */
  readonly url: string;
  readonly password?: string | undefined;
  /** Default 5,000 ms. */
  readonly statementTimeoutMs?: number;
  readonly applicationName?: string;
  readonly pointGapMs?: number;
  readonly minCoverage?: number;
}

const D = 'double precision';
const T = 'text COLLATE "C"';

export const MAPPING_PG_MIGRATIONS: readonly string[] = [
  `
CREATE TABLE mapping_samples (
  meter ${T} NOT NULL, series ${T} NOT NULL, start_ms ${D} NOT NULL, duration_ms ${D} NOT NULL, watts ${D} NOT NULL,
  PRIMARY KEY (meter, series, start_ms));
CREATE TABLE mapping_slots (
  meter ${T} NOT NULL, day ${T} NOT NULL, slot integer NOT NULL, start_ms ${D} NOT NULL, end_ms ${D} NOT NULL,
  energy ${D} NOT NULL DEFAULT 0, covered ${D} NOT NULL DEFAULT 0, dirty integer NOT NULL DEFAULT 0, recorded_w ${D},
  final integer NOT NULL DEFAULT 0, closed integer NOT NULL DEFAULT 0, tx ${T},
  PRIMARY KEY (meter, day, slot));
CREATE INDEX mapping_slots_dirty ON mapping_slots (dirty) WHERE dirty = 1;
CREATE TABLE mapping_closed_days (meter ${T} NOT NULL, day ${T} NOT NULL, PRIMARY KEY (meter, day));
CREATE TABLE mapping_events (event_id ${T} PRIMARY KEY, json ${T} NOT NULL);
CREATE TABLE mapping_points (
  meter ${T} NOT NULL, series ${T} NOT NULL, t_ms ${D} NOT NULL, kind ${T} NOT NULL, value ${D} NOT NULL,
  PRIMARY KEY (meter, series, t_ms));
CREATE TABLE mapping_point_slots (
  meter ${T} NOT NULL, series ${T} NOT NULL, day ${T} NOT NULL, slot integer NOT NULL, energy ${D} NOT NULL, covered ${D} NOT NULL,
  PRIMARY KEY (meter, series, day, slot));
CREATE TABLE mapping_meta (key ${T} PRIMARY KEY, value ${D} NOT NULL);
`,
];

/** The advisory lock class of the mapping's migrations (the VTN store's are 20210–20212). */
const MIGRATION_LOCK = [20220, 0] as const;

/** `?` parameters as PostgreSQL's `$1, $2…` (no statement of the store has a `?` in a literal). */
const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

export function createPgMappingStore(options: Readonly<PgMappingStoreOptions>): MappingStore {
  const db: SyncPg = openMigratedPg(
    { connectionString: options.url, password: options.password, statementTimeoutMs: options.statementTimeoutMs ?? 5000, applicationName: options.applicationName ?? 'oadr-ledger mapping' },
    {
      table: 'mapping_schema_version',
      lock: MIGRATION_LOCK,
      migrations: MAPPING_PG_MIGRATIONS,
      tooNew: (current, known) => new MappingError('STORE', `the mapping store's schema in PostgreSQL is version ${current}, this VTN reads ${known}; run a VTN release that knows version ${current} (or newer)`),
    },
  );
  // Each statement prepared once per connection under its own name.
  const names = new Map<string, { readonly text: string; readonly name: string }>();
  const prepared = (sql: string): { readonly text: string; readonly name: string } => {
    let p = names.get(sql);
    if (p === undefined) {
      p = { text: numbered(sql), name: `mapping${names.size}` };
      names.set(sql, p);
    }
    return p;
  };
  const all = (sql: string, ...params: unknown[]) => {
    const p = prepared(sql);
    return db.query(p.text, params, p.name);
  };
  const transaction = createPgTransaction(db);
  return mappingStoreOver(
    {
      get: (sql, ...params) => all(sql, ...params)[0],
      all,
      run: (sql, ...params) => {
        const p = prepared(sql);
        return db.run(p.text, params, p.name);
      },
      transaction,
      table: (name) => `mapping_${name}`,
      raiseHeight: "INSERT INTO mapping_meta (key, value) VALUES ('recordedHeight', ?) ON CONFLICT (key) DO UPDATE SET value = GREATEST(mapping_meta.value, excluded.value)",
      putProbe: "INSERT INTO mapping_meta (key, value) VALUES ('writeProbe', random()) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      sharedEvents: {
        read: 'SELECT xmin::text AS rev, CASE WHEN xmin::text = $2 THEN NULL ELSE json END AS json FROM mapping_events WHERE event_id = $1',
        put: 'INSERT INTO mapping_events (event_id, json) VALUES (?, ?) ON CONFLICT (event_id) DO UPDATE SET json = excluded.json RETURNING xmin::text AS rev',
      },
      close: () => db.close(),
    },
    options,
  );
}
