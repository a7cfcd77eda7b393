/**
 * The VTN's Prometheus metrics, counted in plain numbers and written by hand in the text
 * exposition format (version 0.0.4). Counting allocates nothing on the poll path: counters are
 * numbers, per-type counts sit in maps keyed by the payload type, HTTP statuses in a typed array.
 */
import type { LedgerPort } from '../ledger/port.ts';
import { ledgerUnreachable } from '../errors.ts';
import type { StoreLatency } from '../store/store.ts';

/** Metric names (never string literals at call sites). */
export const METRIC = {
  polls: 'oadr_vtn_polls_total',
  payloads: 'oadr_vtn_payloads_total',
  queueDepth: 'oadr_vtn_queue_depth',
  registeredVens: 'oadr_vtn_registered_vens',
  ledgerOutboxDepth: 'oadr_vtn_ledger_outbox_depth',
  pushFailures: 'oadr_vtn_push_failures_total',
  ledgerCallSeconds: 'oadr_vtn_ledger_call_duration_seconds',
  ledgerCallErrors: 'oadr_vtn_ledger_call_errors_total',
  ledgerRetries: 'oadr_vtn_ledger_retries_total',
  ledgerUp: 'oadr_vtn_ledger_up',
  httpResponses: 'oadr_vtn_http_responses_total',
  tlsHandshakeFailures: 'oadr_vtn_tls_handshake_failures_total',
  storeRoundTripSeconds: 'oadr_vtn_store_round_trip_seconds',
} as const;

/** Upper bounds (s) of the ledger call latency histogram. */
export const LEDGER_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type PayloadDirection = 'in' | 'out';

export interface MetricGauges {
  readonly queueDepth: number;
  readonly registeredVens: number;
  readonly ledgerOutboxDepth: number;
  /** A networked store's round trips (PostgreSQL); absent for SQLite. */
  readonly storeLatency?: StoreLatency | undefined;
  /** Submissions the ledger connector retried, by contract function and reason (absent: none counted). */
  readonly ledgerRetries?: ReadonlyArray<{ readonly fn: string; readonly reason: string; readonly count: number }>;
}

export interface VtnMetrics {
  /** One oadrPoll answered: with a queued payload or with an empty oadrResponse. */
  poll(delivered: boolean): void;
  /** A payload received from a VEN (`in`) or sent to one, as an answer or pushed (`out`). */
  payload(direction: PayloadDirection, type: string): void;
  /** A push that failed (network error, timeout or non-200 answer). */
  pushFailure(): void;
  /** One ledger port call and how long it took. */
  ledgerCall(method: string, seconds: number, ok: boolean): void;
  /** Whether the ledger answers: its ping answered (true), or it or another call could not reach it (false). */
  ledgerReachable(up: boolean): void;
  httpStatus(status: number): void;
  /** A TLS handshake that failed, by reason (the OpenSSL or Node error code). */
  tlsHandshakeFailure(reason: string): void;
  /** The exposition text; gauges are read by the caller at scrape time. */
  render(gauges: MetricGauges): string;
}

interface Histogram {
  readonly buckets: Float64Array;
  sum: number;
  count: number;
  errors: number;
}

