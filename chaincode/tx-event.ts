/**
 * DR events (spec section 4): notifyDRevent, modifyDRevent, cancelDRevent, queryDRevent,
 * queryLoadReduction, queryLoadReductions. The event record holds totals and the first id of each settlement shard; the
 * OPR of a shard's customers is one key `allocation [eventId, version, shard]` (`shards.ts`).
 */
import { isOperator, requireOperator, requireReader } from './access.ts';
import { ContractError, conflict, invalidArgument, notFound } from './errors.ts';
import { EVENT_DR_EVENT_CANCELLED, EVENT_DR_EVENT_MODIFIED, EVENT_DR_EVENT_NOTIFIED } from './events.ts';
import { KEY_ACCOUNT, KEY_BASELINE } from './keys.ts';
import { addDays, allocateEvent, dayStartEpochMs, slotStartEpochMs } from './math/index.ts';
import { getJson, intArrayMember, putJson, scanPrefix, utf8 } from './state.ts';
import { allocationAt, allocationOf, allocationShardJson, getAllocationShard, indexOfSorted, SHARD_SIZE, shardFirstIds, shardOf, type AllocationRecord, type AllocationShardRecord } from './shards.ts';
import { emit, reply, type Tx } from './tx-context.ts';
import { parseDay, parseId, parseIdList, parseRequest, parseWindow } from './validate.ts';

export type StoredEventStatus = 'notified' | 'cancelled' | 'settled';
export type EventStatus = StoredEventStatus | 'active' | 'completed';

export interface DrEventRecord {
  eventId: string;
  /** 0 for the first notification; each modification adds 1 (OpenADR modificationNumber). */
  version: number;
  day: string;
  /** Slot indexes of the day, sorted. */
  window: number[];
  /** Requested reduction φ_h per window slot, W. */
  requestW: number[];
  allocatedW: number[];
  /** Request the cluster could not take (sum of baselines too small), W per window slot. */
  unallocatedW: number[];
  /** Customers in the cluster (with a baseline for the day). */
  customers: number;
  /**
   * Who the cluster is: `day`, every customer with a baseline for the day; `listed`, the customers
   * the operator named (the event's targets). Records written before the choice existed have none: `day`.
   */
  cluster?: ClusterKind;
  steps: number;
  windowStartMs: number;
  windowEndMs: number;
  status: StoredEventStatus;
  settledCustomers: number;
  mintedMilli: number;
  notifiedTxId: string;
  updatedTxId: string;
  /** First meter id of each settlement shard of the current version (`shards.ts`). */
  shardFirstIds: string[];
}

export type { AllocationRecord } from './shards.ts';

export type ClusterKind = 'day' | 'listed';

/**
 * A customer's settlement state: token balance and availability in one record (`account
 * [meterId]`). Members in sorted order (canonicalJson's native path).
 */
export interface AccountRecord {
  /** `eventId` of every event already applied to the availability (sorted): applying twice is a no-op. */
  applied: string[];
  balanceMilli: number;
  meterId: string;
  mintedMilli: number;
  redeemedMilli: number;
  txId: string;
  /** Availability, ppm per slot. */
  values: number[];
}

export function effectiveStatus(e: Pick<DrEventRecord, 'status' | 'windowStartMs' | 'windowEndMs'>, nowMs: number): EventStatus {
  if (e.status !== 'notified') return e.status;
  if (nowMs < e.windowStartMs) return 'notified';
  if (nowMs < e.windowEndMs) return 'active';
  return 'completed';
}

function windowBounds(tx: Tx, day: string, window: number[]): { start: number; end: number } {
  const { timeZone, slotsPerDay } = tx.params;
  const first = window[0] ?? 0;
  const last = window[window.length - 1] ?? 0;
  const start = slotStartEpochMs(day, first, timeZone, slotsPerDay);
  const end = last + 1 >= slotsPerDay ? dayStartEpochMs(addDays(day, 1), timeZone) : slotStartEpochMs(day, last + 1, timeZone, slotsPerDay);
  return { start, end };
}

