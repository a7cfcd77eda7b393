/**
 * The `VtnStore` on PostgreSQL (`--store postgres://…`), for several VTN processes serving one
 * fleet. The interface stays synchronous: each process talks to PostgreSQL through one connection
 * owned by a worker thread (storage/pg-sync.ts), the main thread blocking on each round trip, so
 * a transaction of one request never interleaves with another request of the same process. Between
 * processes PostgreSQL decides: primary keys and `ON CONFLICT` make a retried write (telemetry sent
 * to two processes) land once; the queue's head is taken with `FOR UPDATE SKIP LOCKED`, so two
 * processes never hand out the same item.
 *
 * Nothing is cached in the process (another process may write any row). A poll on an empty queue
 * costs one statement: reading a registration also says whether the VEN's queue holds anything;
 * reading the same registration again, or peeking at that VEN's empty queue, with no other
 * statement between and within the same synchronous run, answers from that read — the same read a few microseconds earlier, inside the
 * same request.
 *
 * Beyond `VtnStore`, the cluster's coordination (`lease`, `claimVen`, `claimEvent`): PostgreSQL session advisory
 * locks on this connection. A lock lives as long as the connection: a process that dies or loses
 * its connection loses its locks, and another process takes them at its next try.
 */
import { createPgTransaction, openMigratedPg, PG_LATENCY_BUCKETS_MS, type PgRow, type SyncPg } from '../../storage/index.ts';
import type { ProgramConfigInput } from '../cli/config.ts';
import type { EventVenState, VtnEvent } from '../services/event-model.ts';
import { LOCK_CLASS, vtnStoreMigrations } from './postgres-schema.ts';
import { ledgerWorkFromRow, optFromRow, queueItemFromRow, resetForReregistration, telemetryFromRow } from './rows.ts';
import type { AdminTokenRecord, ClusterCoordination, CustomerRecord, EventSagaRecord, ReportRequestRecord, StoreLatency, TelemetryPointRecord, VenRegistration, VtnStore } from './store.ts';

export interface PostgresStoreOptions {
  /** `postgres://user[:password]@host:port/database`. */
  readonly url: string;
  /** Replaces a password in the URL (the CLI reads it from `OADR_STORE_PASSWORD_FILE`). */
  readonly password?: string | undefined;
  /** The server cancels a statement running longer; a process waits at most about this for the database. Default 5,000 ms. */
  readonly statementTimeoutMs?: number;
  /** Shown in pg_stat_activity (the VTN's id). */
  readonly applicationName?: string;
}

const num = (v: unknown): number => Number(v);
const parse = <T>(row: PgRow | undefined, col = 'data'): T | undefined => (row === undefined ? undefined : (JSON.parse(row[col] as string) as T));
const parseAll = <T>(rows: PgRow[], col = 'data'): T[] => rows.map((r) => JSON.parse(r[col] as string) as T);

