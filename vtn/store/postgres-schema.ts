/**
 * The PostgreSQL store's schema, as numbered migrations applied in order on start (`schema_version`
 * holds the ones applied; storage/pg-migrate.ts applies them under an advisory lock and refuses a
 * database whose schema is newer than this code).
 *
 * Text columns use the "C" collation, so `ORDER BY` sorts by code point as SQLite does, whatever
 * the database's locale. Times are milliseconds since the epoch (`bigint`); rows hold the JSON of
 * our model types, the columns used for lookups kept apart.
 */
import { VtnError } from '../errors.ts';
import type { PgMigrations } from '../../storage/index.ts';

const T = 'text COLLATE "C"';

export const MIGRATIONS: readonly string[] = [
  `
CREATE TABLE meta (key ${T} PRIMARY KEY, value ${T} NOT NULL);
CREATE TABLE customers (
  customer_id ${T} PRIMARY KEY, ven_name ${T} UNIQUE, ven_id ${T} UNIQUE, meter_id ${T}, data ${T} NOT NULL);
CREATE INDEX customers_meter ON customers (meter_id);
CREATE TABLE registrations (
  ven_id ${T} PRIMARY KEY, customer_id ${T} NOT NULL, fingerprint ${T}, registration_id ${T}, data ${T} NOT NULL);
CREATE INDEX registrations_customer ON registrations (customer_id);
CREATE INDEX registrations_fingerprint ON registrations (fingerprint);
CREATE INDEX registrations_registration_id ON registrations (registration_id);
CREATE INDEX registrations_ven_id_lower ON registrations (lower(ven_id));
CREATE TABLE ven_ids (ven_id ${T} PRIMARY KEY, customer_id ${T} NOT NULL, first_at bigint NOT NULL);
CREATE TABLE queue (
  seq bigserial PRIMARY KEY, ven_id ${T} NOT NULL, kind ${T} NOT NULL, payload ${T}, enqueued_at bigint NOT NULL);
CREATE INDEX queue_ven ON queue (ven_id, seq);
CREATE TABLE events (ord bigserial UNIQUE, event_id ${T} PRIMARY KEY, data ${T} NOT NULL);
CREATE TABLE event_vens (
  event_id ${T} NOT NULL, ven_id ${T} NOT NULL, data ${T} NOT NULL, PRIMARY KEY (event_id, ven_id));
CREATE INDEX event_vens_ven ON event_vens (ven_id);
CREATE TABLE report_metadata (ven_id ${T} PRIMARY KEY, reports ${T} NOT NULL, at bigint NOT NULL);
CREATE TABLE telemetry (
  id bigserial PRIMARY KEY, ven_id ${T} NOT NULL, report_request_id ${T} NOT NULL,
  report_specifier_id ${T} NOT NULL, received_at bigint NOT NULL, report ${T} NOT NULL);
CREATE INDEX telemetry_ven ON telemetry (ven_id, id);
CREATE TABLE report_requests (
  ord bigserial UNIQUE, ven_id ${T} NOT NULL, report_request_id ${T} NOT NULL, data ${T} NOT NULL, PRIMARY KEY (ven_id, report_request_id));
CREATE TABLE telemetry_points (
  ven_id ${T} NOT NULL, report_request_id ${T} NOT NULL, r_id ${T} NOT NULL, start_ms bigint NOT NULL, data ${T} NOT NULL,
  PRIMARY KEY (ven_id, r_id, start_ms));
CREATE INDEX telemetry_points_time ON telemetry_points (ven_id, start_ms);
CREATE TABLE ledger_outbox (
  seq bigserial PRIMARY KEY, key ${T} NOT NULL UNIQUE, kind ${T} NOT NULL, data ${T} NOT NULL, queued_at bigint NOT NULL);
CREATE TABLE programs (program_id ${T} PRIMARY KEY, data ${T} NOT NULL);
CREATE TABLE admin_tokens (ord bigserial UNIQUE, token_id ${T} PRIMARY KEY, hash ${T} NOT NULL UNIQUE, data ${T} NOT NULL);
CREATE TABLE revoked_admin_tokens (hash ${T} PRIMARY KEY, revoked_at bigint NOT NULL);
CREATE TABLE event_sagas (ord bigserial UNIQUE, event_id ${T} PRIMARY KEY, data ${T} NOT NULL);
CREATE TABLE opts (
  ven_id ${T} NOT NULL, opt_id ${T} NOT NULL, opt ${T} NOT NULL, at bigint NOT NULL, PRIMARY KEY (ven_id, opt_id));
`,
];

/** The schema version this code reads and writes. */
export const PG_SCHEMA_VERSION = MIGRATIONS.length;

// Advisory lock keys of the VTN: the first number names the use, the second the thing.
export const LOCK_CLASS = { migrations: 20210, lease: 20211, venPush: 20212, eventCreation: 20213 } as const;

/** The VTN store's migrations on the database `where` (a redacted URL, for the message of a schema newer than the code). */
export function vtnStoreMigrations(where: string): PgMigrations {
  return {
    table: 'schema_version',
    lock: [LOCK_CLASS.migrations, 0],
    migrations: MIGRATIONS,
    tooNew: (current, known) => new VtnError('STORE', `the VTN store ${where} has schema version ${current}, this VTN reads ${known}; run a VTN release that knows version ${current} (or newer)`),
  };
}