/** The `values` of a stored baseline or account record, read from its bytes (`intArrayMember`) or parsed. */
function valuesOf(bytes: Uint8Array): number[] {
  return intArrayMember(bytes, 'values') ?? (JSON.parse(utf8(bytes)) as { values: number[] }).values;
}

interface ClusterCustomer {
  id: string;
  baseline: number[];
  availability: number[];
}

/**
 * The cluster of an event (spec section 4) with each customer's baseline and availability.
 * Without a list: every customer with a baseline for `day` (one prefix read of the baselines, one of
 * the accounts). With a list (sorted, distinct): exactly those customers, read by key; each must have
 * a baseline for the day, so an event for one feeder asks nothing of customers on another. Only the
 * `values` of those records are needed: they are read from the bytes without decoding the rest; the
 * meter id is the last attribute of the key.
 */
async function readCluster(tx: Tx, day: string, listed: readonly string[] | undefined): Promise<ClusterCustomer[]> {
  const initial = new Array<number>(tx.params.slotsPerDay).fill(tx.params.initialAvailabilityPpm);
  if (listed !== undefined) {
    const customers: ClusterCustomer[] = [];
    for (const id of listed) {
      const baseline = await tx.stub.getState(tx.keys.baseline(day, id));
      if (baseline.length === 0) throw notFound(`customer ${id} of the cluster has no baseline for ${day}; run evaluateBaseline for it first or leave it out of the cluster`);
      const account = await tx.stub.getState(tx.keys.account(id));
      customers.push({ id, baseline: valuesOf(baseline), availability: account.length === 0 ? initial : valuesOf(account) });
    }
    return customers;
  }
  const customers: ClusterCustomer[] = [];
  const baselinePrefix = tx.stub.createCompositeKey(KEY_BASELINE, [day]).length;
  await scanPrefix(tx.stub, KEY_BASELINE, [day], (key, value) => {
    customers.push({ id: key.slice(baselinePrefix, -1), baseline: valuesOf(value), availability: [] });
  });
  const availability = new Map<string, number[]>();
  const availabilityPrefix = tx.stub.createCompositeKey(KEY_ACCOUNT, []).length;
  await scanPrefix(tx.stub, KEY_ACCOUNT, [], (key, value) => {
    availability.set(key.slice(availabilityPrefix, -1), valuesOf(value));
  });
  for (const c of customers) c.availability = availability.get(c.id) ?? initial;
  return customers;
}

/** The cluster argument: '' for every customer with a baseline for the day, else a JSON array of customer ids. */
function parseCluster(value: string): string[] | undefined {
  return value === '' ? undefined : parseIdList('cluster', value);
}

/** Each customer's OPR in an event version's allocation, in id order (its shards in turn). */
async function allocatedOprs(tx: Tx, e: DrEventRecord): Promise<Map<string, number[]>> {
  const oprs = new Map<string, number[]>();
  const width = e.window.length;
  for (let shard = 0; shard < e.shardFirstIds.length; shard++) {
    const s = await getAllocationShard(tx, e.eventId, e.version, shard);
    if (s === undefined) throw new Error(`internal: allocation shard ${shard} of event ${e.eventId} version ${e.version} is missing`);
    s.meterIds.forEach((id, i) => oprs.set(id, s.oprW.slice(i * width, (i + 1) * width)));
  }
  return oprs;
}

/**
 * A modification at the transaction time: the window slots that have started (the past and the
 * running slot) cannot change (OpenADR R20). Each must stay in the window with its request, and no
 * started slot may join it; undefined before the start, when nothing is kept.
 */
async function keptSlots(tx: Tx, e: DrEventRecord, window: readonly number[], requestW: readonly number[]): Promise<KeptSlots | undefined> {
  const { timeZone, slotsPerDay } = tx.params;
  const started = (slot: number) => slotStartEpochMs(e.day, slot, timeZone, slotsPerDay) <= tx.nowMs;
  const positions: number[] = [];
  const previousPositions: number[] = [];
  e.window.forEach((slot, p) => {
    if (!started(slot)) return;
    const k = window.indexOf(slot);
    if (k < 0) throw invalidArgument(`slot ${slot} of the window has started; it cannot leave the window (R20)`);
    if (requestW[k] !== e.requestW[p]) throw invalidArgument(`slot ${slot} has started; its request stays ${String(e.requestW[p])} W (R20)`);
    positions.push(k);
    previousPositions.push(p);
  });
  for (const slot of window) if (started(slot) && !e.window.includes(slot)) throw invalidArgument(`slot ${slot} has started; it cannot join the window (R20)`);
  if (positions.length === 0) return undefined;
  return { positions, previousPositions, previous: e, oprById: await allocatedOprs(tx, e) };
}

