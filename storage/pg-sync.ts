/**
 * A synchronous face on PostgreSQL, for stores whose interface is synchronous (the VTN's): a worker
 * thread (pg-worker.ts) owns the connection; `query` posts the statements on a MessagePort and
 * blocks the calling thread on `Atomics.wait` until the worker bumps a shared counter, then reads
 * the answer with `receiveMessageOnPort`. One request is in flight per process at a time, so a
 * transaction (`BEGIN … COMMIT` on that one connection) cannot interleave with another request of
 * the same process, exactly as with node:sqlite; between processes, PostgreSQL's locks and
 * constraints decide.
 *
 * A database that does not answer blocks the caller for at most `statementTimeoutMs` (the server
 * cancels the statement) plus `connectTimeoutMs` (opening a connection), then the call throws a
 * `PgSyncError`; the worker reconnects at the next request.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { joiningNested } from './sqlite.ts';

export interface SyncPgOptions {
  /** `postgres://user[:password]@host:port/database`. */
  readonly connectionString: string;
  /** Overrides a password in the URL (read from a file by the CLI). */
  readonly password?: string | undefined;
  /** The server cancels a statement running longer (default 5,000 ms). */
  readonly statementTimeoutMs?: number;
  /** Opening a connection gives up after this (default 5,000 ms). */
  readonly connectTimeoutMs?: number;
  /** Shown in pg_stat_activity. */
  readonly applicationName?: string;
}

export interface PgStatement {
  readonly sql: string;
  readonly params?: readonly unknown[];
  /** A prepared statement's name: parsed once per connection, then only bound and executed. */
  readonly name?: string;
}

export type PgRow = Record<string, unknown>;