/** Masks the password of a connection URL for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

export function createPostgresStore(options: Readonly<PostgresStoreOptions>): VtnStore & { readonly cluster: ClusterCoordination; latency(): StoreLatency } {
  const db: SyncPg = openMigratedPg(
    { connectionString: options.url, password: options.password, statementTimeoutMs: options.statementTimeoutMs ?? 5000, applicationName: options.applicationName ?? 'oadr-ledger vtn' },
    vtnStoreMigrations(redactUrl(options.url)),
  );
  // Every statement is prepared once per connection under its own name.
  const names = new Map<string, string>();
  const named = (sql: string): string => {
    let n = names.get(sql);
    if (n === undefined) {
      n = `vtn${names.size}`;
      names.set(sql, n);
    }
    return n;
  };
  // Statements run so far: a queue hint is good only until the next one.
  let statements = 0;
  const q = (sql: string, ...params: unknown[]): PgRow[] => (statements++, db.query(sql, params, named(sql)));
  const one = (sql: string, ...params: unknown[]): PgRow | undefined => q(sql, ...params)[0];
  const run = (sql: string, ...params: unknown[]): number => (statements++, db.run(sql, params, named(sql)));
  /**
   * The last registration read, with whether its queue held anything then: until the next
   * statement, within the same synchronous run, reading it again (the request's checks and its service each read the VEN) or
   * peeking at its empty queue answers from it — the same read, a few microseconds earlier.
   */
  let lastRead: { readonly venId: string; readonly at: number; readonly row: PgRow | undefined } | undefined;
  const forget = (): void => {
    lastRead = undefined;
  };
  const fresh = (venId: string): PgRow | undefined | false => (lastRead !== undefined && lastRead.venId === venId && lastRead.at === statements ? lastRead.row : false);
  const transaction = createPgTransaction(db);

  // A claim of one thing (a VEN's pushes, an event's creation): a session lock, re-entrant within this process's connection.
  const claim = (cls: number, key: string): boolean => one('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', cls, key)?.ok === true;
  const release = (cls: number, key: string): void => void one('SELECT pg_advisory_unlock($1, hashtext($2)) AS ok', cls, key);
  // Held leases, by the connection they were taken on (a new connection has none).
  const leases = new Map<string, number>();
  const cluster: ClusterCoordination = {
    lease(duty) {
      if (leases.get(duty) === db.generation()) return true;
      const held = one('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', LOCK_CLASS.lease, duty)?.ok === true;
      if (held) leases.set(duty, db.generation());
      else leases.delete(duty);
      return held;
    },
    claimVen: (venId) => claim(LOCK_CLASS.venPush, venId),
    releaseVen: (venId) => release(LOCK_CLASS.venPush, venId),
    claimEvent: (eventId) => claim(LOCK_CLASS.eventCreation, eventId),
    releaseEvent: (eventId) => release(LOCK_CLASS.eventCreation, eventId),
  };

  return {
    putCustomer(c: CustomerRecord): void {
      transaction(() => {
        // As SQLite's INSERT OR REPLACE: a customer holding the VEN name or venID loses the row.
        run('DELETE FROM customers WHERE customer_id <> $1 AND (ven_name = $2 OR ven_id = $3)', c.customerId, c.venName ?? null, c.venId ?? null);
        run(
          `INSERT INTO customers (customer_id, ven_name, ven_id, meter_id, data) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (customer_id) DO UPDATE SET ven_name = excluded.ven_name, ven_id = excluded.ven_id, meter_id = excluded.meter_id, data = excluded.data`,
          c.customerId, c.venName ?? null, c.venId ?? null, c.meterId ?? null, JSON.stringify(c),
        );
      });
    },
    getCustomer: (id) => parse<CustomerRecord>(one('SELECT data FROM customers WHERE customer_id = $1', id)),
    findCustomerByVenName: (name) => parse<CustomerRecord>(one('SELECT data FROM customers WHERE ven_name = $1', name)),
    findCustomerByVenId: (venId) => parse<CustomerRecord>(one('SELECT data FROM customers WHERE ven_id = $1', venId)),
    findCustomerByMeterId: (meterId) => parse<CustomerRecord>(one('SELECT data FROM customers WHERE meter_id = $1 ORDER BY customer_id LIMIT 1', meterId)),
    customersOfMeter: (meterId) =>
      parseAll<CustomerRecord>(q('SELECT data FROM customers WHERE meter_id = $1 OR (customer_id = $1 AND meter_id IS NULL) ORDER BY customer_id', meterId)),
    listCustomers: () => parseAll<CustomerRecord>(q('SELECT data FROM customers ORDER BY customer_id')),

    putRegistration(r: VenRegistration): void {
      statements++;
      db.batch([
        {
          sql: `INSERT INTO registrations (ven_id, customer_id, fingerprint, registration_id, data) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (ven_id) DO UPDATE SET customer_id = excluded.customer_id, fingerprint = excluded.fingerprint, registration_id = excluded.registration_id, data = excluded.data`,
          params: [r.venId, r.customerId, r.fingerprint ?? null, r.registrationId, JSON.stringify(r)],
          name: 'vtn-put-registration',
        },
        { sql: 'INSERT INTO ven_ids (ven_id, customer_id, first_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', params: [r.venId, r.customerId, r.registeredAt], name: 'vtn-put-ven-id' },
      ]);
    },
    getRegistration(venId) {
      let row = fresh(venId);
      if (row === false) {
        row = one('SELECT data, EXISTS (SELECT 1 FROM queue WHERE ven_id = $1) AS queued FROM registrations WHERE ven_id = $1', venId);
        lastRead = { venId, at: statements, row };
        // Good for the synchronous run of this request only: gone at its first await or at its end.
        queueMicrotask(forget);
      }
      return parse<VenRegistration>(row);
    },
    findRegistrationIgnoringCase: (venId) => parse<VenRegistration>(one('SELECT data FROM registrations WHERE lower(ven_id) = lower($1) ORDER BY ven_id LIMIT 1', venId)),
    findRegistrationByCustomer: (customerId) => parse<VenRegistration>(one('SELECT data FROM registrations WHERE customer_id = $1 ORDER BY ven_id LIMIT 1', customerId)),
    findRegistrationByFingerprint: (fp) => parse<VenRegistration>(one('SELECT data FROM registrations WHERE fingerprint = $1 ORDER BY ven_id LIMIT 1', fp)),
    findRegistrationByRegistrationId: (id) => parse<VenRegistration>(one('SELECT data FROM registrations WHERE registration_id = $1 ORDER BY ven_id LIMIT 1', id)),
    listRegistrations: () => parseAll<VenRegistration>(q('SELECT data FROM registrations ORDER BY ven_id')),
    countRegistrations: () => num(one('SELECT count(*) AS n FROM registrations')?.n),
    venIdOwner: (venId) => one('SELECT customer_id FROM ven_ids WHERE ven_id = $1', venId)?.customer_id as string | undefined,
    eraseVen(venId, { keepRegistration }) {
      transaction(() => {
        run('DELETE FROM queue WHERE ven_id = $1', venId);
        run('DELETE FROM report_metadata WHERE ven_id = $1', venId);
        run('DELETE FROM opts WHERE ven_id = $1', venId);
        run('DELETE FROM report_requests WHERE ven_id = $1', venId);
        if (!keepRegistration) {
          // R407: nothing of the VEN is kept.
          run('DELETE FROM event_vens WHERE ven_id = $1', venId);
          run('DELETE FROM registrations WHERE ven_id = $1', venId);
          return;
        }
        // R406: per-event state is reset, not dropped: the VEN stays targeted by its events.
        for (const row of q('SELECT data FROM event_vens WHERE ven_id = $1 FOR UPDATE', venId)) {
          const s = JSON.parse(row.data as string) as EventVenState;
          const reset = resetForReregistration(s);
          run('UPDATE event_vens SET data = $1 WHERE event_id = $2 AND ven_id = $3', JSON.stringify(reset), s.eventId, venId);
        }
      });
    },

    enqueue: (venId, kind, payload, at) =>
      num(one('INSERT INTO queue (ven_id, kind, payload, enqueued_at) VALUES ($1, $2, $3, $4) RETURNING seq', venId, kind, payload === undefined ? null : JSON.stringify(payload), at)?.seq),
    peek(venId) {
      // The poll path: the registration just read said the queue is empty.
      const read = fresh(venId);
      if (read !== false && read?.queued === false) return undefined;
      const r = one('SELECT * FROM queue WHERE ven_id = $1 ORDER BY seq LIMIT 1', venId);
      return r === undefined ? undefined : queueItemFromRow(r);
    },
    shift(venId) {
      // One statement: the head is locked, skipped by another process taking it at the same moment, and deleted.
      const r = one('DELETE FROM queue WHERE seq = (SELECT seq FROM queue WHERE ven_id = $1 ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *', venId);
      return r === undefined ? undefined : queueItemFromRow(r);
    },
    removeQueued(seq) {
      run('DELETE FROM queue WHERE seq = $1', seq);
    },
    removeQueuedKind: (venId, kind) => run('DELETE FROM queue WHERE ven_id = $1 AND kind = $2', venId, kind),
    queueDepth: (venId) => num(one('SELECT count(*) AS n FROM queue WHERE ven_id = $1', venId)?.n),
    queueDepthTotal: () => num(one('SELECT count(*) AS n FROM queue')?.n),
    vensWithQueuedItems: () => q('SELECT DISTINCT ven_id FROM queue ORDER BY ven_id').map((r) => r.ven_id as string),

    putEvent(e) {
      run('INSERT INTO events (event_id, data) VALUES ($1, $2) ON CONFLICT (event_id) DO UPDATE SET data = excluded.data', e.eventId, JSON.stringify(e));
    },
    getEvent: (eventId) => parse<VtnEvent>(one('SELECT data FROM events WHERE event_id = $1', eventId)),
    listEvents: () => parseAll<VtnEvent>(q('SELECT data FROM events ORDER BY ord')),
    putEventSaga(s) {
      run('INSERT INTO event_sagas (event_id, data) VALUES ($1, $2) ON CONFLICT (event_id) DO UPDATE SET data = excluded.data', s.eventId, JSON.stringify(s));
    },
    deleteEventSaga(eventId) {
      run('DELETE FROM event_sagas WHERE event_id = $1', eventId);
    },
    listEventSagas: () => parseAll<EventSagaRecord>(q('SELECT data FROM event_sagas ORDER BY ord')),
    probeWrite() {
      // A committed write: a read-only replica, a full disk or a lost connection fails it.
      run("INSERT INTO meta (key, value) VALUES ('writeProbe', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", String(Date.now()));
    },
    putEventVen(s) {
      run('INSERT INTO event_vens (event_id, ven_id, data) VALUES ($1, $2, $3) ON CONFLICT (event_id, ven_id) DO UPDATE SET data = excluded.data', s.eventId, s.venId, JSON.stringify(s));
    },
    getEventVen: (eventId, venId) => parse<EventVenState>(one('SELECT data FROM event_vens WHERE event_id = $1 AND ven_id = $2', eventId, venId)),
    listEventVens: (eventId) => parseAll<EventVenState>(q('SELECT data FROM event_vens WHERE event_id = $1 ORDER BY ven_id', eventId)),
    listVenEvents: (venId) =>
      q('SELECT e.data AS event, v.data AS state FROM event_vens v JOIN events e ON e.event_id = v.event_id WHERE v.ven_id = $1 ORDER BY e.ord', venId).map((r) => ({
        event: JSON.parse(r.event as string) as VtnEvent,
        state: JSON.parse(r.state as string) as EventVenState,
      })),

    putReportMetadata(venId, reports, at) {
      run('INSERT INTO report_metadata (ven_id, reports, at) VALUES ($1, $2, $3) ON CONFLICT (ven_id) DO UPDATE SET reports = excluded.reports, at = excluded.at', venId, JSON.stringify(reports), at);
    },
    getReportMetadata(venId) {
      const r = one('SELECT reports, at FROM report_metadata WHERE ven_id = $1', venId);
      return r === undefined ? undefined : { reports: JSON.parse(r.reports as string) as unknown, at: num(r.at) };
    },
    appendTelemetry(t) {
      run('INSERT INTO telemetry (ven_id, report_request_id, report_specifier_id, received_at, report) VALUES ($1, $2, $3, $4, $5)', t.venId, t.reportRequestId, t.reportSpecifierId, t.receivedAt, JSON.stringify(t.report));
    },
    listTelemetry: (venId) =>
      q('SELECT * FROM telemetry WHERE ven_id = $1 ORDER BY id', venId).map(telemetryFromRow),

    putReportRequest(r) {
      // The upsert keeps `ord`, so requests list in the order they were made.
      run('INSERT INTO report_requests (ven_id, report_request_id, data) VALUES ($1, $2, $3) ON CONFLICT (ven_id, report_request_id) DO UPDATE SET data = excluded.data', r.venId, r.reportRequestId, JSON.stringify(r));
    },
    getReportRequest: (venId, id) => parse<ReportRequestRecord>(one('SELECT data FROM report_requests WHERE ven_id = $1 AND report_request_id = $2', venId, id)),
    listReportRequests: (venId) => parseAll<ReportRequestRecord>(q('SELECT data FROM report_requests WHERE ven_id = $1 ORDER BY ord', venId)),
    insertTelemetryPoint(p) {
      // A point another process is inserting makes this insert wait for its commit, then do nothing.
      if (run('INSERT INTO telemetry_points (ven_id, report_request_id, r_id, start_ms, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', p.venId, p.reportRequestId, p.rId, p.startMs, JSON.stringify(p)) > 0) return 'added';
      const prev = parse<TelemetryPointRecord>(one('SELECT data FROM telemetry_points WHERE ven_id = $1 AND r_id = $2 AND start_ms = $3', p.venId, p.rId, p.startMs));
      if (prev === undefined || prev.durationMs !== p.durationMs) return 'conflict';
      if (prev.value === p.value && prev.quality === p.quality && JSON.stringify(prev.status) === JSON.stringify(p.status)) return 'duplicate';
      run('UPDATE telemetry_points SET report_request_id = $1, data = $2 WHERE ven_id = $3 AND r_id = $4 AND start_ms = $5', p.reportRequestId, JSON.stringify(p), p.venId, p.rId, p.startMs);
      return 'corrected';
    },
    listTelemetryPoints: (venId, fromMs = -8.64e15, toMs = 8.64e15) =>
      parseAll<TelemetryPointRecord>(q('SELECT data FROM telemetry_points WHERE ven_id = $1 AND start_ms >= $2 AND start_ms < $3 ORDER BY start_ms, r_id', venId, fromMs, toMs)),

    putLedgerWork(key, kind, data, at) {
      // Work queued again under its key gets a new seq: completing the older one leaves it.
      run(
        `INSERT INTO ledger_outbox (key, kind, data, queued_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET seq = nextval(pg_get_serial_sequence('ledger_outbox', 'seq')), kind = excluded.kind, data = excluded.data, queued_at = excluded.queued_at`,
        key, kind, JSON.stringify(data), at,
      );
    },
    listLedgerWork: (limit) =>
      q('SELECT * FROM ledger_outbox ORDER BY seq LIMIT $1', limit).map(ledgerWorkFromRow),
    deleteLedgerWork(seqs) {
      run('DELETE FROM ledger_outbox WHERE seq = ANY($1::bigint[])', seqs.map(String));
    },
    ledgerWorkDepth: () => num(one('SELECT count(*) AS n FROM ledger_outbox')?.n),

    putProgram(p) {
      run('INSERT INTO programs (program_id, data) VALUES ($1, $2) ON CONFLICT (program_id) DO UPDATE SET data = excluded.data', p.id, JSON.stringify(p));
    },
    listPrograms: () => parseAll<ProgramConfigInput>(q('SELECT data FROM programs ORDER BY program_id')),
    deleteProgram: (programId) => run('DELETE FROM programs WHERE program_id = $1', programId) > 0,

    putAdminToken(t: AdminTokenRecord) {
      transaction(() => {
        run('DELETE FROM admin_tokens WHERE hash = $1 AND token_id <> $2', t.hash, t.tokenId);
        run('INSERT INTO admin_tokens (token_id, hash, data) VALUES ($1, $2, $3) ON CONFLICT (token_id) DO UPDATE SET hash = excluded.hash, data = excluded.data', t.tokenId, t.hash, JSON.stringify(t));
      });
    },
    findAdminTokenByHash: (hash) => parse<AdminTokenRecord>(one('SELECT data FROM admin_tokens WHERE hash = $1', hash)),
    listAdminTokens: () => parseAll<AdminTokenRecord>(q('SELECT data FROM admin_tokens ORDER BY ord')),
    deleteAdminToken: (tokenId) =>
      transaction(() => {
        const row = one('SELECT hash FROM admin_tokens WHERE token_id = $1 FOR UPDATE', tokenId);
        if (row === undefined) return false;
        run('INSERT INTO revoked_admin_tokens (hash, revoked_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', row.hash, Date.now());
        return run('DELETE FROM admin_tokens WHERE token_id = $1', tokenId) > 0;
      }),
    isAdminTokenRevoked: (hash) => one('SELECT 1 AS x FROM revoked_admin_tokens WHERE hash = $1', hash) !== undefined,

    putOpt(venId, optId, opt, at) {
      run('INSERT INTO opts (ven_id, opt_id, opt, at) VALUES ($1, $2, $3, $4) ON CONFLICT (ven_id, opt_id) DO UPDATE SET opt = excluded.opt, at = excluded.at', venId, optId, JSON.stringify(opt), at);
    },
    deleteOpt: (venId, optId) => run('DELETE FROM opts WHERE ven_id = $1 AND opt_id = $2', venId, optId) > 0,
    listOpts: (venId) =>
      q('SELECT * FROM opts WHERE ven_id = $1 ORDER BY at, opt_id', venId).map(optFromRow),

    cluster,
    latency: () => {
      const l = db.latency();
      return { count: l.count, sumMs: l.sumMs, bucketsMs: PG_LATENCY_BUCKETS_MS, counts: l.buckets };
    },

    transaction,
    close() {
      db.close();
    },
  };
}