/**
 * What a modification after the event's start keeps of the current version: the window slots that
 * have started, with each customer's OPR and the slot totals as they were.
 */
interface KeptSlots {
  /** Window positions (in the new window) of the started slots. */
  readonly positions: readonly number[];
  /** Per started slot (in `positions` order): the current version's position of that slot. */
  readonly previousPositions: readonly number[];
  readonly previous: DrEventRecord;
  /** Each customer's OPR over the current version's window. */
  readonly oprById: ReadonlyMap<string, readonly number[]>;
}

/**
 * Reads the cluster, allocates and writes one allocation per customer (in shards). With `kept`, the
 * started slots keep the current version's OPRs and totals (a customer new to the cluster has 0
 * there); the math allocates every slot independently, so the other slots are as a fresh allocation.
 */
async function allocateAndWrite(tx: Tx, eventId: string, version: number, day: string, window: number[], requestW: number[], listed: readonly string[] | undefined, kept?: KeptSlots) {
  const customers = await readCluster(tx, day, listed);
  const result = allocateEvent({
    customers,
    window,
    requestW,
    epsilonW: tx.params.epsilonW,
    maxSteps: tx.params.maxSteps,
  });
  const slotTotals = result.slots.map((x) => ({ allocatedW: x.allocatedW, unallocatedW: x.unallocatedW }));
  if (kept !== undefined) {
    const w = window.length;
    result.customerIds.forEach((id, c) => {
      const before = kept.oprById.get(id);
      kept.positions.forEach((k, j) => {
        result.sharesW[c * w + k] = before === undefined ? 0 : (before[kept.previousPositions[j] as number] as number);
      });
    });
    kept.positions.forEach((k, j) => {
      const p = kept.previousPositions[j] as number;
      slotTotals[k] = { allocatedW: kept.previous.allocatedW[p] as number, unallocatedW: kept.previous.unallocatedW[p] as number };
    });
  }
  // allocateEvent orders customers by id itself: the writes never depend on the store's order.
  const width = window.length;
  const ids = result.customerIds;
  // The scan's key order is the id order allocateEvent uses, except for ids mixing astral and
  // U+E000–U+FFFF characters; look those up by id.
  let byId: Map<string, (typeof customers)[number]> | undefined;
  const shares = result.sharesW;
  for (let first = 0, shard = 0; first < ids.length; first += SHARD_SIZE, shard++) {
    const count = Math.min(SHARD_SIZE, ids.length - first);
    const baselineW = new Float64Array(count * width);
    const oprW = shares.subarray(first * width, (first + count) * width);
    for (let c = first; c < first + count; c++) {
      const meterId = ids[c] as string;
      let customer = customers[c];
      if (customer === undefined || customer.id !== meterId) {
        byId ??= new Map(customers.map((x) => [x.id, x]));
        customer = byId.get(meterId);
        if (customer === undefined) throw new Error(`internal: allocateEvent returned unknown customer ${meterId}`);
      }
      const at = (c - first) * width;
      const baseline = customer.baseline;
      for (let k = 0; k < width; k++) baselineW[at + k] = baseline[window[k] as number] as number;
    }
    const text = allocationShardJson(eventId, version, shard, ids.slice(first, first + count), oprW, baselineW);
    await tx.stub.putState(tx.keys.allocation(eventId, version, shard), Buffer.from(text, 'utf8'));
  }
  return {
    customers: ids.length,
    allocatedW: slotTotals.map((x) => x.allocatedW),
    unallocatedW: slotTotals.map((x) => x.unallocatedW),
    steps: result.slots.reduce((m, s) => Math.max(m, s.steps), 0),
    shardFirstIds: shardFirstIds(ids),
  };
}

