/**
 * What both stores share: records from rows (SQLite gives numbers, PostgreSQL's bigint comes as
 * text: `Number` reads both) and the per-event state a re-registration resets (R406).
 */
import type { Payload, PayloadType } from '../../oadr/index.ts';
import type { EventVenState } from '../services/event-model.ts';
import type { LedgerWorkRecord, QueueItem, TelemetryRecord } from './store.ts';

type Row = Record<string, unknown>;

export const queueItemFromRow = (r: Row): QueueItem => ({
  seq: Number(r.seq),
  venId: r.ven_id as string,
  kind: r.kind as PayloadType,
  payload: r.payload === null ? undefined : (JSON.parse(r.payload as string) as Payload),
  enqueuedAt: Number(r.enqueued_at),
});

export const telemetryFromRow = (r: Row): TelemetryRecord => ({
  venId: r.ven_id as string,
  reportRequestId: r.report_request_id as string,
  reportSpecifierId: r.report_specifier_id as string,
  receivedAt: Number(r.received_at),
  report: JSON.parse(r.report as string) as unknown,
});

export const ledgerWorkFromRow = (r: Row): LedgerWorkRecord => ({
  seq: Number(r.seq),
  key: r.key as string,
  kind: r.kind as string,
  data: JSON.parse(r.data as string) as unknown,
  queuedAt: Number(r.queued_at),
});

export const optFromRow = (r: Row): { readonly optId: string; readonly opt: unknown; readonly at: number } => ({ optId: r.opt_id as string, opt: JSON.parse(r.opt as string) as unknown, at: Number(r.at) });

/** R406: a VEN that registers again stays targeted by its events, its answers and deliveries forgotten. */
export const resetForReregistration = (s: EventVenState): EventVenState => ({
  ...s, optType: undefined, optModificationNumber: undefined, optAt: undefined, optReason: undefined, optRequestId: undefined, cancelAcked: false, cancelDeliveries: 0, lastDeliveredAt: undefined,
});
