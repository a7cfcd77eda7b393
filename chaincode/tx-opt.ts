/**
 * Opt state of a customer in a DR event (ARCHITECTURE.md: "oadrCreatedEvent (optIn/optOut) ▶ vtn ▶
 * ledger"). The spec page's math does not use it (an opted-out customer that does not reduce earns
 * nothing by the Heaviside cut anyway); it is on the ledger so that utility, retailer and customer
 * share one certified record of who accepted which version of an event and when.
 *
 *   opt [eventId, meterId]   { eventId, meterId, optType, version, atMs, txId }
 *
 * One key per customer and event, so a customer's answer never conflicts with another's (MVCC). The
 * history of the key (`getHistoryForKey`) keeps every earlier answer.
 */
import { isOperator, requireReader } from './access.ts';
import { accessDenied, conflict, invalidArgument, notFound } from './errors.ts';
import { EVENT_OPT_RECORDED } from './events.ts';
import { KEY_OPT } from './keys.ts';
import { hasAllocation } from './shards.ts';
import { getByPrefix, getJson, putJson } from './state.ts';
import { emit, reply, type Tx } from './tx-context.ts';
import { effectiveStatus, getEvent } from './tx-event.ts';
import { parseId, parseInteger } from './validate.ts';

export const OPT_TYPES = ['optIn', 'optOut'] as const;
export type OptType = (typeof OPT_TYPES)[number];

export interface OptRecord {
  /** When the customer answered (the VEN's time as the VTN received it), ms since the epoch. */
  atMs: number;
  eventId: string;
  meterId: string;
  optType: OptType;
  txId: string;
  /** The event version (OpenADR modificationNumber) the answer is about. */
  version: number;
}

function parseOptType(value: unknown): OptType {
  if (!(OPT_TYPES as readonly unknown[]).includes(value)) throw invalidArgument(`optType must be optIn or optOut, got ${JSON.stringify(value)}`);
  return value as OptType;
}

/**
 * Records a customer's answer to a version of an event. Callers: the system operator (the VTN on
 * behalf of the utility), the meter's retailer, or the customer itself. Refused for a customer
 * without an allocation in that version, a version the event never had, an event already settled or
 * cancelled, and an answer about an older version than the one recorded. The same answer again
 * writes nothing and emits nothing.
 */
export async function recordOptState(tx: Tx, eventIdArg: string, meterIdArg: string, optTypeArg: string, versionArg: string, atMsArg: string): Promise<string> {
  const eventId = parseId('eventId', eventIdArg);
  const meterId = parseId('meterId', meterIdArg);
  const optType = parseOptType(optTypeArg);
  const version = parseInteger('version', versionArg, 0);
  const atMs = parseInteger('atMs', atMsArg, 0);
  await requireReader(tx.ctx, tx.keys, tx.caller, tx.params, meterId, 'recordOptState');
  const e = await getEvent(tx, eventId);
  if (version > e.version) throw invalidArgument(`event ${eventId} has no version ${version} (current ${e.version})`);
  const status = effectiveStatus(e, tx.nowMs);
  if (status === 'settled' || status === 'cancelled') throw conflict(`event ${eventId} is ${status}; opt answers are no longer recorded`);
  if (!(await hasAllocation(tx, e, meterId))) throw notFound(`meter ${meterId} has no allocation in event ${eventId} version ${e.version}`);
  const key = tx.keys.opt(eventId, meterId);
  const previous = await getJson<OptRecord>(tx.stub, key);
  if (previous !== undefined) {
    if (version < previous.version) throw conflict(`an answer about version ${previous.version} of event ${eventId} is already recorded; version ${version} is older`);
    if (version === previous.version && optType === previous.optType) return reply({ ...previous, unchanged: true });
  }
  const record: OptRecord = { atMs, eventId, meterId, optType, txId: tx.txId, version };
  await putJson(tx.stub, key, record);
  emit(tx, EVENT_OPT_RECORDED, record);
  return reply({ ...record, unchanged: false });
}

/** A customer's recorded answer to an event (`NOT_FOUND` when it has not answered). */
export async function queryOptState(tx: Tx, eventIdArg: string, meterIdArg: string): Promise<string> {
  const eventId = parseId('eventId', eventIdArg);
  const meterId = parseId('meterId', meterIdArg);
  await requireReader(tx.ctx, tx.keys, tx.caller, tx.params, meterId, 'queryOptState');
  const r = await getJson<OptRecord>(tx.stub, tx.keys.opt(eventId, meterId));
  if (r === undefined) throw notFound(`meter ${meterId} has no opt answer recorded for event ${eventId}`);
  return reply(r);
}

/** Every recorded answer to an event, in meter order: the system operator only (it names customers). */
export async function queryEventOpts(tx: Tx, eventIdArg: string): Promise<string> {
  const eventId = parseId('eventId', eventIdArg);
  if (!isOperator(tx.caller, tx.params)) throw accessDenied('queryEventOpts is reserved to the system operator (it lists every customer of the event)');
  const opts = await getByPrefix<OptRecord>(tx.stub, KEY_OPT, [eventId]);
  return reply({ eventId, opts: opts.map((o) => o.value) });
}