export async function notifyDRevent(tx: Tx, eventIdArg: string, dayArg: string, windowArg: string, requestArg: string, clusterArg: string): Promise<string> {
  requireOperator(tx.caller, tx.params, 'notifyDRevent');
  const eventId = parseId('eventId', eventIdArg);
  const day = parseDay('day', dayArg);
  const window = parseWindow('window', windowArg, tx.params.slotsPerDay);
  const requestW = parseRequest('request', requestArg, window.length);
  const listed = parseCluster(clusterArg);
  const bounds = windowBounds(tx, day, window);
  if (bounds.end <= tx.nowMs) throw invalidArgument(`event window of ${day} has already ended at the transaction time; notify events before they end`);
  if (await getJson<DrEventRecord>(tx.stub, tx.keys.event(eventId))) {
    throw conflict(`event ${eventId} already exists; use modifyDRevent to change it or choose a new eventId`);
  }
  const totals = await allocateAndWrite(tx, eventId, 0, day, window, requestW, listed);
  if (totals.customers === 0) {
    throw notFound(`no customer has a baseline for ${day}; run evaluateBaseline for the cluster first`);
  }
  const record: DrEventRecord = {
    eventId,
    version: 0,
    day,
    window,
    requestW,
    ...totals,
    cluster: listed === undefined ? 'day' : 'listed',
    windowStartMs: bounds.start,
    windowEndMs: bounds.end,
    status: 'notified',
    settledCustomers: 0,
    mintedMilli: 0,
    notifiedTxId: tx.txId,
    updatedTxId: tx.txId,
  };
  await putJson(tx.stub, tx.keys.event(eventId), record);
  await putJson(tx.stub, tx.keys.eventDay(day, eventId), { day, eventId });
  emit(tx, EVENT_DR_EVENT_NOTIFIED, summary(record));
  return reply(summary(record));
}

function summary(e: DrEventRecord) {
  return {
    eventId: e.eventId,
    version: e.version,
    day: e.day,
    window: e.window,
    requestW: e.requestW,
    allocatedW: e.allocatedW,
    unallocatedW: e.unallocatedW,
    customers: e.customers,
    cluster: e.cluster ?? 'day',
    steps: e.steps,
    status: e.status,
    txId: e.updatedTxId,
  };
}

async function getEvent(tx: Tx, eventId: string): Promise<DrEventRecord> {
  const e = await getJson<DrEventRecord>(tx.stub, tx.keys.event(eventId));
  if (!e) throw notFound(`event ${eventId} does not exist`);
  return e;
}

/**
 * A modification is a new version: new allocations under the new version; the old ones stay. The
 * cluster is the one given, or with '' the current version's: every customer with a baseline for the
 * day again, or the same listed customers. After the start, the slots that have started keep their
 * request and allocations (R20) and the cluster stays; only the remaining slots are allocated anew.
 */
export async function modifyDRevent(tx: Tx, eventIdArg: string, windowArg: string, requestArg: string, clusterArg: string): Promise<string> {
  requireOperator(tx.caller, tx.params, 'modifyDRevent');
  const eventId = parseId('eventId', eventIdArg);
  const e = await getEvent(tx, eventId);
  const status = effectiveStatus(e, tx.nowMs);
  if (status !== 'notified' && status !== 'active') throw conflict(`event ${eventId} is ${status}; only a notified or active event can be modified`);
  const window = parseWindow('window', windowArg, tx.params.slotsPerDay);
  const requestW = parseRequest('request', requestArg, window.length);
  const bounds = windowBounds(tx, e.day, window);
  if (bounds.end <= tx.nowMs) throw invalidArgument('the modified window has already ended at the transaction time');
  const given = parseCluster(clusterArg);
  const kept = await keptSlots(tx, e, window, requestW);
  if (kept !== undefined && given !== undefined) throw invalidArgument(`event ${eventId} has started; its cluster stays (give '' as the cluster)`);
  const listed = given ?? ((e.cluster ?? 'day') === 'listed' ? [...(kept?.oprById ?? (await allocatedOprs(tx, e))).keys()] : undefined);
  const version = e.version + 1;
  const totals = await allocateAndWrite(tx, eventId, version, e.day, window, requestW, listed, kept);
  const record: DrEventRecord = {
    ...e,
    version,
    window,
    requestW,
    ...totals,
    cluster: listed === undefined ? 'day' : 'listed',
    windowStartMs: bounds.start,
    windowEndMs: bounds.end,
    updatedTxId: tx.txId,
  };
  await putJson(tx.stub, tx.keys.event(eventId), record);
  emit(tx, EVENT_DR_EVENT_MODIFIED, summary(record));
  return reply(summary(record));
}

