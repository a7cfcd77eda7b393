/**
 * Settlement (spec sections 3 and 5): evaluateAvailability, getDRToken, queryEarnedToken,
 * redeemTokens. Both batch transactions take a JSON list of meter ids and process them in sorted
 * order, shard by shard (`shards.ts`): one transaction reads each touched shard's allocation (with
 * the window baseline frozen in it; the baseline record only for rewardScope 'day' or a shard
 * written without it) and reward record once, and per listed customer its measured day and its
 * account (balance and availability) once; it writes each account and each touched reward shard
 * at most once (a transaction does not see its own writes). Batches of one event must be submitted
 * one after the other: each updates the event totals, so two concurrent batches conflict on MVCC
 * and one is retried, never double-counted.
 */
import { getMeter, isOperator, requireReader, requireRetailer } from './access.ts';
import { accountJson } from './account.ts';
import { accessDenied, conflict, invalidArgument, notFound } from './errors.ts';
import { EVENT_AVAILABILITY_EVALUATED, EVENT_DR_TOKENS_MINTED, EVENT_TOKENS_REDEEMED } from './events.ts';
import { computeReward, updateAvailability } from './math/index.ts';
import {
  getAllocationShard, getRewardShard, indexOfSorted, rewardOf, rewardShardJson, shardOf,
  type AllocationShardRecord, type RewardRecord, type RewardShardRecord,
} from './shards.ts';
import { createScratchEncoder, getJson, intArrayMember, putJson, utf8, type ScratchEncoder } from './state.ts';
import type { BaselineRecord } from './tx-baseline.ts';
import { emit, reply, type Tx } from './tx-context.ts';
import type { EnergyRecord } from './tx-energy.ts';
import { effectiveStatus, getEvent, type AccountRecord, type DrEventRecord } from './tx-event.ts';
import { parseId, parseIdList, parseInteger } from './validate.ts';

export type { RewardRecord };

/** A customer's tokens, as `queryEarnedToken` and `redeemTokens` return them (from its account). */
export interface BalanceRecord {
  meterId: string;
  balanceMilli: number;
  mintedMilli: number;
  redeemedMilli: number;
}

export interface SupplyRecord {
  mintedMilli: number;
  redeemedMilli: number;
}

interface CustomerInputs {
  meterId: string;
  /** The account's state key (read, then written with the same key). */
  accountKey: string;
  /** The customer's shard allocation: its OPR per window slot at `oprAt + k`, W. */
  allocation: AllocationShardRecord;
  oprAt: number;
  baseline: number[];
  measured: number[];
  account: AccountRecord | undefined;
}

/**
 * Day-long vectors reused for every customer of a transaction (customers are processed one after
 * the other and the math does not keep them): only the window slots are ever written, so the
 * other slots stay 0, as a fresh vector per customer had them.
 */
interface Scratch {
  baseline: number[];
  assigned: number[];
  /** The availability of a customer without an account (read only: the math copies it). */
  initial: readonly number[];
  /** The measured day of the customer at hand, decoded from its bytes (read only by the math). */
  measured: number[];
  /** Encodes each value written (account, reward shard) into one reused buffer. */
  encoder: ScratchEncoder;
}

const createScratch = (tx: Tx): Scratch => ({
  baseline: new Array<number>(tx.params.slotsPerDay).fill(0),
  assigned: new Array<number>(tx.params.slotsPerDay).fill(0),
  initial: new Array<number>(tx.params.slotsPerDay).fill(tx.params.initialAvailabilityPpm),
  measured: new Array<number>(tx.params.slotsPerDay).fill(0),
  encoder: createScratchEncoder(),
});

/** The listed meters of one shard, with the shard's allocation record. */
interface ShardBatch {
  shard: number;
  allocation: AllocationShardRecord;
  meterIds: string[];
  /** Index of each listed meter in `allocation.meterIds`. */
  indexes: number[];
}

function requireCompleted(tx: Tx, e: DrEventRecord, action: string): void {
  const status = effectiveStatus(e, tx.nowMs);
  if (status !== 'completed' && status !== 'settled') {
    throw conflict(`${action}: event ${e.eventId} is ${status}; settle it after its window has ended`);
  }
}

async function authorizeBatch(tx: Tx, meterIds: string[], action: string): Promise<void> {
  if (isOperator(tx.caller, tx.params)) return;
  const retailer = await requireRetailer(tx.ctx, tx.keys, tx.caller, tx.params, action);
  for (const meterId of meterIds) {
    const m = await getMeter(tx.ctx, tx.keys, meterId);
    if (m.retailerId !== retailer.retailerId) throw accessDenied(`${action}: meter ${meterId} belongs to another retailer, not ${retailer.retailerId}`);
    if (!m.enabled) throw accessDenied(`${action}: meter ${meterId} is disabled; re-enrol it first`);
  }
}

