/**
 * `/healthz` (the process serves HTTP), `/readyz` (ready for VENs: the store can write, the outbox
 * of ledger work is not past its limit; the ledger — reachable, its store can write, as the VTN's
 * last probe found it, with that probe's age — is reported as its own check and does not make the
 * VTN unready, since VENs are served without it) and
 * `/metrics` (Prometheus text format). They expose no customer data;
 * `/healthz` is always open, `/readyz` and `/metrics` need an admin token with the read right when
 * `operationsAccess` is `token`. One rendering of `/metrics` is served again for `metricsCacheMs`, so
 * scrapers cannot make the VTN count its store on every request.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LedgerPort } from '../ledger/port.ts';
import type { LedgerProbeState } from './ledger-probe.ts';
import { PROMETHEUS_CONTENT_TYPE, type VtnMetrics } from './metrics.ts';
import type { VtnStore } from '../store/store.ts';

export const HEALTH_PATHS = { live: '/healthz', ready: '/readyz', metrics: '/metrics' } as const;

export type CheckResult = 'ok' | 'failed' | 'not configured' | 'no check';

export interface Readiness {
  /** Ready for VENs; `checks.ledger` says whether the ledger answers. */
  readonly ready: boolean;
  readonly checks: { readonly store: CheckResult; readonly ledger: CheckResult; readonly ledgerOutbox: CheckResult };
  /** How long ago the probe that `checks.ledger` reports ended (ms). */
  readonly ledgerProbeAgeMs?: number;
  readonly errors: readonly string[];
}

export interface HealthDeps {
  readonly store: VtnStore;
  readonly ledger: LedgerPort | undefined;
  /** The VTN's probe of the ledger: `checks.ledger` is its last result. Absent (a ledger without `ping`): `no check`. */
  readonly ledgerProbe?: LedgerProbeState | undefined;
  readonly metrics: VtnMetrics;
  /** False once the VTN is closing (readiness fails first, so load balancers stop sending). */
  readonly open: () => boolean;
  /** Readiness fails while the outbox of ledger work holds more items than this (default: no limit). */
  readonly ledgerOutboxReadyLimit?: number;
  /** How long `/readyz` waits for the first probe's answer when none has ended yet (default 2 s). */
  readonly ledgerTimeoutMs?: number;
  /** Serve one `/metrics` rendering again for this long (default 0: render every time). */
  readonly metricsCacheMs?: number;
  readonly now?: () => number;
  /** Checks a request to `/readyz` or `/metrics` (operationsAccess `token`): false when it sent the refusal. Absent: open. */
  readonly guard?: (req: FastifyRequest, reply: FastifyReply) => boolean;
  /** Only `/healthz` (operationsAccess `admin-port`: the others are on the admin port). */
  readonly liveOnly?: boolean;
}

export async function checkReadiness(deps: HealthDeps): Promise<Readiness> {
  const errors: string[] = [];
  let store: CheckResult = 'ok';
  try {
    // A write, not a read: a full disk or a read-only file still answers reads.
    deps.store.probeWrite();
  } catch (err) {
    store = 'failed';
    errors.push(`store: ${(err as Error).message}`);
  }
  // The ledger: the last result of the VTN's probe (ledger-probe.ts), not a question of its own, so
  // a load balancer polling /readyz costs the ledger nothing. Before the first probe has ended, its
  // answer is awaited (at most ledgerTimeoutMs).
  let ledger: CheckResult = deps.ledger === undefined ? 'not configured' : 'no check';
  let ledgerProbeAgeMs: number | undefined;
  const probe = deps.ledgerProbe;
  if (deps.ledger !== undefined && probe !== undefined) {
    const waitMs = deps.ledgerTimeoutMs ?? 2000;
    if (probe.last() === undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([probe.first, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)).unref())]);
      clearTimeout(timer);
    }
    const last = probe.last();
    if (last === undefined) {
      ledger = 'failed';
      errors.push(`ledger: no answer to the VTN's first probe within ${waitMs} ms`);
    } else {
      ledgerProbeAgeMs = Math.round(performance.now() - last.at);
      ledger = last.ok ? 'ok' : 'failed';
      if (!last.ok) errors.push(`ledger: ${last.error ?? 'the probe failed'} (probed ${ledgerProbeAgeMs} ms ago)`);
    }
  }
  let ledgerOutbox: CheckResult = deps.ledger === undefined ? 'not configured' : 'ok';
  if (deps.ledger !== undefined && store === 'ok') {
    const depth = deps.store.ledgerWorkDepth();
    const limit = deps.ledgerOutboxReadyLimit ?? Number.POSITIVE_INFINITY;
    if (depth > limit) {
      ledgerOutbox = 'failed';
      errors.push(`ledgerOutbox: ${depth} items wait for the ledger (limit ledgerOutboxReadyLimit ${limit}): the ledger is not keeping up; see the log of component vtn.ledger`);
    }
  }
  if (!deps.open()) errors.push('the VTN is closing');
  // The ledger's failure is reported, not a reason to take the VTN out: VENs are served while the
  // ledger is away (its work waits in the outbox, whose limit does count).
  return { ready: store === 'ok' && ledgerOutbox !== 'failed' && deps.open(), checks: { store, ledger, ledgerOutbox }, ...(ledgerProbeAgeMs === undefined ? {} : { ledgerProbeAgeMs }), errors };
}

/** The `/metrics` text, rendered at most once per `metricsCacheMs`. */
export function cachedMetrics(deps: HealthDeps): () => string {
  const now = deps.now ?? Date.now;
  let cached: { readonly at: number; readonly text: string } | undefined;
  return () => {
    const t = now();
    if (cached !== undefined && t - cached.at < (deps.metricsCacheMs ?? 0) && t >= cached.at) return cached.text;
    let queueDepth = Number.NaN;
    let registeredVens = Number.NaN;
    let ledgerOutboxDepth = Number.NaN;
    try {
      queueDepth = deps.store.queueDepthTotal();
      registeredVens = deps.store.countRegistrations();
      ledgerOutboxDepth = deps.store.ledgerWorkDepth();
    } catch {
      // The store is down: the gauges say NaN, readiness says why.
    }
    const ledgerRetries = deps.ledger?.retries?.counts();
    cached = { at: t, text: deps.metrics.render({ queueDepth, registeredVens, ledgerOutboxDepth, storeLatency: deps.store.latency?.(), ...(ledgerRetries === undefined ? {} : { ledgerRetries }) }) };
    return cached.text;
  };
}

export function registerHealth(app: FastifyInstance, deps: HealthDeps): void {
  const metricsText = cachedMetrics(deps);
  const open = deps.guard ?? (() => true);
  app.get(HEALTH_PATHS.live, (_req, reply) => reply.header('content-type', 'application/json; charset=utf-8').send('{"status":"ok"}'));
  if (deps.liveOnly === true) return;
  app.get(HEALTH_PATHS.ready, async (req, reply) => {
    if (!open(req, reply)) return reply;
    const r = await checkReadiness(deps);
    return reply.code(r.ready ? 200 : 503).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(r));
  });
  app.get(HEALTH_PATHS.metrics, (req, reply) => {
    if (!open(req, reply)) return reply;
    return reply.header('content-type', PROMETHEUS_CONTENT_TYPE).send(metricsText());
  });
}
