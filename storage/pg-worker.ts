/**
 * The worker thread behind `createSyncPg` (pg-sync.ts): it owns the PostgreSQL connection (npm
 * `pg`) and answers one request at a time. The main thread posts a request on `port` and waits
 * on `signal` (Atomics.wait); the worker answers on `port`, then bumps `signal` and notifies. A
 * connection that fails is dropped and opened again at the next request, so a database that comes
 * back is used again without a restart of the process.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import pg from 'pg';
import type { PgRequest, PgResponse, PgWorkerData } from './pg-sync.ts';

const data = workerData as PgWorkerData;
const port = data.port as MessagePort;
const signal = new Int32Array(data.signal);

// bigint (int8) comes back as text; the store turns what it needs into numbers.
let client: pg.Client | undefined;
let generation = 0;

async function connection(): Promise<pg.Client> {
  if (client !== undefined) return client;
  const c = new pg.Client({
    connectionString: data.connectionString,
    ...(data.password === undefined ? {} : { password: data.password }),
    statement_timeout: data.statementTimeoutMs,
    lock_timeout: data.statementTimeoutMs,
    idle_in_transaction_session_timeout: Math.max(data.statementTimeoutMs * 4, 10_000),
    connectionTimeoutMillis: data.connectTimeoutMs,
    application_name: data.applicationName,
  });
  // A connection that breaks between requests: forget it; the next request opens another.
  c.on('error', () => {
    if (client === c) client = undefined;
  });
  c.on('end', () => {
    if (client === c) client = undefined;
  });
  try {
    await c.connect();
  } catch (err) {
    void c.end().catch(() => undefined);
    throw err;
  }
  client = c;
  generation++;
  return c;
}

async function run(req: PgRequest): Promise<PgResponse> {
  const started = performance.now();
  try {
    const c = await connection();
    const results: Array<Array<Record<string, unknown>>> = [];
    const counts: number[] = [];
    for (const s of req.statements) {
      const r = await c.query({ text: s.sql, values: s.params as unknown[], ...(s.name === undefined ? {} : { name: s.name }) });
      results.push(r.rows ?? []);
      counts.push(r.rowCount ?? 0);
    }
    return { id: req.id, ok: true, results, counts, generation, ms: performance.now() - started };
  } catch (err) {
    const e = err as Error & { code?: string; severity?: string };
    // A statement time-out or a broken socket leaves the connection unusable or mid-transaction: drop it.
    const broken = e.code === undefined || e.code === '57014' || e.code.startsWith('08') || e.code === '57P01';
    if (broken && client !== undefined) {
      const c = client;
      client = undefined;
      void c.end().catch(() => undefined);
    }
    return { id: req.id, ok: false, error: { message: e.message, code: e.code }, generation, ms: performance.now() - started };
  }
}

port.on('message', (req: PgRequest) => {
  void run(req).then((res) => {
    port.postMessage(res);
    Atomics.add(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
});
parentPort?.on('message', (m: unknown) => {
  if (m === 'close') {
    void (client?.end() ?? Promise.resolve()).catch(() => undefined).finally(() => process.exit(0));
  }
});