const noAllocation = (e: DrEventRecord, meterId: string) => notFound(`meter ${meterId} has no allocation in event ${e.eventId}`);

/**
 * Groups a sorted batch by shard (shards are runs of the same order) and reads each shard's
 * allocation once. The batch is sorted and distinct and so is each shard's `meterIds`, so both are
 * walked forward together: a meter stays in the current shard until the next shard's first id, and
 * its index is found from where the previous meter's was (no binary search per meter).
 */
async function shardBatches(tx: Tx, e: DrEventRecord, meterIds: string[]): Promise<ShardBatch[]> {
  const out: ShardBatch[] = [];
  const firstIds = e.shardFirstIds ?? [];
  let current: ShardBatch | undefined;
  let cursor = 0;
  for (const meterId of meterIds) {
    const next = current ? firstIds[current.shard + 1] : undefined;
    const shard = current && (next === undefined || meterId < next) ? current.shard : shardOf(firstIds, meterId);
    if (shard < 0) throw noAllocation(e, meterId);
    if (current?.shard !== shard) {
      const allocation = await getAllocationShard(tx, e.eventId, e.version, shard);
      if (!allocation) throw noAllocation(e, meterId);
      current = { shard, allocation, meterIds: [], indexes: [] };
      out.push(current);
      cursor = 0;
    }
    const ids = current.allocation.meterIds;
    while (cursor < ids.length && (ids[cursor] as string) < meterId) cursor++;
    if (ids[cursor] !== meterId) throw noAllocation(e, meterId);
    current.meterIds.push(meterId);
    current.indexes.push(cursor);
  }
  return out;
}

async function loadInputs(tx: Tx, e: DrEventRecord, a: AllocationShardRecord, index: number, meterId: string, scratch: Scratch): Promise<CustomerInputs> {
  const width = e.window.length;
  const at = index * width;
  let baseline: number[];
  if (tx.params.rewardScope === 'window' && a.baselineW && a.baselineW.length === a.meterIds.length * width) {
    // The window baseline frozen in the allocation is all that reward and availability read.
    baseline = scratch.baseline;
    for (let k = 0; k < width; k++) baseline[e.window[k] as number] = a.baselineW[at + k] as number;
  } else {
    const record = await getJson<BaselineRecord>(tx.stub, tx.keys.baseline(e.day, meterId));
    if (!record) throw notFound(`meter ${meterId} has no baseline for ${e.day}`);
    baseline = record.values;
  }
  // The two reads straight from the stub, decoded here (one async layer less per customer).
  const measured = measuredDay(tx, e, meterId, await tx.stub.getState(tx.keys.energy(meterId, e.day)), scratch);
  const accountKey = tx.keys.account(meterId);
  const accountBytes = await tx.stub.getState(accountKey);
  const account = accountBytes && accountBytes.length > 0 ? (JSON.parse(utf8(accountBytes)) as AccountRecord) : undefined;
  return { meterId, accountKey, allocation: a, oprAt: at, baseline, measured, account };
}

/** The measured power of the event day (its stored bytes), W per slot; NOT_FOUND when a settled slot is missing. */
function measuredDay(tx: Tx, e: DrEventRecord, meterId: string, bytes: Uint8Array | undefined, scratch: Scratch): number[] {
  const S = tx.params.slotsPerDay;
  if (bytes && bytes.length > 0) {
    // A complete day is a plain integer array: read it from the bytes (no null to look for) into
    // the scratch vector (the math only reads it, before the next customer's day is decoded).
    const values = intArrayMember(bytes, 'values', scratch.measured);
    if (values && values.length === S) return values;
  }
  const energy = bytes && bytes.length > 0 ? (JSON.parse(utf8(bytes)) as EnergyRecord) : undefined;
  const slots = tx.params.rewardScope === 'day' ? Array.from({ length: S }, (_, s) => s) : e.window;
  const missing = energy ? slots.filter((s) => energy.values[s] === null || energy.values[s] === undefined) : slots;
  if (!energy || missing.length > 0) {
    throw notFound(`meter ${meterId} has no measured power for ${e.day} slot(s) ${missing.slice(0, 8).join(',')}${missing.length > 8 ? '…' : ''}; record the event day (recordEnergy) first`);
  }
  return energy.values.map(nullToZero);
}

