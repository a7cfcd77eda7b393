/**
 * R52: a cancelled event with `oadrResponseRequired=always` is re-sent until the VEN acknowledges
 * the cancellation (R36), the event completes, or `cancelRetries` deliveries are used up. Every
 * `intervalMs` (default: the poll frequency the VTN asks of pull VENs) this re-queues the VEN's
 * oadrDistributeEvent when that long has passed since the last delivery without an
 * acknowledgement: a pull VEN gets it at its next poll, a push or XMPP VEN has it pushed. Each
 * delivery counts against `cancelRetries` (event-model `isDeliverable`).
 */
import type { VtnContext } from './context.ts';
import { eventFor, isDeliverable } from './event-model.ts';
import { startPeriodic, type Periodic } from './periodic.ts';
import { queueDistributeEvent } from '../transports/ven-queue.ts';

export interface CancelResendOptions {
  /** Timer period; default `config.pollFrequencyMs`. */
  readonly intervalMs?: number;
}

/** `tick()` returns the VENs re-queued. */
export type CancelResend = Periodic;

export function startCancelResend(ctx: VtnContext, options: CancelResendOptions = {}): CancelResend {
  const log = ctx.log.child({ component: 'vtn.cancel-resend' });
  // (eventID, venID) → the lastDeliveredAt seen when re-queued: re-queue again only after that one was delivered.
  const requeued = new Map<string, number | undefined>();

  const pass = (now: number): number => {
    const due = new Set<string>();
    const live = new Set<string>();
    for (const event of ctx.store.listEvents()) {
      // A cancelled event, or one a modification took some VENs out of (cancelled for them).
      if ((!event.cancelled && (event.removedVenIds ?? []).length === 0) || event.responseRequired !== 'always') continue;
      for (const s of ctx.store.listEventVens(event.eventId)) {
        const e = eventFor(event, s.venId);
        if (!e.cancelled || s.cancelAcked || s.cancelDeliveries === 0 || s.lastDeliveredAt === undefined) continue;
        if (!isDeliverable(e, s, now, ctx.config.cancelRetries)) continue;
        const reg = ctx.store.getRegistration(s.venId);
        if (reg === undefined || reg.state !== 'registered') continue;
        const key = `${e.eventId}\u0000${s.venId}`;
        live.add(key);
        if (requeued.has(key) && requeued.get(key) === s.lastDeliveredAt) continue; // queued, not yet polled
        if (now - s.lastDeliveredAt < ctx.config.pollFrequencyMs) continue;
        requeued.set(key, s.lastDeliveredAt);
        due.add(s.venId);
      }
    }
    for (const key of requeued.keys()) if (!live.has(key)) requeued.delete(key);
    for (const venId of due) {
      queueDistributeEvent(ctx, venId);
      log.info({ venId }, 'unacknowledged cancellation re-queued (R52)');
    }
    return due.size;
  };

  return startPeriodic(ctx, { intervalMs: options.intervalMs ?? ctx.config.pollFrequencyMs, what: 'cancellation re-send', pass });
}
