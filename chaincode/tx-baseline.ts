/** Baselines (spec section 2): evaluateBaseline, queryBaseline, queryMissingBaselines. */
import { getMeter, isOperator, requireMeterOfRetailer, requireOperator, requireReader } from './access.ts';
import { baselineNotFound } from './errors.ts';
import { EVENT_BASELINE_EVALUATED } from './events.ts';
import { KEY_ENERGY, KEY_EVENT_DAY } from './keys.ts';
import { baselineModeFor, computeBaseline } from './math/index.ts';
import { getByPrefix, getJson, hasState, intArrayMember, putJson, scanPrefix, utf8 } from './state.ts';
import { hasAllocation } from './shards.ts';
import { emit, reply, type Tx } from './tx-context.ts';
import type { EnergyRecord } from './tx-energy.ts';
import type { DrEventRecord } from './tx-event.ts';
import { parseDay, parseId, parseIdList } from './validate.ts';

export interface BaselineRecord {
  meterId: string;
  day: string;
  mode: 'high' | 'low';
  X: number;
  Y: number;
  /** W per slot. */
  values: number[];
  daysUsed: string[];
  excludedDays: string[];
  txId: string;
}

/** Days before `targetDay` on which this meter took part in a DR event that was not cancelled. */
export async function eventDaysOf(tx: Tx, meterId: string, targetDay: string): Promise<string[]> {
  const index = await getByPrefix<{ eventId: string; day: string }>(tx.stub, KEY_EVENT_DAY, []);
  const days = new Set<string>();
  for (const { value } of index) {
    if (value.day >= targetDay || days.has(value.day)) continue;
    const event = await getJson<DrEventRecord>(tx.stub, tx.keys.event(value.eventId));
    if (!event || event.status === 'cancelled') continue;
    if (await hasAllocation(tx, event, meterId)) days.add(value.day);
  }
  return [...days].sort();
}

export async function evaluateBaseline(tx: Tx, meterIdArg: string, dayArg: string): Promise<string> {
  const meterId = parseId('meterId', meterIdArg);
  if (isOperator(tx.caller, tx.params)) await getMeter(tx.ctx, tx.keys, meterId);
  else await requireMeterOfRetailer(tx.ctx, tx.keys, tx.caller, tx.params, meterId, 'evaluateBaseline');
  const day = parseDay('day', dayArg);
  const p = tx.params;
  const mode = baselineModeFor(day);
  const X = mode === 'high' ? p.baselineXWeekday : p.baselineXWeekend;
  // The customer's complete days before `day`, one prefix read. A day is complete when all S values
  // are present, i.e. its `values` is a plain integer array of length S, read straight from the
  // bytes; the day is the key's last attribute.
  const history: { day: string; values: number[] }[] = [];
  const prefix = tx.stub.createCompositeKey(KEY_ENERGY, [meterId]).length;
  await scanPrefix(tx.stub, KEY_ENERGY, [meterId], (key, bytes) => {
    const recordDay = key.slice(prefix, -1);
    if (recordDay >= day) return;
    const fast = intArrayMember(bytes, 'values');
    if (fast && fast.length === p.slotsPerDay) {
      history.push({ day: recordDay, values: fast });
      return;
    }
    const r = JSON.parse(utf8(bytes)) as EnergyRecord;
    if (r.complete) history.push({ day: r.day, values: r.values as number[] });
  });
  const excludedDays = await eventDaysOf(tx, meterId, day);
  const result = computeBaseline({
    history,
    targetDay: day,
    excludedDays: new Set(excludedDays),
    Y: p.baselineY,
    X,
    mode,
    slotsPerDay: p.slotsPerDay,
  });
  if (!result.ok) throw baselineNotFound(meterId, result.found, result.needed);
  const record: BaselineRecord = {
    meterId,
    day,
    mode,
    X,
    Y: p.baselineY,
    values: result.values,
    daysUsed: result.daysUsed,
    excludedDays,
    txId: tx.txId,
  };
  await putJson(tx.stub, tx.keys.baseline(day, meterId), record);
  emit(tx, EVENT_BASELINE_EVALUATED, { meterId, day, mode, daysUsed: result.daysUsed.length, txId: tx.txId });
  return reply(record);
}

export async function queryBaseline(tx: Tx, meterIdArg: string, dayArg: string): Promise<string> {
  const meterId = parseId('meterId', meterIdArg);
  await requireReader(tx.ctx, tx.keys, tx.caller, tx.params, meterId, 'queryBaseline');
  const day = parseDay('day', dayArg);
  const record = await getJson<BaselineRecord>(tx.stub, tx.keys.baseline(day, meterId));
  if (!record) return reply({ meterId, day, found: false });
  return reply({ ...record, found: true });
}

/**
 * Which of the given meters have no baseline for the day, in id order: what `queryBaseline` tells of
 * each, for a whole cluster in one evaluation (a VTN checks its targets before an event). The system
 * operator only, like any call naming many customers; a meter the ledger does not know has none.
 */
export async function queryMissingBaselines(tx: Tx, dayArg: string, meterIdsArg: string): Promise<string> {
  requireOperator(tx.caller, tx.params, 'queryMissingBaselines');
  const day = parseDay('day', dayArg);
  const meterIds = parseIdList('meterIds', meterIdsArg);
  const missing: string[] = [];
  for (const meterId of meterIds) if (!(await hasState(tx.stub, tx.keys.baseline(day, meterId)))) missing.push(meterId);
  return reply({ day, missing });
}