const nullToZero = (v: number | null): number => v ?? 0;

/** The customer's availability after this event, or undefined when the event was already applied. */
function nextAvailability(tx: Tx, e: DrEventRecord, c: CustomerInputs, scratch: Scratch): { applied: string[]; values: number[] } | undefined {
  if (c.account?.applied.includes(e.eventId)) return undefined;
  const previous = c.account?.values ?? scratch.initial;
  const assigned = scratch.assigned;
  const width = e.window.length;
  const opr = c.allocation.oprW;
  // The customer's OPR slice ends at its last window slot: a short array reads as 0, as before.
  // Stryker disable next-line MethodExpression: the allocation holds a full OPR row per customer, so its slice never ends early and min and max give the same bound
  const end = Math.min(c.oprAt + width, opr.length);
  for (let i = 0; i < width; i++) {
    const at = c.oprAt + i;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: past the end of the row `opr[at] ?? 0` reads 0 too, so reading it always is the same
    assigned[e.window[i] as number] = at < end ? (opr[at] ?? 0) : 0;
  }
  const values = updateAvailability({
    previous,
    baseline: c.baseline,
    assigned,
    measured: c.measured,
    window: e.window,
    beta: tx.params.betaPpm,
    sigmaW: tx.params.sigmaW,
    alpha: tx.params.alphaPpm,
  });
  const applied = [...(c.account?.applied ?? []), e.eventId].sort();
  return { applied, values };
}

/** The account after adding `mintedMilli` and the new availability (if any); members in sorted order. */
function nextAccount(tx: Tx, meterId: string, previous: AccountRecord | undefined, mintedMilli: number, availability: { applied: string[]; values: number[] } | undefined): AccountRecord {
  return {
    applied: availability?.applied ?? previous?.applied ?? [],
    balanceMilli: (previous?.balanceMilli ?? 0) + mintedMilli,
    meterId,
    mintedMilli: (previous?.mintedMilli ?? 0) + mintedMilli,
    redeemedMilli: previous?.redeemedMilli ?? 0,
    txId: tx.txId,
    values: availability?.values ?? previous?.values ?? new Array<number>(tx.params.slotsPerDay).fill(tx.params.initialAvailabilityPpm),
  };
}

export async function evaluateAvailability(tx: Tx, eventIdArg: string, meterIdsArg: string): Promise<string> {
  const eventId = parseId('eventId', eventIdArg);
  const meterIds = parseIdList('meterIds', meterIdsArg);
  await authorizeBatch(tx, meterIds, 'evaluateAvailability');
  const e = await getEvent(tx, eventId);
  // Stryker disable next-line ConditionalExpression: requireCompleted below refuses a cancelled event with the same CONFLICT; this check only words the message
  if (e.status === 'cancelled') throw conflict(`event ${eventId} was cancelled; it does not change availability`);
  requireCompleted(tx, e, 'evaluateAvailability');
  let updated = 0;
  const scratch = createScratch(tx);
  for (const b of await shardBatches(tx, e, meterIds)) {
    for (let j = 0; j < b.meterIds.length; j++) {
      const meterId = b.meterIds[j] as string;
      const c = await loadInputs(tx, e, b.allocation, b.indexes[j] as number, meterId, scratch);
      const next = nextAvailability(tx, e, c, scratch);
      if (!next) continue;
      await tx.stub.putState(c.accountKey, scratch.encoder.encode(accountJson(nextAccount(tx, meterId, c.account, 0, next))));
      updated++;
    }
  }
  const result = { eventId, requested: meterIds.length, updated, txId: tx.txId };
  if (updated > 0) emit(tx, EVENT_AVAILABILITY_EVALUATED, result);
  return reply(result);
}

/** The rewards settled in a shard by this transaction, in meter order, as columns. */
interface NewRewards {
  meterIds: string[];
  /** Customer j's slot k at `j * slots.length + k`. */
  perSlotMilli: number[];
  totalMilli: number[];
}

