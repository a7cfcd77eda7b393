/**
 * The default `VtnStore`: one `node:sqlite` database (`<dataDir>/vtn.sqlite`, WAL, synchronous
 * FULL), so a restart, or a crash between two requests, loses no registration, queued payload or
 * event. Rows hold JSON of our model types; the columns used for lookups are kept apart.
 *
 * Speed (issue 5): the poll path reads a registration and checks a queue on every oadrPoll. Both
 * are answered from memory: registrations and events are cached (frozen) after their first read,
 * and the VENs whose queue may hold items are kept in a set, so an empty-queue poll touches no
 * SQL at all and a delivery does not re-parse an event that lists 10,000 VENs.
 * This assumes the process that opened the store is its only writer (one VTN per data directory);
 * a rolled-back transaction drops both caches, which are rebuilt from the database.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createTransaction, preparedStatements } from '../../storage/index.ts';
import type { ProgramConfigInput } from '../cli/config.ts';
import { VtnError } from '../errors.ts';
import type { EventVenState, VtnEvent } from '../services/event-model.ts';
import { ledgerWorkFromRow, optFromRow, queueItemFromRow, resetForReregistration, telemetryFromRow } from './rows.ts';
import type { AdminTokenRecord, CustomerRecord, EventSagaRecord, ReportRequestRecord, TelemetryPointRecord, TelemetryRecord, VenRegistration, VtnStore } from './store.ts';

export interface SqliteStoreOptions {
  /** Directory for `vtn.sqlite`, created if missing; `:memory:` for a store that dies with the process. */
  readonly dataDir: string;
}

