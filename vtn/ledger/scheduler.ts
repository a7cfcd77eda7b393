/**
 * The day after: at start and then every `intervalMs` the VTN records the partial slots of days that have closed
 * (end of day + the mapping's grace), submits the flexibility claims of the ledger events that have
 * ended and whose telemetry is on the ledger (one per metering period, as the aggregator; a
 * customer's value still missing when the day closes is claimed as missing: that claim fails with
 * the reason), and settles the ledger events of the closed days (evaluateAvailability + getDRToken).
 * Each step is idempotent — a claim already on the ledger is never written again — so a tick that
 * overlaps a manual `events.settle`, a restart after a crash, or a pass after a ledger outage repeats
 * nothing and finishes what the last one left. The timer is unref'ed and cleared by `stop()`.
 *
 * In a cluster (a VTN store shared by several processes) a pass runs only in the process holding
 * the ledger lease (`LEDGER_LEASE`, `leased`), the one that also drains the ledger outbox: once in
 * the cluster, and in another process once the holder dies or loses its database connection.
 */
import type { EventsApi } from '../services/event-service.ts';
import type { MappingLedgerPort } from './mapping-port.ts';
import { silentLogger, type Logger } from '../operations/logger.ts';

/** The cluster lease of the ledger work: the outbox drain, settlement, the recovery of event creations cut short. */
export const LEDGER_LEASE = 'ledger';

export interface LedgerSchedulerOptions {
  readonly events: EventsApi;
  readonly port: MappingLedgerPort;
  /** Default 60 s. */
  readonly intervalMs?: number;
  /** Run the first pass at start (default), not one interval later. */
  readonly firstPassNow?: boolean;
  readonly now?: () => number;
  readonly log?: Logger;
  /** Whether this process may run a pass now (a cluster: it holds `LEDGER_LEASE`); default always. */
  readonly leased?: () => boolean;
}

export interface LedgerScheduler {
  /** One pass now (tests call it instead of waiting for the timer). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

export function startLedgerScheduler(options: Readonly<LedgerSchedulerOptions>): LedgerScheduler {
  const { events, port } = options;
  const log = (options.log ?? silentLogger).child({ component: 'vtn.ledger' });
  const now = options.now ?? Date.now;
  let running: Promise<void> | undefined;
  let stopped = false;

  const pass = async (): Promise<void> => {
    if (options.leased?.() === false) return;
    await port.closeDueDays();
    const t = now();
    for (const v of events.list()) {
      const e = port.mapping.event(v.event.eventId);
      // A cancelled event's delivered periods are claimed once the ledger has the cancellation (and its time).
      if (e === undefined || e.claimsSubmitted === true || (v.event.cancelled && e.status !== 'cancelled') || port.submitClaims === undefined) continue;
      try {
        const step = await port.submitClaims(v.event.eventId);
        if (step.submitted > 0) log.info({ eventId: v.event.eventId, claims: step.submitted }, 'flexibility claims on the ledger');
        else if (step.state === 'waiting') log.debug({ eventId: v.event.eventId, reason: step.reason }, 'flexibility claims wait');
      } catch (err) {
        log.warn({ err, eventId: v.event.eventId }, 'flexibility claims not submitted; the next pass submits what is missing');
      }
    }
    for (const v of events.list()) {
      const e = port.mapping.event(v.event.eventId);
      if (e === undefined || e.status !== 'notified' || v.event.cancelled) continue;
      // Settled once the event's day has closed (its end plus the mapping's grace for late reports).
      if (t < (await port.mapping.dayClosesAt(e.day))) continue;
      try {
        await events.settle(v.event.eventId);
      } catch (err) {
        log.warn({ err, eventId: v.event.eventId }, 'settlement not possible yet; retried at the next pass');
      }
    }
  };
  const tick = (): Promise<void> => {
    running ??= pass()
      .catch((err: unknown) => log.error({ err }, 'ledger pass failed; retried at the next pass'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void tick();
  }, options.intervalMs ?? 60_000);
  timer.unref();
  // The first pass at once: after a restart, what became due while the VTN was down is settled now.
  if (options.firstPassNow !== false) void tick();
  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