/** The reward shard with `added` (sorted, none already in it) merged in; members in sorted order. */
function mergeRewards(tx: Tx, e: DrEventRecord, shard: number, slots: number[], old: RewardShardRecord | undefined, added: NewRewards): RewardShardRecord {
  const n = slots.length;
  const addedCount = added.meterIds.length;
  if (!old) {
    // The shard's first settlement: the new columns are the record.
    return {
      day: e.day, eventId: e.eventId, meterIds: added.meterIds, perSlotMilli: added.perSlotMilli,
      shard, slots, totalMilli: added.totalMilli, txIds: new Array<string>(addedCount).fill(tx.txId), version: e.version,
    };
  }
  const oldCount = old.meterIds.length;
  const count = oldCount + addedCount;
  const out: RewardShardRecord = {
    day: e.day, eventId: e.eventId, meterIds: new Array<string>(count), perSlotMilli: new Array<number>(count * n),
    shard, slots, totalMilli: new Array<number>(count), txIds: new Array<string>(count), version: e.version,
  };
  for (let i = 0, j = 0, o = 0; o < count; o++) {
    const oldId = i < oldCount ? old.meterIds[i] : undefined;
    const nextId = j < addedCount ? added.meterIds[j] : undefined;
    if (oldId !== undefined && (nextId === undefined || oldId < nextId)) {
      out.meterIds[o] = oldId;
      for (let k = 0; k < n; k++) out.perSlotMilli[o * n + k] = old.perSlotMilli[i * n + k] as number;
      out.totalMilli[o] = old.totalMilli[i] as number;
      out.txIds[o] = old.txIds[i] as string;
      i++;
    } else if (nextId !== undefined) {
      out.meterIds[o] = nextId;
      for (let k = 0; k < n; k++) out.perSlotMilli[o * n + k] = added.perSlotMilli[j * n + k] as number;
      out.totalMilli[o] = added.totalMilli[j] as number;
      out.txIds[o] = tx.txId;
      j++;
    }
  }
  return out;
}

/**
 * Settles a batch of customers of one event: per customer, r_h = H(B−P)·(B−P)² (P in kW) over the
 * window (or the day), tokens = round(k·Σ r_h) milli-tokens, credited once (the shard's `reward`
 * record is the idempotency marker: a customer already in it is skipped), and availability updated
 * if not yet.
 */
export async function getDRToken(tx: Tx, eventIdArg: string, meterIdsArg: string): Promise<string> {
  const eventId = parseId('eventId', eventIdArg);
  const meterIds = parseIdList('meterIds', meterIdsArg);
  await authorizeBatch(tx, meterIds, 'getDRToken');
  const e = await getEvent(tx, eventId);
  // Stryker disable next-line ConditionalExpression: requireCompleted below refuses a cancelled event with the same CONFLICT; this check only words the message
  if (e.status === 'cancelled') throw conflict(`event ${eventId} was cancelled; nothing to settle`);
  requireCompleted(tx, e, 'getDRToken');
  let minted = 0;
  let settled = 0;
  const perCustomer: { meterId: string; totalMilli: number }[] = [];
  const slots = tx.params.rewardScope === 'day' ? Array.from({ length: tx.params.slotsPerDay }, (_, h) => h) : e.window;
  const scratch = createScratch(tx);
  for (const b of await shardBatches(tx, e, meterIds)) {
    const old = await getRewardShard(tx, eventId, b.shard);
    if (
      old &&
      (old.slots.length !== slots.length ||
        // Stryker disable next-line ConditionalExpression,MethodExpression,ArrowFunction: reward slots differ only in length (the window, or the whole day): an event's window cannot change once settlement may start
        old.slots.some((h, k) => h !== slots[k]))
    ) {
      throw conflict(`event ${eventId} was partly settled with other reward slots; set rewardScope back to finish its settlement`);
    }
    const added: NewRewards = { meterIds: [], perSlotMilli: [], totalMilli: [] };
    for (let j = 0; j < b.meterIds.length; j++) {
      const meterId = b.meterIds[j] as string;
      if (old && indexOfSorted(old.meterIds, meterId) >= 0) continue;
      const c = await loadInputs(tx, e, b.allocation, b.indexes[j] as number, meterId, scratch);
      const r = computeReward({ baseline: c.baseline, measured: c.measured, window: slots, tokenRateMilli: tx.params.tokenRateMilli });
      for (let i = 0; i < slots.length; i++) added.perSlotMilli.push(r.perSlot[slots[i] as number] ?? 0);
      const account = nextAccount(tx, meterId, c.account, r.total, nextAvailability(tx, e, c, scratch));
      await tx.stub.putState(c.accountKey, scratch.encoder.encode(accountJson(account)));
      added.meterIds.push(meterId);
      added.totalMilli.push(r.total);
      minted += r.total;
      settled++;
      perCustomer.push({ meterId, totalMilli: r.total });
    }
    if (added.meterIds.length > 0) {
      const merged = mergeRewards(tx, e, b.shard, slots, old, added);
      await tx.stub.putState(tx.keys.reward(eventId, b.shard), scratch.encoder.encode(rewardShardJson(merged)));
    }
  }
  if (settled > 0) {
    const supply = (await getJson<SupplyRecord>(tx.stub, tx.keys.supply())) ?? { mintedMilli: 0, redeemedMilli: 0 };
    await putJson(tx.stub, tx.keys.supply(), { ...supply, mintedMilli: supply.mintedMilli + minted });
    const settledCustomers = e.settledCustomers + settled;
    await putJson(tx.stub, tx.keys.event(eventId), {
      ...e,
      settledCustomers,
      mintedMilli: e.mintedMilli + minted,
      status: settledCustomers >= e.customers ? 'settled' : e.status,
      updatedTxId: tx.txId,
    } satisfies DrEventRecord);
    emit(tx, EVENT_DR_TOKENS_MINTED, { eventId, settled, mintedMilli: minted, settledCustomers, customers: e.customers, txId: tx.txId });
  }
  // Members in sorted order (10,000 rewards in a batch): canonicalJson's native path.
  return reply({ alreadySettled: meterIds.length - settled, eventId, mintedMilli: minted, requested: meterIds.length, rewards: perCustomer, settled });
}