export const STORE_FILE = 'vtn.sqlite';
const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS customers (
  customer_id TEXT PRIMARY KEY, ven_name TEXT UNIQUE, ven_id TEXT UNIQUE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS registrations (
  ven_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS registrations_customer ON registrations (customer_id);
CREATE TABLE IF NOT EXISTS queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, ven_id TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT, enqueued_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS queue_ven ON queue (ven_id, seq);
CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS event_vens (
  event_id TEXT NOT NULL, ven_id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (event_id, ven_id));
CREATE INDEX IF NOT EXISTS event_vens_ven ON event_vens (ven_id);
CREATE TABLE IF NOT EXISTS report_metadata (ven_id TEXT PRIMARY KEY, reports TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS telemetry (
  id INTEGER PRIMARY KEY AUTOINCREMENT, ven_id TEXT NOT NULL, report_request_id TEXT NOT NULL,
  report_specifier_id TEXT NOT NULL, received_at INTEGER NOT NULL, report TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS telemetry_ven ON telemetry (ven_id, id);
CREATE TABLE IF NOT EXISTS report_requests (
  ven_id TEXT NOT NULL, report_request_id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (ven_id, report_request_id));
CREATE TABLE IF NOT EXISTS telemetry_points (
  ven_id TEXT NOT NULL, report_request_id TEXT NOT NULL, r_id TEXT NOT NULL, start_ms INTEGER NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (ven_id, r_id, start_ms));
CREATE INDEX IF NOT EXISTS telemetry_points_time ON telemetry_points (ven_id, start_ms);
CREATE TABLE IF NOT EXISTS ledger_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, data TEXT NOT NULL, queued_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS programs (program_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS admin_tokens (token_id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS customers_meter ON customers (json_extract(data, '$.meterId'));
CREATE INDEX IF NOT EXISTS registrations_fingerprint ON registrations (json_extract(data, '$.fingerprint'));
CREATE INDEX IF NOT EXISTS registrations_ven_id_nocase ON registrations (ven_id COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS registrations_registration_id ON registrations (json_extract(data, '$.registrationId'));
CREATE TABLE IF NOT EXISTS ven_ids (ven_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, first_at INTEGER NOT NULL);
INSERT OR IGNORE INTO ven_ids (ven_id, customer_id, first_at) SELECT ven_id, customer_id, 0 FROM registrations;
CREATE TABLE IF NOT EXISTS revoked_admin_tokens (hash TEXT PRIMARY KEY, revoked_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS event_sagas (event_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS opts (
  ven_id TEXT NOT NULL, opt_id TEXT NOT NULL, opt TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (ven_id, opt_id));
`;

type Row = Record<string, unknown>;

/**
 * Version 1 keyed telemetry points by report request too, so a VEN that restarted under a new
 * request id stored its intervals twice: the points are keyed again by (VEN, rID, start), the first
 * stored of each kept.
 */
function migrateFrom1(db: DatabaseSync): void {
  db.exec(`BEGIN;
CREATE TABLE telemetry_points_v2 (
  ven_id TEXT NOT NULL, report_request_id TEXT NOT NULL, r_id TEXT NOT NULL, start_ms INTEGER NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (ven_id, r_id, start_ms));
INSERT OR IGNORE INTO telemetry_points_v2 SELECT ven_id, report_request_id, r_id, start_ms, data FROM telemetry_points ORDER BY rowid;
DROP TABLE telemetry_points;
ALTER TABLE telemetry_points_v2 RENAME TO telemetry_points;
CREATE INDEX telemetry_points_time ON telemetry_points (ven_id, start_ms);
UPDATE meta SET value = '${SCHEMA_VERSION}' WHERE key = 'schemaVersion';
COMMIT;`);
}

export function createSqliteStore(options: Readonly<SqliteStoreOptions>): VtnStore {
  let path = ':memory:';
  if (options.dataDir !== ':memory:') {
    try {
      mkdirSync(options.dataDir, { recursive: true });
    } catch (err) {
      throw new VtnError('STORE', `cannot create the VTN data directory ${options.dataDir}; check the path and its permissions`, { cause: err });
    }
    path = join(options.dataDir, STORE_FILE);
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    db.exec(SCHEMA);
  } catch (err) {
    throw new VtnError('STORE', `cannot open the VTN store ${path}; is another VTN using this data directory?`, { cause: err });
  }
  const version = db.prepare('SELECT value FROM meta WHERE key = ?').get('schemaVersion') as Row | undefined;
  if (version === undefined) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schemaVersion', String(SCHEMA_VERSION));
  else if (Number(version.value) === 1) migrateFrom1(db);
  else if (Number(version.value) !== SCHEMA_VERSION) {
    db.close();
    throw new VtnError('STORE', `the VTN store ${path} has schema version ${String(version.value)}, this VTN reads ${SCHEMA_VERSION}; use a matching release`);
  }

  const q = preparedStatements(db);
  const json = <T>(row: Row | undefined, col = 'data'): T | undefined => (row === undefined ? undefined : (JSON.parse(row[col] as string) as T));
  const all = <T>(rows: Row[], col = 'data'): T[] => rows.map((r) => JSON.parse(r[col] as string) as T);

  // Registrations read or written since the last rollback (the poll path's requireVen).
  const registrations = new Map<string, VenRegistration>();
  const remember = (r: VenRegistration | undefined): VenRegistration | undefined => {
    if (r !== undefined) registrations.set(r.venId, Object.freeze(r));
    return r;
  };
  // Events by id, parsed once: an event for 10,000 VENs lists them all, and every delivery reads it.
  const events = new Map<string, VtnEvent>();
  const eventById = (id: string): VtnEvent | undefined => {
    let e = events.get(id);
    if (e === undefined) {
      e = json<VtnEvent>(q('SELECT data FROM events WHERE event_id = ?').get(id) as Row | undefined);
      if (e !== undefined) events.set(id, Object.freeze(e));
    }
    return e;
  };
  // VENs whose queue may be non-empty: a superset of the truth, so a VEN not in it has an empty queue.
  const mayHaveQueue = new Set<string>();
  const loadQueued = (): void => {
    mayHaveQueue.clear();
    for (const r of db.prepare('SELECT DISTINCT ven_id FROM queue').all() as Row[]) mayHaveQueue.add(r.ven_id as string);
  };
  loadQueued();

  const transaction = createTransaction(db, {
    // The caches must not keep what was never stored.
    onRollback: () => {
      registrations.clear();
      events.clear();
      loadQueued();
    },
  });


  return {
    putCustomer(c: CustomerRecord): void {
      q('INSERT OR REPLACE INTO customers (customer_id, ven_name, ven_id, data) VALUES (?, ?, ?, ?)').run(
        c.customerId, c.venName ?? null, c.venId ?? null, JSON.stringify(c),
      );
    },
    getCustomer: (id) => json<CustomerRecord>(q('SELECT data FROM customers WHERE customer_id = ?').get(id) as Row | undefined),
    findCustomerByVenName: (name) => json<CustomerRecord>(q('SELECT data FROM customers WHERE ven_name = ?').get(name) as Row | undefined),
    findCustomerByVenId: (venId) => json<CustomerRecord>(q('SELECT data FROM customers WHERE ven_id = ?').get(venId) as Row | undefined),
    findCustomerByMeterId: (meterId) => json<CustomerRecord>(q("SELECT data FROM customers WHERE json_extract(data, '$.meterId') = ? LIMIT 1").get(meterId) as Row | undefined),
    customersOfMeter: (meterId) =>
      all<CustomerRecord>(
        q("SELECT data FROM customers WHERE json_extract(data, '$.meterId') = ? UNION SELECT data FROM customers WHERE customer_id = ? AND json_extract(data, '$.meterId') IS NULL").all(meterId, meterId) as Row[],
      ),
    listCustomers: () => all<CustomerRecord>(q('SELECT data FROM customers ORDER BY customer_id').all() as Row[]),

    putRegistration(r: VenRegistration): void {
      const data = JSON.stringify(r);
      q('INSERT OR REPLACE INTO registrations (ven_id, customer_id, data) VALUES (?, ?, ?)').run(r.venId, r.customerId, data);
      q('INSERT OR IGNORE INTO ven_ids (ven_id, customer_id, first_at) VALUES (?, ?, ?)').run(r.venId, r.customerId, r.registeredAt);
      remember(JSON.parse(data) as VenRegistration);
    },
    getRegistration: (venId) =>
      registrations.get(venId) ?? remember(json<VenRegistration>(q('SELECT data FROM registrations WHERE ven_id = ?').get(venId) as Row | undefined)),
    findRegistrationIgnoringCase: (venId) =>
      json<VenRegistration>(q('SELECT data FROM registrations WHERE ven_id = ? COLLATE NOCASE LIMIT 1').get(venId) as Row | undefined),
    findRegistrationByCustomer: (customerId) =>
      json<VenRegistration>(q('SELECT data FROM registrations WHERE customer_id = ? LIMIT 1').get(customerId) as Row | undefined),
    findRegistrationByFingerprint: (fp) => json<VenRegistration>(q("SELECT data FROM registrations WHERE json_extract(data, '$.fingerprint') = ? LIMIT 1").get(fp) as Row | undefined),
    findRegistrationByRegistrationId: (id) => json<VenRegistration>(q("SELECT data FROM registrations WHERE json_extract(data, '$.registrationId') = ? LIMIT 1").get(id) as Row | undefined),
    listRegistrations: () => all<VenRegistration>(q('SELECT data FROM registrations ORDER BY ven_id').all() as Row[]),
    countRegistrations: () => Number((q('SELECT count(*) AS n FROM registrations').get() as Row).n),
    venIdOwner: (venId) => (q('SELECT customer_id FROM ven_ids WHERE ven_id = ?').get(venId) as Row | undefined)?.customer_id as string | undefined,
    eraseVen(venId, { keepRegistration }) {
      transaction(() => {
        q('DELETE FROM queue WHERE ven_id = ?').run(venId);
        q('DELETE FROM report_metadata WHERE ven_id = ?').run(venId);
        q('DELETE FROM opts WHERE ven_id = ?').run(venId);
        q('DELETE FROM report_requests WHERE ven_id = ?').run(venId);
        if (!keepRegistration) {
          // R407: nothing of the VEN is kept.
          q('DELETE FROM event_vens WHERE ven_id = ?').run(venId);
          q('DELETE FROM registrations WHERE ven_id = ?').run(venId);
          registrations.delete(venId);
          return;
        }
        // R406: per-event state is reset, not dropped: the VEN stays targeted by its events.
        for (const row of q('SELECT data FROM event_vens WHERE ven_id = ?').all(venId) as Row[]) {
          const s = JSON.parse(row.data as string) as EventVenState;
          const reset = resetForReregistration(s);
          q('UPDATE event_vens SET data = ? WHERE event_id = ? AND ven_id = ?').run(JSON.stringify(reset), s.eventId, venId);
        }
      });
    },

    enqueue(venId, kind, payload, at) {
      const r = q('INSERT INTO queue (ven_id, kind, payload, enqueued_at) VALUES (?, ?, ?, ?)').run(venId, kind, payload === undefined ? null : JSON.stringify(payload), at);
      mayHaveQueue.add(venId);
      return Number(r.lastInsertRowid);
    },
    peek(venId) {
      if (!mayHaveQueue.has(venId)) return undefined;
      const r = q('SELECT * FROM queue WHERE ven_id = ? ORDER BY seq LIMIT 1').get(venId) as Row | undefined;
      if (r === undefined && !db.isTransaction) mayHaveQueue.delete(venId);
      return r === undefined ? undefined : queueItemFromRow(r);
    },
    shift(venId) {
      // The common poll finds the queue empty: answer that from memory, without SQL.
      if (!mayHaveQueue.has(venId)) return undefined;
      const inCallersTransaction = db.isTransaction;
      return transaction(() => {
        const r = q('SELECT * FROM queue WHERE ven_id = ? ORDER BY seq LIMIT 1').get(venId) as Row | undefined;
        if (r === undefined) {
          // Only outside a caller's transaction: a rollback of that one could bring rows back.
          if (!inCallersTransaction) mayHaveQueue.delete(venId);
          return undefined;
        }
        q('DELETE FROM queue WHERE seq = ?').run(r.seq as number);
        return queueItemFromRow(r);
      });
    },
    removeQueued(seq) {
      q('DELETE FROM queue WHERE seq = ?').run(seq);
    },
    removeQueuedKind: (venId, kind) => Number(q('DELETE FROM queue WHERE ven_id = ? AND kind = ?').run(venId, kind).changes),
    queueDepth: (venId) => Number((q('SELECT count(*) AS n FROM queue WHERE ven_id = ?').get(venId) as Row).n),
    queueDepthTotal: () => Number((q('SELECT count(*) AS n FROM queue').get() as Row).n),
    vensWithQueuedItems: () => (q('SELECT DISTINCT ven_id FROM queue').all() as Row[]).map((r) => r.ven_id as string),

    putEvent(e) {
      const data = JSON.stringify(e);
      q('INSERT OR REPLACE INTO events (event_id, data) VALUES (?, ?)').run(e.eventId, data);
      events.set(e.eventId, Object.freeze(JSON.parse(data) as VtnEvent));
    },
    getEvent: eventById,
    listEvents: () => all<VtnEvent>(q('SELECT data FROM events ORDER BY rowid').all() as Row[]),
    putEventSaga(s) {
      q('INSERT OR REPLACE INTO event_sagas (event_id, data) VALUES (?, ?)').run(s.eventId, JSON.stringify(s));
    },
    deleteEventSaga(eventId) {
      q('DELETE FROM event_sagas WHERE event_id = ?').run(eventId);
    },
    listEventSagas: () => all<EventSagaRecord>(q('SELECT data FROM event_sagas ORDER BY rowid').all() as Row[]),
    probeWrite() {
      // A page's worth, committed (a full disk fails the WAL append at COMMIT), then removed.
      transaction(() => q("INSERT OR REPLACE INTO meta (key, value) VALUES ('writeProbe', hex(randomblob(2048)))").run());
      q("DELETE FROM meta WHERE key = 'writeProbe'").run();
    },
    putEventVen(s) {
      q('INSERT OR REPLACE INTO event_vens (event_id, ven_id, data) VALUES (?, ?, ?)').run(s.eventId, s.venId, JSON.stringify(s));
    },
    getEventVen: (eventId, venId) => json<EventVenState>(q('SELECT data FROM event_vens WHERE event_id = ? AND ven_id = ?').get(eventId, venId) as Row | undefined),
    listEventVens: (eventId) => all<EventVenState>(q('SELECT data FROM event_vens WHERE event_id = ? ORDER BY ven_id').all(eventId) as Row[]),
    listVenEvents(venId) {
      // The events come from memory; the join only orders them (the event_id index covers e.rowid).
      const rows = q('SELECT v.event_id AS id, v.data AS state FROM event_vens v JOIN events e ON e.event_id = v.event_id WHERE v.ven_id = ? ORDER BY e.rowid').all(venId) as Row[];
      return rows.map((r) => ({ event: eventById(r.id as string) as VtnEvent, state: JSON.parse(r.state as string) as EventVenState }));
    },

    putReportMetadata(venId, reports, at) {
      q('INSERT OR REPLACE INTO report_metadata (ven_id, reports, at) VALUES (?, ?, ?)').run(venId, JSON.stringify(reports), at);
    },
    getReportMetadata(venId) {
      const r = q('SELECT reports, at FROM report_metadata WHERE ven_id = ?').get(venId) as Row | undefined;
      return r === undefined ? undefined : { reports: JSON.parse(r.reports as string) as unknown, at: Number(r.at) };
    },
    appendTelemetry(t: TelemetryRecord) {
      q('INSERT INTO telemetry (ven_id, report_request_id, report_specifier_id, received_at, report) VALUES (?, ?, ?, ?, ?)').run(
        t.venId, t.reportRequestId, t.reportSpecifierId, t.receivedAt, JSON.stringify(t.report),
      );
    },
    listTelemetry(venId) {
      return (q('SELECT * FROM telemetry WHERE ven_id = ? ORDER BY id').all(venId) as Row[]).map(telemetryFromRow);
    },

    putReportRequest(r) {
      // An upsert keeps the rowid, so requests list in the order they were made.
      q('INSERT INTO report_requests (ven_id, report_request_id, data) VALUES (?, ?, ?) ON CONFLICT (ven_id, report_request_id) DO UPDATE SET data = excluded.data').run(
        r.venId, r.reportRequestId, JSON.stringify(r),
      );
    },
    getReportRequest: (venId, id) =>
      json<ReportRequestRecord>(q('SELECT data FROM report_requests WHERE ven_id = ? AND report_request_id = ?').get(venId, id) as Row | undefined),
    listReportRequests: (venId) => all<ReportRequestRecord>(q('SELECT data FROM report_requests WHERE ven_id = ? ORDER BY rowid').all(venId) as Row[]),
    insertTelemetryPoint(p) {
      const r = q('INSERT OR IGNORE INTO telemetry_points (ven_id, report_request_id, r_id, start_ms, data) VALUES (?, ?, ?, ?, ?)').run(
        p.venId, p.reportRequestId, p.rId, p.startMs, JSON.stringify(p),
      );
      if (Number(r.changes) > 0) return 'added';
      const key = [p.venId, p.rId, p.startMs] as const;
      const prev = json<TelemetryPointRecord>(q('SELECT data FROM telemetry_points WHERE ven_id = ? AND r_id = ? AND start_ms = ?').get(...key) as Row | undefined);
      if (prev === undefined || prev.durationMs !== p.durationMs) return 'conflict';
      if (prev.value === p.value && prev.quality === p.quality && JSON.stringify(prev.status) === JSON.stringify(p.status)) return 'duplicate';
      q('UPDATE telemetry_points SET report_request_id = ?, data = ? WHERE ven_id = ? AND r_id = ? AND start_ms = ?').run(p.reportRequestId, JSON.stringify(p), ...key);
      return 'corrected';
    },
    listTelemetryPoints: (venId, fromMs = -8.64e15, toMs = 8.64e15) =>
      all<TelemetryPointRecord>(q('SELECT data FROM telemetry_points WHERE ven_id = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms, r_id').all(venId, fromMs, toMs) as Row[]),

    putLedgerWork(key, kind, data, at) {
      // REPLACE deletes the waiting row and inserts a new one: a new seq, so completing the old one leaves it.
      q('INSERT OR REPLACE INTO ledger_outbox (key, kind, data, queued_at) VALUES (?, ?, ?, ?)').run(key, kind, JSON.stringify(data), at);
    },
    listLedgerWork: (limit) =>
      (q('SELECT * FROM ledger_outbox ORDER BY seq LIMIT ?').all(limit) as Row[]).map(ledgerWorkFromRow),
    deleteLedgerWork(seqs) {
      transaction(() => {
        for (const seq of seqs) q('DELETE FROM ledger_outbox WHERE seq = ?').run(seq);
      });
    },
    ledgerWorkDepth: () => Number((q('SELECT count(*) AS n FROM ledger_outbox').get() as Row).n),

    putProgram(p) {
      q('INSERT OR REPLACE INTO programs (program_id, data) VALUES (?, ?)').run(p.id, JSON.stringify(p));
    },
    listPrograms: () => all<ProgramConfigInput>(q('SELECT data FROM programs ORDER BY program_id').all() as Row[]),
    deleteProgram: (programId) => Number(q('DELETE FROM programs WHERE program_id = ?').run(programId).changes) > 0,

    putAdminToken(t) {
      q('INSERT OR REPLACE INTO admin_tokens (token_id, hash, data) VALUES (?, ?, ?)').run(t.tokenId, t.hash, JSON.stringify(t));
    },
    findAdminTokenByHash: (hash) => json<AdminTokenRecord>(q('SELECT data FROM admin_tokens WHERE hash = ?').get(hash) as Row | undefined),
    listAdminTokens: () => all<AdminTokenRecord>(q('SELECT data FROM admin_tokens ORDER BY rowid').all() as Row[]),
    deleteAdminToken: (tokenId) =>
      transaction(() => {
        const row = q('SELECT hash FROM admin_tokens WHERE token_id = ?').get(tokenId) as Row | undefined;
        if (row === undefined) return false;
        q('INSERT OR IGNORE INTO revoked_admin_tokens (hash, revoked_at) VALUES (?, ?)').run(row.hash as string, Date.now());
        return Number(q('DELETE FROM admin_tokens WHERE token_id = ?').run(tokenId).changes) > 0;
      }),
    isAdminTokenRevoked: (hash) => q('SELECT 1 FROM revoked_admin_tokens WHERE hash = ?').get(hash) !== undefined,

    putOpt(venId, optId, opt, at) {
      q('INSERT OR REPLACE INTO opts (ven_id, opt_id, opt, at) VALUES (?, ?, ?, ?)').run(venId, optId, JSON.stringify(opt), at);
    },
    deleteOpt: (venId, optId) => Number(q('DELETE FROM opts WHERE ven_id = ? AND opt_id = ?').run(venId, optId).changes) > 0,
    listOpts: (venId) => (q('SELECT * FROM opts WHERE ven_id = ? ORDER BY at, opt_id').all(venId) as Row[]).map(optFromRow),

    transaction,
    close() {
      registrations.clear();
      events.clear();
      mayHaveQueue.clear();
      if (db.isOpen) db.close();
    },
  };
}