export async function cancelDRevent(tx: Tx, eventIdArg: string): Promise<string> {
  requireOperator(tx.caller, tx.params, 'cancelDRevent');
  const eventId = parseId('eventId', eventIdArg);
  const e = await getEvent(tx, eventId);
  if (e.status !== 'notified' || e.settledCustomers > 0) throw conflict(`event ${eventId} is ${e.status}${e.settledCustomers > 0 ? ' (settlement started)' : ''}; it cannot be cancelled`);
  const record: DrEventRecord = { ...e, status: 'cancelled', updatedTxId: tx.txId };
  await putJson(tx.stub, tx.keys.event(eventId), record);
  emit(tx, EVENT_DR_EVENT_CANCELLED, summary(record));
  return reply(summary(record));
}

/**
 * The event record with its status at the transaction time. Any identity on the channel may read
 * it, so the shard index (`shardFirstIds`, customers' meter ids) is left out.
 */
export async function queryDRevent(tx: Tx, eventIdArg: string): Promise<string> {
  const eventId = parseId('eventId', eventIdArg);
  const { shardFirstIds: _, ...e } = await getEvent(tx, eventId);
  return reply({ ...e, status: effectiveStatus(e, tx.nowMs) });
}

const noAllocation = (e: DrEventRecord, meterId: string): ContractError => notFound(`meter ${meterId} has no allocation in event ${e.eventId} version ${e.version} (it had no baseline for ${e.day})`);

export async function queryLoadReduction(tx: Tx, eventIdArg: string, meterIdArg: string): Promise<string> {
  const eventId = parseId('eventId', eventIdArg);
  const meterId = parseId('meterId', meterIdArg);
  await requireReader(tx.ctx, tx.keys, tx.caller, tx.params, meterId, 'queryLoadReduction');
  const e = await getEvent(tx, eventId);
  const a = await allocationOf(tx, e, meterId);
  if (!a) throw noAllocation(e, meterId);
  return reply({ ...a, day: e.day, window: e.window, status: effectiveStatus(e, tx.nowMs) });
}

/**
 * What `queryLoadReduction` gives the system operator for each of the given meters, in one
 * evaluation reading each allocation shard once (a VTN distributing an event to its customers):
 * `allocations` in id order, and in `missing` each meter without an allocation in the current
 * version (a meter the ledger does not know included) with the message `queryLoadReduction` refuses
 * it with. The system operator only.
 */
export async function queryLoadReductions(tx: Tx, eventIdArg: string, meterIdsArg: string): Promise<string> {
  requireOperator(tx.caller, tx.params, 'queryLoadReductions');
  const eventId = parseId('eventId', eventIdArg);
  const meterIds = parseIdList('meterIds', meterIdsArg);
  const e = await getEvent(tx, eventId);
  const width = e.window.length;
  const allocations: AllocationRecord[] = [];
  const missing: Array<{ meterId: string; reason: string }> = [];
  const shards = new Map<number, AllocationShardRecord | undefined>();
  for (const meterId of meterIds) {
    const shard = shardOf(e.shardFirstIds ?? [], meterId);
    if (shard >= 0 && !shards.has(shard)) shards.set(shard, await getAllocationShard(tx, eventId, e.version, shard));
    const s = shard < 0 ? undefined : shards.get(shard);
    const i = s === undefined ? -1 : indexOfSorted(s.meterIds, meterId);
    if (s === undefined || i < 0) missing.push({ meterId, reason: noAllocation(e, meterId).message });
    else allocations.push(allocationAt(s, i, width));
  }
  return reply({ allocations, day: e.day, eventId, missing, status: effectiveStatus(e, tx.nowMs), version: e.version, window: e.window });
}

export { getEvent, isOperator };