const balanceOf = (meterId: string, a: AccountRecord | undefined): BalanceRecord => ({
  meterId,
  balanceMilli: a?.balanceMilli ?? 0,
  mintedMilli: a?.mintedMilli ?? 0,
  redeemedMilli: a?.redeemedMilli ?? 0,
});

/**
 * A customer's balance and availability profile (ppm per slot of the day, the initial value before
 * any event), and with an eventId its reward for that event (per slot).
 */
export async function queryEarnedToken(tx: Tx, meterIdArg: string, eventIdArg: string): Promise<string> {
  const meterId = parseId('meterId', meterIdArg);
  await requireReader(tx.ctx, tx.keys, tx.caller, tx.params, meterId, 'queryEarnedToken');
  const account = await getJson<AccountRecord>(tx.stub, tx.keys.account(meterId));
  const availabilityPpm = account?.values ?? new Array<number>(tx.params.slotsPerDay).fill(tx.params.initialAvailabilityPpm);
  const balance = { ...balanceOf(meterId, account), availabilityPpm };
  if (eventIdArg === '') return reply({ ...balance });
  const eventId = parseId('eventId', eventIdArg);
  // The reward shard holds other customers' rewards too: only this meter's part is returned.
  const e = await getJson<DrEventRecord>(tx.stub, tx.keys.event(eventId));
  const reward = e ? await rewardOf(tx, e, meterId) : undefined;
  return reply({ ...balance, eventId, reward: reward ?? null });
}

/** Redeems tokens of a customer: by the customer itself or its retailer; never below zero. */
export async function redeemTokens(tx: Tx, meterIdArg: string, amountArg: string): Promise<string> {
  const meterId = parseId('meterId', meterIdArg);
  const { role } = await requireReader(tx.ctx, tx.keys, tx.caller, tx.params, meterId, 'redeemTokens');
  if (role === 'operator') throw invalidArgument('redeemTokens is for the customer or its retailer, not the system operator');
  const amount = parseInteger('amountMilli', amountArg, 1);
  const account = await getJson<AccountRecord>(tx.stub, tx.keys.account(meterId));
  if (!account || account.balanceMilli < amount) {
    throw conflict(`meter ${meterId} holds ${account?.balanceMilli ?? 0} milli-tokens, fewer than ${amount}`);
  }
  const updated: AccountRecord = { ...account, balanceMilli: account.balanceMilli - amount, redeemedMilli: account.redeemedMilli + amount, txId: tx.txId };
  await putJson(tx.stub, tx.keys.account(meterId), updated);
  const next = balanceOf(meterId, updated);
  const supply = (await getJson<SupplyRecord>(tx.stub, tx.keys.supply())) ?? { mintedMilli: 0, redeemedMilli: 0 };
  await putJson(tx.stub, tx.keys.supply(), { ...supply, redeemedMilli: supply.redeemedMilli + amount });
  emit(tx, EVENT_TOKENS_REDEEMED, { meterId, amountMilli: amount, by: role, txId: tx.txId });
  return reply(next);
}

export async function queryTokenSupply(tx: Tx): Promise<string> {
  return reply((await getJson<SupplyRecord>(tx.stub, tx.keys.supply())) ?? { mintedMilli: 0, redeemedMilli: 0 });
}