/** A failed statement: `code` is PostgreSQL's SQLSTATE (`23505` unique violation, `40001`…), `TIMEOUT` or `CLOSED`. */
export class PgSyncError extends Error {
  override readonly name = 'PgSyncError';
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Time spent waiting on the database (request round trips, the thread hop included). */
export interface PgLatency {
  readonly count: number;
  readonly sumMs: number;
  /** Cumulative counts of round trips at or under each bound of `PG_LATENCY_BUCKETS_MS`. */
  readonly buckets: readonly number[];
}

export const PG_LATENCY_BUCKETS_MS = [0.25, 0.5, 1, 2.5, 5, 10, 25, 100, 1000] as const;

export interface SyncPg {
  /** Runs the statements in order on the one connection (one round trip to the worker); the rows of each. */
  batch(statements: readonly PgStatement[]): PgRow[][];
  query(sql: string, params?: readonly unknown[], name?: string): PgRow[];
  /** Rows changed by one statement. */
  run(sql: string, params?: readonly unknown[], name?: string): number;
  /** Increases each time the worker opened a new connection (session state such as advisory locks is then gone). */
  generation(): number;
  latency(): PgLatency;
  close(): void;
}

/** @internal The messages between pg-sync.ts and pg-worker.ts. */
export interface PgRequest {
  readonly id: number;
  readonly statements: readonly PgStatement[];
}
/** @internal */
export type PgResponse =
  | { readonly id: number; readonly ok: true; readonly results: PgRow[][]; readonly counts: number[]; readonly generation: number; readonly ms: number }
  | { readonly id: number; readonly ok: false; readonly error: { readonly message: string; readonly code: string | undefined }; readonly generation: number; readonly ms: number };
/** @internal */
export interface PgWorkerData {
  readonly port: MessagePort;
  readonly signal: SharedArrayBuffer;
  readonly connectionString: string;
  readonly password: string | undefined;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly applicationName: string;
}

export function createSyncPg(options: Readonly<SyncPgOptions>): SyncPg {
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const signal = new SharedArrayBuffer(4);
  const counter = new Int32Array(signal);
  const { port1, port2 } = new MessageChannel();
  const data: PgWorkerData = {
    port: port2,
    signal,
    connectionString: options.connectionString,
    password: options.password,
    statementTimeoutMs,
    connectTimeoutMs,
    applicationName: options.applicationName ?? 'oadr-ledger',
  };
  const worker = new Worker(new URL('./pg-worker.ts', import.meta.url), { workerData: data, transferList: [port2] });
  worker.unref();
  port1.unref();
  let nextId = 1;
  let gen = 0;
  let closed = false;
  let count = 0;
  let sumMs = 0;
  const buckets = PG_LATENCY_BUCKETS_MS.map(() => 0);
  // A late answer to a request the caller gave up on arrives before the next one's: skip it by id.
  const waitFor = (id: number): PgResponse => {
    const deadline = performance.now() + statementTimeoutMs + connectTimeoutMs + 1000;
    for (;;) {
      const seen = Atomics.load(counter, 0);
      let msg = receiveMessageOnPort(port1);
      while (msg !== undefined) {
        const res = msg.message as PgResponse;
        if (res.id === id) return res;
        msg = receiveMessageOnPort(port1);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new PgSyncError('TIMEOUT', `PostgreSQL did not answer within ${Math.round(statementTimeoutMs + connectTimeoutMs)} ms; check that the database is up and reachable (storeStatementTimeoutMs bounds the wait)`);
      Atomics.wait(counter, 0, seen, left);
    }
  };
  const request = (statements: readonly PgStatement[]): PgResponse & { ok: true } => {
    if (closed) throw new PgSyncError('CLOSED', 'the PostgreSQL connection is closed');
    const id = nextId++;
    const started = performance.now();
    port1.postMessage({ id, statements } satisfies PgRequest);
    const res = waitFor(id);
    const ms = performance.now() - started;
    count++;
    sumMs += ms;
    for (let i = 0; i < buckets.length; i++) if (ms <= PG_LATENCY_BUCKETS_MS[i]!) buckets[i]!++;
    gen = res.generation;
    if (!res.ok) throw new PgSyncError(res.error.code ?? 'CONNECTION', res.error.message);
    return res;
  };
  const one = (sql: string, params: readonly unknown[], name: string | undefined): PgStatement[] => [{ sql, params, ...(name === undefined ? {} : { name }) }];
  return {
    batch: (statements) => request(statements).results,
    query: (sql, params = [], name) => request(one(sql, params, name)).results[0]!,
    run: (sql, params = [], name) => request(one(sql, params, name)).counts[0]!,
    generation: () => gen,
    latency: () => ({ count, sumMs, buckets: [...buckets] }),
    close() {
      if (closed) return;
      closed = true;
      worker.postMessage('close');
      port1.close();
    },
  };
}

/**
 * `BEGIN … COMMIT` on a `SyncPg`, with the nesting rule of the SQLite wrapper (a nested call joins
 * the outer transaction). A serialization failure or deadlock (`40001`, `40P01`) of the outermost
 * transaction runs `fn` again, at most `retries` times; `fn` must then be safe to run again.
 */
export function createPgTransaction(db: SyncPg, options: { readonly onRollback?: () => void; readonly retries?: number } = {}): PgTransaction {
  const retries = options.retries ?? 3;
  return joiningNested(<T>(fn: () => T): T => {
    for (let attempt = 0; ; attempt++) {
      db.run('BEGIN');
      try {
        const out = fn();
        db.run('COMMIT');
        return out;
      } catch (err) {
        try {
          db.run('ROLLBACK');
        } catch {
          // The connection is gone: PostgreSQL rolled the transaction back with it.
        }
        options.onRollback?.();
        const code = err instanceof PgSyncError ? err.code : undefined;
        if ((code === '40001' || code === '40P01') && attempt < retries) continue;
        throw err;
      }
    }
  });
}

export interface PgTransaction {
  <T>(fn: () => T): T;
  /** True inside `fn`. */
  active(): boolean;
}