/** `{a="b"}` with the label value escaped per the text format. */
function labels(pairs: ReadonlyArray<readonly [string, string]>): string {
  return `{${pairs.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`).join(',')}}`;
}

export function createVtnMetrics(): VtnMetrics {
  let pollsEmpty = 0;
  let pollsDelivered = 0;
  let pushFailures = 0;
  const payloadsIn = new Map<string, number>();
  const payloadsOut = new Map<string, number>();
  const status = new Float64Array(600);
  const ledger = new Map<string, Histogram>();
  const handshakeFailures = new Map<string, number>();
  let ledgerUp: boolean | undefined;
  const MAX_REASONS = 100; // reasons come from OpenSSL codes: a bounded label set

  return {
    poll(delivered) {
      if (delivered) pollsDelivered++;
      else pollsEmpty++;
    },
    payload(direction, type) {
      const m = direction === 'in' ? payloadsIn : payloadsOut;
      m.set(type, (m.get(type) ?? 0) + 1);
    },
    pushFailure() {
      pushFailures++;
    },
    ledgerCall(method, seconds, ok) {
      let h = ledger.get(method);
      if (h === undefined) {
        h = { buckets: new Float64Array(LEDGER_LATENCY_BUCKETS.length), sum: 0, count: 0, errors: 0 };
        ledger.set(method, h);
      }
      // Cumulative buckets: each counts the calls at or below its bound.
      for (let i = 0; i < LEDGER_LATENCY_BUCKETS.length; i++) if (seconds <= (LEDGER_LATENCY_BUCKETS[i] as number)) h.buckets[i] = (h.buckets[i] as number) + 1;
      h.sum += seconds;
      h.count++;
      if (!ok) h.errors++;
    },
    ledgerReachable(up) {
      ledgerUp = up;
    },
    httpStatus(code) {
      if (code >= 100 && code < 600) status[code] = (status[code] as number) + 1;
    },
    tlsHandshakeFailure(reason) {
      const key = handshakeFailures.has(reason) || handshakeFailures.size < MAX_REASONS ? reason : 'other';
      handshakeFailures.set(key, (handshakeFailures.get(key) ?? 0) + 1);
    },
    render(g) {
      const out: string[] = [];
      const head = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void => {
        out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      };
      head(METRIC.polls, 'counter', 'oadrPoll requests answered, by whether a queued payload was delivered.');
      out.push(`${METRIC.polls}${labels([['result', 'payload']])} ${pollsDelivered}`, `${METRIC.polls}${labels([['result', 'empty']])} ${pollsEmpty}`);
      head(METRIC.payloads, 'counter', 'OpenADR payloads by type and direction (in: from VENs; out: answers and pushes to VENs).');
      for (const [dir, m] of [['in', payloadsIn], ['out', payloadsOut]] as const) {
        for (const [type, n] of [...m].sort(([a], [b]) => a.localeCompare(b))) out.push(`${METRIC.payloads}${labels([['direction', dir], ['type', type]])} ${n}`);
      }
      head(METRIC.queueDepth, 'gauge', 'Payloads waiting in the VEN queues.');
      out.push(`${METRIC.queueDepth} ${g.queueDepth}`);
      head(METRIC.registeredVens, 'gauge', 'Registered VENs.');
      out.push(`${METRIC.registeredVens} ${g.registeredVens}`);
      head(METRIC.ledgerOutboxDepth, 'gauge', 'Items of ledger work the VTN acknowledged and the ledger has not taken yet.');
      out.push(`${METRIC.ledgerOutboxDepth} ${g.ledgerOutboxDepth}`);
      head(METRIC.pushFailures, 'counter', 'Pushes to VENs that failed (network error, timeout, non-200 answer).');
      out.push(`${METRIC.pushFailures} ${pushFailures}`);
      head(METRIC.ledgerCallSeconds, 'histogram', 'Duration of ledger port calls, by method.');
      const methods = [...ledger.keys()].sort();
      for (const method of methods) {
        const h = ledger.get(method) as Histogram;
        LEDGER_LATENCY_BUCKETS.forEach((le, i) => out.push(`${METRIC.ledgerCallSeconds}_bucket${labels([['method', method], ['le', String(le)]])} ${h.buckets[i] ?? 0}`));
        out.push(
          `${METRIC.ledgerCallSeconds}_bucket${labels([['method', method], ['le', '+Inf']])} ${h.count}`,
          `${METRIC.ledgerCallSeconds}_sum${labels([['method', method]])} ${h.sum}`,
          `${METRIC.ledgerCallSeconds}_count${labels([['method', method]])} ${h.count}`,
        );
      }
      if (ledgerUp !== undefined) {
        head(METRIC.ledgerUp, 'gauge', 'Whether the ledger answers (1) or cannot be reached (0): its last ping, or a call that could not reach it since.');
        out.push(`${METRIC.ledgerUp} ${ledgerUp ? 1 : 0}`);
      }
      head(METRIC.ledgerCallErrors, 'counter', 'Ledger port calls that failed, by method.');
      for (const method of methods) out.push(`${METRIC.ledgerCallErrors}${labels([['method', method]])} ${(ledger.get(method) as Histogram).errors}`);
      if (g.ledgerRetries !== undefined) {
        head(METRIC.ledgerRetries, 'counter', 'Ledger submissions retried (endorsement mismatch, MVCC or phantom read conflict), by contract function and reason.');
        for (const r of g.ledgerRetries) out.push(`${METRIC.ledgerRetries}${labels([['function', r.fn], ['reason', r.reason]])} ${r.count}`);
      }
      head(METRIC.httpResponses, 'counter', 'HTTP responses by status code.');
      for (let code = 100; code < 600; code++) if ((status[code] as number) > 0) out.push(`${METRIC.httpResponses}${labels([['code', String(code)]])} ${status[code]}`);
      const st = g.storeLatency;
      if (st !== undefined) {
        head(METRIC.storeRoundTripSeconds, 'histogram', 'Round trips to the store (PostgreSQL), the wait of the VTN process included.');
        st.bucketsMs.forEach((le, i) => out.push(`${METRIC.storeRoundTripSeconds}_bucket${labels([['le', String(le / 1000)]])} ${st.counts[i] ?? 0}`));
        out.push(`${METRIC.storeRoundTripSeconds}_bucket${labels([['le', '+Inf']])} ${st.count}`, `${METRIC.storeRoundTripSeconds}_sum ${st.sumMs / 1000}`, `${METRIC.storeRoundTripSeconds}_count ${st.count}`);
      }
      head(METRIC.tlsHandshakeFailures, 'counter', 'TLS handshakes that failed, by reason (untrusted, expired or revoked certificate, time-out, …).');
      for (const [reason, n] of [...handshakeFailures].sort(([a], [b]) => a.localeCompare(b))) out.push(`${METRIC.tlsHandshakeFailures}${labels([['reason', reason]])} ${n}`);
      return `${out.join('\n')}\n`;
    },
  };
}

/** The same port, with every method call timed into the ledger latency histogram; absent optional methods stay absent. */
export function instrumentLedger(port: LedgerPort, metrics: VtnMetrics, clock: () => number = () => performance.now()): LedgerPort {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(port, {
    get(target, name, receiver) {
      const fn: unknown = Reflect.get(target, name, receiver);
      if (typeof fn !== 'function' || typeof name !== 'string') return fn;
      let w = wrapped.get(name);
      if (w === undefined) {
        w = async (...args: unknown[]): Promise<unknown> => {
          const t0 = clock();
          try {
            const r: unknown = await (fn as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            metrics.ledgerCall(name, (clock() - t0) / 1000, true);
            // Only the ping surely reached the ledger: other calls may answer from the VTN's side.
            if (name === 'ping') metrics.ledgerReachable(true);
            return r;
          } catch (err) {
            metrics.ledgerCall(name, (clock() - t0) / 1000, false);
            if (name === 'ping' || ledgerUnreachable(err)) metrics.ledgerReachable(false);
            throw err;
          }
        };
        wrapped.set(name, w);
      }
      return w;
    },
  });
}

/** A fetch for the push transport that counts failed pushes. */
export function instrumentFetch(f: typeof fetch, metrics: VtnMetrics): typeof fetch {
  return async (input, init) => {
    try {
      const res = await f(input, init);
      if (res.status !== 200) metrics.pushFailure();
      return res;
    } catch (err) {
      metrics.pushFailure();
      throw err;
    }
  };
}
