/**
 * Opt states go to the ledger through the outbox of ledger work (ledger/outbox.ts), like telemetry:
 * `queueLedgerOpt` writes the work in the transaction that stores the opt state the VEN's answer
 * acknowledges, keyed by event and customer — a later answer of the same customer to the same
 * event replaces one not yet sent (the ledger keeps the last opt state, `recordOptState` is
 * idempotent) — and the outbox sends it until the ledger side took it, across restarts.
 */
import type { OptRecord } from '../ledger/port.ts';
import type { VtnContext } from './context.ts';

export const LEDGER_WORK_OPT = 'opt';

/** The business key of an opt state's ledger work: one per (event, customer). */
export const ledgerOptKey = (o: Pick<OptRecord, 'eventId' | 'customerId'>): string => `${LEDGER_WORK_OPT}|${o.eventId}|${o.customerId}`;

/** Call inside the VTN-store transaction that stores the opt state; `ctx.ledgerWork.kick()` after it. */
export function queueLedgerOpt(ctx: VtnContext, opt: OptRecord): void {
  if (ctx.ledger === undefined) return;
  ctx.store.putLedgerWork(ledgerOptKey(opt), LEDGER_WORK_OPT, opt, ctx.now());
}
